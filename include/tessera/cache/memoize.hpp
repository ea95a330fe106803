// tessera::memoize(f, cache): f as a cached function. Calls with equal arguments share one
// cached result, and concurrent first calls run f once (the cache's single-flight get_or_load).
//
//   tessera::cache<std::tuple<int, int>, double> c{{.capacity = 4096}};
//   auto slow_pow = tessera::memoize([](int b, int e) { return std::pow(b, e); }, c);
//   slow_pow(2, 10);   // computes;   slow_pow(2, 10) again: a hit
//
// The cache's key is the argument itself for a one-argument cache whose key is not a tuple,
// otherwise a std::tuple of the (decayed) arguments. Works with any cache that has
// key_type and get_or_load(key, loader) (tessera::cache, tessera::tiered_cache); the cache
// must outlive the returned callable.
#pragma once

#include <utility>

namespace tessera {

template <class F, class Cache>
[[nodiscard]] auto memoize(F f, Cache& cache) {
  using key_type = typename Cache::key_type;
  return [f = std::move(f), &cache](const auto&... args) {
    // key_type(args...) is the argument itself or the tuple of all of them.
    return cache.get_or_load(key_type(args...), [&] { return f(args...); });
  };
}

}  // namespace tessera
