// Tests for tessera/memory/object_pool.hpp: every threading policy through the same cases,
// differential runs against a reference model, and the thread-caching paths across threads.
#include "tessera/memory/object_pool.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using tessera::memory::locked;
using tessera::memory::single_threaded;
using tessera::memory::thread_caching;

struct order {
  std::uint64_t id;
  double price;
  std::string owner;
  order(std::uint64_t i, double p, std::string o) : id(i), price(p), owner(std::move(o)) {}
};

struct alignas(64) over_aligned {
  unsigned char bytes[80];
};

struct throws_on_build {
  explicit throws_on_build(bool fail) {
    if (fail) throw std::runtime_error("no");
  }
};

template <class Threading>
using pool_of = tessera::basic_object_pool<order, Threading>;

}  // namespace

TEMPLATE_TEST_CASE("an object_pool makes objects that keep their values until destroyed",
                   "[memory][object_pool]", thread_caching, locked, single_threaded) {
  tessera::basic_object_pool<order, TestType> pool{{.name = "orders"}};
  std::vector<tessera::pool_ptr<order>> kept;
  for (std::uint64_t i = 0; i < 1000; ++i) kept.push_back(pool.make(i, i * 0.5, std::to_string(i)));
  CHECK(pool.stats().live_objects == 1000);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    REQUIRE(kept[i]->id == i);
    REQUIRE(kept[i]->owner == std::to_string(i));
  }
  std::set<const order*> distinct;
  for (const auto& p : kept) distinct.insert(p.get());
  CHECK(distinct.size() == 1000);
  kept.clear();
  CHECK(pool.stats().live_objects == 0);
}

TEMPLATE_TEST_CASE("create and destroy reuse freed storage", "[memory][object_pool]",
                   thread_caching, locked, single_threaded) {
  tessera::basic_object_pool<order, TestType> pool;
  order* a = pool.create(1u, 1.0, "a");
  pool.destroy(a);
  order* b = pool.create(2u, 2.0, "b");
  CHECK(b == a);  // the last freed block is the first reused (LIFO lists)
  CHECK(b->owner == "b");
  pool.destroy(b);
  const auto st = pool.stats();
  CHECK(st.live_objects == 0);
  CHECK(st.upstream_bytes > 0);
}

TEMPLATE_TEST_CASE("a constructor that throws gives its block back", "[memory][object_pool]",
                   thread_caching, locked, single_threaded) {
  tessera::basic_object_pool<throws_on_build, TestType> pool;
  CHECK_THROWS_AS(pool.create(true), std::runtime_error);
  CHECK(pool.stats().live_objects == 0);
  auto ok = pool.make(false);
  CHECK(pool.stats().live_objects == 1);
}

TEMPLATE_TEST_CASE("over-aligned types get aligned blocks", "[memory][object_pool]", thread_caching,
                   locked, single_threaded) {
  tessera::basic_object_pool<over_aligned, TestType> pool;
  std::vector<over_aligned*> v;
  for (int i = 0; i < 500; ++i) {
    v.push_back(pool.create());
    REQUIRE(reinterpret_cast<std::uintptr_t>(v.back()) % 64 == 0);
  }
  for (auto* p : v) pool.destroy(p);
}

TEMPLATE_TEST_CASE("a bounded pool throws out_of_memory naming the pool when full",
                   "[memory][object_pool]", thread_caching, locked, single_threaded) {
  tessera::basic_object_pool<order, TestType> pool{{.name = "tiny", .max_objects = 10}};
  std::vector<tessera::pool_ptr<order>> v;
  for (int i = 0; i < 10; ++i) v.push_back(pool.make(1u, 1.0, "x"));
  try {
    (void)pool.make(1u, 1.0, "x");
    FAIL("the eleventh object was made");
  } catch (const tessera::out_of_memory& e) {
    CHECK(e.source() == "tiny");
    CHECK(std::string(e.what()).find("tiny") != std::string::npos);
  }
  v.pop_back();
  CHECK_NOTHROW(v.push_back(pool.make(2u, 2.0, "y")));  // a freed object can be made again
}

TEMPLATE_TEST_CASE("trim gives fully free chunks back to the upstream", "[memory][object_pool]",
                   thread_caching, locked, single_threaded) {
  tessera::basic_object_pool<order, TestType> pool;
  std::vector<order*> v;
  for (int i = 0; i < 5000; ++i) v.push_back(pool.create(1u, 1.0, ""));
  const std::size_t held = pool.stats().upstream_bytes;
  for (auto* p : v) pool.destroy(p);
  const std::size_t released = pool.trim();
  CHECK(released > 0);
  CHECK(pool.stats().upstream_bytes == held - released);
  CHECK(pool.stats().upstream_bytes < held / 2);
  // The pool still works after trimming.
  auto again = pool.make(7u, 7.0, "again");
  CHECK(again->id == 7);
}

TEMPLATE_TEST_CASE("random make/destroy sequences match a reference model", "[memory][object_pool]",
                   thread_caching, locked, single_threaded) {
  tessera::basic_object_pool<order, TestType> pool{{.batch = 8}};
  std::mt19937_64 rng(42);
  std::vector<std::pair<order*, std::uint64_t>> model;  // live object, the id it must hold
  std::set<order*> live;                                // the same objects, for lookups
  for (int step = 0; step < 20000 * tessera_test::scale; ++step) {
    if (model.empty() || rng() % 100 < 52) {
      const std::uint64_t id = rng();
      order* p = pool.create(id, 0.0, "");
      REQUIRE(live.insert(p).second);  // never a block that is still live
      model.emplace_back(p, id);
    } else {
      const std::size_t k = rng() % model.size();
      auto [p, id] = model[k];
      REQUIRE(p->id == id);
      pool.destroy(p);
      live.erase(p);
      model[k] = model.back();
      model.pop_back();
    }
  }
  CHECK(pool.stats().live_objects == model.size());
  for (auto& [p, id] : model) {
    REQUIRE(p->id == id);
    pool.destroy(p);
  }
  CHECK(pool.stats().live_objects == 0);
}

TEMPLATE_TEST_CASE("threads sharing a pool never get one block twice", "[memory][object_pool]",
                   thread_caching, locked) {
  tessera::basic_object_pool<order, TestType> pool{{.batch = 16}};
  constexpr int threads = 4;
  const int steps = 3000 * tessera_test::scale;
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::vector<std::pair<order*, std::uint64_t>> mine;
      for (int i = 0; i < steps; ++i) {
        if (mine.empty() || rng() % 100 < 60) {
          const std::uint64_t id = rng();
          mine.emplace_back(pool.create(id, 0.0, ""), id);
        } else {
          const std::size_t k = rng() % mine.size();
          if (mine[k].first->id != mine[k].second) ++bad;
          pool.destroy(mine[k].first);
          mine[k] = mine.back();
          mine.pop_back();
        }
      }
      for (auto& [p, id] : mine) {
        if (p->id != id) ++bad;
        pool.destroy(p);
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(bad == 0);
  CHECK(pool.stats().live_objects == 0);
}

TEST_CASE("objects freed by another thread come back to the pool in batches",
          "[memory][object_pool]") {
  tessera::object_pool<order> pool{{.batch = 16}};
  const int rounds = 20 * tessera_test::scale;
  std::vector<order*> handed;
  int bad = 0;
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < 500; ++i) handed.push_back(pool.create(std::uint64_t(i), 0.0, ""));
    std::thread consumer([&] {
      for (std::size_t i = 0; i < handed.size(); ++i) {
        if (handed[i]->id != i) ++bad;
        pool.destroy(handed[i]);
      }
    });
    consumer.join();  // its cache goes back to the shared lists when it exits
    handed.clear();
  }
  CHECK(bad == 0);
  const auto st = pool.stats();
  CHECK(st.live_objects == 0);
  CHECK(st.drains > 0);
  // Blocks circulate: the pool did not grow with every round.
  CHECK(st.upstream_bytes < 4 * 500 * sizeof(order) * 2);
}

TEST_CASE("a thread that exits returns its cached objects", "[memory][object_pool]") {
  tessera::object_pool<order> pool;
  std::size_t cached_in_thread = 0;
  std::thread([&] {
    std::vector<order*> v;
    for (int i = 0; i < 100; ++i) v.push_back(pool.create(1u, 1.0, ""));
    for (auto* p : v) pool.destroy(p);
    cached_in_thread = pool.stats().cached_objects;
  }).join();
  CHECK(cached_in_thread >= 100);  // plus what was left of the refilled batch
  CHECK(pool.stats().cached_objects == 0);
  CHECK(pool.stats().live_objects == 0);
}

TEST_CASE("each thread that owns a pool's home cache gives it back as it exits",
          "[memory][object_pool]") {
  tessera::object_pool<order> pool{{.batch = 8}};
  for (int t = 0; t < 4; ++t) {
    std::size_t cached_in_thread = 0;
    std::thread([&] {
      std::vector<order*> v;
      for (int i = 0; i < 50; ++i) v.push_back(pool.create(std::uint64_t(i), 1.0, ""));
      for (auto* p : v) pool.destroy(p);
      cached_in_thread = pool.stats().cached_objects;
    }).join();
    CHECK(cached_in_thread >= 50);
    CHECK(pool.stats().cached_objects == 0);
  }
  // The thread that built the pool uses it too, after the others left.
  auto o = pool.make(9u, 9.0, "main");
  CHECK(o->id == 9);
  CHECK(pool.stats().live_objects == 1);
}

TEMPLATE_TEST_CASE("a working set larger than a batch stops refilling once the cache has grown",
                   "[memory][object_pool]", thread_caching, locked, single_threaded) {
  tessera::basic_object_pool<order, TestType> pool{{.batch = 8}};
  std::vector<order*> v;
  auto round = [&] {
    for (int i = 0; i < 200; ++i) v.push_back(pool.create(std::uint64_t(i), 1.0, ""));
    for (auto* p : v) pool.destroy(p);
    v.clear();
  };
  round();
  round();
  const auto before = pool.stats();
  CHECK(before.refills > 0);
  for (int r = 0; r < 5; ++r) round();
  const auto after = pool.stats();
  CHECK(after.refills == before.refills);
  CHECK(after.drains == before.drains);
  CHECK(after.live_objects == 0);
  CHECK(after.cached_objects >= 200);
}

TEST_CASE("a pool destroyed while other threads hold caches leaves them harmless",
          "[memory][object_pool]") {
  std::atomic<int> phase{0};
  bool distinct = false;
  std::size_t live = 0;
  std::optional<tessera::object_pool<order>> pool(std::in_place);
  std::thread t([&] {
    pool->destroy(pool->create(1u, 1.0, ""));  // leaves a cache in this thread
    phase = 1;
    phase.notify_one();
    phase.wait(1);
    // A new pool may take the old pool's slot: this thread's stale cache must not leak in.
    tessera::object_pool<order> fresh;
    auto a = fresh.make(2u, 2.0, "");
    auto b = fresh.make(3u, 3.0, "");
    distinct = a.get() != b.get() && a->id == 2 && b->id == 3;
    live = fresh.stats().live_objects;
  });
  phase.wait(0);
  pool.reset();
  phase = 2;
  phase.notify_one();
  t.join();
  CHECK(distinct);
  CHECK(live == 2);
}

TEST_CASE("many pools at once all work, beyond the per-thread cache slots",
          "[memory][object_pool]") {
  std::vector<std::unique_ptr<tessera::object_pool<order>>> pools;
  for (int i = 0; i < 300; ++i) {
    pools.push_back(std::make_unique<tessera::object_pool<order>>(
        tessera::pool_options{.publish_metrics = false}));
  }
  std::vector<std::pair<tessera::object_pool<order>*, order*>> made;
  for (auto& p : pools) made.emplace_back(p.get(), p->create(5u, 5.0, "x"));
  for (auto& [p, o] : made) {
    REQUIRE(o->id == 5);
    p->destroy(o);
    REQUIRE(p->stats().live_objects == 0);
  }
}
