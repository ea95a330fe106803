// The cache's key hash: std::hash, extended to std::pair and std::tuple keys (memoize builds
// tuple keys out of argument lists).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <tuple>
#include <utility>

#include "tessera/cache/detail/hook.hpp"

namespace tessera::caching::detail {

template <class T>
struct key_hash : std::hash<T> {};

template <class... T>
struct key_hash<std::tuple<T...>> {
  std::size_t operator()(const std::tuple<T...>& t) const {
    return std::apply(
        [](const auto&... x) {
          std::uint64_t h = 0x84222325cbf29ce4ULL;
          ((h = mix64(h ^ key_hash<std::decay_t<decltype(x)>>{}(x))), ...);
          return static_cast<std::size_t>(h);
        },
        t);
  }
};

template <class A, class B>
struct key_hash<std::pair<A, B>> {
  std::size_t operator()(const std::pair<A, B>& p) const {
    return static_cast<std::size_t>(mix64(key_hash<A>{}(p.first) ^ mix64(key_hash<B>{}(p.second))));
  }
};

}  // namespace tessera::caching::detail
