// TESSERA_ASSERT(expr, msg): the one precondition check of tessera. On in debug builds
// (NDEBUG undefined) and whenever TESSERA_HARDENED is defined (the `hardened` build); otherwise
// it compiles to nothing and `expr` is not evaluated. Not for bad input from outside the
// program: that throws an exception derived from tessera::error (core/error.hpp).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace tessera::detail {

// The cold, out-of-line failure path: keeps the asserting function's hot code small.
[[noreturn, gnu::cold, gnu::noinline]] inline void assert_failed(const char* expr, const char* msg,
                                                                 const char* file, int line,
                                                                 const char* function) noexcept {
  std::fprintf(stderr, "%s:%d: %s: tessera assertion `%s` failed: %s\n", file, line, function, expr,
               msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace tessera::detail

#if !defined(NDEBUG) || defined(TESSERA_HARDENED)
#define TESSERA_ASSERTIONS_ENABLED 1
#define TESSERA_ASSERT(expr, msg)               \
  (__builtin_expect(static_cast<bool>(expr), 1) \
       ? static_cast<void>(0)                   \
       : ::tessera::detail::assert_failed(#expr, msg, __FILE__, __LINE__, __func__))
#else
#define TESSERA_ASSERTIONS_ENABLED 0
#define TESSERA_ASSERT(expr, msg) static_cast<void>(0)
#endif
