// tessera::priority: the one priority scale shared by tasks, budget accounts and cache entries.
// Use it wherever "who goes first / who gives way first" must agree across modules.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tessera {

// Ordered from most to least important. The numeric value is an index (critical = 0), so
// `a < b` on the enum means "a is more important than b"; prefer `more_important()` in code
// that should read as a sentence.
enum class priority : std::uint8_t { critical, high, normal, low, background };

inline constexpr std::size_t priority_count = 5;

inline constexpr std::array<priority, priority_count> all_priorities{
    priority::critical, priority::high, priority::normal, priority::low, priority::background};

[[nodiscard]] constexpr std::size_t to_index(priority p) noexcept {
  return static_cast<std::size_t>(p);
}

[[nodiscard]] constexpr bool more_important(priority a, priority b) noexcept {
  return to_index(a) < to_index(b);
}

[[nodiscard]] constexpr std::string_view to_string(priority p) noexcept {
  switch (p) {
    case priority::critical: return "critical";
    case priority::high: return "high";
    case priority::normal: return "normal";
    case priority::low: return "low";
    case priority::background: return "background";
  }
  return "invalid";
}

}  // namespace tessera
