// The face header: the one-line default cache and the policy choices the simulator made.
#include "tessera/cache/cache.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <type_traits>

namespace caching = tessera::caching;

TEST_CASE("the face header gives a one-line default cache with the measured default policy") {
  tessera::cache<std::string, int> c{{.capacity = 100}};
  STATIC_REQUIRE(std::is_same_v<decltype(c)::eviction, caching::s3fifo>);
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
