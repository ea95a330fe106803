// Compile-time choices of tessera::basic_scheduler: how an idle worker waits (idle policy) and
// whom a thief robs first (victim policy). Pass them in any order:
//   tessera::basic_scheduler<tessera::sched::park_immediately, tessera::sched::locality_first>
#pragma once

#include <chrono>
#include <cstdint>

#include "tessera/sched/detail/core.hpp"

namespace tessera::sched {

struct idle_policy_tag {};
struct victim_policy_tag {};

// Default. An idle worker keeps looking for work for a short, bounded time (cheap wake-up when
// work arrives in bursts) and then sleeps on an eventcount (futex). At most max_spinners(n)
// workers spin at once, so an idle scheduler costs almost no CPU.
struct spin_then_park {
  using policy_category = idle_policy_tag;
  static constexpr std::chrono::microseconds spin_for{100};
  static constexpr unsigned max_spinners(unsigned workers) noexcept {
    return workers < 4 ? workers : workers / 2;
  }
};

// An idle worker sleeps at once: least CPU when idle, highest wake-up latency.
struct park_immediately {
  using policy_category = idle_policy_tag;
  static constexpr std::chrono::microseconds spin_for{0};
  static constexpr unsigned max_spinners(unsigned) noexcept { return 0; }
};

template <class P>
concept idle_policy = requires(unsigned n) {
  { P::spin_for } -> std::convertible_to<std::chrono::microseconds>;
  { P::max_spinners(n) } -> std::convertible_to<unsigned>;
};

// Default. Thieves start at a random victim: spreads contention evenly.
struct random_victim {
  using policy_category = victim_policy_tag;
  static unsigned first_victim(detail::worker& self, unsigned slots) noexcept {
    // Lemire's multiply-shift: uniform enough, and no division on the steal path.
    return static_cast<unsigned>(((self.next_random() >> 32) * slots) >> 32);
  }
};

// Thieves start at their neighbour (index + 1): on machines where neighbouring worker indices
// share a cache (pinned workers), stolen work stays close to its data.
struct locality_first {
  using policy_category = victim_policy_tag;
  static unsigned first_victim(detail::worker& self, unsigned slots) noexcept {
    return (self.index + 1) % slots;
  }
};

template <class P>
concept victim_policy = requires(detail::worker& w, unsigned n) {
  { P::first_victim(w, n) } -> std::convertible_to<unsigned>;
};

}  // namespace tessera::sched
