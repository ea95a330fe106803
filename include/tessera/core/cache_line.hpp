// Cache-line constants and a padding wrapper, for data that several threads write.
// std::hardware_destructive_interference_size is avoided on purpose: g++ warns when it is used
// in a header (its value may differ between translation units built with other -mtune flags).
#pragma once

#include <cstddef>
#include <utility>

namespace tessera {

// Size of one cache line on the targets tessera supports (x86-64, AArch64 servers).
inline constexpr std::size_t cache_line_size = 64;

// Distance that keeps two hot variables from sharing a line *or* the adjacent-line prefetch
// pair (Intel's spatial prefetcher fetches 128-byte pairs), so they do not false-share.
inline constexpr std::size_t false_sharing_range = 128;

// A T alone on its own false-sharing range: for per-thread slots in arrays.
template <class T>
struct alignas(false_sharing_range) padded {
  T value{};

  padded() = default;
  template <class... Args>
  explicit padded(std::in_place_t, Args&&... args) : value(std::forward<Args>(args)...) {}

  T& operator*() noexcept { return value; }
  const T& operator*() const noexcept { return value; }
  T* operator->() noexcept { return &value; }
  const T* operator->() const noexcept { return &value; }
};

}  // namespace tessera
