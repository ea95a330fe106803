// Per-thread caches of tessera's pools: a fixed thread_local table indexed by a slot each
// thread-caching pool owns, the nodes that hold one thread's free lists for one pool, and
// the bookkeeping that hands a node back when its thread or its pool ends first.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "tessera/core/assert.hpp"

namespace tessera::memory::detail {

// One size class's free blocks in one thread: a stack of pointers (the blocks themselves are
// never written, so a cold block costs no cache miss until its user touches it). Refills and
// drains move `limit` pointers at a time to and from the shared pool. A thread that both
// refills and overflows the stack (its working set is larger than the stack) gets a bigger
// stack, up to `max_cap`, instead of shuttling the same blocks through the shared pool; a
// thread that only frees (another thread's blocks) never grows, so those go back.
//
// The top block is also kept in `top`: an allocation's address is then one load away (not a
// count, then a stack slot), so the caller's first store to the block need not wait for a
// chain of loads; `top` is null exactly when the stack is empty. stack[-1] is a null sentinel,
// so popping the last block reads a valid slot with no branch. The owner moves `sp` with
// plain (release) stores; stats() derives the count from `sp` and `base_`.
struct alignas(64) class_cache {
  void* top = nullptr;                    // the last block pushed; null when empty
  std::atomic<void**> sp{nullptr};        // the next free slot
  void** end = nullptr;                   // base() + cap
  std::atomic<void**> base_{nullptr};     // room for `cap` pointers, after one sentinel slot
  std::uint32_t cap = 0;                  // 2 * limit, doubled while the stack grows
  std::uint32_t limit = 0;                // blocks per batch
  std::atomic<std::uint32_t> max_cap{0};  // the most the stack may grow to (stats() reads it)
  bool grown = false;                     // the stack is its own allocation
  bool refilled = false;                  // a refill since the last drain

  class_cache() = default;
  class_cache(const class_cache&) = delete;
  class_cache& operator=(const class_cache&) = delete;
  ~class_cache() { release(); }

  // Pointer slots attach() takes from a shared array for a class with this batch size.
  [[nodiscard]] static std::size_t slots_for(std::uint32_t batch) noexcept {
    return 2 * std::size_t{batch} + 1;
  }
  // Takes slots_for(batch) slots from `storage` (advancing it).
  void attach(void**& storage, std::uint32_t batch, std::uint32_t most) noexcept {
    limit = batch;
    cap = 2 * batch;
    max_cap.store(most > cap ? most : cap, std::memory_order_relaxed);
    *storage++ = nullptr;
    base_.store(storage, std::memory_order_relaxed);
    sp.store(storage, std::memory_order_release);
    end = storage + cap;
    storage += cap;
    top = nullptr;
  }

  // The owner's view.
  [[nodiscard]] void** base() const noexcept { return base_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint32_t n() const noexcept {
    return static_cast<std::uint32_t>(sp.load(std::memory_order_relaxed) - base());
  }
  void set_n(std::uint32_t v) noexcept { sp.store(base() + v, std::memory_order_release); }
  void sync_top() noexcept { top = sp.load(std::memory_order_relaxed)[-1]; }
  [[nodiscard]] bool full() const noexcept { return sp.load(std::memory_order_relaxed) == end; }

  // Any thread (stats): the count, or 0 when a grow() moved the stack under the reader.
  [[nodiscard]] std::size_t held() const noexcept {
    const auto s = reinterpret_cast<std::uintptr_t>(sp.load(std::memory_order_acquire));
    const auto b = reinterpret_cast<std::uintptr_t>(base_.load(std::memory_order_relaxed));
    const std::uintptr_t most = max_cap.load(std::memory_order_relaxed);
    if (s < b || s > b + most * sizeof(void*)) return 0;
    return (s - b) / sizeof(void*);
  }

  // The fast paths: pop when top != nullptr, push when !full(); try_push does both at once.
  void* pop() noexcept {
    void* b = top;
    void** s = sp.load(std::memory_order_relaxed);
    top = s[-2];
    sp.store(s - 1, std::memory_order_release);
    return b;
  }
  void push(void* p) noexcept {
    void** s = sp.load(std::memory_order_relaxed);
    *s = p;
    sp.store(s + 1, std::memory_order_release);
    top = p;
  }
  bool try_push(void* p) noexcept {
    void** s = sp.load(std::memory_order_relaxed);
    if (s == end) [[unlikely]]
      return false;
    *s = p;
    sp.store(s + 1, std::memory_order_release);
    top = p;
    return true;
  }

  // Doubles the stack (at most to max_cap); false when it may not or memory is short.
  bool grow() noexcept {
    const std::uint32_t most = max_cap.load(std::memory_order_relaxed);
    if (cap >= most) return false;
    const std::uint32_t bigger = cap > most / 2 ? most : 2 * cap;
    auto* s = static_cast<void**>(::operator new((bigger + 1) * sizeof(void*), std::nothrow));
    if (s == nullptr) return false;
    s[0] = nullptr;
    const std::uint32_t k = n();
    std::memcpy(s + 1, base(), k * sizeof(void*));
    release();
    base_.store(s + 1, std::memory_order_relaxed);
    sp.store(s + 1 + k, std::memory_order_release);
    end = s + 1 + bigger;
    cap = bigger;
    grown = true;
    return true;
  }
  void release() noexcept {
    if (grown) ::operator delete(static_cast<void*>(base() - 1));
    grown = false;
  }
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
  bool home = false;  // the thread uses the pool's own (home) caches; this node has none

  class_cache* cls() noexcept { return reinterpret_cast<class_cache*>(this + 1); }

  // One allocation: the node, its class caches, then every class's pointer stack.
  static cache_node* create(std::uint32_t classes, const std::uint32_t* limits,
                            const std::uint32_t* max_caps) noexcept {
    std::size_t slots = 0;
    for (std::uint32_t i = 0; i < classes; ++i) slots += class_cache::slots_for(limits[i]);
    void* raw =
        ::operator new(sizeof(cache_node) + classes * sizeof(class_cache) + slots * sizeof(void*),
                       std::align_val_t(alignof(cache_node)), std::nothrow);
    if (raw == nullptr) return nullptr;
    auto* n = new (raw) cache_node;
    n->classes = classes;
    auto** stacks = reinterpret_cast<void**>(n->cls() + classes);
    for (std::uint32_t i = 0; i < classes; ++i) {
      auto* c = new (n->cls() + i) class_cache{};
      c->attach(stacks, limits[i], max_caps[i]);
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

// Tells live threads apart: the thread pointer where it can be read in one instruction (x86-64:
// compared straight against %fs:0), else the address of this thread's table. Either is unique
// among live threads; a pool's home is given up before its thread exits (see flush_node).
inline std::uintptr_t this_thread_id() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
#else
  return reinterpret_cast<std::uintptr_t>(&tls_table);
#endif
}

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
// no slot, the thread is exiting or memory is short (callers then use the locked path). A
// home node holds no caches: it marks the pool's home thread, so its exit gives them back.
inline cache_node* bind_thread(cache_owner& owner, slot_grant g, std::uint32_t classes,
                               const std::uint32_t* limits, const std::uint32_t* max_caps,
                               bool home = false) noexcept {
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
  cache_node* n = cache_node::create(home ? 0 : classes, limits, max_caps);
  if (n == nullptr) return nullptr;
  n->home = home;
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
