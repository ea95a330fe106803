// bench_profile: what a zone, a counter and a histogram record cost against the floor
// (two raw rdtsc reads and a store), std::chrono timing and a shared std::atomic counter.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

#include "tessera/profile/profile.hpp"

namespace tp = tessera::profile;

namespace {

constexpr std::uint32_t kBuffer = 1u << 16;

struct stamp {
  std::uint64_t t0;
  std::uint64_t t1;
};
// The peers store their timestamps into a ring like the one a zone writes to.
std::array<stamp, kBuffer> ring;

void zone_tessera(benchmark::State& state) {
  tp::session s{{.buffer_events = kBuffer}};
  s.start();
  std::uint32_t n = 0;
  for (auto _ : state) {
    { TESSERA_ZONE("bench"); }
    if (++n == kBuffer) {  // keep measuring the record path, not the full-buffer one
      state.PauseTiming();
      s.stop();
      s.start();
      n = 0;
      state.ResumeTiming();
    }
  }
  s.stop();
}

#if TESSERA_PROFILE_HAS_RDTSC
void zone_rdtsc(benchmark::State& state) {
  std::uint32_t i = 0;
  for (auto _ : state) {
    const auto t0 = __rdtsc();
    const auto t1 = __rdtsc();
    ring[i++ & (kBuffer - 1)] = {t0, t1};
    benchmark::ClobberMemory();
  }
}
#endif

void zone_chrono(benchmark::State& state) {
  std::uint32_t i = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto t1 = std::chrono::steady_clock::now();
    ring[i++ & (kBuffer - 1)] = {static_cast<std::uint64_t>(t0.time_since_epoch().count()),
                                 static_cast<std::uint64_t>(t1.time_since_epoch().count())};
    benchmark::ClobberMemory();
  }
}

void zone_disabled_tessera(benchmark::State& state) {
  tp::init_clock();
  for (auto _ : state) {
    TESSERA_ZONE("bench");
    benchmark::ClobberMemory();
  }
}

tp::counter shared_counter;
std::atomic<std::uint64_t> shared_atomic{0};

void counter_tessera(benchmark::State& state) {
  for (auto _ : state) shared_counter.add();
  benchmark::DoNotOptimize(shared_counter.value());
}

void counter_atomic(benchmark::State& state) {
  for (auto _ : state) shared_atomic.fetch_add(1, std::memory_order_relaxed);
}

std::array<double, 1024> latencies = [] {
  std::array<double, 1024> v{};
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> d(8.0, 1.5);
  for (auto& x : v) x = d(rng);
  return v;
}();

tp::histogram shared_histogram;

void histogram_tessera(benchmark::State& state) {
  std::uint32_t i = 0;
  for (auto _ : state) shared_histogram.record(latencies[i++ & 1023]);
}

// The reference the issue sets: a histogram record should cost at most twice a counter add
// done in the same loop (reading the same values).
void histogram_counter(benchmark::State& state) {
  std::uint32_t i = 0;
  for (auto _ : state) shared_counter.add(static_cast<std::uint64_t>(latencies[i++ & 1023]));
}

}  // namespace

BENCHMARK(zone_tessera)->Name("zone/tessera");
#if TESSERA_PROFILE_HAS_RDTSC
BENCHMARK(zone_rdtsc)->Name("zone/rdtsc");
#endif
BENCHMARK(zone_chrono)->Name("zone/chrono");
BENCHMARK(zone_disabled_tessera)->Name("zone_disabled/tessera");
BENCHMARK(counter_tessera)->Name("counter/tessera/1")->Threads(1)->UseRealTime();
BENCHMARK(counter_atomic)->Name("counter/atomic/1")->Threads(1)->UseRealTime();
BENCHMARK(counter_tessera)->Name("counter/tessera/2")->Threads(2)->UseRealTime();
BENCHMARK(counter_atomic)->Name("counter/atomic/2")->Threads(2)->UseRealTime();
BENCHMARK(histogram_tessera)->Name("histogram/tessera");
BENCHMARK(histogram_counter)->Name("histogram/counter");

BENCHMARK_MAIN();
