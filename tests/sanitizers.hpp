// Which sanitizer a test binary is built with, so stress tests can scale their loops down (the
// asan and tsan presets run every test) and skip what a sanitizer cannot see through.
#pragma once

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define TESSERA_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define TESSERA_TEST_SANITIZED 1
#endif
#endif
#ifndef TESSERA_TEST_SANITIZED
#define TESSERA_TEST_SANITIZED 0
#endif

// ThreadSanitizer cannot see oneTBB's internal synchronisation (libtbb is not instrumented), so
// data handed between TBB threads looks racy to it.
#if defined(__SANITIZE_THREAD__)
#define TESSERA_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TESSERA_TEST_TSAN 1
#endif
#endif
#ifndef TESSERA_TEST_TSAN
#define TESSERA_TEST_TSAN 0
#endif
