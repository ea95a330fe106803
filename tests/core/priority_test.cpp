#include "tessera/core/priority.hpp"

#include <catch2/catch.hpp>

using tessera::priority;

TEST_CASE("priorities are ordered from critical down to background") {
  STATIC_REQUIRE(tessera::more_important(priority::critical, priority::high));
  STATIC_REQUIRE(tessera::more_important(priority::high, priority::normal));
  STATIC_REQUIRE(tessera::more_important(priority::normal, priority::low));
  STATIC_REQUIRE(tessera::more_important(priority::low, priority::background));
  STATIC_REQUIRE_FALSE(tessera::more_important(priority::normal, priority::normal));
}

TEST_CASE("every priority has a distinct index below priority_count and a name") {
  for (std::size_t i = 0; i < tessera::priority_count; ++i) {
    const auto p = tessera::all_priorities[i];
    CHECK(tessera::to_index(p) == i);
    CHECK(tessera::to_string(p) != "invalid");
  }
  CHECK(tessera::to_string(priority::critical) == "critical");
  CHECK(tessera::to_string(priority::background) == "background");
}
