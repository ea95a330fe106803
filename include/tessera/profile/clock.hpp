// The profiler's timestamp source: the invariant TSC (one `rdtsc`) where cpuid says it is
// invariant, steady_clock nanoseconds otherwise. Ticks are only meaningful through a
// clock_calibration, which exporters use to turn them into nanoseconds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define TESSERA_PROFILE_HAS_RDTSC 1
#else
#define TESSERA_PROFILE_HAS_RDTSC 0
#endif

namespace tessera::profile {

// Ticks <-> nanoseconds of steady_clock. A value: exporters keep the one taken at session stop.
struct clock_calibration {
  std::uint64_t origin_ticks = 0;
  std::int64_t origin_ns = 0;  // steady_clock nanoseconds at origin_ticks
  double ns_per_tick = 1.0;

  [[nodiscard]] std::int64_t to_ns(std::uint64_t ticks) const noexcept {
    const auto delta = static_cast<std::int64_t>(ticks - origin_ticks);
    return origin_ns + static_cast<std::int64_t>(static_cast<double>(delta) * ns_per_tick);
  }
};

struct clock_info {
  bool invariant_tsc = false;  // cpuid 0x80000007 EDX bit 8
  bool using_tsc =
      false;  // false: steady_clock (no invariant TSC, or TESSERA_PROFILE_CLOCK=steady)
  double ticks_per_ns = 1.0;
};

namespace detail {

// The read-mostly state every zone touches, alone on its cache line.
struct alignas(64) hot_state {
  std::atomic<std::uint32_t> generation{0};  // capture on when != 0 (the running session's id)
  std::atomic<bool> use_tsc{false};          // decided once, before the first session starts
};
inline constinit hot_state hot{};

[[nodiscard]] inline std::uint64_t steady_ticks() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace detail

// The current timestamp in ticks (see clock_calibration). Call init_clock() first.
[[nodiscard, gnu::always_inline]] inline std::uint64_t now_ticks() noexcept {
#if TESSERA_PROFILE_HAS_RDTSC
  if (detail::hot.use_tsc.load(std::memory_order_relaxed)) [[likely]]
    return __rdtsc();
#endif
  return detail::steady_ticks();
}

// Decides TSC or steady_clock and calibrates (a few milliseconds, once per process).
// Sessions call it; call it yourself before using now_ticks() outside a session.
const clock_info& init_clock();

// The current calibration, refined over the time since init_clock() (exporters use this).
[[nodiscard]] clock_calibration calibration();

}  // namespace tessera::profile
