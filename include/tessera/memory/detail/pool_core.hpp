// The engine under object_pool and pool_resource: fixed-size blocks in size classes, carved
// from upstream chunks, kept in per-thread pointer stacks (or one local stack) that exchange
// batches with a shared stack per class. Debug policies hook in at the edges.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/memory/debug.hpp"
#include "tessera/memory/detail/asan.hpp"
#include "tessera/memory/detail/thread_cache.hpp"
#include "tessera/memory/policies.hpp"
#include "tessera/memory/stats.hpp"

namespace tessera::memory::detail {

struct null_mutex {
  void lock() noexcept {}
  void unlock() noexcept {}
};

struct chunk {
  std::byte* base;
  std::size_t blocks;
};

struct core_config {
  std::string name;
  std::vector<std::uint32_t> sizes;  // block size of each class (multiples of 16)
  // Classes [pooled, sizes.size()) are not pooled: their blocks come from the upstream, sized to
  // their class, so a caller may name them on its fast path and find them in no cache. 0: none.
  std::uint32_t pooled = 0;
  std::size_t align = 64;      // chunk alignment
  std::size_t max_blocks = 0;  // per class; 0: unbounded
  std::size_t max_bytes = 0;   // all upstream bytes; 0: unbounded
  std::uint32_t batch = 0;     // blocks per batch; 0: about batch_bytes worth
  std::uint32_t batch_bytes = 8192;
  std::uint32_t cache_bytes = 256 * 1024;  // how far one thread's stack of a class may grow
};

[[nodiscard]] constexpr std::uint32_t default_batch(std::uint32_t size,
                                                    std::uint32_t bytes) noexcept {
  return std::clamp<std::uint32_t>(bytes / size, 4, 128);
}

// The most blocks one thread's stack of a class may hold once grown.
[[nodiscard]] constexpr std::uint32_t max_cached(std::uint32_t size, std::uint32_t batch,
                                                 std::uint32_t bytes) noexcept {
  return std::max<std::uint32_t>(2 * batch, std::min<std::uint32_t>(bytes / size, 4096));
}

// HomeClasses: how many classes the pool's own (home) caches cover; a thread-caching pool with
// at most that many classes serves its home thread (the first to use it, until it exits) from
// caches inside the pool object, at fixed offsets from `this` with no thread-local lookup.
template <class Threading, class Source, bool Leaks, bool Poison, bool Check,
          std::uint32_t HomeClasses = 1>
class pool_core final : public cache_owner {
  static constexpr bool caching = std::is_same_v<Threading, thread_caching>;
  static constexpr std::uint32_t home_classes = caching ? HomeClasses : 0;
  static constexpr bool op_locked = std::is_same_v<Threading, locked>;
  static constexpr bool asan_poison_on = Poison && asan_build;
  using central_mutex = std::conditional_t<caching, std::mutex, null_mutex>;
  using op_mutex = std::conditional_t<op_locked, std::mutex, null_mutex>;
  static constexpr std::uintptr_t canary_key = 0x7e55e7a0dead0f5eULL;
  static constexpr std::size_t pass_align = alignof(std::max_align_t);

  struct alignas(64) class_state {
    std::uint32_t size = 0;
    std::uint32_t batch = 0;
    central_mutex mutex;
    std::vector<void*> free;    // shared free blocks; capacity covers every block, so pushes
                                // never allocate
    std::byte* bump = nullptr;  // not yet carved part of the newest chunk
    std::byte* bump_end = nullptr;
    std::vector<chunk> chunks;  // sorted by base
    std::size_t total_blocks = 0;
    std::size_t next_blocks = 0;
    std::size_t max_chunk_blocks = 0;

    [[nodiscard]] std::size_t central_free() const noexcept {
      return free.size() + static_cast<std::size_t>(bump_end - bump) / size;
    }
  };

 public:
  pool_core(core_config cfg, Source src)
      : name_(std::move(cfg.name)),
        source_(std::move(src)),
        align_(cfg.align),
        max_blocks_(cfg.max_blocks),
        max_bytes_(cfg.max_bytes),
        classes_(static_cast<std::uint32_t>(cfg.pooled != 0 ? cfg.pooled : cfg.sizes.size())),
        cache_classes_(static_cast<std::uint32_t>(cfg.sizes.size())),
        sizes_(cfg.sizes),
        state_(new class_state[classes_]) {
    TESSERA_ASSERT(classes_ <= cache_classes_, "more pooled classes than classes");
    for (std::uint32_t c = 0; c < classes_; ++c) {
      auto& s = state_[c];
      s.size = sizes_[c];
      s.batch = cfg.batch != 0 ? cfg.batch : default_batch(s.size, cfg.batch_bytes);
      s.next_blocks = 2u * s.batch;
      s.max_chunk_blocks = std::max<std::size_t>(2u * s.batch, (std::size_t{1} << 20) / s.size);
      limits_.push_back(s.batch);
      max_caps_.push_back(max_cached(s.size, s.batch, cfg.cache_bytes));
    }
    // A pass-through class's caches hold nothing (no room), so its fast paths always miss.
    limits_.resize(cache_classes_, 0);
    max_caps_.resize(cache_classes_, 0);
    if constexpr (caching) {
      grant_ = acquire_slot();
      fast_slot_ = grant_.slot < max_caching_pools ? grant_.slot : 0;
    } else {
      local_.reset(new class_cache[cache_classes_]);
      local_stacks_.resize(cache_slots());
      void** next = local_stacks_.data();
      for (std::uint32_t c = 0; c < cache_classes_; ++c) {
        local_[c].attach(next, limits_[c], max_caps_[c]);
      }
    }
  }

  pool_core(const pool_core&) = delete;
  pool_core& operator=(const pool_core&) = delete;

  ~pool_core() {
    std::vector<std::size_t> cached(classes_, 0);
    if constexpr (caching) {
      std::lock_guard lock(registry().mutex);
      add_cached(cached);
      detach_all(*this, grant_);
    } else {
      add_cached(cached);
    }
    if constexpr (Leaks) report_leaks(cached);
    for (std::uint32_t c = 0; c < classes_; ++c) {
      for (const auto& ch : state_[c].chunks) release_chunk(ch, state_[c].size);
    }
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::uint32_t block_size(std::uint32_t cls) const noexcept { return sizes_[cls]; }
  Source& source() noexcept { return source_; }

  // A block of class `cls`; throws out_of_memory when the pool is bounded and full, or the
  // upstream fails.
  void* allocate(std::uint32_t cls) {
    if constexpr (caching) {
      if constexpr (home_classes != 0) {
        if (home_tid_.load(std::memory_order_relaxed) == this_thread_id()) [[likely]] {
          class_cache& c = home_[cls];
          if (c.top != nullptr) [[likely]]
            return finish_alloc(c.pop(), cls);
          return allocate_slow(cls);
        }
      }
      // Other threads: a matching uid implies a node, so no null test.
      if (const tls_slot& e = tls_table[fast_slot_]; e.uid == grant_.uid) {
        class_cache& c = e.node->cls()[cls];
        if (c.top != nullptr) return finish_alloc(c.pop(), cls);
      }
      return allocate_slow(cls);
    } else {
      std::lock_guard lock(op_mutex_);
      class_cache& c = local_[cls];
      if (c.top != nullptr) return finish_alloc(c.pop(), cls);
      return allocate_slow(cls);
    }
  }

  void deallocate(void* p, std::uint32_t cls) noexcept {
    if constexpr (Check) {
      if (cls < classes_ && !check_free(p, cls)) return;
    }
    deallocate_checked(p, cls);
  }

  // Frees a block check_free() accepted.
  void deallocate_checked(void* p, std::uint32_t cls) noexcept {
    if constexpr (Poison || Check || asan_poison_on) {
      if (cls >= classes_) return pass_free(p, cls);
      mark_free(p, sizes_[cls]);
    }
    if constexpr (caching) {
      if constexpr (home_classes != 0) {
        if (home_tid_.load(std::memory_order_relaxed) == this_thread_id()) [[likely]] {
          if (home_[cls].try_push(p)) [[likely]]
            return;
          return deallocate_slow(p, cls);
        }
      }
      if (const tls_slot& e = tls_table[fast_slot_]; e.uid == grant_.uid) {
        if (e.node->cls()[cls].try_push(p)) return;
      }
      deallocate_slow(p, cls);
    } else {
      std::lock_guard lock(op_mutex_);
      if (local_[cls].try_push(p)) [[likely]]
        return;
      deallocate_slow(p, cls);
    }
  }

  // Debug check before a free: false (and reported) for a foreign pointer or a double free.
  bool check_free(void* p, std::uint32_t cls) noexcept {
    if constexpr (!Check) {
      (void)p;
      (void)cls;
      return true;
    } else {
      const std::uint32_t size = sizes_[cls];
      bool foreign;
      {
        std::lock_guard op(op_mutex_);
        auto& s = state_[cls];
        std::lock_guard lock(s.mutex);
        foreign = !owns(s, static_cast<std::byte*>(p));
      }
      if (foreign) {
        report({debug_event::foreign_pointer, name_, 1, size, size, p});
        return false;
      }
      bool freed;
      if constexpr (asan_poison_on) {
        freed = asan_is_poisoned(p);
      } else {
        std::uintptr_t word;
        std::memcpy(&word, static_cast<std::byte*>(p) + sizeof(void*), sizeof word);
        freed = word == canary(p);
      }
      if (freed) report({debug_event::double_free, name_, 1, size, size, p});
      return !freed;
    }
  }

  // Gives chunks whose every block is free back to the upstream; returns the bytes released.
  // Blocks held in other threads' caches keep their chunks.
  std::size_t trim() noexcept {
    if constexpr (caching) {
      std::lock_guard lock(registry().mutex);
      if (cache_node* n = node()) flush_caches(n->home ? home_.data() : n->cls());
    } else {
      std::lock_guard lock(op_mutex_);
      flush_caches(local_.get());
    }
    std::size_t released = 0;
    std::lock_guard op(op_mutex_);
    for (std::uint32_t c = 0; c < classes_; ++c) {
      std::lock_guard lock(state_[c].mutex);
      released += trim_class(state_[c]);
    }
    return released;
  }

  [[nodiscard]] pool_stats stats() const {
    pool_stats st;
    std::vector<std::size_t> cached(classes_, 0);
    {
      std::unique_lock<std::mutex> reg;
      if constexpr (caching) reg = std::unique_lock(registry().mutex);
      std::lock_guard op(op_mutex_);
      add_cached(cached);
      for (std::uint32_t c = 0; c < classes_; ++c) {
        auto& s = state_[c];
        std::lock_guard lock(s.mutex);
        // Owners move blocks between their caches and the shared lists while this runs, so
        // the sum may be off by a batch for a moment; never below zero.
        const std::size_t out = s.central_free() + cached[c];
        const std::size_t live = s.total_blocks > out ? s.total_blocks - out : 0;
        st.live_objects += live;
        st.live_bytes += live * s.size;
        st.cached_objects += cached[c];
      }
    }
    st.live_objects += large_live_.load(std::memory_order_relaxed);
    st.live_bytes += large_bytes_.load(std::memory_order_relaxed);
    st.upstream_bytes = upstream_bytes_.load(std::memory_order_relaxed);
    st.peak_upstream_bytes = peak_bytes_.load(std::memory_order_relaxed);
    st.refills = refills_.load(std::memory_order_relaxed);
    st.drains = drains_.load(std::memory_order_relaxed);
    st.upstream_allocations = upstream_allocs_.load(std::memory_order_relaxed);
    return st;
  }

  // Requests too big for any class go straight upstream but are counted (and bounded).
  void* allocate_large(std::size_t bytes, std::size_t align) {
    charge(bytes);
    void* p;
    try {
      p = source_.allocate(bytes, align);
    } catch (const std::bad_alloc&) {
      upstream_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      throw out_of_memory(name_, bytes);
    }
    large_live_.fetch_add(1, std::memory_order_relaxed);
    large_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    return p;
  }
  void deallocate_large(void* p, std::size_t bytes, std::size_t align) noexcept {
    source_.deallocate(p, bytes, align);
    large_live_.fetch_sub(1, std::memory_order_relaxed);
    large_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    upstream_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  }

  // Called with the registry mutex held, by the node's own thread as it exits; a home thread
  // gives its home up (the next thread to bind may take it).
  void flush_node(cache_node& n) noexcept override {
    std::lock_guard op(op_mutex_);
    if (n.home) {
      flush_caches(home_.data());
      home_tid_.store(0, std::memory_order_release);
    } else {
      flush_caches(n.cls());
    }
  }

 private:
  cache_node* node() const noexcept {
    const tls_slot& e = tls_table[fast_slot_];
    return e.uid == grant_.uid ? e.node : nullptr;
  }

  std::uintptr_t canary(const void* p) const noexcept {
    return reinterpret_cast<std::uintptr_t>(p) ^ canary_key ^ grant_.uid;
  }
  void mark_free(void* p, std::uint32_t size) const noexcept {
    if constexpr (Poison) std::memset(static_cast<std::byte*>(p) + 16, 0xDD, size - 16);
    if constexpr (Check) {
      const std::uintptr_t word = canary(p);
      std::memcpy(static_cast<std::byte*>(p) + sizeof(void*), &word, sizeof word);
    }
    if constexpr (asan_poison_on) asan_poison(p, size);
  }
  void* finish_alloc(void* b, std::uint32_t cls) const noexcept {
    if constexpr (asan_poison_on) asan_unpoison(b, sizes_[cls]);
    if constexpr (Poison) {
      std::memset(b, 0xCD, sizes_[cls]);
    } else if constexpr (Check) {
      std::memset(static_cast<std::byte*>(b) + sizeof(void*), 0, sizeof(void*));
    }
    (void)cls;
    return b;
  }

  // Out of line, so the fast paths stay a handful of instructions with no register spills.
  // Non-caching pools call it with their operation mutex held.
  [[gnu::noinline]] void deallocate_slow(void* p, std::uint32_t cls) noexcept {
    if (cls >= classes_) [[unlikely]]
      return pass_free(p, cls);
    class_cache* c;
    if constexpr (caching) {
      c = thread_cache(cls);
      if (c == nullptr) return give_one(p, cls);
    } else {
      c = &local_[cls];
    }
    push_or_drain(*c, p, cls);
  }

  [[gnu::noinline]] void* allocate_slow(std::uint32_t cls) {
    if (cls >= classes_) [[unlikely]]
      return allocate_large(sizes_[cls], pass_align);
    class_cache* c;
    if constexpr (caching) {
      c = thread_cache(cls);
      if (c == nullptr) return finish_alloc(take_one(cls), cls);
    } else {
      c = &local_[cls];
    }
    if (c->top == nullptr) refill(cls, *c);
    return finish_alloc(c->pop(), cls);
  }

  // The calling thread's cache of class `cls` (binding the thread on first use), or nullptr
  // when it has none (the shared, locked path).
  class_cache* thread_cache(std::uint32_t cls) noexcept {
    if constexpr (home_classes != 0) {
      if (home_tid_.load(std::memory_order_relaxed) == this_thread_id()) return &home_[cls];
    }
    cache_node* n = node();
    if (n == nullptr) n = bind();
    if (n == nullptr) return nullptr;
    if constexpr (home_classes != 0) {
      if (n->home) return &home_[cls];
    }
    return &n->cls()[cls];
  }

  // Binds the calling thread, as the home thread when there is none.
  cache_node* bind() noexcept {
    bool home = false;
    if constexpr (home_classes != 0) {
      std::uintptr_t none = 0;
      home = cache_classes_ <= home_classes &&
             home_tid_.compare_exchange_strong(none, this_thread_id(), std::memory_order_acquire,
                                               std::memory_order_relaxed);
      if (home && !home_stacks_ready()) {
        home_tid_.store(0, std::memory_order_release);
        home = false;
      }
    }
    cache_node* n =
        bind_thread(*this, grant_, cache_classes_, limits_.data(), max_caps_.data(), home);
    if (home && n == nullptr) home_tid_.store(0, std::memory_order_release);
    return n;
  }

  // Run by the home thread only: the home caches' stacks, made by the first home thread.
  bool home_stacks_ready() noexcept {
    if (home_stacks_ != nullptr) return true;
    home_stacks_.reset(new (std::nothrow) void*[cache_slots()]);
    if (home_stacks_ == nullptr) return false;
    void** next = home_stacks_.get();
    for (std::uint32_t c = 0; c < cache_classes_; ++c) {
      home_[c].attach(next, limits_[c], max_caps_[c]);
    }
    return true;
  }

  // Pointer slots for one set of class caches.
  std::size_t cache_slots() const noexcept {
    std::size_t slots = 0;
    for (std::uint32_t c = 0; c < cache_classes_; ++c) slots += class_cache::slots_for(limits_[c]);
    return slots;
  }

  // A block of a pass-through class goes back to the upstream.
  void pass_free(void* p, std::uint32_t cls) noexcept {
    deallocate_large(p, sizes_[cls], pass_align);
  }

  // A full stack grows when this thread also refilled since its last drain (its working set
  // outgrew the stack); otherwise it sends its older half to the shared stack, keeping the
  // recently freed (and cache-warm) half.
  void push_or_drain(class_cache& c, void* p, std::uint32_t cls) noexcept {
    std::uint32_t k = c.n();
    if (k == c.cap && !(c.refilled && c.grow())) {
      c.refilled = false;
      const std::uint32_t out = std::max(c.limit, k / 2);  // half of a grown stack
      auto& s = state_[cls];
      {
        std::lock_guard lock(s.mutex);
        drains_.fetch_add(1, std::memory_order_relaxed);
        s.free.insert(s.free.end(), c.base(), c.base() + out);
      }
      std::memmove(c.base(), c.base() + out, (k - out) * sizeof(void*));
      c.set_n(k - out);
    }
    c.push(p);
  }

  // Fills an empty stack with up to one batch; returns how many it holds (at least one).
  std::uint32_t refill(std::uint32_t cls, class_cache& c) {
    auto& s = state_[cls];
    std::lock_guard lock(s.mutex);
    refills_.fetch_add(1, std::memory_order_relaxed);
    c.refilled = true;
    std::size_t k = std::min<std::size_t>(c.limit, s.free.size());
    if (k != 0) {
      std::memcpy(c.base(), s.free.data() + (s.free.size() - k), k * sizeof(void*));
      s.free.resize(s.free.size() - k);
    } else {
      k = carve(s, c.base(), c.limit);
    }
    c.set_n(static_cast<std::uint32_t>(k));
    c.sync_top();
    return static_cast<std::uint32_t>(k);
  }

  void* take_one(std::uint32_t cls) {
    auto& s = state_[cls];
    std::lock_guard lock(s.mutex);
    if (!s.free.empty()) {
      void* b = s.free.back();
      s.free.pop_back();
      return b;
    }
    void* b;
    carve(s, &b, 1);
    return b;
  }

  void give_one(void* p, std::uint32_t cls) noexcept {
    auto& s = state_[cls];
    std::lock_guard lock(s.mutex);
    s.free.push_back(p);
  }

  void flush_caches(class_cache* caches) noexcept {
    for (std::uint32_t c = 0; c < classes_; ++c) {
      class_cache& cc = caches[c];
      auto& s = state_[c];
      std::lock_guard lock(s.mutex);
      s.free.insert(s.free.end(), cc.base(), cc.base() + cc.n());
      cc.set_n(0);
      cc.sync_top();
    }
  }

  void add_cached(std::vector<std::size_t>& cached) const noexcept {
    if constexpr (caching) {
      for (cache_node* n = nodes; n != nullptr; n = n->next) {
        if (n->home) continue;
        for (std::uint32_t c = 0; c < classes_; ++c) cached[c] += n->cls()[c].held();
      }
      for (std::uint32_t c = 0; c < home_classes && c < classes_; ++c) {
        cached[c] += home_[c].held();
      }
    } else {
      for (std::uint32_t c = 0; c < classes_; ++c) cached[c] += local_[c].held();
    }
  }

  void charge(std::size_t bytes) {
    const std::size_t now = upstream_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    if (max_bytes_ != 0 && now > max_bytes_) {
      upstream_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      throw out_of_memory(name_, bytes);
    }
    upstream_allocs_.fetch_add(1, std::memory_order_relaxed);
    std::size_t peak = peak_bytes_.load(std::memory_order_relaxed);
    while (now > peak && !peak_bytes_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }

  // Under the class mutex: up to `want` fresh blocks (at least one) into `out`.
  std::size_t carve(class_state& s, void** out, std::size_t want) {
    if (s.bump == s.bump_end) grow(s);
    const std::size_t avail = static_cast<std::size_t>(s.bump_end - s.bump) / s.size;
    const std::size_t n = std::min(want, avail);
    std::byte* b = s.bump;
    for (std::size_t i = 0; i < n; ++i, b += s.size) {
      if constexpr (Poison || Check) mark_free(b, s.size);
      out[i] = b;
    }
    s.bump = b;
    return n;
  }

  void grow(class_state& s) {
    std::size_t want = s.next_blocks;
    if (max_blocks_ != 0) want = std::min(want, max_blocks_ - s.total_blocks);
    if (max_bytes_ != 0) {
      const std::size_t used = upstream_bytes_.load(std::memory_order_relaxed);
      want = std::min(want, used >= max_bytes_ ? 0 : (max_bytes_ - used) / s.size);
    }
    if (want == 0) throw out_of_memory(name_, s.size);
    const std::size_t bytes = want * s.size;
    s.chunks.reserve(s.chunks.size() + 1);
    s.free.reserve(s.total_blocks + want);
    charge(bytes);
    std::byte* base;
    try {
      base = static_cast<std::byte*>(source_.allocate(bytes, align_));
    } catch (const std::bad_alloc&) {
      upstream_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      throw out_of_memory(name_, bytes);
    }
    const chunk ch{base, want};
    s.chunks.insert(
        std::upper_bound(s.chunks.begin(), s.chunks.end(), ch,
                         [](const chunk& a, const chunk& b) { return a.base < b.base; }),
        ch);
    s.total_blocks += want;
    s.bump = base;
    s.bump_end = base + bytes;
    s.next_blocks = std::min(s.next_blocks * 2, s.max_chunk_blocks);
  }

  void release_chunk(const chunk& ch, std::uint32_t size) noexcept {
    const std::size_t bytes = ch.blocks * size;
    if constexpr (Poison) asan_unpoison(ch.base, bytes);
    source_.deallocate(ch.base, bytes, align_);
    upstream_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  }

  // Index of the chunk holding `p`, or chunks.size().
  static std::size_t find_chunk(const class_state& s, const std::byte* p) noexcept {
    auto it = std::upper_bound(s.chunks.begin(), s.chunks.end(), p,
                               [](const std::byte* q, const chunk& c) { return q < c.base; });
    if (it == s.chunks.begin()) return s.chunks.size();
    --it;
    if (p >= it->base + it->blocks * s.size) return s.chunks.size();
    return static_cast<std::size_t>(it - s.chunks.begin());
  }

  static bool owns(const class_state& s, const std::byte* p) noexcept {
    const std::size_t i = find_chunk(s, p);
    if (i == s.chunks.size()) return false;
    if (static_cast<std::size_t>(p - s.chunks[i].base) % s.size != 0) return false;
    return !(p >= s.bump && p < s.bump_end);  // never carved, so never handed out
  }

  std::size_t trim_class(class_state& s) noexcept {
    if (s.chunks.empty()) return 0;
    try {
      std::vector<std::size_t> free_in(s.chunks.size(), 0);
      for (void* b : s.free) ++free_in[find_chunk(s, static_cast<std::byte*>(b))];
      if (s.bump != s.bump_end) {
        free_in[find_chunk(s, s.bump)] += static_cast<std::size_t>(s.bump_end - s.bump) / s.size;
      }
      std::vector<bool> drop(s.chunks.size(), false);
      bool any = false;
      for (std::size_t i = 0; i < s.chunks.size(); ++i) {
        drop[i] = free_in[i] == s.chunks[i].blocks;
        any = any || drop[i];
      }
      if (!any) return 0;
      std::erase_if(s.free,
                    [&](void* b) { return drop[find_chunk(s, static_cast<std::byte*>(b))]; });
      if (s.bump != s.bump_end && drop[find_chunk(s, s.bump)]) s.bump = s.bump_end = nullptr;
      std::size_t released = 0;
      std::vector<chunk> kept;
      for (std::size_t i = 0; i < s.chunks.size(); ++i) {
        if (drop[i]) {
          released += s.chunks[i].blocks * s.size;
          s.total_blocks -= s.chunks[i].blocks;
          release_chunk(s.chunks[i], s.size);
        } else {
          kept.push_back(s.chunks[i]);
        }
      }
      s.chunks = std::move(kept);
      return released;
    } catch (const std::bad_alloc&) {
      return 0;
    }
  }

  void report_leaks(const std::vector<std::size_t>& cached) const noexcept {
    for (std::uint32_t c = 0; c < classes_; ++c) {
      const auto& s = state_[c];
      const std::size_t live = s.total_blocks - s.central_free() - cached[c];
      if (live != 0) report({debug_event::leak, name_, live, live * s.size, s.size, nullptr});
    }
    if (const std::size_t n = large_live_.load(std::memory_order_relaxed); n != 0) {
      report(
          {debug_event::leak, name_, n, large_bytes_.load(std::memory_order_relaxed), 0, nullptr});
    }
  }

  std::string name_;
  [[no_unique_address]] Source source_;
  std::size_t align_;
  std::size_t max_blocks_;
  std::size_t max_bytes_;
  std::uint32_t classes_;        // pooled classes
  std::uint32_t cache_classes_;  // classes callers may name (pooled, then pass-through)
  std::uint32_t fast_slot_ = 0;
  slot_grant grant_{max_caching_pools, 0};
  std::vector<std::uint32_t> sizes_;
  std::vector<std::uint32_t> limits_;
  std::vector<std::uint32_t> max_caps_;
  std::unique_ptr<class_state[]> state_;
  std::unique_ptr<class_cache[]> local_;  // single_threaded and locked
  std::vector<void*> local_stacks_;
  // The home thread's caches (see HomeClasses); 0 when there is no home thread. Only the home
  // thread touches them, except counts read by stats() and everything in the destructor.
  std::atomic<std::uintptr_t> home_tid_{0};
  std::array<class_cache, home_classes> home_;
  std::unique_ptr<void*[]> home_stacks_;
  mutable op_mutex op_mutex_;
  std::atomic<std::size_t> upstream_bytes_{0};
  std::atomic<std::size_t> peak_bytes_{0};
  std::atomic<std::size_t> large_live_{0};
  std::atomic<std::size_t> large_bytes_{0};
  std::atomic<std::uint64_t> refills_{0};
  std::atomic<std::uint64_t> drains_{0};
  std::atomic<std::uint64_t> upstream_allocs_{0};
};

}  // namespace tessera::memory::detail
