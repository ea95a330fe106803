#include "tessera/core/cache_line.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

TEST_CASE("padded values in an array sit a false-sharing range apart") {
  tessera::padded<std::uint64_t> slots[4];
  const auto a = reinterpret_cast<std::uintptr_t>(&slots[0].value);
  const auto b = reinterpret_cast<std::uintptr_t>(&slots[1].value);
  CHECK(b - a >= tessera::false_sharing_range);
  CHECK(a % tessera::false_sharing_range == 0);
  STATIC_REQUIRE(alignof(tessera::padded<char>) == tessera::false_sharing_range);
}

TEST_CASE("padded forwards constructor arguments and gives access to the value") {
  tessera::padded<std::string> s{std::in_place, 3, 'x'};
  CHECK(*s == "xxx");
  CHECK(s->size() == 3);
}

TEST_CASE("the false-sharing range covers whole cache lines") {
  STATIC_REQUIRE(tessera::false_sharing_range % tessera::cache_line_size == 0);
}
