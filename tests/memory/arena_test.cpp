// Tests for tessera/memory/arena.hpp: bumping, alignment, scopes, reset, bounds.
#include "tessera/memory/arena.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <set>
#include <string>
#include <vector>

TEST_CASE("an arena hands out aligned, distinct memory", "[memory][arena]") {
  tessera::arena a{{.initial_bytes = 256}};
  std::set<std::uintptr_t> seen;
  for (std::size_t align : {1, 2, 8, 16, 64, 256}) {
    for (int i = 0; i < 50; ++i) {
      void* p = a.allocate(24, align);
      std::memset(p, i, 24);
      REQUIRE(reinterpret_cast<std::uintptr_t>(p) % align == 0);
      REQUIRE(seen.insert(reinterpret_cast<std::uintptr_t>(p)).second);
    }
  }
  CHECK(a.used_bytes() >= 300 * 24);
}

TEST_CASE("a scope frees what was allocated in it, and scopes nest", "[memory][arena]") {
  tessera::arena a;
  void* before = a.allocate(100, 8);
  const std::size_t used = a.used_bytes();
  {
    tessera::arena::scope outer(a);
    std::pmr::vector<int> v{&a};
    for (int i = 0; i < 5000; ++i) v.push_back(i);  // spans several chunks
    std::size_t inner_mark;
    {
      tessera::arena::scope inner(a);
      inner_mark = a.used_bytes();
      (void)a.allocate(1000, 8);
      CHECK(a.used_bytes() > inner_mark);
    }
    CHECK(a.used_bytes() == inner_mark);
    CHECK(v[4999] == 4999);
  }
  CHECK(a.used_bytes() == used);
  void* after = a.allocate(8, 8);
  CHECK(static_cast<char*>(after) >= static_cast<char*>(before) + 100);
}

TEST_CASE("reset keeps the chunks, release returns them", "[memory][arena]") {
  tessera::arena a{{.initial_bytes = 1024}};
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) (void)a.allocate(64, 16);
    const std::size_t held = a.upstream_bytes();
    a.reset();
    CHECK(a.used_bytes() == 0);
    CHECK(a.upstream_bytes() == held);  // nothing went back; the next round reuses it
  }
  a.release();
  CHECK(a.upstream_bytes() == 0);
  void* p = a.allocate(10, 8);
  std::memset(p, 1, 10);
  CHECK(a.upstream_bytes() > 0);  // a fresh chunk after release
}

TEST_CASE("a bounded arena throws out_of_memory naming it", "[memory][arena]") {
  tessera::arena a{{.name = "frame", .initial_bytes = 1024, .max_bytes = 8192}};
  try {
    for (int i = 0; i < 1000; ++i) (void)a.allocate(100, 8);
    FAIL("8 KiB arena gave out 100 KB");
  } catch (const tessera::out_of_memory& e) {
    CHECK(e.source() == "frame");
  }
  CHECK(a.upstream_bytes() <= 8192);
  volatile std::size_t huge = SIZE_MAX - 8;  // volatile: g++ rejects a constant this big
  CHECK_THROWS_AS(a.allocate(huge, 8), tessera::out_of_memory);
}
