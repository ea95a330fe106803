// ASan manual poisoning, compiled out unless the build uses AddressSanitizer.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define TESSERA_MEMORY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TESSERA_MEMORY_ASAN 1
#endif
#endif
#ifndef TESSERA_MEMORY_ASAN
#define TESSERA_MEMORY_ASAN 0
#endif

#if TESSERA_MEMORY_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace tessera::memory::detail {

inline constexpr bool asan_build = TESSERA_MEMORY_ASAN != 0;

inline void asan_poison(const void* p, std::size_t n) noexcept {
#if TESSERA_MEMORY_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

inline void asan_unpoison(const void* p, std::size_t n) noexcept {
#if TESSERA_MEMORY_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

inline bool asan_is_poisoned(const void* p) noexcept {
#if TESSERA_MEMORY_ASAN
  return __asan_address_is_poisoned(p) != 0;
#else
  (void)p;
  return false;
#endif
}

}  // namespace tessera::memory::detail
