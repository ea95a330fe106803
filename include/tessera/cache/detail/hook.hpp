// What an eviction policy knows about an entry: list links, hash, weight and the access
// counter that readers bump with relaxed atomics. The cache's entries derive from it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tessera::caching::detail {

struct hook {
  hook* prev = nullptr;
  hook* next = nullptr;
  std::uint64_t hash = 0;
  std::size_t weight = 1;
  // Visited bit (clock, sieve) or saturating counter (s3fifo), written by readers that hold
  // only a shared lock: relaxed is enough, a lost increment only blurs the policy slightly.
  std::atomic<std::uint8_t> freq{0};
  std::uint8_t queue = 0;  // which of the policy's queues holds the entry

  void touch_bit() noexcept {
    if (freq.load(std::memory_order_relaxed) == 0) freq.store(1, std::memory_order_relaxed);
  }
  void touch_counter(std::uint8_t cap) noexcept {
    const auto f = freq.load(std::memory_order_relaxed);
    if (f < cap) freq.store(static_cast<std::uint8_t>(f + 1), std::memory_order_relaxed);
  }
};

// An intrusive doubly linked list with a weight sum. front = newest, back = oldest.
class hook_list {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t weight() const noexcept { return weight_; }
  [[nodiscard]] hook* front() const noexcept { return head_; }
  [[nodiscard]] hook* back() const noexcept { return tail_; }

  void push_front(hook* n) noexcept {
    n->prev = nullptr;
    n->next = head_;
    if (head_) head_->prev = n;
    head_ = n;
    if (!tail_) tail_ = n;
    ++size_;
    weight_ += n->weight;
  }
  void remove(hook* n) noexcept {
    (n->prev ? n->prev->next : head_) = n->next;
    (n->next ? n->next->prev : tail_) = n->prev;
    n->prev = n->next = nullptr;
    --size_;
    weight_ -= n->weight;
  }
  void move_to_front(hook* n) noexcept {
    if (head_ == n) return;
    remove(n);
    push_front(n);
  }
  void reweigh(std::size_t old_weight, std::size_t new_weight) noexcept {
    weight_ = weight_ - old_weight + new_weight;
  }
  void clear() noexcept {
    head_ = tail_ = nullptr;
    size_ = weight_ = 0;
  }

 private:
  hook* head_ = nullptr;
  hook* tail_ = nullptr;
  std::size_t size_ = 0;
  std::size_t weight_ = 0;
};

// 64-bit finaliser (splitmix64): spreads std::hash values that are the identity for integers.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace tessera::caching::detail
