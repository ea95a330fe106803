// The face header: the one-line default cache and the policy choices the simulator made.
#include "tessera/cache/cache.hpp"

#include "tessera/budget/budget.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <type_traits>

namespace caching = tessera::caching;

TEST_CASE("the face header gives a one-line default cache with the measured default policy") {
  tessera::cache<std::string, int> c{{.capacity = 100}};
  STATIC_REQUIRE(std::is_same_v<decltype(c)::eviction, caching::s3fifo_sieve>);
  STATIC_REQUIRE(std::is_same_v<decltype(c)::weigher, caching::unit_weight>);
  c.put("a", 1);
  CHECK(c.get("a") == std::optional<int>(1));
}

TEST_CASE("policies are picked by category in any order") {
  using a = tessera::cache<int, int, caching::shards<1>, caching::lru, caching::no_stats>;
  using b = tessera::cache<int, int, caching::no_stats, caching::lru, caching::shards<1>>;
  STATIC_REQUIRE(std::is_same_v<a::eviction, b::eviction>);
  STATIC_REQUIRE(std::is_same_v<a::locking, caching::shards<1>>);
  a c{{.capacity = 10}};
  CHECK(c.shard_count() == 1);
  c.put(1, 1);
  CHECK(c.get(1));
  CHECK(c.stats().hits == 0);  // no_stats compiles the counters out
}

// The cross-module contract of DESIGN.md with the real tessera::budget (not a test double): the
// cache charges its entries to an account, and a more important charge makes it shrink.
TEST_CASE("a cache charged to a budget account gives way to a more important account") {
  tessera::budget memory{{.name = "process", .limit = 100'000}};
  auto& results = memory.create_account({.name = "results", .priority = tessera::priority::low});
  auto& requests = memory.create_account({.name = "requests", .priority = tessera::priority::high});
  {
    tessera::cache<int, int, caching::lru> c{
        {.capacity = 1'000, .budget = results, .bytes_per_entry = 1'000}};
    for (int k = 0; k < 200; ++k) c.put(k, k);
    CHECK(c.size() <= 100);  // the budget, not the capacity, bounds it
    tessera::budget::return_thread_credit();
    CHECK(memory.used() <= memory.limit());
    const std::size_t before = c.size();
    REQUIRE(before >= 90);

    REQUIRE(requests.try_charge(30'000));  // fits only if the cache gives back 30 entries
    CHECK(c.size() <= before - 30);
    CHECK(results.reclaimed() >= 30'000);
    CHECK(c.get(199) == std::optional<int>(199));  // LRU: the newest entries stay
    CHECK_FALSE(c.get(100).has_value());
    requests.release(30'000);
  }
  tessera::budget::return_thread_credit();
  CHECK(results.charged() == 0);  // the cache released every byte when it went away
}
