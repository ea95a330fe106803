// The umbrella header: every module of tessera. Prefer a module's own face header
// (tessera/sched/sched.hpp, ...) in code that uses one module, to keep builds fast.
#pragma once

#include "tessera/budget/budget.hpp"
#include "tessera/cache/cache.hpp"
#include "tessera/core/core.hpp"
#include "tessera/memory/memory.hpp"
#include "tessera/profile/profile.hpp"
#include "tessera/sched/sched.hpp"
