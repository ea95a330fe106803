// A reader-biased reader/writer lock for the cache's shards (a "big reader" lock): each reader
// counts itself in a slot of its own cache line, so two threads reading one shard share no
// written cache line; a writer raises a flag and waits for the reader slots to drain. Reads
// are many and short, writes are rarer and pay the scan. Satisfies SharedMutex for
// std::shared_lock / std::unique_lock.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <thread>

#include "tessera/core/cache_line.hpp"

namespace tessera::caching::detail {

inline constexpr std::size_t reader_slots = 8;

// This thread's slot: threads are numbered on first use; beyond 8 threads slots are shared
// (still correct, they are counters).
[[nodiscard]] inline std::size_t reader_slot() noexcept {
  static std::atomic<std::size_t> next{0};
  // Constant-initialised, so reading it needs no thread_local init guard on the hot path.
  thread_local std::size_t mine = reader_slots;
  if (mine == reader_slots) mine = next.fetch_add(1, std::memory_order_relaxed) % reader_slots;
  return mine;
}

class reader_lock {
 public:
  void lock_shared() noexcept { lock_shared(reader_slot()); }
  void unlock_shared() noexcept { unlock_shared(reader_slot()); }
  // The same with the caller's reader_slot(), looked up once for a lock/unlock pair.
  void lock_shared(std::size_t slot) noexcept {
    auto& n = slots_[slot]->readers;
    for (;;) {
      // Dekker-style handshake with lock(): count first, then look for a writer (both seq_cst).
      n.fetch_add(1, std::memory_order_seq_cst);
      if (!writer_.load(std::memory_order_seq_cst)) return;
      n.fetch_sub(1, std::memory_order_seq_cst);
      waiting_.fetch_add(1, std::memory_order_seq_cst);
      if (writer_.load(std::memory_order_seq_cst)) writer_.wait(true, std::memory_order_acquire);
      waiting_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  [[nodiscard]] bool try_lock_shared() noexcept {
    auto& n = slots_[reader_slot()]->readers;
    n.fetch_add(1, std::memory_order_seq_cst);
    if (!writer_.load(std::memory_order_seq_cst)) return true;
    n.fetch_sub(1, std::memory_order_seq_cst);
    return false;
  }
  void unlock_shared(std::size_t slot) noexcept {
    slots_[slot]->readers.fetch_sub(1, std::memory_order_release);
  }

  void lock() {
    writers_.lock();
    writer_.store(true, std::memory_order_seq_cst);
    for (auto& s : slots_) {
      while (s->readers.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
    }
  }
  [[nodiscard]] bool try_lock() {
    if (!writers_.try_lock()) return false;
    writer_.store(true, std::memory_order_seq_cst);
    for (auto& s : slots_) {
      if (s->readers.load(std::memory_order_seq_cst) != 0) {
        release_writer();
        return false;
      }
    }
    return true;
  }
  void unlock() { release_writer(); }

 private:
  void release_writer() {
    writer_.store(false, std::memory_order_seq_cst);
    // notify_all is a futex syscall: only when a reader sleeps (the seq_cst pair with the
    // reader's waiting_ increment means a reader that is about to sleep sees the store).
    if (waiting_.load(std::memory_order_seq_cst) != 0) writer_.notify_all();
    writers_.unlock();
  }
  struct slot {
    std::atomic<int> readers{0};
  };
  alignas(false_sharing_range) std::atomic<bool> writer_{false};
  std::atomic<int> waiting_{0};  // readers asleep in writer_.wait()
  std::mutex writers_;
  std::array<padded<slot>, reader_slots> slots_{};
};

// std::shared_lock for a slot looked up once.
class shared_guard {
 public:
  shared_guard(reader_lock& m, std::size_t slot) noexcept : m_(m), slot_(slot) {
    m_.lock_shared(slot_);
  }
  ~shared_guard() { m_.unlock_shared(slot_); }
  shared_guard(const shared_guard&) = delete;
  shared_guard& operator=(const shared_guard&) = delete;

 private:
  reader_lock& m_;
  std::size_t slot_;
};

}  // namespace tessera::caching::detail
