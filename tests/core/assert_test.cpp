#include "tessera/core/assert.hpp"

#include <catch2/catch.hpp>

TEST_CASE("TESSERA_ASSERT evaluates its expression exactly once when assertions are on") {
  int evaluations = 0;
  TESSERA_ASSERT(++evaluations == 1, "counted");
  CHECK(evaluations == TESSERA_ASSERTIONS_ENABLED);
}

TEST_CASE("TESSERA_ASSERT is an expression usable in a comma sequence") {
  int x = 0;
  (TESSERA_ASSERT(x == 0, "zero"), ++x);
  CHECK(x == 1);
}
