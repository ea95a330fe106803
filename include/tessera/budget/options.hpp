// Runtime knobs of budgets and accounts (designated initialisers) and the pressure levels a
// budget reports. Include tessera/budget/budget.hpp rather than this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "tessera/core/priority.hpp"

namespace tessera {

// How full a budget is, from the application's point of view: subscribe to switch optional
// features off at `elevated`/`critical` and back on when the level falls again.
enum class pressure_level : std::uint8_t { ok, elevated, critical };

inline constexpr std::size_t pressure_level_count = 3;

[[nodiscard]] constexpr std::string_view to_string(pressure_level l) noexcept {
  switch (l) {
    case pressure_level::ok: return "ok";
    case pressure_level::elevated: return "elevated";
    case pressure_level::critical: return "critical";
  }
  return "invalid";
}

inline constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

struct budget_options {
  std::string name = "budget";
  // Hard limit on everything charged to every account. Reservations must fit in it together
  // with what accounts without a reclaimer charge (see basic_budget.hpp on borrowing).
  std::size_t limit = unlimited;
  // Pressure rises to a level when usage reaches its fraction of `limit` and falls back only when
  // usage drops `hysteresis` (a fraction of `limit`) below that mark, so features do not flap.
  double elevated_at = 0.75;
  double critical_at = 0.90;
  double hysteresis = 0.10;
  // Largest chunk of credit a thread takes from the shared counters at once (the fast path
  // charges and releases from it without shared atomics). Near the limits chunks shrink to a
  // sixteenth of the remaining headroom, so credit held by threads never blocks much.
  std::size_t thread_credit = 64 * 1024;
};

struct account_options {
  std::string name = "account";
  // Who gives way first: a charge that cannot be met reclaims from accounts less important
  // than its own.
  tessera::priority priority = tessera::priority::normal;
  // Guaranteed to this account (cgroup v2's memory.min): set aside when the account is created
  // and never reclaimed from it. While unused it may be lent to accounts with a reclaimer, and
  // a charge within it takes it back from them through their reclaimers (basic_budget.hpp).
  std::size_t reserved = 0;
  // Soft mark: a charge that takes the account above it asks the account's reclaimer (on the
  // budget's own thread) to shrink back to it, and reclaim asks accounts above it first.
  std::size_t high = unlimited;
  // Hard limit on this account's charges.
  std::size_t limit = unlimited;
};

}  // namespace tessera
