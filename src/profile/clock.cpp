// TSC invariance check and calibration against steady_clock (see tessera/profile/clock.hpp).
#include "tessera/profile/clock.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if TESSERA_PROFILE_HAS_RDTSC
#include <cpuid.h>
#endif

namespace tessera::profile {
namespace {

struct clock_state {
  std::once_flag once;
  clock_info info;
  std::mutex mutex;
  clock_calibration calibration;  // guarded by mutex
};

clock_state& state() {
  static clock_state s;
  return s;
}

bool cpu_has_invariant_tsc() {
#if TESSERA_PROFILE_HAS_RDTSC
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &a, &b, &c, &d) == 0) return false;
  return (d & (1u << 8)) != 0;
#else
  return false;
#endif
}

// Ticks and steady nanoseconds read back to back, the pair with the shortest gap of a few.
void paired_read(std::uint64_t& ticks, std::int64_t& ns) {
  std::int64_t best_gap = INT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const auto a = static_cast<std::int64_t>(detail::steady_ticks());
    const auto t = now_ticks();
    const auto b = static_cast<std::int64_t>(detail::steady_ticks());
    if (b - a < best_gap) {
      best_gap = b - a;
      ticks = t;
      ns = a + (b - a) / 2;
    }
  }
}

}  // namespace

const clock_info& init_clock() {
  auto& s = state();
  std::call_once(s.once, [&s] {
    s.info.invariant_tsc = cpu_has_invariant_tsc();
    const char* env = std::getenv("TESSERA_PROFILE_CLOCK");
    const bool forced_steady = env != nullptr && std::strcmp(env, "steady") == 0;
    s.info.using_tsc = s.info.invariant_tsc && !forced_steady;
    detail::hot.use_tsc.store(s.info.using_tsc, std::memory_order_relaxed);
    clock_calibration c;
    if (s.info.using_tsc) {
      // 2 ms against steady_clock: enough for ~1e-4; calibration() refines it over time.
      std::uint64_t t0 = 0, t1 = 0;
      std::int64_t n0 = 0, n1 = 0;
      paired_read(t0, n0);
      do {
        paired_read(t1, n1);
      } while (n1 - n0 < 2'000'000);
      c.origin_ticks = t0;
      c.origin_ns = n0;
      c.ns_per_tick = static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0);
    }
    s.info.ticks_per_ns = 1.0 / c.ns_per_tick;
    std::lock_guard lock(s.mutex);
    s.calibration = c;
  });
  return s.info;
}

clock_calibration calibration() {
  init_clock();
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (s.info.using_tsc) {
    std::uint64_t t = 0;
    std::int64_t n = 0;
    paired_read(t, n);
    // Over a longer span the same read jitter weighs less: refine after 50 ms.
    if (n - s.calibration.origin_ns > 50'000'000 && t > s.calibration.origin_ticks) {
      s.calibration.ns_per_tick = static_cast<double>(n - s.calibration.origin_ns) /
                                  static_cast<double>(t - s.calibration.origin_ticks);
    }
  }
  return s.calibration;
}

}  // namespace tessera::profile
