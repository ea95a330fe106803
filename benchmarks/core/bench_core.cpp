// bench_core: what core's cache-line constants buy. Two threads each increment their own
// counter; `tessera` keeps the counters in tessera::padded slots, `adjacent` packs them in one
// array (the hand-written layout that false-shares one cache line).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "tessera/core/cache_line.hpp"

namespace {

constexpr int kIncrements = 1 << 16;

tessera::padded<std::atomic<std::uint64_t>> padded_counters[2];
std::atomic<std::uint64_t> adjacent_counters[2];

void per_thread_counter_tessera(benchmark::State& state) {
  auto& mine = padded_counters[state.thread_index()].value;
  for (auto _ : state) {
    for (int i = 0; i < kIncrements; ++i) mine.fetch_add(1, std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations() * kIncrements);
}

void per_thread_counter_adjacent(benchmark::State& state) {
  auto& mine = adjacent_counters[state.thread_index()];
  for (auto _ : state) {
    for (int i = 0; i < kIncrements; ++i) mine.fetch_add(1, std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations() * kIncrements);
}

}  // namespace

BENCHMARK(per_thread_counter_tessera)
    ->Name("per_thread_counter/tessera")
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(per_thread_counter_adjacent)
    ->Name("per_thread_counter/adjacent")
    ->Threads(2)
    ->UseRealTime();

BENCHMARK_MAIN();
