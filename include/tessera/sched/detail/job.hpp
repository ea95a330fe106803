// What the scheduler moves around: an intrusive job header (a function pointer and a link),
// the lock-free injection queue for submissions from outside the workers, and the per-worker
// cache of fixed-size blocks that lets spawn()/task_group::run() avoid the heap. Internal.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "tessera/core/priority.hpp"

namespace tessera::sched::detail {

class scheduler_core;

enum class job_action : std::uint8_t { run, cancel };

// Every queued unit of work starts with this header. `execute` runs or cancels the job and
// releases whatever storage it owns; it must not throw.
struct job {
  using execute_fn = void (*)(job*, job_action, scheduler_core*) noexcept;
  execute_fn execute = nullptr;
  std::atomic<job*> next{nullptr};
  priority prio = priority::normal;
  // Fork-join frames live on a waiting stack and cannot be cancelled; queued jobs can.
  bool cancellable = false;
};

// Vyukov's intrusive multi-producer queue: push is wait-free (one exchange), so any number of
// outside threads submit without a lock. Consumers serialise on a try-lock; a worker that loses
// it simply looks elsewhere, so no worker ever blocks on it.
class injection_queue {
 public:
  injection_queue() noexcept : tail_(&stub_), head_(&stub_) {}
  injection_queue(const injection_queue&) = delete;
  injection_queue& operator=(const injection_queue&) = delete;

  void push(job* j) noexcept {
    j->next.store(nullptr, std::memory_order_relaxed);
    job* prev = tail_.exchange(j, std::memory_order_acq_rel);
    prev->next.store(j, std::memory_order_release);
    size_.fetch_add(1, std::memory_order_release);
  }

  [[nodiscard]] bool maybe_nonempty() const noexcept {
    return size_.load(std::memory_order_acquire) > 0;
  }

  // nullptr when empty, when another consumer holds the queue, or while a push is half done
  // (maybe_nonempty() stays true in the last two cases, so callers retry before sleeping).
  job* try_pop() noexcept {
    if (!maybe_nonempty()) return nullptr;
    if (locked_.exchange(true, std::memory_order_acquire)) return nullptr;
    job* j = pop_locked();
    locked_.store(false, std::memory_order_release);
    if (j != nullptr) size_.fetch_sub(1, std::memory_order_relaxed);
    return j;
  }

 private:
  job* pop_locked() noexcept {
    job* h = head_;
    job* next = h->next.load(std::memory_order_acquire);
    if (h == &stub_) {
      if (next == nullptr) return nullptr;
      head_ = next;
      h = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      head_ = next;
      return h;
    }
    if (tail_.load(std::memory_order_acquire) != h) return nullptr;  // a push is in progress
    // h is the last element: put the stub behind it so h can be unlinked.
    stub_.next.store(nullptr, std::memory_order_relaxed);
    job* prev = tail_.exchange(&stub_, std::memory_order_acq_rel);
    prev->next.store(&stub_, std::memory_order_release);
    next = h->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      head_ = next;
      return h;
    }
    return nullptr;
  }

  alignas(128) std::atomic<job*> tail_;
  std::atomic<std::int64_t> size_{0};
  alignas(128) std::atomic<bool> locked_{false};
  job* head_;
  job stub_;
};

// Fixed-size blocks for queued jobs, recycled per worker thread: after warm-up a spawn or a
// task_group::run from a worker allocates nothing. Blocks freed by another worker migrate to
// that worker's cache; past `limit` they go back to the heap.
inline constexpr std::size_t job_block_size = 256;
inline constexpr std::align_val_t job_block_align{64};

class block_cache {
 public:
  block_cache() = default;
  block_cache(const block_cache&) = delete;
  block_cache& operator=(const block_cache&) = delete;
  ~block_cache() {
    while (head_ != nullptr) {
      node* n = head_;
      head_ = n->next;
      ::operator delete(static_cast<void*>(n), job_block_align);
    }
  }
  void* get() {
    if (head_ != nullptr) {
      node* n = head_;
      head_ = n->next;
      --count_;
      return n;
    }
    return ::operator new(job_block_size, job_block_align);
  }
  void put(void* p) noexcept {
    if (count_ >= limit) {
      ::operator delete(p, job_block_align);
      return;
    }
    auto* n = static_cast<node*>(p);
    n->next = head_;
    head_ = n;
    ++count_;
  }

  static constexpr std::size_t limit = 4096;

 private:
  struct node {
    node* next;
  };
  node* head_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace tessera::sched::detail
