#include "tessera/sched/scheduler.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tessera/profile/hooks.hpp"
#include "tessera/sched/task_group.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

TEMPLATE_TEST_CASE("submit() delivers a task's value through its future", "", sched_test::spinning,
                   sched_test::parking, sched_test::neighbourly) {
  TestType s{{.workers = 2}};
  auto f = s.submit([] { return 6 * 7; });
  CHECK(f.get() == 42);
  CHECK_FALSE(f.valid());
}

TEMPLATE_TEST_CASE("a task's exception reaches future::get() exactly once", "",
                   sched_test::spinning, sched_test::parking) {
  TestType s{{.workers = 2}};
  auto f = s.submit([]() -> int { throw std::runtime_error("boom"); });
  CHECK_THROWS_WITH(f.get(), "boom");
  CHECK_FALSE(f.valid());  // a second get() is a precondition violation, not a second throw
}

TEMPLATE_TEST_CASE("spawn() runs every fire-and-forget task", "", sched_test::spinning,
                   sched_test::parking, sched_test::neighbourly) {
  const int n = static_cast<int>(sched_test::scaled(20'000));
  std::atomic<int> ran{0};
  {
    TestType s{{.workers = 2}};
    for (int i = 0; i < n; ++i) s.spawn([&] { ran.fetch_add(1, std::memory_order_relaxed); });
  }  // the destructor drains
  CHECK(ran.load() == n);
}

TEST_CASE("a spawned task's exception goes to on_unhandled_exception") {
  std::atomic<int> handled{0};
  {
    tessera::scheduler s{{.workers = 2, .on_unhandled_exception = [&](std::exception_ptr e) {
                            try {
                              std::rethrow_exception(e);
                            } catch (const std::logic_error&) {
                              handled.fetch_add(1);
                            }
                          }}};
    for (int i = 0; i < 10; ++i) s.spawn([] { throw std::logic_error("lost?"); });
  }
  CHECK(handled.load() == 10);
}

TEST_CASE("future::get() inside a task helps instead of deadlocking on a one-worker scheduler") {
  tessera::scheduler s{{.workers = 1, .external_slots = 0}};
  auto outer = s.submit([&s] {
    int sum = 0;
    std::vector<tessera::future<int>> inner;
    for (int i = 0; i < 10; ++i) inner.push_back(s.submit([i] { return i; }));
    for (auto& f : inner) sum += f.get();
    return sum;
  });
  CHECK(outer.get() == 45);
}

TEST_CASE("submissions from 8 outside threads all run while workers steal") {
  tessera::scheduler s{{.workers = 2}};
  const int per_thread = static_cast<int>(sched_test::scaled(5'000));
  std::atomic<long> sum{0};
  std::vector<std::thread> producers;
  std::vector<std::vector<tessera::future<int>>> futures(8);
  for (int t = 0; t < 8; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        if (i % 2 == 0) {
          futures[t].push_back(s.submit([i] { return i; }));
        } else {
          s.spawn([&sum, i] { sum.fetch_add(i, std::memory_order_relaxed); });
        }
      }
    });
  }
  for (auto& p : producers) p.join();
  long from_futures = 0;
  for (auto& v : futures) {
    for (auto& f : v) from_futures += f.get();
  }
  s.shutdown();
  long expect_even = 0, expect_odd = 0;
  for (int i = 0; i < per_thread; ++i) (i % 2 == 0 ? expect_even : expect_odd) += i;
  CHECK(from_futures == 8 * expect_even);
  CHECK(sum.load() == 8 * expect_odd);
}

TEMPLATE_TEST_CASE("a high-priority task runs before a queued flood of low-priority tasks", "",
                   sched_test::spinning, sched_test::parking) {
  // One worker, so that the order is the scheduler's alone: with two, the worker that took the
  // high task can be preempted by the OS while the other runs the flood.
  constexpr unsigned workers = 1;
  TestType s{{.workers = workers}};
  // Occupy every worker, so the flood and the high task are both queued before anyone looks.
  std::atomic<unsigned> blocked{0};
  std::atomic<bool> release{false};
  for (unsigned i = 0; i < workers; ++i) {
    s.spawn([&] {
      blocked.fetch_add(1);
      while (!release.load()) std::this_thread::yield();
    });
  }
  while (blocked.load() != workers) std::this_thread::yield();

  const int flood = static_cast<int>(sched_test::scaled(2'000));
  std::atomic<int> low_done{0};
  std::atomic<int> low_done_when_high_ran{-1};
  for (int i = 0; i < flood; ++i) {
    s.spawn(tessera::priority::low, [&] { low_done.fetch_add(1); });
  }
  auto high = s.submit(tessera::priority::high, [&] { low_done_when_high_ran = low_done.load(); });
  release.store(true);
  high.get();
  s.shutdown();
  CHECK(low_done_when_high_ran.load() == 0);
  CHECK(low_done.load() == flood);
}

TEMPLATE_TEST_CASE(
    "high-priority tasks taken by several workers at once leave none behind the flood", "",
    sched_test::spinning, sched_test::parking) {
  // Two workers race for a few queued high tasks; a worker that finds the queue busy must not
  // conclude that no high task is left. Each low task waits (boundedly) for every high task to
  // have run, so a high task left behind shows up as a low task that gave up waiting.
  constexpr unsigned workers = 2;
  constexpr int highs = 3;
  constexpr int lows = 8;
  const int rounds = static_cast<int>(sched_test::scaled(300, 3));
  TestType s{{.workers = workers}};
  int gave_up = 0;
  for (int round = 0; round < rounds && gave_up == 0; ++round) {
    std::atomic<unsigned> blocked{0};
    std::atomic<bool> release{false};
    auto block = [&] {
      blocked.fetch_add(1);
      while (!release.load()) std::this_thread::yield();
    };
    // Every task of the round, blockers included, is waited for before its variables go.
    std::vector<decltype(s.submit(block))> pending;
    for (unsigned i = 0; i < workers; ++i) pending.push_back(s.submit(block));
    while (blocked.load() != workers) std::this_thread::yield();
    std::atomic<int> highs_done{0};
    std::atomic<int> lows_gave_up{0};
    auto low = [&] {
      const auto deadline = std::chrono::steady_clock::now() + 500ms;
      while (highs_done.load() != highs) {
        if (std::chrono::steady_clock::now() > deadline) {
          lows_gave_up.fetch_add(1);
          return;
        }
        std::this_thread::yield();
      }
    };
    for (int i = 0; i < lows; ++i) pending.push_back(s.submit(tessera::priority::low, low));
    for (int i = 0; i < highs; ++i) {
      pending.push_back(s.submit(tessera::priority::high, [&] { highs_done.fetch_add(1); }));
    }
    release.store(true);
    for (auto& f : pending) f.get();
    gave_up = lows_gave_up.load();
  }
  CHECK(gave_up == 0);
}

TEST_CASE("low-priority tasks that keep spawning more cannot starve a high-priority task") {
  tessera::scheduler s{{.workers = 2}};
  std::atomic<bool> stop{false};
  std::atomic<long> low_runs{0};
  struct flood {
    tessera::scheduler* s;
    std::atomic<bool>* stop;
    std::atomic<long>* runs;
    void operator()() const {
      runs->fetch_add(1, std::memory_order_relaxed);
      if (!stop->load(std::memory_order_relaxed)) {
        s->spawn(tessera::priority::low, *this);  // each low task replaces itself, twice
        s->spawn(tessera::priority::low, *this);
      }
    }
  };
  s.spawn(tessera::priority::low, flood{&s, &stop, &low_runs});
  while (low_runs.load() < 1000) std::this_thread::yield();
  // The flood never ends by itself; the high task must still get through.
  auto high = s.submit(tessera::priority::high, [] { return 1; });
  CHECK(high.get() == 1);
  stop.store(true);
  s.shutdown(tessera::shutdown_mode::cancel);
}

TEST_CASE("shutdown in cancel mode cancels queued tasks and reports them so none is lost") {
  tessera::scheduler s{{.workers = 1}};
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  s.spawn([&] {
    started = true;
    while (!release.load()) std::this_thread::yield();
  });
  while (!started.load()) std::this_thread::yield();
  std::atomic<int> ran{0};
  const int queued = 100;
  std::vector<tessera::future<int>> futures;
  for (int i = 0; i < queued; ++i) futures.push_back(s.submit([&] { return ++ran; }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    release = true;
  });
  const auto report = s.shutdown(tessera::shutdown_mode::cancel);
  releaser.join();
  int cancelled = 0;
  for (auto& f : futures) {
    try {
      f.get();
    } catch (const tessera::task_cancelled&) {
      ++cancelled;
    }
  }
  CHECK(cancelled + ran.load() == queued);
  CHECK(report.cancelled == static_cast<std::uint64_t>(cancelled));
  CHECK(cancelled > 0);
}

TEST_CASE("shutdown in drain mode runs pending tasks and what they spawn") {
  std::atomic<int> ran{0};
  tessera::scheduler s{{.workers = 2}};
  for (int i = 0; i < 100; ++i) {
    s.spawn([&] {
      ran.fetch_add(1);
      s.spawn([&] { ran.fetch_add(1); });
    });
  }
  const auto report = s.shutdown();
  CHECK(ran.load() == 200);
  CHECK(report.cancelled == 0);
  CHECK(report.ran >= 200);
}

TEST_CASE("submitting after shutdown throws instead of losing the task") {
  tessera::scheduler s{{.workers = 1}};
  s.shutdown();
  CHECK_THROWS_AS(s.submit([] { return 1; }), tessera::error);
  CHECK_THROWS_AS(s.spawn([] {}), tessera::error);
}

TEST_CASE("execute() returns the result and lets the caller take part") {
  tessera::scheduler s{{.workers = 1}};
  CHECK(s.execute([] { return 5; }) == 5);
  CHECK_THROWS_AS(s.execute([]() -> int { throw std::out_of_range("x"); }), std::out_of_range);
  // With no outside slot the work is handed to a worker and the caller sleeps.
  tessera::scheduler no_slot{{.workers = 1, .external_slots = 0}};
  CHECK(no_slot.execute([] { return std::string("worker"); }) == "worker");
}

TEST_CASE("an idle scheduler parks its workers") {
  tessera::scheduler s{{.workers = 2}};
  s.submit([] { return 0; }).get();
  // Parking is an outcome, not a timing: wait (generously) until both workers have parked.
  for (int i = 0; i < 500 && s.stats().parks < 2; ++i) std::this_thread::sleep_for(10ms);
  CHECK(s.stats().parks >= 2);
}

TEMPLATE_TEST_CASE("tasks submitted from outside to parked workers wake a worker each", "",
                   sched_test::spinning, sched_test::parking) {
  // Each round: both workers are asleep, then two tasks are submitted that can only finish
  // together (each waits for the other to start), so both workers must be woken. A lost
  // wake-up shows as a task that never sees its partner (bounded wait: the test fails, it does
  // not hang).
  TestType s{{.workers = 2}};
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 500 && s.stats().parks < 2u * static_cast<unsigned>(round + 1); ++i) {
      std::this_thread::sleep_for(1ms);
    }
    std::atomic<int> arrived{0};
    auto meet = [&arrived] {
      arrived.fetch_add(1);
      const auto give_up = std::chrono::steady_clock::now() + 10s;
      while (arrived.load() < 2 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::yield();
      }
      return arrived.load() >= 2;
    };
    auto a = s.submit(meet);
    auto b = s.submit(meet);
    INFO("round " << round);
    CHECK(a.get());
    CHECK(b.get());
  }
}

namespace {
struct capture_sink final : tessera::profile::metric_sink {
  std::vector<std::string> names;
  double tasks = 0;
  void sample(std::string_view name, std::string_view, tessera::profile::metric_type, double value,
              std::initializer_list<tessera::profile::label> labels) override {
    for (const auto& l : labels) {
      if (l.key == "scheduler" && l.value == "metrics-test") {
        names.emplace_back(name);
        if (name == "tessera_sched_tasks_total") tasks += value;
      }
    }
  }
};
}  // namespace

TEST_CASE("the scheduler publishes its tessera_sched_* metrics") {
  tessera::scheduler s{{.workers = 2, .name = "metrics-test"}};
  for (int i = 0; i < 10; ++i) s.submit([] {}).get();
  capture_sink sink;
  tessera::profile::collect(sink);
  for (const char* m : {"tessera_sched_tasks_total", "tessera_sched_steals_total",
                        "tessera_sched_failed_steals_total", "tessera_sched_parks_total",
                        "tessera_sched_idle_seconds_total", "tessera_sched_busy_seconds_total"}) {
    CHECK(std::find(sink.names.begin(), sink.names.end(), m) != sink.names.end());
  }
  CHECK(sink.tasks >= 10);
}

TEST_CASE("default_scheduler() is one lazily created instance") {
  auto& a = tessera::default_scheduler();
  auto& b = tessera::default_scheduler();
  CHECK(&a == &b);
  CHECK(a.submit([] { return 3; }).get() == 3);
}

TEST_CASE("workers carry the options' thread name, stack size and pinning") {
  tessera::scheduler s{
      {.workers = 2, .thread_name = "tst", .pin = true, .stack_size = std::size_t{1} << 20}};
  auto name = s.submit([] {
    char buf[16] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    pthread_attr_t attr;
    std::size_t stack = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstacksize(&attr, &stack);
      pthread_attr_destroy(&attr);
    }
    return std::make_pair(std::string(buf), stack);
  });
  const auto [thread_name, stack] = name.get();
  CHECK((thread_name == "tst-0" || thread_name == "tst-1"));
  CHECK(stack >= (std::size_t{1} << 20));
  CHECK(stack < (std::size_t{4} << 20));
}
