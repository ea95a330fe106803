#include "tessera/sched/task_group.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tessera/sched/parallel_invoke.hpp"
#include "test_support.hpp"

TEMPLATE_TEST_CASE("wait() returns after every task of the group ran", "", sched_test::spinning,
                   sched_test::parking, sched_test::neighbourly) {
  TestType s{{.workers = 2}};
  tessera::task_group g{s};
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) g.run([&] { ran.fetch_add(1); });
  CHECK(g.wait() == tessera::task_group_status::complete);
  CHECK(ran.load() == 1000);
  CHECK(g.counts().ran == 1000);
}

TEST_CASE("a task's exception reaches wait() exactly once, and every task is accounted for") {
  tessera::scheduler s{{.workers = 2}};
  const std::size_t total = sched_test::scaled(1'000'000, 20);
  const std::size_t per_group = 1000;
  std::mt19937 rng(12345);
  std::size_t delivered = 0, expected_throwing_groups = 0;
  std::uint64_t ran = 0, failed = 0, skipped = 0, thrown = 0;
  for (std::size_t base = 0; base < total; base += per_group) {
    tessera::task_group g{s};
    std::atomic<std::uint64_t> threw{0};
    std::vector<char> throws(per_group);
    for (auto& t : throws) t = (rng() % 5000) == 0;  // about one group in five has a throw
    bool any = false;
    for (char t : throws) any |= t != 0;
    expected_throwing_groups += any;
    g.run([&g, &throws, &threw] {
      // Tasks that spawn tasks: the group also grows from inside.
      for (std::size_t i = 0; i < throws.size(); ++i) {
        g.run([&threw, t = throws[i]] {
          if (t != 0) {
            threw.fetch_add(1);
            throw std::runtime_error("task failed");
          }
        });
      }
    });
    try {
      const auto status = g.wait();
      CHECK_FALSE(any);
      CHECK(status == tessera::task_group_status::complete);
    } catch (const std::runtime_error&) {
      ++delivered;
    }
    CHECK_NOTHROW(g.wait());  // delivered once: the second wait has nothing to rethrow
    const auto c = g.counts();
    CHECK(c.ran + c.failed + c.skipped == per_group + 1);
    CHECK(c.failed == threw.load());
    ran += c.ran;
    failed += c.failed;
    skipped += c.skipped;
    thrown += threw.load();
  }
  CHECK(delivered == expected_throwing_groups);
  CHECK(failed == thrown);
  CHECK(ran + failed + skipped == total + total / per_group);
}

TEST_CASE("cancel() skips the tasks that have not started and counts them") {
  tessera::scheduler s{{.workers = 1}};
  tessera::task_group g{s};
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  g.run([&] {
    started = true;
    while (!release.load()) std::this_thread::yield();
  });
  while (!started.load()) std::this_thread::yield();
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) g.run([&] { ran.fetch_add(1); });
  g.cancel();
  release = true;
  CHECK(g.wait() == tessera::task_group_status::canceled);
  CHECK(g.counts().skipped + static_cast<std::uint64_t>(ran.load()) == 50);
  CHECK(g.counts().skipped > 0);
  // The group is reusable after wait().
  g.run([&] { ran.fetch_add(1000); });
  CHECK(g.wait() == tessera::task_group_status::complete);
}

namespace {
int nest(tessera::task_group* parent_group, int depth, std::atomic<int>& count) {
  count.fetch_add(1);
  if (depth == 0) return 0;
  tessera::task_group g;  // on the worker's own scheduler
  int child = -1;
  g.run([&] { child = nest(&g, depth - 1, count); });
  g.run([&] { count.fetch_add(1); });
  g.wait();
  (void)parent_group;
  return child + 1;
}
}  // namespace

TEMPLATE_TEST_CASE("waits nested 20 deep from inside tasks complete", "", sched_test::spinning,
                   sched_test::parking) {
  for (unsigned workers : {1u, 2u}) {
    TestType s{{.workers = workers, .external_slots = 0}};
    std::atomic<int> count{0};
    const int depth = s.execute([&] { return nest(nullptr, 20, count); });
    CHECK(depth == 20);
    CHECK(count.load() == 21 + 20);
  }
}

TEST_CASE("wait() from inside the group's own task waits for the other tasks, not itself") {
  tessera::scheduler s{{.workers = 2}};
  tessera::task_group g{s};
  std::atomic<int> others{0};
  std::atomic<int> seen_by_inner{-1};
  g.run([&] {
    for (int i = 0; i < 100; ++i) g.run([&] { others.fetch_add(1); });
    g.wait();  // would deadlock if it counted its own task
    seen_by_inner = others.load();
  });
  g.wait();
  CHECK(seen_by_inner.load() == 100);
}

TEST_CASE("two tasks of one group waiting on it at once both proceed") {
  tessera::scheduler s{{.workers = 2}};
  tessera::task_group g{s};
  std::atomic<int> inside{0};
  std::atomic<int> done{0};
  for (int t = 0; t < 2; ++t) {
    g.run([&] {
      inside.fetch_add(1);
      while (inside.load() < 2) std::this_thread::yield();  // both are running now
      g.wait();
      done.fetch_add(1);
    });
  }
  g.wait();
  CHECK(done.load() == 2);
}

TEST_CASE("a task group used from an outside thread blocks until its tasks ran") {
  tessera::scheduler s{{.workers = 2, .external_slots = 0}};
  tessera::task_group g{s};
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) g.run([&] { ran.fetch_add(1); });
  g.wait();
  CHECK(ran.load() == 100);
}

TEST_CASE("shutdown in cancel mode counts a group's queued tasks as skipped") {
  auto s = std::make_unique<tessera::scheduler>(tessera::scheduler_options{.workers = 1});
  tessera::task_group g{*s};
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  g.run([&] {
    started = true;
    while (!release.load()) std::this_thread::yield();
  });
  while (!started.load()) std::this_thread::yield();
  for (int i = 0; i < 20; ++i) g.run([] {});
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release = true;
  });
  s->shutdown(tessera::shutdown_mode::cancel);
  releaser.join();
  g.wait();
  CHECK(g.counts().ran + g.counts().skipped == 21);
}
