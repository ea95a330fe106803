// tessera::cache: loading (single-flight, exceptions, nested loads, refresh), invalidation,
// listeners, expiry with an injectable clock, weights and concurrent use under every policy.
#include "tessera/cache/concurrent_cache.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "sanitizers.hpp"
#include "tessera/cache/memoize.hpp"

namespace caching = tessera::caching;
using namespace std::chrono_literals;

namespace {

// A clock the test advances by hand.
struct manual_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<manual_clock, duration>;
  static inline std::atomic<std::int64_t> ns{1'000'000'000};
  static time_point now() noexcept { return time_point(duration(ns.load())); }
  static void advance(duration d) { ns += d.count(); }
};

// Runs each task inline on a thread of its own, and lets the test wait for all of them.
struct thread_executor {
  std::vector<std::thread> threads;
  void spawn(std::function<void()> fn) { threads.emplace_back(std::move(fn)); }
  void join() {
    for (auto& t : threads) t.join();
    threads.clear();
  }
  ~thread_executor() { join(); }
};

struct listener_log {
  std::mutex mu;
  std::vector<std::pair<int, caching::removal_cause>> events;
  auto fn() {
    return [this](const int& k, const std::string&, caching::removal_cause c) {
      std::lock_guard lock(mu);
      events.emplace_back(k, c);
    };
  }
  std::size_t count(caching::removal_cause c) {
    std::lock_guard lock(mu);
    std::size_t n = 0;
    for (auto& e : events) n += e.second == c ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST_CASE("get returns what put stored and a miss is nullopt") {
  tessera::cache<int, std::string> c{{.capacity = 100}};
  CHECK_FALSE(c.get(1));
  c.put(1, "one");
  REQUIRE(c.get(1) == std::optional<std::string>("one"));
  c.put(1, "uno");
  CHECK(c.get(1) == std::optional<std::string>("uno"));
  CHECK(c.contains(1));
  CHECK_FALSE(c.contains(2));
  const auto st = c.stats();
  CHECK(st.hits == 2);
  CHECK(st.misses == 1);
}

TEST_CASE("the capacity is split over shards and never exceeded") {
  tessera::cache<int, int> c{{.capacity = 20'000}};
  CHECK(c.shard_count() > 1);
  for (int i = 0; i < 60'000; ++i) c.put(i, i);
  CHECK(c.size() <= 20'000 + c.shard_count());
  CHECK(c.size() > 18'000);
}

TEST_CASE("get_or_load runs the loader once for 8 threads that miss together") {
  tessera::cache<int, int> c{{.capacity = 100}};
  std::atomic<int> calls{0};
  std::atomic<int> started{0};
  std::vector<std::thread> ts;
  std::vector<int> got(8, 0);
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&, t] {
      ++started;
      while (started.load() < 8) std::this_thread::yield();
      got[static_cast<std::size_t>(t)] = c.get_or_load(7, [&] {
        ++calls;
        std::this_thread::sleep_for(50ms);  // keep the flight open while the others arrive
        return 49;
      });
    });
  }
  for (auto& t : ts) t.join();
  CHECK(calls.load() == 1);
  for (int v : got) CHECK(v == 49);
  CHECK(c.stats().loads == 1);
}

TEST_CASE("a loader's exception reaches every waiter and nothing is stored") {
  tessera::cache<int, int> c{{.capacity = 100}};
  std::atomic<int> calls{0}, failures{0};
  std::atomic<bool> release{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&] {
      try {
        (void)c.get_or_load(3, [&]() -> int {
          ++calls;
          while (!release.load()) std::this_thread::yield();
          throw std::runtime_error("backend down");
        });
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "backend down") ++failures;
      }
    });
  }
  std::this_thread::sleep_for(50ms);
  release = true;
  for (auto& t : ts) t.join();
  // Threads that arrived after the failed flight closed start a flight of their own.
  CHECK(calls.load() >= 1);
  CHECK(failures.load() == 8);
  CHECK_FALSE(c.contains(3));
  CHECK(c.get_or_load(3, [] { return 9; }) == 9);
}

TEST_CASE("a loader may read other keys of the same cache without deadlock") {
  tessera::cache<int, int, caching::shards<1>> c{{.capacity = 100}};
  // fib(n) loads fib(n-1) and fib(n-2) through the cache from inside its own loader.
  std::function<int(int)> fib = [&](int n) -> int {
    return c.get_or_load(n, [&] { return n < 2 ? n : fib(n - 1) + fib(n - 2); });
  };
  CHECK(fib(25) == 75025);
  CHECK(c.stats().loads == 26);
}

TEST_CASE("loading a key from inside its own loader is reported, not a deadlock") {
  tessera::cache<int, int> c{{.capacity = 10}};
  CHECK_THROWS_AS(c.get_or_load(1, [&] { return c.get_or_load(1, [] { return 1; }); }),
                  std::logic_error);
  CHECK(c.get_or_load(1, [] { return 2; }) == 2);
}

TEST_CASE("invalidating a key during its load keeps the stale result out of the cache") {
  tessera::cache<int, int> c{{.capacity = 10}};
  const int v = c.get_or_load(5, [&] {
    c.invalidate(5);
    return 1;
  });
  CHECK(v == 1);
  CHECK_FALSE(c.contains(5));
}

TEST_CASE("invalidation by key, predicate, tag and clear tells the listener why") {
  listener_log log;
  tessera::cache<int, std::string> c{{.capacity = 100, .on_removal = log.fn()}};
  for (int i = 0; i < 10; ++i) {
    c.put(i, std::to_string(i), {.tags = {i % 2 == 0 ? "even" : "odd", "all"}});
  }
  CHECK(c.invalidate(3));
  CHECK_FALSE(c.invalidate(3));
  CHECK(c.invalidate_if([](const int& k, const std::string&) { return k >= 8; }) == 2);
  CHECK(c.invalidate_tag("even") == 4);  // 0 2 4 6 (8 is gone)
  CHECK(c.size() == 3);                  // 1 5 7
  c.put(1, "one");                       // replaced
  c.clear();
  CHECK(c.size() == 0);
  CHECK(log.count(caching::removal_cause::explicit_) == 10);
  CHECK(log.count(caching::removal_cause::replaced) == 1);
  CHECK(c.invalidate_tag("all") == 0);
}

TEST_CASE("entries evicted for size reach the listener with the size reason") {
  listener_log log;
  tessera::cache<int, std::string, caching::lru, caching::shards<1>> c{
      {.capacity = 4, .on_removal = log.fn()}};
  for (int i = 0; i < 10; ++i) c.put(i, "v");
  CHECK(log.count(caching::removal_cause::size) == 6);
  CHECK(log.events.front().first == 0);  // lru: the oldest goes first
}

TEST_CASE("expire_after_write, expire_after_access and per-entry ttl follow the clock") {
  using clk = caching::with_clock<manual_clock>;
  listener_log log;
  tessera::cache<int, std::string, clk> w{
      {.capacity = 10, .expire_after_write = 10s, .on_removal = log.fn()}};
  w.put(1, "a");
  manual_clock::advance(5s);
  CHECK(w.get(1));
  manual_clock::advance(5s);
  CHECK_FALSE(w.get(1));
  CHECK(log.count(caching::removal_cause::expired) == 1);

  tessera::cache<int, std::string, clk> a{{.capacity = 10, .expire_after_access = 10s}};
  a.put(1, "a");
  for (int i = 0; i < 5; ++i) {
    manual_clock::advance(6s);
    CHECK(a.get(1));  // each read pushes the deadline out
  }
  manual_clock::advance(11s);
  CHECK_FALSE(a.get(1));

  tessera::cache<int, std::string, clk> t{{.capacity = 10}};
  t.put(1, "short", {.ttl = 1s});
  t.put(2, "forever");
  manual_clock::advance(2s);
  CHECK_FALSE(t.contains(1));
  CHECK(t.contains(2));
  CHECK(t.size() == 2);  // expired but not yet removed ...
  CHECK(t.cleanup() == 1);
  CHECK(t.size() == 1);  // ... until cleanup()
}

TEST_CASE("refresh_after_write serves the old value and reloads on the executor") {
  using clk = caching::with_clock<manual_clock>;
  thread_executor ex;
  tessera::cache<int, int, clk> c{{.capacity = 10, .refresh_after_write = 1s, .executor = ex}};
  std::atomic<int> version{1};
  auto loader = [&] { return version.load(); };
  CHECK(c.get_or_load(1, loader) == 1);
  version = 2;
  CHECK(c.get_or_load(1, loader) == 1);  // fresh: no refresh
  manual_clock::advance(2s);
  CHECK(c.get_or_load(1, loader) == 1);  // old value served, refresh started
  ex.join();
  CHECK(c.get(1) == std::optional<int>(2));
  CHECK(c.stats().refreshes == 1);
}

TEST_CASE("a weigh_by policy makes the capacity a weight") {
  struct by_length {
    std::size_t operator()(const int&, const std::string& s) const { return s.size(); }
  };
  tessera::cache<int, std::string, caching::weigh_by<by_length>, caching::shards<1>> c{
      {.capacity = 100}};
  for (int i = 0; i < 20; ++i) c.put(i, std::string(10, 'x'));
  CHECK(c.weight() <= 100);
  CHECK(c.size() == 10);
  c.put(100, std::string(60, 'y'));
  CHECK(c.weight() <= 100);
  CHECK(c.get(100));
}

TEST_CASE("memoize caches a function of several arguments") {
  tessera::cache<std::tuple<int, int>, long> c{{.capacity = 100}};
  int calls = 0;
  auto power = tessera::memoize(
      [&](int b, int e) {
        ++calls;
        long r = 1;
        for (int i = 0; i < e; ++i) r *= b;
        return r;
      },
      c);
  CHECK(power(2, 10) == 1024);
  CHECK(power(2, 10) == 1024);
  CHECK(power(3, 3) == 27);
  CHECK(calls == 2);

  tessera::cache<int, int> one{{.capacity = 10}};
  auto twice = tessera::memoize([](int x) { return 2 * x; }, one);
  CHECK(twice(21) == 42);
  CHECK(one.contains(21));
}

TEMPLATE_TEST_CASE("concurrent gets, puts, loads and invalidations keep the cache consistent",
                   "[policy]", caching::lru, caching::fifo, caching::clock, caching::sieve,
                   caching::s3fifo, caching::s3fifo_sieve, caching::w_tinylfu, caching::arc) {
  constexpr int ops = TESSERA_TEST_SANITIZED ? 4'000 : 40'000;
  std::atomic<bool> bad{false};
  // Every value ever stored for k is k * 3, so a listener or a reader that sees anything else
  // saw a torn or misplaced entry.
  tessera::cache<int, int, TestType> c{
      {.capacity = 512, .on_removal = [&](const int& k, const int& v, caching::removal_cause) {
         if (v != k * 3) bad = true;
       }}};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      std::uint32_t x = 12345u + static_cast<std::uint32_t>(t);
      for (int i = 0; i < ops; ++i) {
        x = x * 1664525u + 1013904223u;
        const int k = static_cast<int>((x >> 8) % 2048);
        switch ((x >> 4) % 8) {
          case 0: c.put(k, k * 3); break;
          case 1: c.invalidate(k); break;
          case 2:
            if (c.get_or_load(k, [k] { return k * 3; }) != k * 3) bad = true;
            break;
          default:
            if (auto v = c.get(k); v && *v != k * 3) bad = true;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK_FALSE(bad.load());
  CHECK(c.size() <= 512 + c.shard_count());
  const auto st = c.stats();
  CHECK(st.hits + st.misses > 0);
}
