// What a pool's debug policies report (a leak, a double free, a foreign pointer) and where the
// report goes: stderr by default, or a handler the program installs (a test, a logger).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <string_view>

namespace tessera::memory {

enum class debug_event { leak, double_free, foreign_pointer };

[[nodiscard]] constexpr std::string_view to_string(debug_event e) noexcept {
  switch (e) {
    case debug_event::leak: return "leak";
    case debug_event::double_free: return "double free";
    case debug_event::foreign_pointer: return "foreign pointer";
  }
  return "invalid";
}

struct debug_report {
  debug_event event;
  std::string_view pool;    // the pool's name (options.name)
  std::size_t objects = 0;  // leak: blocks not returned; otherwise 1
  std::size_t bytes = 0;    // leak: their bytes; otherwise the block size
  std::size_t block_size = 0;
  const void* address = nullptr;  // double free / foreign pointer: the pointer given
};

// Called for every report, possibly from several threads; must not throw.
using debug_handler = void (*)(const debug_report&) noexcept;

inline void print_debug_report(const debug_report& r) noexcept {
  std::fprintf(stderr, "tessera: pool '%.*s': %s: %zu object(s), %zu bytes (blocks of %zu) at %p\n",
               static_cast<int>(r.pool.size()), r.pool.data(), to_string(r.event).data(), r.objects,
               r.bytes, r.block_size, r.address);
}

namespace detail {
inline std::atomic<debug_handler>& debug_handler_slot() noexcept {
  static std::atomic<debug_handler> slot{&print_debug_report};
  return slot;
}
}  // namespace detail

// Installs `h` (nullptr: back to printing on stderr); returns the previous handler.
inline debug_handler set_debug_handler(debug_handler h) noexcept {
  return detail::debug_handler_slot().exchange(h != nullptr ? h : &print_debug_report);
}

inline void report(const debug_report& r) noexcept {
  detail::debug_handler_slot().load(std::memory_order_acquire)(r);
}

}  // namespace tessera::memory
