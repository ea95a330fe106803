// tessera::task_group: run any number of tasks, then wait() for all of them. wait() helps run
// work instead of blocking, never deadlocks when called from one of the group's own tasks
// (it then waits for the group's other tasks), rethrows the first exception once and cancels
// the rest (they are skipped and counted, see counts()).
//
//   tessera::task_group g{sched};
//   for (auto& item : items) g.run([&item] { process(item); });
//   g.wait();
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include "tessera/sched/scheduler.hpp"

namespace tessera {

enum class task_group_status : std::uint8_t { complete, canceled };

struct task_group_counts {
  std::uint64_t ran = 0;      // finished normally
  std::uint64_t failed = 0;   // threw (the first exception reaches wait(); all are counted)
  std::uint64_t skipped = 0;  // not run because the group was cancelled
};

class task_group;

namespace sched::detail {

// The group tasks running on this thread, innermost first: lets wait() see that it is called
// from inside its own group.
struct group_frame {
  const task_group* group;
  group_frame* parent;
  bool counted = false;
};
inline constinit thread_local group_frame* current_group_frame = nullptr;

}  // namespace sched::detail

class task_group {
 public:
  template <class... Policies>
  explicit task_group(basic_scheduler<Policies...>& s) noexcept : core_(&s) {}
  // On a worker: that worker's scheduler. Elsewhere: default_scheduler().
  task_group() : core_(ambient_core()) {}

  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  // Waits for unfinished tasks. An exception nobody received ends the program (std::terminate):
  // call wait() to receive it.
  ~task_group() {
    if (pending(state_.load(std::memory_order_acquire)) != 0 ||
        has_error_.load(std::memory_order_acquire)) {
      try {
        wait();
      } catch (...) {
        std::terminate();
      }
    }
  }

  template <class F>
  requires std::invocable < std::decay_t<F>
  & > void run(F&& f) {
    using J = group_job<std::decay_t<F>>;
    sched::detail::worker* w = sched::detail::this_worker;
    const priority p = w != nullptr ? w->current : priority::normal;
    state_.fetch_add(1, std::memory_order_acq_rel);
    J* j = nullptr;
    try {
      j = sched::detail::new_job<J>(std::decay_t<F>(std::forward<F>(f)), this, p);
    } catch (...) {
      finish(core_);
      throw;
    }
    core_->enqueue(j);
  }

  // Waits for every task (from inside a task of this group: for every *other* task), helping
  // meanwhile. Rethrows the first exception of a task, once; returns canceled when cancel()
  // was called or an exception cancelled the group. The outermost wait() resets the group.
  task_group_status wait() {
    std::uint64_t inner = 0;
    for (auto* f = sched::detail::current_group_frame; f != nullptr; f = f->parent) {
      if (f->group == this && !f->counted) {
        f->counted = true;
        ++inner;
      }
    }
    if (inner != 0) {
      const std::uint64_t old = state_.fetch_add(inner << 32, std::memory_order_acq_rel);
      wake_if_satisfied(old, old + (inner << 32), core_);
    }
    // From outside the group: every task finished. From inside: every other task finished or
    // waiting too (so that tasks waiting for each other in the same group all proceed).
    auto ok = [inner](std::uint64_t s) { return inner != 0 ? satisfied(s) : pending(s) == 0; };
    auto done = [this, &ok] { return ok(state_.load(std::memory_order_acquire)); };
    auto announce = [this, &ok] {
      return !ok(state_.fetch_or(parked_bit, std::memory_order_seq_cst));
    };
    if (sched::detail::worker* w = core_->local_worker()) {
      core_->help_until(*w, done, announce);
    } else {
      core_->block_until(done, announce);
    }
    const bool canceled = cancelled_.load(std::memory_order_acquire);
    if (inner != 0) {
      for (auto* f = sched::detail::current_group_frame; f != nullptr; f = f->parent) {
        if (f->group == this && f->counted) f->counted = false;
      }
      state_.fetch_sub(inner << 32, std::memory_order_acq_rel);
      return canceled ? task_group_status::canceled : task_group_status::complete;
    }
    // Reset for reuse, without writing when there is nothing to reset (a locked RMW per
    // wait() shows up in fine-grained recursion such as nqueens).
    if ((state_.load(std::memory_order_relaxed) & parked_bit) != 0) {
      state_.fetch_and(~parked_bit, std::memory_order_relaxed);
    }
    if (canceled) cancelled_.store(false, std::memory_order_relaxed);
    if (has_error_.load(std::memory_order_acquire)) {
      std::exception_ptr e = std::exchange(error_, nullptr);
      has_error_.store(false, std::memory_order_release);
      std::rethrow_exception(e);
    }
    return canceled ? task_group_status::canceled : task_group_status::complete;
  }

  // Tasks not yet started are skipped; running tasks may poll is_canceling().
  void cancel() noexcept { cancelled_.store(true, std::memory_order_release); }
  [[nodiscard]] bool is_canceling() const noexcept {
    return cancelled_.load(std::memory_order_acquire);
  }

  // Cumulative over the group's life.
  [[nodiscard]] task_group_counts counts() const noexcept {
    return {ran_.load(std::memory_order_acquire), failed_.load(std::memory_order_acquire),
            skipped_.load(std::memory_order_acquire)};
  }

 private:
  // state_: bits 0-31 unfinished tasks, 32-62 of them waiting inside wait(), 63 a waiter may
  // sleep. Satisfied when every unfinished task is itself waiting.
  static constexpr std::uint64_t parked_bit = std::uint64_t{1} << 63;
  static std::uint64_t pending(std::uint64_t s) noexcept { return s & 0xffffffffULL; }
  static std::uint64_t inner_waiting(std::uint64_t s) noexcept { return (s >> 32) & 0x7fffffffULL; }
  static bool satisfied(std::uint64_t s) noexcept { return pending(s) == inner_waiting(s); }

  static void wake_if_satisfied(std::uint64_t old, std::uint64_t now,
                                sched::detail::scheduler_core* core) noexcept {
    if ((old & parked_bit) != 0 && satisfied(now)) core->wake_joiners();
  }

  // The last touch of the group by a task: after the decrement the waiter may destroy it.
  void finish(sched::detail::scheduler_core* core) noexcept {
    const std::uint64_t old = state_.fetch_sub(1, std::memory_order_acq_rel);
    wake_if_satisfied(old, old - 1, core);
  }

  void record(std::exception_ptr e) noexcept {
    failed_.fetch_add(1, std::memory_order_relaxed);
    if (!has_error_.exchange(true, std::memory_order_acq_rel)) error_ = std::move(e);
    cancelled_.store(true, std::memory_order_release);
  }

  static sched::detail::scheduler_core* ambient_core() {
    if (sched::detail::worker* w = sched::detail::this_worker) return w->owner;
    return &default_scheduler();
  }

  template <class F>
  struct group_job final : sched::detail::queued_job {
    group_job(F&& fn, task_group* g, priority p) : f(std::move(fn)), group(g) {
      prio = p;
      execute = &run;
    }
    F f;
    task_group* group;

    static void run(sched::detail::job* j, sched::detail::job_action action,
                    sched::detail::scheduler_core* core) noexcept {
      auto* self = static_cast<group_job*>(j);
      task_group* g = self->group;
      if (action == sched::detail::job_action::run &&
          !g->cancelled_.load(std::memory_order_acquire)) {
        sched::detail::group_frame frame{g, sched::detail::current_group_frame};
        sched::detail::current_group_frame = &frame;
        try {
          self->f();
          g->ran_.fetch_add(1, std::memory_order_relaxed);
        } catch (...) {
          g->record(std::current_exception());
        }
        sched::detail::current_group_frame = frame.parent;
      } else {
        g->skipped_.fetch_add(1, std::memory_order_relaxed);
      }
      sched::detail::delete_job(self);
      g->finish(core);
    }
  };

  sched::detail::scheduler_core* core_;
  alignas(false_sharing_range) std::atomic<std::uint64_t> state_{0};
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> has_error_{false};
  std::exception_ptr error_;
  std::atomic<std::uint64_t> ran_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> skipped_{0};
};

}  // namespace tessera
