// tessera/sched: the work-stealing scheduler, task groups, futures and parallel algorithms.
// The oneTBB adapter (tbb_interop.hpp) is separate: include it when linking tessera::tbb_interop.
#pragma once

#include "tessera/sched/executor.hpp"
#include "tessera/sched/future.hpp"
#include "tessera/sched/parallel_for.hpp"
#include "tessera/sched/parallel_invoke.hpp"
#include "tessera/sched/parallel_reduce.hpp"
#include "tessera/sched/parallel_sort.hpp"
#include "tessera/sched/policies.hpp"
#include "tessera/sched/scheduler.hpp"
#include "tessera/sched/task_group.hpp"
