// tessera/memory: pools, arenas, upstream resources and the STL/pmr adapters. Pick
// object_pool for one hot type, pool_resource for containers of small blocks, arena for data
// that dies together; debug policies (track_leaks, poison, check_double_free) in debug.hpp.
#pragma once

#include "tessera/memory/arena.hpp"
#include "tessera/memory/debug.hpp"
#include "tessera/memory/object_pool.hpp"
#include "tessera/memory/policies.hpp"
#include "tessera/memory/pool_resource.hpp"
#include "tessera/memory/stats.hpp"
#include "tessera/memory/stl_allocator.hpp"
#include "tessera/memory/upstream.hpp"
