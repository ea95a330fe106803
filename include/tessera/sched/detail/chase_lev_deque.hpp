// The per-worker work-stealing deque: Chase and Lev's dynamic circular deque with the C11
// memory orderings proved correct by Le, Pop, Cohen and Zappa Nardelli (PPoPP 2013). The owner
// pushes and takes at the bottom; thieves steal at the top. Internal to the scheduler.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tessera::sched::detail {

template <class T>
class chase_lev_deque {
  static_assert(std::is_pointer_v<T>, "the deque holds pointers (jobs live elsewhere)");

  struct ring {
    explicit ring(std::int64_t cap)
        : capacity(cap), mask(cap - 1), slots(new std::atomic<T>[cap]) {}
    std::int64_t capacity;
    std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
    T get(std::int64_t i) const noexcept { return slots[i & mask].load(std::memory_order_relaxed); }
    void put(std::int64_t i, T x) noexcept { slots[i & mask].store(x, std::memory_order_relaxed); }
  };

 public:
  enum class steal_result : std::uint8_t { empty, lost_race, taken };

  explicit chase_lev_deque(std::int64_t capacity = 64) {
    auto r = std::make_unique<ring>(capacity);
    array_.store(r.get(), std::memory_order_relaxed);
    rings_.push_back(std::move(r));
  }
  chase_lev_deque(const chase_lev_deque&) = delete;
  chase_lev_deque& operator=(const chase_lev_deque&) = delete;

  // Owner only. Grows (one allocation, amortised) when full; old rings stay alive until the
  // deque dies because a thief may still read from them.
  void push(T x) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    ring* a = array_.load(std::memory_order_relaxed);
    if (b - t > a->capacity - 1) a = grow(a, t, b);
    a->put(b, x);
    // Le et al. use a release fence plus a relaxed store; a release store is the same
    // instruction on x86 and AArch64 and is understood by ThreadSanitizer.
    bottom_.store(b + 1, std::memory_order_release);
  }

  // Owner only: the most recently pushed element, or nullptr.
  T take() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    ring* a = array_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_relaxed);
    T x = nullptr;
    if (t <= b) {
      x = a->get(b);
      if (t == b) {
        // Last element: race the thieves for it.
        if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                          std::memory_order_relaxed)) {
          x = nullptr;
        }
        bottom_.store(b + 1, std::memory_order_relaxed);
      }
    } else {
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return x;
  }

  // Any thread: the oldest element.
  steal_result steal(T& out) noexcept {
    std::int64_t t = top_.load(std::memory_order_acquire);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return steal_result::empty;
    ring* a = array_.load(std::memory_order_acquire);
    T x = a->get(t);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return steal_result::lost_race;
    }
    out = x;
    return steal_result::taken;
  }

  // Owner: exact. Others: a hint that may be stale, used to skip empty deques cheaply.
  [[nodiscard]] bool looks_empty() const noexcept {
    return bottom_.load(std::memory_order_relaxed) <= top_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::int64_t size_hint() const noexcept {
    const auto n = bottom_.load(std::memory_order_relaxed) - top_.load(std::memory_order_relaxed);
    return n > 0 ? n : 0;
  }

 private:
  ring* grow(ring* old, std::int64_t t, std::int64_t b) {
    auto bigger = std::make_unique<ring>(old->capacity * 2);
    for (std::int64_t i = t; i < b; ++i) bigger->put(i, old->get(i));
    ring* r = bigger.get();
    rings_.push_back(std::move(bigger));
    array_.store(r, std::memory_order_release);
    return r;
  }

  alignas(128) std::atomic<std::int64_t> top_{0};
  alignas(128) std::atomic<std::int64_t> bottom_{0};
  std::atomic<ring*> array_{nullptr};
  std::vector<std::unique_ptr<ring>> rings_;  // owner only
};

}  // namespace tessera::sched::detail
