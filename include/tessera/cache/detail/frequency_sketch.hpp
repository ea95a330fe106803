// The count-min frequency sketch of W-TinyLFU (as in Caffeine): 4-bit counters, four per key,
// halved every 10 x capacity additions (aging), with a doorkeeper bit set that absorbs keys seen
// once so one-hit wonders do not pollute the counters.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tessera/cache/detail/hook.hpp"

namespace tessera::caching::detail {

class frequency_sketch {
 public:
  explicit frequency_sketch(std::size_t capacity) { resize(capacity); }

  void resize(std::size_t capacity) {
    const std::size_t words = std::bit_ceil(std::max<std::size_t>(capacity, 16));
    table_.assign(words, 0);
    door_.assign(std::max<std::size_t>(words / 4, 4), 0);
    mask_ = words - 1;
    sample_size_ = 10 * std::max<std::size_t>(capacity, 1);
    additions_ = 0;
  }

  [[nodiscard]] unsigned frequency(std::uint64_t hash) const noexcept {
    unsigned f = 15;
    for (unsigned i = 0; i < 4; ++i) f = std::min(f, counter(hash, i));
    return f + (door_contains(hash) ? 1U : 0U);
  }

  void increment(std::uint64_t hash) noexcept {
    if (!door_add(hash)) return;  // first sighting since the last reset lives in the doorkeeper
    bool added = false;
    for (unsigned i = 0; i < 4; ++i) added |= increment_at(hash, i);
    if (added && ++additions_ >= sample_size_) reset();
  }

 private:
  static std::uint64_t index_hash(std::uint64_t hash, unsigned i) noexcept {
    return mix64(hash + 0x9e3779b97f4a7c15ULL * (i + 1));
  }
  unsigned counter(std::uint64_t hash, unsigned i) const noexcept {
    const auto h = index_hash(hash, i);
    const unsigned shift = static_cast<unsigned>((h >> 58) & 15U) * 4;
    return static_cast<unsigned>((table_[h & mask_] >> shift) & 15U);
  }
  bool increment_at(std::uint64_t hash, unsigned i) noexcept {
    const auto h = index_hash(hash, i);
    const unsigned shift = static_cast<unsigned>((h >> 58) & 15U) * 4;
    auto& word = table_[h & mask_];
    if (((word >> shift) & 15U) == 15U) return false;
    word += std::uint64_t{1} << shift;
    return true;
  }
  bool door_contains(std::uint64_t hash) const noexcept {
    const std::size_t bits = door_.size() * 64;
    for (unsigned i = 0; i < 2; ++i) {
      const auto b = index_hash(hash, 7 + i) % bits;
      if (!((door_[b / 64] >> (b % 64)) & 1U)) return false;
    }
    return true;
  }
  // Returns true when the key was already in the doorkeeper.
  bool door_add(std::uint64_t hash) noexcept {
    const std::size_t bits = door_.size() * 64;
    bool present = true;
    for (unsigned i = 0; i < 2; ++i) {
      const auto b = index_hash(hash, 7 + i) % bits;
      auto& w = door_[b / 64];
      const auto bit = std::uint64_t{1} << (b % 64);
      if (!(w & bit)) {
        present = false;
        w |= bit;
      }
    }
    return present;
  }
  // Aging: halve every counter (the 0x77.. mask drops the bit shifted in from the neighbour).
  void reset() noexcept {
    for (auto& w : table_) w = (w >> 1) & 0x7777777777777777ULL;
    std::fill(door_.begin(), door_.end(), 0);
    additions_ = additions_ / 2;
  }

  std::vector<std::uint64_t> table_;
  std::vector<std::uint64_t> door_;
  std::uint64_t mask_ = 0;
  std::size_t sample_size_ = 0;
  std::size_t additions_ = 0;
};

}  // namespace tessera::caching::detail
