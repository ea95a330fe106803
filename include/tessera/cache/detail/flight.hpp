// Internals of basic_cache: a load in flight (single-flight rendezvous for the callers that
// miss on one key) and a small list that keeps the usual one or two removals of a write off
// the heap.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace tessera::caching::detail {

// Lighter than std::promise + std::shared_future (no call_once, no second allocation): the
// loading thread publishes a value or an exception, waiters block on an atomic.
template <class V>
class flight {
 public:
  std::thread::id owner = std::this_thread::get_id();
  bool invalidated = false;  // guarded by the shard lock

  void set_value(const V& v) {
    value_.emplace(v);
    publish(kValue);
  }
  void set_exception(std::exception_ptr e) {
    error_ = std::move(e);
    publish(kError);
  }
  // Blocks until the owner publishes; rethrows the loader's exception.
  V wait() const {
    std::uint32_t s;
    while ((s = state_.load(std::memory_order_acquire)) == kRunning) {
      state_.wait(kRunning, std::memory_order_acquire);
    }
    if (s == kError) std::rethrow_exception(error_);
    return *value_;
  }

 private:
  static constexpr std::uint32_t kRunning = 0, kValue = 1, kError = 2;
  void publish(std::uint32_t s) {
    state_.store(s, std::memory_order_release);
    state_.notify_all();
  }
  std::atomic<std::uint32_t> state_{kRunning};
  std::optional<V> value_;
  std::exception_ptr error_;
};

// A vector with the first N elements inline.
template <class T, std::size_t N = 2>
class small_list {
 public:
  void push_back(T&& v) {
    if (size_ < N) {
      inline_[size_] = std::move(v);
    } else {
      spill_.push_back(std::move(v));
    }
    ++size_;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return i < N ? inline_[i] : spill_[i - N]; }
  template <class F>
  void for_each(F&& f) {
    for (std::size_t i = 0; i < size_; ++i) f((*this)[i]);
  }
  void clear() {
    for (std::size_t i = 0; i < size_ && i < N; ++i) inline_[i] = T{};
    spill_.clear();
    size_ = 0;
  }

 private:
  std::array<T, N> inline_{};
  std::vector<T> spill_;
  std::size_t size_ = 0;
};

}  // namespace tessera::caching::detail
