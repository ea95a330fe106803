// Counters, gauges and histograms with labels, in one process-wide registry that exporters
// scrape together with the collectors other modules publish through hooks.hpp.
//
//   auto& served = tessera::profile::metrics().counter("app_requests_total", "requests served",
//                                                     {{"route", "/api"}});
//   served.add();                                  // per-thread shard: no contended atomic
//   auto& latency = tessera::profile::metrics().histogram("app_latency_seconds", "latency");
//   latency.record(0.0123);                        // log-linear buckets, <= 1% error
//
// Registered metrics live as long as the process; hold the returned reference.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/profile/hooks.hpp"

namespace tessera::profile {

namespace detail {

// Threads get an exclusive shard slot (0..max_slots-1) while they live; later threads share
// the overflow shard, which uses atomic read-modify-writes.
inline constexpr std::uint32_t max_slots = 64;
inline constexpr std::uint32_t no_slot = ~std::uint32_t{0};
inline constinit thread_local std::uint32_t tl_slot = no_slot;
std::uint32_t acquire_slot() noexcept;  // returns max_slots when none is free

[[gnu::always_inline]] inline std::uint32_t thread_slot() noexcept {
  const auto s = tl_slot;
  return s != no_slot ? s : acquire_slot();
}

struct alignas(64) counter_shard {
  std::atomic<std::uint64_t> value{0};
};

}  // namespace detail

// A monotonically increasing count. add() touches only the calling thread's shard.
class counter {
 public:
  counter() = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  [[gnu::always_inline]] void add(std::uint64_t n = 1) noexcept {
    const auto s = detail::tl_slot;  // no_slot (not yet assigned) fails the test too
    if (s < detail::max_slots) [[likely]] {
      auto& v = shards_[s].value;  // only this thread writes it: no read-modify-write needed
      v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      add_slow(n);
    }
  }
  [[nodiscard]] std::uint64_t value() const noexcept {
    std::uint64_t sum = overflow_.value.load(std::memory_order_relaxed);
    for (const auto& s : shards_) sum += s.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  [[gnu::noinline]] void add_slow(std::uint64_t n) noexcept {
    const auto s = detail::thread_slot();
    if (s < detail::max_slots) {
      add(n);
    } else {
      overflow_.value.fetch_add(n, std::memory_order_relaxed);
    }
  }

  std::array<detail::counter_shard, detail::max_slots> shards_{};
  detail::counter_shard overflow_;
};

// A value that goes up and down (a queue length, bytes in use).
class gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Log-linear buckets: 64 linear sub-buckets per power of two from 2^min_exponent to
// 2^max_exponent (values outside land in the end buckets, min/max stay exact). A bucket's
// midpoint is within 1/128 (0.78%) of every value in it.
struct histogram_layout {
  static constexpr int sub_bits = 6;
  static constexpr int sub_buckets = 1 << sub_bits;
  static constexpr int min_exponent = -32;  // ~2.3e-10
  static constexpr int max_exponent = 48;   // ~2.8e14
  static constexpr int bucket_count = (max_exponent - min_exponent) * sub_buckets;
  static_assert(max_exponent == 48, "index() compares with 0x1p48");

  // Values <= 0 (and NaN) go to bucket 0 with the smallest values.
  [[nodiscard, gnu::always_inline]] static int index(double v) noexcept {
    // Sign, exponent and the top sub_bits of the mantissa are adjacent bits: shifted down,
    // they are the bucket number plus a constant for every positive in-range value, and
    // anything else (negative, zero, NaN, out of range) lands outside [0, bucket_count).
    const auto biased = (std::bit_cast<std::uint64_t>(v) >> (52 - sub_bits)) -
                        (std::uint64_t(1023 + min_exponent) << sub_bits);
    if (biased < std::uint64_t(bucket_count)) [[likely]]
      return static_cast<int>(biased);
    return v >= 0x1p48 ? bucket_count - 1 : 0;
  }
  [[nodiscard]] static double lower_bound(int index) noexcept;
  [[nodiscard]] static double upper_bound(int index) noexcept;
};

// A histogram's contents at one moment: mergeable, and what quantiles are read from.
class histogram_snapshot {
 public:
  void add(double v, std::uint64_t n = 1);
  void merge(const histogram_snapshot& other);

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] double sum() const noexcept { return sum_; }
  [[nodiscard]] double min() const noexcept { return min_; }
  [[nodiscard]] double max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept { return count_ ? sum_ / double(count_) : 0.0; }
  // The nearest-rank q-quantile (0 <= q <= 1) within 1% relative error; 0 when empty.
  [[nodiscard]] double quantile(double q) const noexcept;
  // Per-bucket counts (histogram_layout); empty until something was added.
  [[nodiscard]] const std::vector<std::uint64_t>& buckets() const noexcept { return buckets_; }

 private:
  friend class histogram;
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  double sum_ = 0.0;
  double min_ = 0.0;
  double max_ = 0.0;
};

namespace detail {
// min/max are kept as order keys: unsigned integers ordered like the doubles they encode, so
// the hot path compares integers it already has instead of reloading doubles.
struct histogram_shard {
  std::array<std::atomic<std::uint64_t>, histogram_layout::bucket_count> buckets{};
  std::atomic<std::uint64_t> min_key{~std::uint64_t{0}};
  std::atomic<std::uint64_t> max_key{0};
};

inline constexpr std::uint64_t sign_bit = std::uint64_t{1} << 63;
[[nodiscard]] constexpr std::uint64_t order_key(std::uint64_t bits) noexcept {
  return bits ^ (static_cast<std::uint64_t>(static_cast<std::int64_t>(bits) >> 63) | sign_bit);
}
[[nodiscard]] constexpr std::uint64_t from_order_key(std::uint64_t key) noexcept {
  return (key & sign_bit) != 0 ? key ^ sign_bit : ~key;
}
}  // namespace detail

// A distribution of non-negative values (latencies, sizes). record() writes only the calling
// thread's shard, which is allocated on the thread's first record. Like HdrHistogram's mean,
// the snapshot's sum() is estimated from the buckets (each value counted at its bucket's
// midpoint, clamped to the exact min and max): within 0.78% for values in range.
class histogram {
 public:
  histogram() = default;
  ~histogram();
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  [[gnu::always_inline]] void record(double v) noexcept {
    const auto s = detail::tl_slot;
    detail::histogram_shard* shard =
        s < detail::max_slots ? shards_[s].load(std::memory_order_acquire) : nullptr;
    if (shard == nullptr) [[unlikely]] {
      record_slow(v);
      return;
    }
    // Count and sum come from the buckets at snapshot time: a floating-point sum here would
    // chain each record to the previous one through memory and triple the cost of record().
    const auto bits = std::bit_cast<std::uint64_t>(v);
    const auto biased =
        (bits >> (52 - histogram_layout::sub_bits)) -
        (std::uint64_t(1023 + histogram_layout::min_exponent) << histogram_layout::sub_bits);
    if (biased >= std::uint64_t(histogram_layout::bucket_count)) [[unlikely]] {
      record_outlier(*shard, v);  // negative, zero, NaN or out of range
      return;
    }
    auto& b = shard->buckets[static_cast<std::size_t>(biased)];
    b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const auto key = bits | detail::sign_bit;  // order_key() of a positive double
    if (key < shard->min_key.load(std::memory_order_relaxed))
      shard->min_key.store(key, std::memory_order_relaxed);
    if (key > shard->max_key.load(std::memory_order_relaxed))
      shard->max_key.store(key, std::memory_order_relaxed);
  }
  [[nodiscard]] histogram_snapshot snapshot() const;

 private:
  void record_slow(double v) noexcept;
  static void record_outlier(detail::histogram_shard& shard, double v) noexcept;
  std::array<std::atomic<detail::histogram_shard*>, detail::max_slots> shards_{};
  mutable std::mutex overflow_mutex_;  // threads without a slot (more than max_slots alive)
  histogram_snapshot overflow_;
};

enum class metric_kind : std::uint8_t { counter, gauge, histogram };

// One series of a family at scrape time.
struct series_snapshot {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0.0;            // counter, gauge
  histogram_snapshot histogram;  // histogram
};

struct family_snapshot {
  std::string name;
  std::string help;
  metric_kind kind = metric_kind::counter;
  std::vector<series_snapshot> series;
};

// Everything the registry and the published collectors report, grouped by metric name in
// first-seen order.
struct metrics_snapshot {
  std::vector<family_snapshot> families;

  [[nodiscard]] const family_snapshot* find(std::string_view name) const noexcept;
};

class registry {
 public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // The metric `name` with `labels`, created on first use; the same reference afterwards.
  // Throws tessera::error when the name is not a Prometheus metric name or was registered as
  // another kind.
  profile::counter& counter(std::string_view name, std::string_view help,
                            std::initializer_list<label> labels = {});
  profile::gauge& gauge(std::string_view name, std::string_view help,
                        std::initializer_list<label> labels = {});
  profile::histogram& histogram(std::string_view name, std::string_view help,
                                std::initializer_list<label> labels = {});

  // This registry's metrics, then (with `include_published`) every collector of hooks.hpp.
  [[nodiscard]] metrics_snapshot snapshot(bool include_published = true) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The process-wide registry.
registry& metrics();

}  // namespace tessera::profile
