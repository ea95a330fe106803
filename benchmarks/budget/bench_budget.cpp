// bench_budget: what budgeting costs. charge_release/<system>/<threads>: a charge/release pair of
// 64 bytes on one account, tessera (per-thread credit chunks) against one shared std::atomic with
// a limit check (fetch_add, rolled back when over: the obvious hand-written peer).
// budgeted_churn/tessera/64 vs budgeted_churn/pool/64 (the churn/pool/64, renamed so it
// does not merge with bench_memory's churn workload in the ratio table): 64-byte allocation
// churn through a tessera::budgeted_resource on top of a pool, against the same pool alone, so
// pool/tessera < 1 is the cost of budgeting.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <memory_resource>
#include <vector>

#include "tessera/budget/budget.hpp"
#include "tessera/core/cache_line.hpp"
#include "tessera/memory/pool_resource.hpp"

namespace {

constexpr std::size_t kLimit = std::size_t{1} << 30;
constexpr std::size_t kBytes = 64;

// The peer: one counter shared by every thread, on its own cache line.
class atomic_budget {
 public:
  bool try_charge(std::size_t n) noexcept {
    if (used_.fetch_add(n, std::memory_order_relaxed) + n <= limit_) return true;
    used_.fetch_sub(n, std::memory_order_relaxed);
    return false;
  }
  void release(std::size_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }

 private:
  alignas(tessera::false_sharing_range) std::atomic<std::size_t> used_{0};
  std::size_t limit_ = kLimit;
};

tessera::budget& shared_budget() {
  static tessera::budget b{{.name = "bench", .limit = kLimit}};
  return b;
}
tessera::budget::account& shared_account() {
  static auto& a = shared_budget().create_account({.name = "bench"});
  return a;
}

void charge_release_tessera(benchmark::State& state) {
  auto& a = shared_account();
  for (auto _ : state) {
    const bool ok = a.try_charge(kBytes);
    benchmark::DoNotOptimize(ok);
    a.release(kBytes);
  }
  state.SetItemsProcessed(state.iterations());
}

void charge_release_atomic(benchmark::State& state) {
  static atomic_budget b;
  for (auto _ : state) {
    const bool ok = b.try_charge(kBytes);
    benchmark::DoNotOptimize(ok);
    b.release(kBytes);
  }
  state.SetItemsProcessed(state.iterations());
}

// One iteration frees the oldest of `kLive` blocks and allocates a new one.
constexpr std::size_t kLive = 1024;

void churn(benchmark::State& state, std::pmr::memory_resource& r) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<void*> live(kLive);
  for (auto& p : live) p = r.allocate(size);
  std::size_t i = 0;
  for (auto _ : state) {
    r.deallocate(live[i], size);
    live[i] = r.allocate(size);
    benchmark::DoNotOptimize(live[i]);
    i = (i + 1) % kLive;
  }
  for (auto* p : live) r.deallocate(p, size);
  state.SetItemsProcessed(state.iterations());
}

void churn_pool(benchmark::State& state) {
  tessera::pool_resource pool{{.name = "bench_pool", .publish_metrics = false}};
  churn(state, pool);
}

void budgeted_churn_tessera(benchmark::State& state) {
  tessera::pool_resource pool{{.name = "bench_pool", .publish_metrics = false}};
  tessera::budget b{{.name = "churn", .limit = kLimit}};
  auto& a = b.create_account({.name = "churn"});
  tessera::budgeted_resource r(a, &pool);
  churn(state, r);
}

}  // namespace

BENCHMARK(charge_release_tessera)->Name("charge_release/tessera/1")->Threads(1)->UseRealTime();
BENCHMARK(charge_release_atomic)->Name("charge_release/atomic/1")->Threads(1)->UseRealTime();
BENCHMARK(charge_release_tessera)->Name("charge_release/tessera/2")->Threads(2)->UseRealTime();
BENCHMARK(charge_release_atomic)->Name("charge_release/atomic/2")->Threads(2)->UseRealTime();
BENCHMARK(budgeted_churn_tessera)->Name("budgeted_churn/tessera")->Arg(64);
BENCHMARK(churn_pool)->Name("budgeted_churn/pool")->Arg(64);

BENCHMARK_MAIN();
