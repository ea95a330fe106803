// Shared by the sched tests: how much to scale stress loops down under sanitizers, and the
// scheduler flavours every TEMPLATE_TEST_CASE runs over.
#pragma once

#include <cstddef>

#include "sanitizers.hpp"
#include "tessera/sched/policies.hpp"
#include "tessera/sched/scheduler.hpp"

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
