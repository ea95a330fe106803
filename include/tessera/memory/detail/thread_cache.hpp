// Per-thread caches of tessera's pools: a fixed thread_local table indexed by a slot each
// thread-caching pool owns, the nodes that hold one thread's free lists for one pool, and
// the bookkeeping that hands a node back when its thread or its pool ends first.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include "tessera/core/assert.hpp"

namespace tessera::memory::detail {

// One size class's free blocks in one thread: a stack of pointers (the blocks themselves are
// never written, so a cold block costs no cache miss until its user touches it). Refills and
// drains move `limit` pointers at a time to and from the shared pool.
struct class_cache {
  void** stack = nullptr;               // room for `cap` pointers
  std::atomic<std::uint32_t> count{0};  // relaxed: the owner writes, stats() reads
  std::uint32_t cap = 0;                // 2 * limit
  std::uint32_t limit = 0;              // blocks per batch

  [[nodiscard]] std::uint32_t n() const noexcept { return count.load(std::memory_order_relaxed); }
  void set_n(std::uint32_t v) noexcept { count.store(v, std::memory_order_relaxed); }
  [[nodiscard]] std::size_t held() const noexcept { return n(); }
};

struct cache_node;

// The pool side of a node: its list of nodes (under the registry mutex) and the way to give
// a node's blocks back when the thread exits.
class cache_owner {
 public:
  virtual void flush_node(cache_node& node) noexcept = 0;
  cache_node* nodes = nullptr;

 protected:
  ~cache_owner() = default;
};

struct alignas(64) cache_node {
  cache_node* prev = nullptr;
  cache_node* next = nullptr;
  cache_owner* owner = nullptr;  // nullptr once the pool is destroyed
  std::uint32_t classes = 0;

  class_cache* cls() noexcept { return reinterpret_cast<class_cache*>(this + 1); }

  // One allocation: the node, its class caches, then every class's pointer stack.
  static cache_node* create(std::uint32_t classes, const std::uint32_t* limits) noexcept {
    std::size_t slots = 0;
    for (std::uint32_t i = 0; i < classes; ++i) slots += 2 * std::size_t{limits[i]};
    void* raw =
        ::operator new(sizeof(cache_node) + classes * sizeof(class_cache) + slots * sizeof(void*),
                       std::align_val_t(alignof(cache_node)), std::nothrow);
    if (raw == nullptr) return nullptr;
    auto* n = new (raw) cache_node;
    n->classes = classes;
    auto** stacks = reinterpret_cast<void**>(n->cls() + classes);
    for (std::uint32_t i = 0; i < classes; ++i) {
      auto* c = new (n->cls() + i) class_cache{};
      c->limit = limits[i];
      c->cap = 2 * limits[i];
      c->stack = stacks;
      stacks += c->cap;
    }
    return n;
  }
  static void destroy(cache_node* n) noexcept {
    for (std::uint32_t i = 0; i < n->classes; ++i) n->cls()[i].~class_cache();
    n->~cache_node();
    ::operator delete(static_cast<void*>(n), std::align_val_t(alignof(cache_node)));
  }
};

struct tls_slot {
  std::uint64_t uid;
  cache_node* node;
};

// Pools beyond this many at once fall back to the shared, locked path.
inline constexpr std::uint32_t max_caching_pools = 256;

// Trivially constructed and destroyed, so the fast path reads it with no init guard.
inline constinit thread_local tls_slot tls_table[max_caching_pools] = {};
inline constinit thread_local bool tls_exiting = false;

struct registry_t {
  std::mutex mutex;
  std::vector<std::uint32_t> free_slots;
  std::uint32_t next_slot = 0;
  std::uint64_t next_uid = 0;
};

// Never destroyed: threads may exit after static destructors ran.
inline registry_t& registry() {
  static registry_t* r = [] {
    auto* fresh = new registry_t;
    fresh->free_slots.reserve(max_caching_pools);  // detach_all must not allocate
    return fresh;
  }();
  return *r;
}

inline void unlink(cache_node* n) noexcept {
  if (n->prev != nullptr) n->prev->next = n->next;
  if (n->next != nullptr) n->next->prev = n->prev;
  if (n->owner != nullptr && n->owner->nodes == n) n->owner->nodes = n->next;
  n->prev = n->next = nullptr;
}

// Destroyed at thread exit: gives each of this thread's nodes back to its pool.
struct thread_exit_hook {
  bool armed = false;
  ~thread_exit_hook() {
    tls_exiting = true;
    std::lock_guard lock(registry().mutex);
    for (auto& e : tls_table) {
      if (e.node == nullptr) continue;
      if (e.node->owner != nullptr) {
        e.node->owner->flush_node(*e.node);
        unlink(e.node);
      }
      cache_node::destroy(e.node);
      e = {};
    }
  }
};

inline void arm_thread_exit_hook() {
  thread_local thread_exit_hook hook;
  hook.armed = true;
}

struct slot_grant {
  std::uint32_t slot;  // max_caching_pools: none free
  std::uint64_t uid;
};

inline slot_grant acquire_slot() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  slot_grant g{max_caching_pools, ++r.next_uid};
  if (!r.free_slots.empty()) {
    g.slot = r.free_slots.back();
    r.free_slots.pop_back();
  } else if (r.next_slot < max_caching_pools) {
    g.slot = r.next_slot++;
  }
  return g;
}

// The calling thread's node for (slot, uid), created on first use; nullptr when the pool has
// no slot, the thread is exiting or memory is short (callers then use the locked path).
inline cache_node* bind_thread(cache_owner& owner, slot_grant g, std::uint32_t classes,
                               const std::uint32_t* limits) noexcept {
  if (g.slot >= max_caching_pools || tls_exiting) return nullptr;
  try {
    arm_thread_exit_hook();
  } catch (...) {
    return nullptr;
  }
  auto& e = tls_table[g.slot];
  std::lock_guard lock(registry().mutex);
  if (e.node != nullptr) {
    // The slot's previous pool is gone (a live pool keeps its slot), so is its node's owner.
    TESSERA_ASSERT(e.node->owner == nullptr, "a pool slot was reused while its pool lives");
    cache_node::destroy(e.node);
    e = {};
  }
  cache_node* n = cache_node::create(classes, limits);
  if (n == nullptr) return nullptr;
  n->owner = &owner;
  n->next = owner.nodes;
  if (owner.nodes != nullptr) owner.nodes->prev = n;
  owner.nodes = n;
  e = {g.uid, n};
  return n;
}

// Called by a pool's destructor with the registry mutex held: its nodes stay with their
// threads (which free them), but no longer point at the pool; the slot is free again.
inline void detach_all(cache_owner& owner, slot_grant g) noexcept {
  for (cache_node* n = owner.nodes; n != nullptr;) {
    cache_node* next = n->next;
    n->owner = nullptr;
    n->prev = n->next = nullptr;
    n = next;
  }
  owner.nodes = nullptr;
  if (g.slot < max_caching_pools) registry().free_slots.push_back(g.slot);
}

}  // namespace tessera::memory::detail
