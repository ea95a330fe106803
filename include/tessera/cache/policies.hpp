// The compile-time choices of tessera::basic_cache other than eviction: sharding, weighing,
// the clock that drives expiry (injectable for tests) and statistics. Pass them in any order:
//   tessera::cache<K, V, tessera::caching::shards<1>, tessera::caching::weigh_by<bytes_of>>
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace tessera::caching {

// Policy categories of basic_cache.
struct eviction_tag {};
struct locking_tag {};
struct weigher_tag {};
struct clock_tag {};
struct stats_tag {};

// Number of independently locked shards (a power of two). 0 picks from the capacity: enough
// shards that two threads seldom meet on one lock, few enough that each shard's policy still
// sees a useful sample (about 128 entries or more per shard, at most 64 shards).
// shards<1> makes the cache one exact policy instance (what the simulator uses).
template <std::size_t N = 0>
struct shards {
  using policy_category = locking_tag;
  static_assert(N == 0 || (N & (N - 1)) == 0,
                "tessera: shards<N>: N must be 0 (auto) or a power of two");
  static constexpr std::size_t count = N;
};

// Every entry weighs 1: the capacity counts entries.
struct unit_weight {
  using policy_category = weigher_tag;
  template <class K, class V>
  constexpr std::size_t operator()(const K&, const V&) const noexcept {
    return 1;
  }
};

// Capacity in the units F returns: F is default-constructible, F{}(key, value) -> size_t.
template <class F>
struct weigh_by {
  using policy_category = weigher_tag;
  template <class K, class V>
  std::size_t operator()(const K& k, const V& v) const {
    return static_cast<std::size_t>(F{}(k, v));
  }
};

// The time source of expiry: C::now() returns a std::chrono::time_point. Tests pass a clock
// they advance by hand (see tests/cache/concurrent_cache_test.cpp).
template <class C>
struct with_clock {
  using policy_category = clock_tag;
  static std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(C::now().time_since_epoch())
        .count();
  }
};
using steady_clock = with_clock<std::chrono::steady_clock>;

// Hit/miss/eviction/load counters (relaxed atomics per shard); no_stats compiles them out.
struct record_stats {
  using policy_category = stats_tag;
  static constexpr bool enabled = true;
};
struct no_stats {
  using policy_category = stats_tag;
  static constexpr bool enabled = false;
};

// Why an entry left the cache (what eviction listeners receive).
enum class removal_cause : std::uint8_t { size, expired, explicit_, replaced };

[[nodiscard]] constexpr const char* to_string(removal_cause c) noexcept {
  switch (c) {
    case removal_cause::size: return "size";
    case removal_cause::expired: return "expired";
    case removal_cause::explicit_: return "explicit";
    case removal_cause::replaced: return "replaced";
  }
  return "invalid";
}

}  // namespace tessera::caching
