// Ghost queues: hashes of recently evicted keys (no values), for S3-FIFO's G and ARC's B1/B2.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

namespace tessera::caching::detail {

// FIFO of hashes with O(1) membership; old hashes fall out when it exceeds its limit. A ring
// of hashes plus an open-addressing table of counts (linear probing, backward-shift delete):
// no allocation per push, unlike a std::deque + std::unordered_map.
class ghost_fifo {
 public:
  [[nodiscard]] bool contains(std::uint64_t h) const noexcept {
    if (slots_.empty()) return false;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].count == 0) return false;
      if (slots_[i].hash == h) return true;
    }
  }
  void push(std::uint64_t h, std::size_t limit) {
    if (size_ == ring_.size()) grow_ring();
    ring_[(head_ + size_) & (ring_.size() - 1)] = h;
    ++size_;
    if (2 * size_ > slots_.size()) rehash(std::max<std::size_t>(64, 4 * size_));
    add(h);
    while (size_ > limit && size_ > 0) {
      remove(ring_[head_]);
      head_ = (head_ + 1) & (ring_.size() - 1);
      --size_;
    }
  }
  void clear() {
    ring_.clear();
    slots_.clear();
    head_ = size_ = 0;
    mask_ = 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  struct slot {
    std::uint64_t hash = 0;
    std::uint32_t count = 0;  // 0: empty
  };
  void grow_ring() {
    std::vector<std::uint64_t> bigger(std::max<std::size_t>(16, 2 * ring_.size()));
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_.swap(bigger);
    head_ = 0;
  }
  void rehash(std::size_t n) {
    std::vector<slot> old;
    old.swap(slots_);
    slots_.assign(std::bit_ceil(n), slot{});
    mask_ = slots_.size() - 1;
    for (const auto& s : old) {
      if (s.count == 0) continue;
      std::size_t i = s.hash & mask_;
      while (slots_[i].count != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }
  void add(std::uint64_t h) {
    std::size_t i = h & mask_;
    while (slots_[i].count != 0 && slots_[i].hash != h) i = (i + 1) & mask_;
    slots_[i].hash = h;
    ++slots_[i].count;
  }
  void remove(std::uint64_t h) {
    std::size_t i = h & mask_;
    while (slots_[i].hash != h || slots_[i].count == 0) i = (i + 1) & mask_;
    if (--slots_[i].count != 0) return;
    // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
    for (std::size_t j = (i + 1) & mask_; slots_[j].count != 0; j = (j + 1) & mask_) {
      const std::size_t home = slots_[j].hash & mask_;
      const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        slots_[i] = slots_[j];
        slots_[j].count = 0;
        i = j;
      }
    }
  }

  std::vector<std::uint64_t> ring_;  // power-of-two size
  std::vector<slot> slots_;          // power-of-two size, at most half full
  std::size_t head_ = 0, size_ = 0, mask_ = 0;
};

// LRU list of hashes with O(1) erase (ARC's B1 and B2).
class ghost_lru {
 public:
  [[nodiscard]] bool contains(std::uint64_t h) const { return where_.count(h) != 0; }
  [[nodiscard]] std::size_t size() const noexcept { return order_.size(); }
  void push_front(std::uint64_t h) {
    erase(h);
    order_.push_front(h);
    where_[h] = order_.begin();
  }
  bool erase(std::uint64_t h) {
    auto it = where_.find(h);
    if (it == where_.end()) return false;
    order_.erase(it->second);
    where_.erase(it);
    return true;
  }
  void pop_back() {
    if (order_.empty()) return;
    where_.erase(order_.back());
    order_.pop_back();
  }
  void clear() {
    order_.clear();
    where_.clear();
  }

 private:
  std::list<std::uint64_t> order_;
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> where_;
};

}  // namespace tessera::caching::detail
