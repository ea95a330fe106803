#include "tessera/sched/detail/chase_lev_deque.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "test_support.hpp"

using deque = tessera::sched::detail::chase_lev_deque<std::uintptr_t*>;

TEST_CASE("the deque's owner takes back what it pushed, newest first") {
  deque d(2);  // tiny, so that pushing grows it
  std::vector<std::uintptr_t> items(100);
  for (auto& x : items) d.push(&x);
  for (std::size_t i = items.size(); i-- > 0;) CHECK(d.take() == &items[i]);
  CHECK(d.take() == nullptr);
  CHECK(d.looks_empty());
}

TEST_CASE("a thief steals the oldest element") {
  deque d;
  std::uintptr_t a = 0, b = 0;
  d.push(&a);
  d.push(&b);
  std::uintptr_t* out = nullptr;
  REQUIRE(d.steal(out) == deque::steal_result::taken);
  CHECK(out == &a);
  CHECK(d.take() == &b);
  CHECK(d.steal(out) == deque::steal_result::empty);
}

TEST_CASE("every element is taken exactly once while thieves race the owner") {
  const std::size_t n = sched_test::scaled(400'000);
  constexpr int thieves = 3;
  std::vector<std::uintptr_t> items(n);
  std::vector<std::atomic<int>> seen(n);
  deque d(4);
  std::atomic<bool> done{false};
  std::atomic<std::size_t> stolen{0};
  auto mark = [&](std::uintptr_t* p) { seen[static_cast<std::size_t>(p - items.data())]++; };

  std::vector<std::thread> ts;
  for (int t = 0; t < thieves; ++t) {
    ts.emplace_back([&] {
      std::uintptr_t* out = nullptr;
      while (!done.load(std::memory_order_acquire) || !d.looks_empty()) {
        if (d.steal(out) == deque::steal_result::taken) {
          mark(out);
          stolen.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::size_t taken = 0;
  for (std::size_t i = 0; i < n; ++i) {
    d.push(&items[i]);
    if (i % 3 == 0) {
      if (auto* p = d.take()) {
        mark(p);
        ++taken;
      }
    }
  }
  while (auto* p = d.take()) {
    mark(p);
    ++taken;
  }
  done.store(true, std::memory_order_release);
  for (auto& t : ts) t.join();

  CHECK(taken + stolen.load() == n);
  std::size_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1;
  CHECK(wrong == 0);
}
