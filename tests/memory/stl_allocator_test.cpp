// Tests for tessera/memory/stl_allocator.hpp: standard containers on every tessera resource.
#include "tessera/memory/stl_allocator.hpp"

#include <catch2/catch.hpp>
#include <list>
#include <map>
#include <memory_resource>
#include <new>
#include <unordered_map>
#include <vector>

#include "tessera/memory/arena.hpp"
#include "tessera/memory/pool_resource.hpp"

namespace {
template <class Resource>
void fill_containers(Resource& r) {
  using namespace tessera;
  std::vector<int, stl_allocator<int, Resource>> v{&r};
  for (int i = 0; i < 5000; ++i) v.push_back(i);
  std::unordered_map<int, int, std::hash<int>, std::equal_to<>,
                     stl_allocator<std::pair<const int, int>, Resource>>
      u{stl_allocator<std::pair<const int, int>, Resource>(&r)};
  for (int i = 0; i < 1000; ++i) u[i] = -i;
  std::map<int, double, std::less<>, stl_allocator<std::pair<const int, double>, Resource>> m{
      stl_allocator<std::pair<const int, double>, Resource>(&r)};
  for (int i = 0; i < 1000; ++i) m[i] = i / 2.0;
  std::list<int, stl_allocator<int, Resource>> l{&r};
  for (int i = 0; i < 1000; ++i) l.push_front(i);
  CHECK(v[4321] == 4321);
  CHECK(u.at(999) == -999);
  CHECK(m.at(10) == 5.0);
  CHECK(l.front() == 999);
}
}  // namespace

TEST_CASE("standard containers run on a pool_resource", "[memory][stl_allocator]") {
  tessera::pool_resource pool;
  fill_containers(pool);
  CHECK(pool.stats().live_objects == 0);
}

TEST_CASE("standard containers run on an arena", "[memory][stl_allocator]") {
  tessera::arena a;
  fill_containers(a);
  CHECK(a.used_bytes() > 5000 * sizeof(int));
}

TEST_CASE("standard containers run on any std::pmr resource", "[memory][stl_allocator]") {
  std::pmr::unsynchronized_pool_resource r;
  fill_containers<std::pmr::memory_resource>(r);
  std::pmr::monotonic_buffer_resource m;
  fill_containers<std::pmr::memory_resource>(m);
}

TEST_CASE("allocate(n) whose byte size overflows throws bad_array_new_length",
          "[memory][stl_allocator]") {
  tessera::pool_resource pool;
  tessera::stl_allocator<double, tessera::pool_resource> a{&pool};
  CHECK_THROWS_AS(a.allocate(SIZE_MAX / 4), std::bad_array_new_length);
  CHECK_THROWS_AS(a.allocate(SIZE_MAX / sizeof(double) + 1), std::bad_array_new_length);
  double* ok = a.allocate(4);
  a.deallocate(ok, 4);
}

TEST_CASE("allocators compare equal when they share a resource", "[memory][stl_allocator]") {
  tessera::pool_resource p1, p2;
  tessera::stl_allocator<int, tessera::pool_resource> a{&p1}, b{&p1}, c{&p2};
  tessera::stl_allocator<long, tessera::pool_resource> rebound{a};
  CHECK(a == b);
  CHECK_FALSE(a == c);
  CHECK(rebound == a);
  CHECK(rebound.resource() == &p1);
}
