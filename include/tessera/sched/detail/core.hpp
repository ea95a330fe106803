// The scheduler's non-template core: workers and their deques, the thread-local "which worker
// am I", helping while waiting (the reason nested waits never deadlock), and fork-join on
// stack frames (parallel_invoke, the algorithms). basic_scheduler<Policies...> derives from it
// and supplies the worker loop and victim choice. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "tessera/core/cache_line.hpp"
#include "tessera/core/priority.hpp"
#include "tessera/sched/detail/chase_lev_deque.hpp"
#include "tessera/sched/detail/job.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace tessera::sched::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// A cheap, monotonic-enough tick for "has this run long enough?" heuristics (heartbeat
// splitting): the TSC where there is one, steady_clock nanoseconds elsewhere. Never converted
// to time: thresholds in ticks are rough by design (a 2-3 GHz TSC makes 4096 ticks ~1.5-2 us).
inline std::uint64_t tick_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch() /
                                    std::chrono::nanoseconds{1});
#endif
}

// Sleeping on an epoch word until it moves on from `seen`, and waking sleepers. On Linux a
// process-private futex straight away: std::atomic::wait in libstdc++ spins and yields before
// it sleeps and uses shared (slower to look up) futexes, which adds to every wake-up. Every
// waker moves the word before it wakes, so, like std::atomic::wait, this returns only once the
// word has moved: a signal (EINTR) puts the thread back to sleep instead of sending a parked
// worker through another round of spinning.
inline void epoch_wait(std::atomic<std::uint32_t>& epoch, std::uint32_t seen) noexcept {
#if defined(__linux__)
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  while (epoch.load(std::memory_order_seq_cst) == seen) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch), FUTEX_WAIT_PRIVATE, seen, nullptr,
            nullptr, 0);
  }
#else
  epoch.wait(seen, std::memory_order_seq_cst);
#endif
}
inline void epoch_wake(std::atomic<std::uint32_t>& epoch, bool all) noexcept {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch), FUTEX_WAKE_PRIVATE,
          all ? INT32_MAX : 1, nullptr, nullptr, 0);
#else
  if (all) {
    epoch.notify_all();
  } else {
    epoch.notify_one();
  }
#endif
}

// What a thread that is no worker does before it sleeps: a few pauses (the result may be a
// moment away), then a few yields. The yields matter when the machine has no idle core: the
// worker woken for the awaited task may be queued on this very core, and a long pause loop here
// would hold it off for the whole spin (measured: ~15 us median wake-up latency with 512 pauses
// on a 2-vCPU machine, against ~6 us for oneTBB, whose futures block at once).
template <class Done>
bool brief_wait(Done&& done) noexcept {
  for (unsigned spin = 0; spin < 32; ++spin) {
    if (done()) return true;
    cpu_relax();
  }
  for (unsigned spin = 0; spin < 8; ++spin) {
    if (done()) return true;
    std::this_thread::yield();
  }
  return done();
}

// Single-writer counters (the owning worker writes, the profiler reads).
struct worker_stats {
  std::atomic<std::uint64_t> tasks{0};
  std::atomic<std::uint64_t> steals{0};
  std::atomic<std::uint64_t> failed_steals{0};
  std::atomic<std::uint64_t> parks{0};
  std::atomic<std::uint64_t> idle_ns{0};

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

// One slot of the scheduler: a worker thread, or a slot an outside thread borrows while it
// runs execute() so that it takes part in the work instead of sleeping.
struct alignas(false_sharing_range) worker {
  scheduler_core* owner = nullptr;
  unsigned index = 0;
  bool external = false;
  std::atomic<bool> occupied{false};  // external slots only
  priority current = priority::normal;
  std::uint64_t rng = 0;
  chase_lev_deque<job*> deques[priority_count];
  block_cache blocks;
  worker_stats stats;

  std::uint64_t next_random() noexcept {  // xorshift64*
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
  }
};

// The worker (or borrowed slot) the calling thread runs on, of whichever scheduler.
inline constinit thread_local worker* this_worker = nullptr;

class scheduler_core {
 public:
  scheduler_core() = default;
  scheduler_core(const scheduler_core&) = delete;
  scheduler_core& operator=(const scheduler_core&) = delete;
  virtual ~scheduler_core() = default;

  // The worker of *this* scheduler the caller runs on, or nullptr.
  [[nodiscard]] worker* local_worker() const noexcept {
    worker* w = this_worker;
    return (w != nullptr && w->owner == this) ? w : nullptr;
  }

  // Work for a thread that waits for something: its own deques, then other workers', then
  // outside submissions. Any job will do; what matters is that the waiter never idles while
  // the thing it waits for may be sitting in a queue.
  virtual job* find_help(worker& w) noexcept = 0;
  // Queues a job from outside the workers (or onto another scheduler), without checks.
  virtual void inject(job* j) = 0;
  // Queues a job: onto the caller's deque on a worker, else like inject(); throws
  // tessera::error after shutdown (the job is cancelled first, so it is not lost).
  virtual void enqueue(job* j) = 0;
  [[nodiscard]] virtual unsigned concurrency() const noexcept = 0;
  // Called with the exception of a fire-and-forget task (spawn()).
  virtual void unhandled_exception(std::exception_ptr e) noexcept = 0;

  // Local push: the fork-join hot path. No fence; if a sleeping worker misses this the owner
  // still runs the job itself, so a missed wake-up costs parallelism for a moment, never work.
  void push_local(worker& w, job* j) {
    const priority p = j->prio;  // once pushed, j may be stolen, run and freed
    w.deques[to_index(p)].push(j);
    note_urgent(p);
    if (should_wake()) wake_one();
  }

  // Levels above normal (critical, high) come first in every look for work, on every worker;
  // a flag says whether any such job may be queued, so that normal fork-join does not scan
  // them each time. A pusher sets it after the push; a scanner that took nothing clears it and
  // reads the queues' sizes; the two seq_cst fences (here and in clear_urgent()) make sure that
  // either the pusher sees the flag cleared and sets it, or the scanner sees the job queued.
  static constexpr std::size_t urgent_levels = to_index(priority::normal);
  void note_urgent(priority p) noexcept {
    if (to_index(p) < urgent_levels) {
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (!urgent_.load(std::memory_order_relaxed)) urgent_.store(true, std::memory_order_relaxed);
    }
  }
  void clear_urgent() noexcept {
    urgent_.store(false, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }

  static void run_job(worker& w, job* j, scheduler_core* core) noexcept {
    const priority saved = w.current;
    w.current = j->prio;
    worker_stats::bump(w.stats.tasks);
    j->execute(j, job_action::run, core);
    w.current = saved;
  }

  // Waiting threads park on one scheduler-wide epoch, never on the object they wait for: the
  // waiter may destroy that object the moment it sees it done, while the scheduler lives on.
  void wake_joiners() noexcept {
    join_epoch_.fetch_add(1, std::memory_order_seq_cst);
    epoch_wake(join_epoch_, true);
  }

  // Helps until done() holds. announce_park() publishes "I may sleep" to whoever will make
  // done() true (so that it calls wake_joiners()); it returns false if done() already holds.
  template <class Done, class Announce>
  void help_until(worker& w, Done&& done, Announce&& announce_park) {
    unsigned idle = 0;
    while (!done()) {
      if (job* j = find_help(w)) {
        run_job(w, j, this);
        idle = 0;
        continue;
      }
      ++idle;
      if (idle < 128) {
        cpu_relax();
      } else if (idle < 128 + 512) {
        std::this_thread::yield();
      } else {
        const std::uint32_t key = join_epoch_.load(std::memory_order_seq_cst);
        if (!announce_park()) return;
        worker_stats::bump(w.stats.parks);
        epoch_wait(join_epoch_, key);
        idle = 0;
      }
    }
  }

  // Waits without helping (a thread that is no worker and has no slot).
  template <class Done, class Announce>
  void block_until(Done&& done, Announce&& announce_park) {
    if (brief_wait(done)) return;
    while (!done()) {
      const std::uint32_t key = join_epoch_.load(std::memory_order_seq_cst);
      if (!announce_park()) return;
      epoch_wait(join_epoch_, key);
    }
  }

 protected:
  // Wake a sleeper only when none is spinning and every wake-up already sent has been taken
  // up: otherwise a burst of pushes would each pay a futex call while the woken worker is
  // still on its way.
  [[nodiscard]] bool should_wake() const noexcept {
    return sleepers_.load(std::memory_order_relaxed) > waking_.load(std::memory_order_relaxed) &&
           spinners_.load(std::memory_order_relaxed) == 0;
  }
  void wake_one() noexcept {
    waking_.fetch_add(1, std::memory_order_relaxed);
    work_epoch_.fetch_add(1, std::memory_order_seq_cst);
    epoch_wake(work_epoch_, false);
  }
  // A worker back from sleep takes up one wake-up (whichever it was).
  void woke_up() noexcept {
    std::uint32_t w = waking_.load(std::memory_order_relaxed);
    while (w != 0 && !waking_.compare_exchange_weak(w, w - 1, std::memory_order_relaxed)) {
    }
  }
  void wake_all() noexcept {
    work_epoch_.fetch_add(1, std::memory_order_seq_cst);
    epoch_wake(work_epoch_, true);
  }
  // After publishing work from outside: the fence pairs with the sleeper's increment of
  // sleepers_ before its last look at the queues (Dekker), so no wake-up is lost.
  void notify_external() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_relaxed) != 0) wake_one();
  }

  alignas(false_sharing_range) std::atomic<bool> urgent_{false};
  alignas(false_sharing_range) std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<std::uint32_t> spinners_{0};
  std::atomic<std::uint32_t> waking_{0};
  alignas(false_sharing_range) std::atomic<std::uint32_t> work_epoch_{0};
  alignas(false_sharing_range) std::atomic<std::uint32_t> join_epoch_{0};
};

// ---- fork-join on stack frames --------------------------------------------------------------

// A forked callable waiting in a deque. It lives in the forking function's frame, which does
// not return before the job has run (inline or stolen), so no allocation is needed.
template <class F>
struct fork_frame : job {
  explicit fork_frame(F& fn, priority p) noexcept : f(fn) {
    execute = &run;
    prio = p;
  }
  F& f;
  // 0: pending, 1: the forker may sleep (wake it), 2: done.
  std::atomic<std::uint32_t> state{0};
  std::exception_ptr error;

  static void run(job* j, job_action, scheduler_core* core) noexcept {
    auto* self = static_cast<fork_frame*>(j);
    try {
      self->f();
    } catch (...) {
      self->error = std::current_exception();
    }
    if (self->state.exchange(2, std::memory_order_acq_rel) == 1) core->wake_joiners();
  }
};

// Runs `a` and `b` in parallel on worker `w`: `a` is offered to thieves, `b` runs here, then
// `a` runs here too unless it was stolen, in which case this worker helps until it is done.
// If both throw, b's exception wins (a's was raised in parallel and is dropped, as in TBB).
template <class A, class B>
void fork2(worker& w, A& a, B& b) {
  scheduler_core* core = w.owner;
  fork_frame<A> frame(a, w.current);
  core->push_local(w, &frame);
  std::exception_ptr b_error;
  try {
    b();
  } catch (...) {
    b_error = std::current_exception();
  }
  auto& dq = w.deques[to_index(frame.prio)];
  job* top = dq.take();
  if (top == &frame) {
    worker_stats::bump(w.stats.tasks);
    if (b_error) {
      std::rethrow_exception(b_error);  // `a` never started: skipping it loses nothing
    }
    a();
    return;
  }
  if (top != nullptr) {  // `a` was stolen; keep the older job queued
    dq.push(top);
    core->note_urgent(frame.prio);  // the deque's level (top may already be stolen and freed)
  }
  core->help_until(
      w, [&] { return frame.state.load(std::memory_order_acquire) == 2; },
      [&] {
        std::uint32_t expected = 0;
        return frame.state.compare_exchange_strong(expected, 1, std::memory_order_seq_cst) ||
               expected == 1;
      });
  if (b_error) std::rethrow_exception(b_error);
  if (frame.error) std::rethrow_exception(frame.error);
}

// ---- heap-free storage for queued jobs -----------------------------------------------------

struct queued_job : job {
  bool pooled = false;
};

// Allocates a queued job: from the calling worker's block cache when it fits (no heap after
// warm-up), otherwise from the heap.
template <class J, class... Args>
J* new_job(Args&&... args) {
  static_assert(std::is_base_of_v<queued_job, J>);
  constexpr bool fits = sizeof(J) <= job_block_size && alignof(J) <= 64;
  void* mem = nullptr;
  if constexpr (fits) {
    mem = this_worker != nullptr ? this_worker->blocks.get()
                                 : ::operator new(job_block_size, job_block_align);
  } else {
    mem = ::operator new (sizeof(J), std::align_val_t{alignof(J) > 64 ? alignof(J) : 64});
  }
  J* j = nullptr;
  try {
    j = ::new (mem) J(std::forward<Args>(args)...);
  } catch (...) {
    if constexpr (fits) {
      ::operator delete(mem, job_block_align);
    } else {
      ::operator delete (mem, std::align_val_t{alignof(J) > 64 ? alignof(J) : 64});
    }
    throw;
  }
  j->pooled = fits;
  j->cancellable = true;
  return j;
}

template <class J>
void delete_job(J* j) noexcept {
  const bool pooled = j->pooled;
  j->~J();
  void* mem = j;
  if (pooled) {
    if (this_worker != nullptr) {
      this_worker->blocks.put(mem);
    } else {
      ::operator delete(mem, job_block_align);
    }
  } else {
    ::operator delete (mem, std::align_val_t{alignof(J) > 64 ? alignof(J) : 64});
  }
}

}  // namespace tessera::sched::detail
