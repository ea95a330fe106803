// Tests for tessera/memory/pool_resource.hpp: size classes, pmr containers over each threading
// policy, over-aligned and large requests, bounds, trim, and random use across threads.
#include "tessera/memory/pool_resource.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <list>
#include <map>
#include <memory_resource>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "test_support.hpp"

namespace {
using tessera::memory::locked;
using tessera::memory::single_threaded;
using tessera::memory::thread_caching;
namespace md = tessera::memory::detail;

// Fills a block with a pattern derived from its tag, so overlap or reuse shows up.
void stamp(void* p, std::size_t n, std::uint8_t tag) {
  std::memset(p, tag, n);
}
bool stamped(const void* p, std::size_t n, std::uint8_t tag) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (b[i] != tag) return false;
  }
  return true;
}
}  // namespace

TEST_CASE("every size maps to the smallest class that holds it", "[memory][pool_resource]") {
  for (std::size_t n = 1; n <= md::max_pooled_block; ++n) {
    const std::uint32_t c = md::size_class(n);
    REQUIRE(md::class_size(c) >= n);
    if (c > 0) REQUIRE(md::class_size(c - 1) < n);
    REQUIRE(md::class_size(c) % 16 == 0);
  }
  CHECK(md::class_size(md::size_class(4096)) == 4096);
}

TEST_CASE("the class table agrees with size_class for every size", "[memory][pool_resource]") {
  for (std::size_t n = 0; n <= md::max_pooled_block; ++n) {
    REQUIRE(md::fast_size_class(n) == md::size_class(n));
  }
}

TEMPLATE_TEST_CASE("pmr containers work on a pool_resource", "[memory][pool_resource]",
                   thread_caching, locked, single_threaded) {
  tessera::basic_pool_resource<TestType> pool{{.name = "containers"}};
  {
    std::pmr::vector<int> v{&pool};
    for (int i = 0; i < 10000; ++i) v.push_back(i);  // grows past max_block: upstream
    std::pmr::map<int, std::pmr::string> m{&pool};
    for (int i = 0; i < 2000; ++i)
      m.emplace(i, std::pmr::string(std::to_string(i) + " a long enough string", &pool));
    std::pmr::unordered_map<int, int> u{&pool};
    for (int i = 0; i < 2000; ++i) u[i] = i * 2;
    std::pmr::list<double> l{&pool};
    for (int i = 0; i < 2000; ++i) l.push_back(i);
    CHECK(v[9999] == 9999);
    CHECK(m.at(1234) == "1234 a long enough string");
    CHECK(u.at(1999) == 3998);
    CHECK(l.back() == 1999.0);
    CHECK(pool.stats().live_objects > 4000);
  }
  CHECK(pool.stats().live_objects == 0);
  CHECK(pool.stats().live_bytes == 0);
}

TEMPLATE_TEST_CASE("over-aligned and large requests are served and freed",
                   "[memory][pool_resource]", thread_caching, locked, single_threaded) {
  tessera::basic_pool_resource<TestType> pool{{.max_block = 1024}};
  for (std::size_t align : {32, 64, 128, 4096}) {
    for (std::size_t bytes : {1, 24, 100, 700, 1024, 5000}) {
      void* p = pool.allocate(bytes, align);
      REQUIRE(reinterpret_cast<std::uintptr_t>(p) % align == 0);
      stamp(p, bytes, 0x5a);
      pool.deallocate(p, bytes, align);
    }
  }
  void* big = pool.allocate(100000, 16);
  CHECK(pool.stats().live_bytes >= 100000);
  pool.deallocate(big, 100000, 16);
  CHECK(pool.stats().live_objects == 0);
}

TEMPLATE_TEST_CASE("requests above max_block but within 4 KiB go to the upstream and back",
                   "[memory][pool_resource]", thread_caching, locked, single_threaded) {
  tessera::basic_pool_resource<TestType> pool{{.max_block = 256}};
  const auto use = [&pool](std::size_t bytes) {
    const std::size_t calls = pool.stats().upstream_allocations;
    void* p = pool.allocate(bytes, 8);
    stamp(p, bytes, 0x3c);
    CHECK(pool.stats().upstream_allocations == calls + 1);  // each one its own upstream call
    CHECK(pool.stats().live_objects == 1);
    CHECK(pool.stats().live_bytes >= bytes);
    CHECK(stamped(p, bytes, 0x3c));
    pool.deallocate(p, bytes, 8);
    CHECK(pool.stats().live_objects == 0);
    CHECK(pool.stats().upstream_bytes == 0);
  };
  for (std::size_t bytes : {257, 300, 1000, 3000, 4096}) use(bytes);
  if constexpr (!std::is_same_v<TestType, single_threaded>) {
    std::thread other([&] {
      for (std::size_t bytes : {257, 4096}) use(bytes);
    });
    other.join();
  }
  void* pooled = pool.allocate(256, 8);  // the largest pooled size still comes from a chunk
  const std::size_t calls = pool.stats().upstream_allocations;
  pool.deallocate(pool.allocate(256, 8), 256, 8);
  CHECK(pool.stats().upstream_allocations == calls);
  pool.deallocate(pooled, 256, 8);
}

TEMPLATE_TEST_CASE("a bounded pool_resource throws out_of_memory naming it",
                   "[memory][pool_resource]", thread_caching, locked, single_threaded) {
  tessera::basic_pool_resource<TestType> pool{{.name = "bounded", .max_bytes = 64 * 1024}};
  std::vector<void*> v;
  try {
    for (int i = 0; i < 100000; ++i) v.push_back(pool.allocate(64, 8));
    FAIL("a 64 KiB pool gave out 6.4 MB");
  } catch (const tessera::out_of_memory& e) {
    CHECK(e.source() == "bounded");
  }
  CHECK(pool.stats().upstream_bytes <= 64 * 1024);
  CHECK_THROWS_AS(pool.allocate(1 << 20, 8), tessera::out_of_memory);
  for (void* p : v) pool.deallocate(p, 64, 8);
}

TEMPLATE_TEST_CASE("trim lowers the bytes a pool_resource holds", "[memory][pool_resource]",
                   thread_caching, locked, single_threaded) {
  tessera::basic_pool_resource<TestType> pool;
  std::vector<std::pair<void*, std::size_t>> v;
  for (int i = 0; i < 20000; ++i) {
    const std::size_t n = 16 + static_cast<std::size_t>(i % 50) * 8;
    v.emplace_back(pool.allocate(n, 8), n);
  }
  const std::size_t held = pool.stats().upstream_bytes;
  for (auto [p, n] : v) pool.deallocate(p, n, 8);
  const std::size_t released = pool.trim();
  CHECK(released > held / 2);
  CHECK(pool.stats().upstream_bytes == held - released);
}

TEMPLATE_TEST_CASE("random sized allocations across threads never overlap",
                   "[memory][pool_resource]", thread_caching, locked) {
  tessera::basic_pool_resource<TestType> pool{{.max_block = 2048, .batch = 8}};
  constexpr int threads = 4;
  const int steps = 2000 * tessera_test::scale;
  std::atomic<int> bad{0};
  std::vector<std::thread> ts;
  std::vector<std::vector<std::tuple<void*, std::size_t, std::uint8_t>>> left(threads);
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      auto& mine = left[t];
      for (int i = 0; i < steps; ++i) {
        if (mine.empty() || rng() % 100 < 55) {
          const std::size_t n = 1 + rng() % 3000;
          const auto tag = static_cast<std::uint8_t>(rng());
          void* p = pool.allocate(n, 8);
          stamp(p, n, tag);
          mine.emplace_back(p, n, tag);
        } else {
          const std::size_t k = rng() % mine.size();
          auto [p, n, tag] = mine[k];
          if (!stamped(p, n, tag)) ++bad;
          pool.deallocate(p, n, 8);
          mine[k] = mine.back();
          mine.pop_back();
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  // Whatever one thread still holds is freed by another: the cross-thread path.
  std::size_t held = 0;
  for (auto& v : left) {
    for (auto [p, n, tag] : v) {
      if (!stamped(p, n, tag)) ++bad;
      pool.deallocate(p, n, 8);
      ++held;
    }
  }
  CHECK(held > 0);
  CHECK(bad == 0);
  CHECK(pool.stats().live_objects == 0);
}

TEST_CASE("a pool_resource is equal only to itself", "[memory][pool_resource]") {
  tessera::pool_resource a{{.publish_metrics = false}};
  tessera::pool_resource b{{.publish_metrics = false}};
  CHECK(a.is_equal(a));
  CHECK_FALSE(a.is_equal(b));
  CHECK(a.max_block() == 4096);
}
