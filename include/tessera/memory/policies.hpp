// Compile-time choices of tessera's pools: threading (thread_caching, locked, single_threaded)
// and the debug checks (track_leaks, poison, check_double_free). Debug checks are on by default
// in builds without NDEBUG and off (compiled out, no cost) with it; name one to force it.
#pragma once

#include "tessera/memory/upstream.hpp"

namespace tessera::memory {

struct threading_tag {};
struct leak_check_tag {};
struct poison_tag {};
struct free_check_tag {};

// Per-thread free lists refilled from and drained to the shared pool in batches. Any thread
// may free any block: it goes to the freeing thread's list and returns to the shared pool a
// batch at a time (the deferred, batched cross-thread path). The default.
struct thread_caching {
  using policy_category = threading_tag;
};
// One mutex around every operation: for pools shared by a few threads that allocate rarely.
struct locked {
  using policy_category = threading_tag;
};
// No synchronisation at all: one thread at a time (the caller guarantees it).
struct single_threaded {
  using policy_category = threading_tag;
};

// At destruction, objects never returned are reported with their count and bytes.
struct track_leaks {
  using policy_category = leak_check_tag;
  static constexpr bool enabled = true;
};
struct no_track_leaks {
  using policy_category = leak_check_tag;
  static constexpr bool enabled = false;
};

// Freed blocks are filled with 0xDD and fresh ones with 0xCD; under ASan free blocks are
// poisoned, so a use after free is reported by ASan at the faulting access.
struct poison {
  using policy_category = poison_tag;
  static constexpr bool enabled = true;
};
struct no_poison {
  using policy_category = poison_tag;
  static constexpr bool enabled = false;
};

// A second free of a block, or a pointer that is no block of the pool, is reported (see
// debug.hpp) and ignored, so the pool's lists stay intact.
struct check_double_free {
  using policy_category = free_check_tag;
  static constexpr bool enabled = true;
};
struct no_check_double_free {
  using policy_category = free_check_tag;
  static constexpr bool enabled = false;
};

#if defined(NDEBUG)
using default_leak_check = no_track_leaks;
using default_poison = no_poison;
using default_free_check = no_check_double_free;
#else
using default_leak_check = track_leaks;
using default_poison = poison;
using default_free_check = check_double_free;
#endif

// The categories every pool takes.
using pool_policies =
    policy_list<threading_tag, upstream_tag, leak_check_tag, poison_tag, free_check_tag>;

}  // namespace tessera::memory
