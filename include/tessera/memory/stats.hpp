// pool_stats: a snapshot of one pool's counters (also published to the profiler registry as
// tessera_memory_* metrics). Taking one locks the pool briefly: not for hot paths.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera {

struct pool_stats {
  std::size_t live_objects = 0;         // blocks handed out and not returned
  std::size_t live_bytes = 0;           // their bytes (block sizes, plus large requests)
  std::size_t cached_objects = 0;       // free blocks held in per-thread caches
  std::size_t upstream_bytes = 0;       // bytes currently held from the upstream
  std::size_t peak_upstream_bytes = 0;  // the most ever held at once
  std::uint64_t refills = 0;            // batches moved from the shared pool to a cache
  std::uint64_t drains = 0;             // batches moved back
  std::uint64_t upstream_allocations = 0;
};

}  // namespace tessera
