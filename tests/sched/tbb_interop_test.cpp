#include "tessera/sched/tbb_interop.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include "tessera/sched/parallel_for.hpp"
#include "tessera/sched/parallel_invoke.hpp"
#include "tessera/sched/parallel_reduce.hpp"
#include "tessera/sched/parallel_sort.hpp"
#include "test_support.hpp"

// Not under ThreadSanitizer: libtbb is not instrumented, so TSan reports the stack data TBB's
// tasks hand between threads as races (tests/tsan.supp cannot tell them from real ones). The
// ASan and plain builds run it.
#if !TESSERA_TEST_TSAN

TEST_CASE("tessera algorithms run inside a oneTBB task_arena through tbb_executor") {
  tbb::task_arena arena(2);
  tessera::tbb_executor ex{arena};
  CHECK(ex.concurrency() == 2);

  std::vector<std::atomic<int>> hits(100'000);
  std::atomic<int> outside_arena{0};
  tessera::parallel_for(ex, std::size_t{0}, hits.size(), [&](std::size_t i) {
    hits[i].fetch_add(1);
    if (tbb::this_task_arena::max_concurrency() != 2) outside_arena.fetch_add(1);
  });
  CHECK(outside_arena.load() == 0);
  CHECK(std::all_of(hits.begin(), hits.end(), [](auto& h) { return h.load() == 1; }));

  std::vector<double> v(50'000, 0.25);
  CHECK(tessera::parallel_reduce(ex, v.begin(), v.end(), 0.0) == Approx(12'500.0));

  std::vector<int> s(100'000);
  std::mt19937 rng(1);
  for (auto& x : s) x = static_cast<int>(rng());
  tessera::parallel_sort(ex, s.begin(), s.end());
  CHECK(std::is_sorted(s.begin(), s.end()));

  std::atomic<int> calls{0};
  tessera::parallel_invoke(
      ex, [&] { calls++; }, [&] { calls++; }, [&] { calls++; });
  CHECK(calls.load() == 3);
}

#endif  // !TESSERA_TEST_TSAN
