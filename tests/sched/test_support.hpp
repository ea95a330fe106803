// Shared by the sched tests: how much to scale stress loops down under sanitizers, and the
// scheduler flavours every TEMPLATE_TEST_CASE runs over.
#pragma once

#include <cstddef>

#include "tessera/sched/policies.hpp"
#include "tessera/sched/scheduler.hpp"

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

namespace sched_test {

// Full size in plain builds, 1/scale under sanitizers.
constexpr std::size_t scaled(std::size_t n, std::size_t scale = 10) {
  return TESSERA_TEST_SANITIZED ? (n / scale > 0 ? n / scale : 1) : n;
}

using spinning = tessera::basic_scheduler<>;
using parking = tessera::basic_scheduler<tessera::sched::park_immediately>;
using neighbourly =
    tessera::basic_scheduler<tessera::sched::locality_first, tessera::sched::park_immediately>;

}  // namespace sched_test
