// tessera/budget: priority allocators. A budget divides a hard limit among accounts with
// priorities, reservations and reclaimers; budgeted_resource charges std::pmr allocations to one.
#pragma once

#include "tessera/budget/basic_budget.hpp"
#include "tessera/budget/budgeted_resource.hpp"
#include "tessera/budget/options.hpp"
