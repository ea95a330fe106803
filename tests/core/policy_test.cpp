#include "tessera/core/policy.hpp"

#include <catch2/catch.hpp>
#include <type_traits>

// The compile-failure cases (two policies of one category, a non-policy, a foreign category)
// are CTest tests of their own: tests/core/compile_fail/.
#include "compile_fail/policies.hpp"

using namespace compile_fail;

TEST_CASE("select_policy falls back to the default when no policy of the category is given") {
  STATIC_REQUIRE(std::is_same_v<basic_pretend_scheduler<>::idle, spin_then_park>);
  STATIC_REQUIRE(std::is_same_v<basic_pretend_scheduler<>::victim, random_victim>);
}

TEST_CASE("select_policy picks the given policy wherever it stands in the list") {
  using a = basic_pretend_scheduler<park_immediately, random_victim>;
  using b = basic_pretend_scheduler<random_victim, park_immediately>;
  STATIC_REQUIRE(std::is_same_v<a::idle, park_immediately>);
  STATIC_REQUIRE(std::is_same_v<b::idle, park_immediately>);
}

TEST_CASE("the policy concepts tell policies from other types") {
  STATIC_REQUIRE(tessera::policy<park_immediately>);
  STATIC_REQUIRE_FALSE(tessera::policy<plain_struct>);
  STATIC_REQUIRE_FALSE(tessera::policy<int>);
  STATIC_REQUIRE(tessera::policy_of<park_immediately, idle_policy_tag>);
  STATIC_REQUIRE_FALSE(tessera::policy_of<park_immediately, victim_policy_tag>);
}

TEST_CASE("policy_list knows which categories a type takes") {
  using list = tessera::policy_list<idle_policy_tag, victim_policy_tag>;
  STATIC_REQUIRE(list::takes<park_immediately>);
  STATIC_REQUIRE_FALSE(list::takes<lru_eviction>);
  STATIC_REQUIRE(list::accepts<>);
  STATIC_REQUIRE(list::accepts<park_immediately, random_victim>);
}

TEST_CASE("has_policy_v finds flag-like policies") {
  STATIC_REQUIRE(tessera::has_policy_v<park_immediately, random_victim, park_immediately>);
  STATIC_REQUIRE_FALSE(tessera::has_policy_v<park_immediately, random_victim>);
  STATIC_REQUIRE_FALSE(tessera::has_policy_v<park_immediately>);
}
