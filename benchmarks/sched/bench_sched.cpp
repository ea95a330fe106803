// bench_sched: tessera's scheduler against oneTBB, OpenMP (when found) and std::async on the
// same workloads, all on 2 threads unless the name says otherwise (fib_1t: one). tessera runs
// one worker plus the calling thread, like TBB's global_control(max_allowed_parallelism, 2).
// TESSERA_QUICK=1 shrinks the inputs for a smoke run.
#include <benchmark/benchmark.h>

#include "quick_mode.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/parallel_sort.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "tessera/sched/sched.hpp"
#include "uts.hpp"

namespace {

constexpr int kThreads = 2;
const bool quick = tessera_bench::quick_mode();

// One scheduler per thread count, reused across benchmarks like TBB's global arena.
tessera::scheduler& tessera_2t() {
  static tessera::scheduler s{{.workers = kThreads - 1, .external_slots = 1, .name = "bench"}};
  return s;
}
tessera::scheduler& tessera_1t() {  // one worker; the caller only waits
  static tessera::scheduler s{{.workers = 1, .external_slots = 0, .name = "bench-1t"}};
  return s;
}

// ---------------------------------------------------------------- fib
long fib_tessera(int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
  tessera::parallel_invoke([&] { a = fib_tessera(n - 1); }, [&] { b = fib_tessera(n - 2); });
  return a + b;
}

long fib_tbb(int n) {  // oneTBB's task_group example: run one child, compute the other inline
  if (n < 2) return n;
  long a = 0, b = 0;
  tbb::task_group g;
  g.run([&] { a = fib_tbb(n - 1); });
  b = fib_tbb(n - 2);
  g.wait();
  return a + b;
}

#if defined(_OPENMP)
long fib_omp(int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
#pragma omp task shared(a) untied
  a = fib_omp(n - 1);
  b = fib_omp(n - 2);
#pragma omp taskwait
  return a + b;
}
#endif

long fib_serial(int n) {
  return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

int fib_n() {
  return quick ? 25 : 30;
}

void set_fib_counters(benchmark::State& state, int n) {
  const double tasks = 2.0 * static_cast<double>(fib_serial(n + 1)) - 1.0;  // calls of fib(n)
  state.counters["ns_per_task"] =
      benchmark::Counter(tasks * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void check(benchmark::State& state, bool ok, const char* what) {
  if (!ok) state.SkipWithError(what);
}

void fib_tessera_bench(benchmark::State& state, tessera::scheduler& s) {
  const int n = fib_n();
  const long expect = fib_serial(n);
  long r = 0;
  for (auto _ : state) {
    r = s.execute([n] { return fib_tessera(n); });
    benchmark::DoNotOptimize(r);
  }
  check(state, r == expect, "fib: wrong result");
  set_fib_counters(state, n);
}

void fib_tbb_bench(benchmark::State& state, int threads) {
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
  const int n = fib_n();
  const long expect = fib_serial(n);
  long r = 0;
  for (auto _ : state) {
    r = fib_tbb(n);
    benchmark::DoNotOptimize(r);
  }
  check(state, r == expect, "fib: wrong result");
  set_fib_counters(state, n);
}

#if defined(_OPENMP)
void fib_omp_bench(benchmark::State& state, int threads) {
  const int n = fib_n();
  const long expect = fib_serial(n);
  long r = 0;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
#pragma omp single
    r = fib_omp(n);
    benchmark::DoNotOptimize(r);
  }
  check(state, r == expect, "fib: wrong result");
  set_fib_counters(state, n);
}
#endif

// ---------------------------------------------------------------- nqueens
constexpr int kMaxQueens = 16;
struct board {
  std::array<signed char, kMaxQueens> col{};
};

bool safe(const board& b, int row, int c) {
  for (int r = 0; r < row; ++r) {
    const int d = b.col[static_cast<std::size_t>(r)] - c;
    if (d == 0 || d == row - r || d == r - row) return false;
  }
  return true;
}

long queens_serial(board b, int row, int n) {
  if (row == n) return 1;
  long total = 0;
  for (int c = 0; c < n; ++c) {
    if (safe(b, row, c)) {
      b.col[static_cast<std::size_t>(row)] = static_cast<signed char>(c);
      total += queens_serial(b, row + 1, n);
    }
  }
  return total;
}

// One task per safe placement (BOTS nqueens without cut-off), results summed after the wait.
long queens_tessera(const board& b, int row, int n) {
  if (row == n) return 1;
  std::array<long, kMaxQueens> found{};
  tessera::task_group g;
  for (int c = 0; c < n; ++c) {
    if (safe(b, row, c)) {
      board next = b;
      next.col[static_cast<std::size_t>(row)] = static_cast<signed char>(c);
      g.run([&found, next, row, n, c] {
        found[static_cast<std::size_t>(c)] = queens_tessera(next, row + 1, n);
      });
    }
  }
  g.wait();
  return std::accumulate(found.begin(), found.end(), 0L);
}

long queens_tbb(const board& b, int row, int n) {
  if (row == n) return 1;
  std::array<long, kMaxQueens> found{};
  tbb::task_group g;
  for (int c = 0; c < n; ++c) {
    if (safe(b, row, c)) {
      board next = b;
      next.col[static_cast<std::size_t>(row)] = static_cast<signed char>(c);
      g.run([&found, next, row, n, c] {
        found[static_cast<std::size_t>(c)] = queens_tbb(next, row + 1, n);
      });
    }
  }
  g.wait();
  return std::accumulate(found.begin(), found.end(), 0L);
}

#if defined(_OPENMP)
long queens_omp(const board& b, int row, int n) {
  if (row == n) return 1;
  std::array<long, kMaxQueens> found{};
  for (int c = 0; c < n; ++c) {
    if (safe(b, row, c)) {
#pragma omp task firstprivate(c) shared(found) untied
      {
        board nb = b;
        nb.col[static_cast<std::size_t>(row)] = static_cast<signed char>(c);
        found[static_cast<std::size_t>(c)] = queens_omp(nb, row + 1, n);
      }
    }
  }
#pragma omp taskwait
  return std::accumulate(found.begin(), found.end(), 0L);
}
#endif

int queens_n() {
  return quick ? 9 : 12;
}

template <class Run>
void queens_bench(benchmark::State& state, Run run) {
  const int n = queens_n();
  const long expect = queens_serial(board{}, 0, n);
  long r = 0;
  for (auto _ : state) {
    r = run(n);
    benchmark::DoNotOptimize(r);
  }
  check(state, r == expect, "nqueens: wrong count");
}

// ---------------------------------------------------------------- UTS T1
// Quick runs use the same tree cut at depth 6 (checked against a serial count).
int uts_depth() {
  return quick ? 6 : uts::gen_mx;
}
std::string uts_suffix() {
  return quick ? "/d6" : "";
}

std::uint64_t uts_tessera(const uts::node& n) {
  const int c = uts::num_children(n, uts_depth());
  if (c == 0) return 1;
  std::array<std::uint64_t, uts::max_children> counts{};
  // Binary fork over the children: stack frames only.
  auto visit = [&](auto& self, int lo, int hi) -> void {
    if (hi - lo == 1) {
      counts[static_cast<std::size_t>(lo)] = uts_tessera(uts::child(n, lo));
      return;
    }
    const int mid = lo + (hi - lo) / 2;
    tessera::parallel_invoke([&] { self(self, mid, hi); }, [&] { self(self, lo, mid); });
  };
  visit(visit, 0, c);
  return 1 + std::accumulate(counts.begin(), counts.begin() + c, std::uint64_t{0});
}

std::uint64_t uts_tbb(const uts::node& n) {
  const int c = uts::num_children(n, uts_depth());
  if (c == 0) return 1;
  std::array<std::uint64_t, uts::max_children> counts{};
  tbb::task_group g;
  for (int i = 0; i + 1 < c; ++i) {
    g.run([&counts, &n, i] { counts[static_cast<std::size_t>(i)] = uts_tbb(uts::child(n, i)); });
  }
  counts[static_cast<std::size_t>(c - 1)] = uts_tbb(uts::child(n, c - 1));
  g.wait();
  return 1 + std::accumulate(counts.begin(), counts.begin() + c, std::uint64_t{0});
}

#if defined(_OPENMP)
std::uint64_t uts_omp(const uts::node& n) {
  const int c = uts::num_children(n, uts_depth());
  if (c == 0) return 1;
  std::array<std::uint64_t, uts::max_children> counts{};
  for (int i = 0; i < c; ++i) {
#pragma omp task firstprivate(i) shared(counts, n) untied
    counts[static_cast<std::size_t>(i)] = uts_omp(uts::child(n, i));
  }
#pragma omp taskwait
  return 1 + std::accumulate(counts.begin(), counts.begin() + c, std::uint64_t{0});
}
#endif

template <class Run>
void uts_bench(benchmark::State& state, Run run) {
  const uts::node root = uts::root();
  std::uint64_t r = 0;
  for (auto _ : state) {
    r = run(root);
    benchmark::DoNotOptimize(r);
  }
  const std::uint64_t expect = quick ? uts::count_serial(root, uts_depth()) : uts::t1_nodes;
  check(state, r == expect, "uts_t1: wrong node count (T1 has 4,130,071)");
  state.counters["nodes"] = static_cast<double>(r);
}

// ---------------------------------------------------------------- skynet
// Each node has 10 children; after `levels` levels the leaves return their ordinal.
constexpr long skynet_expect(int levels) {
  long leaves = 1;
  for (int i = 1; i < levels; ++i) leaves *= 10;
  return leaves * (leaves - 1) / 2;
}

long skynet_tessera(long num, long size) {
  if (size == 1) return num;
  std::array<long, 10> r{};
  const long sub = size / 10;
  tessera::parallel_for(
      0, 10, [&](int i) { r[static_cast<std::size_t>(i)] = skynet_tessera(num + i * sub, sub); },
      {.grain = 1});
  return std::accumulate(r.begin(), r.end(), 0L);
}

long skynet_tbb(long num, long size) {
  if (size == 1) return num;
  std::array<long, 10> r{};
  const long sub = size / 10;
  tbb::task_group g;
  for (int i = 0; i < 10; ++i) {
    g.run([&r, num, sub, i] { r[static_cast<std::size_t>(i)] = skynet_tbb(num + i * sub, sub); });
  }
  g.wait();
  return std::accumulate(r.begin(), r.end(), 0L);
}

#if defined(_OPENMP)
long skynet_omp(long num, long size) {
  if (size == 1) return num;
  std::array<long, 10> r{};
  const long sub = size / 10;
  for (int i = 0; i < 10; ++i) {
#pragma omp task firstprivate(i) shared(r) untied
    r[static_cast<std::size_t>(i)] = skynet_omp(num + i * sub, sub);
  }
#pragma omp taskwait
  return std::accumulate(r.begin(), r.end(), 0L);
}
#endif

int skynet_levels() {
  return quick ? 5 : 7;
}
long skynet_size() {
  long s = 1;
  for (int i = 1; i < skynet_levels(); ++i) s *= 10;
  return s;
}

template <class Run>
void skynet_bench(benchmark::State& state, Run run) {
  long r = 0;
  for (auto _ : state) {
    r = run(skynet_size());
    benchmark::DoNotOptimize(r);
  }
  check(state, r == skynet_expect(skynet_levels()), "skynet: wrong sum");
}

// ---------------------------------------------------------------- loops
std::size_t large_n() {
  return quick ? (1u << 16) : (1u << 20);
}

template <class Run>
void pfor_bench(benchmark::State& state, std::size_t n, Run run) {
  std::vector<float> a(n, 1.0f);
  std::size_t reps = 0;
  for (auto _ : state) {
    run(a.data(), n);
    benchmark::ClobberMemory();
    ++reps;
  }
  check(state, a[0] == 1.0f + static_cast<float>(reps) && a[n - 1] == a[0], "pfor: lost an add");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void pfor_tessera(float* a, std::size_t n) {
  tessera::parallel_for(tessera_2t(), std::size_t{0}, n, [a](std::size_t i) { a[i] += 1.0f; });
}
void pfor_tbb(float* a, std::size_t n) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n),
                    [a](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t i = r.begin(); i != r.end(); ++i) a[i] += 1.0f;
                    });
}
#if defined(_OPENMP)
void pfor_omp(float* a, std::size_t n) {
#pragma omp parallel for num_threads(kThreads)
  for (std::size_t i = 0; i < n; ++i) a[i] += 1.0f;
}
#endif
void pfor_async(float* a, std::size_t n) {
  auto half = std::async(std::launch::async, [a, n] {
    for (std::size_t i = n / 2; i < n; ++i) a[i] += 1.0f;
  });
  for (std::size_t i = 0; i < n / 2; ++i) a[i] += 1.0f;
  half.get();
}

// Triangular cost: element i costs i steps.
std::size_t skewed_n() {
  return quick ? 1024 : 4096;
}
inline double skewed_work(std::size_t i) {
  double x = 0;
  for (std::size_t j = 0; j < i; ++j) x = x * 0.999999 + static_cast<double>(j);
  return x;
}
template <class Run>
void skewed_bench(benchmark::State& state, Run run) {
  const std::size_t n = skewed_n();
  std::vector<double> out(n);
  for (auto _ : state) {
    run(out.data(), n);
    benchmark::ClobberMemory();
  }
  check(state, out[n - 1] == skewed_work(n - 1), "pfor_skewed: wrong value");
}

// Sum of doubles.
template <class Run>
void reduce_bench(benchmark::State& state, Run run) {
  const std::size_t n = large_n();
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i % 1024) * 0.5;
  const double expect = std::accumulate(v.begin(), v.end(), 0.0);
  // A volatile store keeps the result alive: benchmark 1.7.1's DoNotOptimize on a double
  // miscompiles with g++ 12 (its "+m,r" constraint lets g++ hand a general register over).
  volatile double r = 0;
  for (auto _ : state) r = run(v);
  check(state, std::abs(r - expect) <= 1e-9 * expect, "reduce: wrong sum");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Sort of random 32-bit keys; the copy of the input is not timed.
std::size_t sort_n() {
  return quick ? (1u << 18) : (1u << 22);
}
template <class Run>
void sort_bench(benchmark::State& state, Run run) {
  const std::size_t n = sort_n();
  std::vector<std::uint32_t> input(n);
  std::mt19937 rng(42);
  for (auto& x : input) x = rng();
  std::vector<std::uint32_t> v;
  for (auto _ : state) {
    state.PauseTiming();
    v = input;
    state.ResumeTiming();
    run(v);
  }
  check(state, std::is_sorted(v.begin(), v.end()), "sort: not sorted");
}

// ---------------------------------------------------------------- idle CPU and wake-up latency
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Manual time = CPU seconds the process used in the window after the work ended, so the ratio
// column reads peer CPU / tessera CPU.
template <class Work>
void idle_cpu_bench(benchmark::State& state, Work work) {
  const double window = quick ? 0.25 : 1.0;
  for (auto _ : state) {
    work();
    const double before = process_cpu_seconds();
    std::this_thread::sleep_for(std::chrono::duration<double>(window));
    const double used = process_cpu_seconds() - before;
    state.SetIterationTime(std::max(used, 1e-6));
    state.counters["idle_cpu_pct_of_core"] = 100.0 * used / window;
  }
}

// Manual time = median latency from an outside submit to the task starting, with the workers
// idle (asleep) before each submit.
template <class Submit>
void wakeup_bench(benchmark::State& state, Submit submit) {
  const int samples = quick ? 30 : 150;
  for (auto _ : state) {
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(samples));
    for (int i = 0; i < samples; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const auto t0 = std::chrono::steady_clock::now();
      const auto started = submit();
      lat.push_back(std::chrono::duration<double>(started - t0).count());
    }
    std::sort(lat.begin(), lat.end());
    const double median = lat[lat.size() / 2];
    const double p99 = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
    state.SetIterationTime(median);
    state.counters["median_us"] = median * 1e6;
    state.counters["p99_us"] = p99 * 1e6;
  }
}

// ---------------------------------------------------------------- registration
template <class Fn>
benchmark::internal::Benchmark* reg(const std::string& name, Fn fn) {
  return benchmark::RegisterBenchmark(name.c_str(), fn)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}
// The slowest workloads (seconds per run) take 3 repetitions so the full run stays short.
template <class Fn>
void reg3(const std::string& name, Fn fn) {
  auto* b = reg(name, fn);
  if (!quick) b->Repetitions(3);
}
// Single-shot measurements (idle CPU, wake-up latency) that report their own time.
template <class Fn>
void once(const std::string& name, Fn fn) {
  benchmark::RegisterBenchmark(name.c_str(), fn)
      ->UseManualTime()
      ->Iterations(1)
      ->Repetitions(1)
      ->Unit(benchmark::kMicrosecond);
}

void register_all() {
  const std::string fn = std::to_string(fib_n());
  reg(("fib/tessera/" + fn).c_str(),
      [](benchmark::State& s) { fib_tessera_bench(s, tessera_2t()); });
  reg(("fib/tbb/" + fn).c_str(), [](benchmark::State& s) { fib_tbb_bench(s, kThreads); });
#if defined(_OPENMP)
  reg3(("fib/openmp/" + fn).c_str(), [](benchmark::State& s) { fib_omp_bench(s, kThreads); });
#endif
  reg(("fib_1t/tessera/" + fn).c_str(),
      [](benchmark::State& s) { fib_tessera_bench(s, tessera_1t()); });
  reg(("fib_1t/tbb/" + fn).c_str(), [](benchmark::State& s) { fib_tbb_bench(s, 1); });
#if defined(_OPENMP)
  reg3(("fib_1t/openmp/" + fn).c_str(), [](benchmark::State& s) { fib_omp_bench(s, 1); });
#endif

  const std::string qn = std::to_string(queens_n());
  reg(("nqueens/tessera/" + qn).c_str(), [](benchmark::State& s) {
    queens_bench(s, [](int n) {
      return tessera_2t().execute([n] { return queens_tessera(board{}, 0, n); });
    });
  });
  reg(("nqueens/tbb/" + qn).c_str(), [](benchmark::State& s) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, kThreads);
    queens_bench(s, [](int n) { return queens_tbb(board{}, 0, n); });
  });
  // The serial recursion on one thread: not a peer to beat but the bound on what 2 threads can
  // do (serial/tessera <= 2 on this machine), printed beside the peers for that reason.
  reg(("nqueens/serial/" + qn).c_str(), [](benchmark::State& s) {
    queens_bench(s, [](int n) { return queens_serial(board{}, 0, n); });
  });
#if defined(_OPENMP)
  reg(("nqueens/openmp/" + qn).c_str(), [](benchmark::State& s) {
    queens_bench(s, [](int n) {
      long r = 0;
#pragma omp parallel num_threads(kThreads)
#pragma omp single
      r = queens_omp(board{}, 0, n);
      return r;
    });
  });
#endif

  reg3("uts_t1/tessera" + uts_suffix(), [](benchmark::State& s) {
    uts_bench(s, [](const uts::node& r) {
      return tessera_2t().execute([&r] { return uts_tessera(r); });
    });
  });
  reg3("uts_t1/tbb" + uts_suffix(), [](benchmark::State& s) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, kThreads);
    uts_bench(s, [](const uts::node& r) { return uts_tbb(r); });
  });
  reg3("uts_t1/serial" + uts_suffix(), [](benchmark::State& s) {
    uts_bench(s, [](const uts::node& r) { return uts::count_serial(r, uts_depth()); });
  });
#if defined(_OPENMP)
  reg3("uts_t1/openmp" + uts_suffix(), [](benchmark::State& s) {
    uts_bench(s, [](const uts::node& root) {
      std::uint64_t r = 0;
#pragma omp parallel num_threads(kThreads)
#pragma omp single
      r = uts_omp(root);
      return r;
    });
  });
#endif

  const std::string sl = std::to_string(skynet_levels());
  reg(("skynet/tessera/" + sl).c_str(), [](benchmark::State& s) {
    skynet_bench(s, [](long size) {
      return tessera_2t().execute([size] { return skynet_tessera(0, size); });
    });
  });
  reg(("skynet/tbb/" + sl).c_str(), [](benchmark::State& s) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, kThreads);
    skynet_bench(s, [](long size) { return skynet_tbb(0, size); });
  });
#if defined(_OPENMP)
  reg(("skynet/openmp/" + sl).c_str(), [](benchmark::State& s) {
    skynet_bench(s, [](long size) {
      long r = 0;
#pragma omp parallel num_threads(kThreads)
#pragma omp single
      r = skynet_omp(0, size);
      return r;
    });
  });
#endif

  for (const std::size_t n : {std::size_t{1024}, large_n()}) {
    const std::string wl = n == 1024 ? "pfor_tiny" : "pfor_large";
    const std::string arg = "/" + std::to_string(n);
    reg((wl + "/tessera" + arg).c_str(),
        [n](benchmark::State& s) { pfor_bench(s, n, pfor_tessera); });
    reg((wl + "/tbb" + arg).c_str(), [n](benchmark::State& s) {
      tbb::global_control gc(tbb::global_control::max_allowed_parallelism, kThreads);
      pfor_bench(s, n, pfor_tbb);
    });
#if defined(_OPENMP)
    reg((wl + "/openmp" + arg).c_str(), [n](benchmark::State& s) { pfor_bench(s, n, pfor_omp); });
#endif
    if (n != 1024) {
      reg((wl + "/std_async" + arg).c_str(),
          [n](benchmark::State& s) { pfor_bench(s, n, pfor_async); });
    }
  }

  reg("pfor_skewed/tessera", [](benchmark::State& s) {
    skewed_bench(s, [](double* out, std::size_t n) {
      tessera::parallel_for(tessera_2t(), std::size_t{0}, n,
                            [out](std::size_t i) { out[i] = skewed_work(i); });
    });
  });
  reg("pfor_skewed/tbb", [](benchmark::State& s) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, kThreads);
    skewed_bench(s, [](double* out, std::size_t n) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n),
                        [out](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i != r.end(); ++i)
                            out[i] = skewed_work(i);
                        });
    });
  });
#if defined(_OPENMP)
  reg("pfor_skewed/openmp", [](benchmark::State& s) {
    skewed_bench(s, [](double* out, std::size_t n) {
#pragma omp parallel for schedule(dynamic) num_threads(kThreads)
      for (std::size_t i = 0; i < n; ++i) out[i] = skewed_work(i);
    });
  });
#endif

  const std::string rn = "/" + std::to_string(large_n());
  reg(("reduce/tessera" + rn).c_str(), [](benchmark::State& s) {
    reduce_bench(s, [](const std::vector<double>& v) {
      return tessera::parallel_reduce(tessera_2t(), v.begin(), v.end(), 0.0);
    });
  });
  reg(("reduce/tbb" + rn).c_str(), [](benchmark::State& s) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, kThreads);
    reduce_bench(s, [](const std::vector<double>& v) -> double {
      const double sum = tbb::parallel_reduce(
          tbb::blocked_range<std::size_t>(0, v.size()), 0.0,
          [&v](const tbb::blocked_range<std::size_t>& r, double acc) -> double {
            return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(r.begin()),
                                   v.begin() + static_cast<std::ptrdiff_t>(r.end()), acc);
          },
          std::plus<double>());
      return sum;
    });
  });
#if defined(_OPENMP)
  reg(("reduce/openmp" + rn).c_str(), [](benchmark::State& s) {
    reduce_bench(s, [](const std::vector<double>& v) {
      double sum = 0;
      const double* p = v.data();
      const std::size_t n = v.size();
#pragma omp parallel for simd reduction(+ : sum) num_threads(kThreads)
      for (std::size_t i = 0; i < n; ++i) sum += p[i];
      return sum;
    });
  });
#endif
  reg(("reduce/std_async" + rn).c_str(), [](benchmark::State& s) {
    reduce_bench(s, [](const std::vector<double>& v) {
      const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
      auto hi =
          std::async(std::launch::async, [&v, mid] { return std::accumulate(mid, v.end(), 0.0); });
      const double lo = std::accumulate(v.begin(), mid, 0.0);
      return lo + hi.get();
    });
  });

  const std::string sn = "/" + std::to_string(sort_n());
  reg(("sort/tessera" + sn).c_str(), [](benchmark::State& s) {
    sort_bench(s, [](std::vector<std::uint32_t>& v) {
      tessera::parallel_sort(tessera_2t(), v.begin(), v.end());
    });
  });
  reg(("sort/tbb" + sn).c_str(), [](benchmark::State& s) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, kThreads);
    sort_bench(s, [](std::vector<std::uint32_t>& v) { tbb::parallel_sort(v.begin(), v.end()); });
  });

  once("idle_cpu/tessera", [](benchmark::State& s) {
    idle_cpu_bench(s, [] { tessera_2t().execute([] { return fib_tessera(20); }); });
  });
  once("idle_cpu/tbb", [](benchmark::State& s) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, kThreads);
    idle_cpu_bench(s, [] { benchmark::DoNotOptimize(fib_tbb(20)); });
  });
  once("wakeup/tessera", [](benchmark::State& s) {
    wakeup_bench(s, [] {
      return tessera_2t().submit([] { return std::chrono::steady_clock::now(); }).get();
    });
  });
  once("wakeup/tbb", [](benchmark::State& s) {
    static tbb::task_arena arena(kThreads, 0);  // no slot reserved for the caller: all workers
    wakeup_bench(s, [] {
      std::promise<std::chrono::steady_clock::time_point> p;
      auto f = p.get_future();
      arena.enqueue([&p] { p.set_value(std::chrono::steady_clock::now()); });
      return f.get();
    });
  });
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
