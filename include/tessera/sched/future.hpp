// tessera::future<R>: the result of scheduler::submit(). get() returns the value or rethrows the
// task's exception, once. Called from a worker, get() and wait() run other work while waiting,
// so a task may wait for a future of its own scheduler without deadlock.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "tessera/core/assert.hpp"
#include "tessera/sched/detail/core.hpp"

namespace tessera {

// Delivered through future::get() when a shutdown in cancel mode dropped the task unrun.
class task_cancelled : public std::runtime_error {
 public:
  task_cancelled() : std::runtime_error("tessera: the task was cancelled by scheduler shutdown") {}
};

template <class R>
class future;

namespace sched::detail {

struct void_result {};

// Shared by the queued job and the future (two references); the last one frees it.
template <class R>
struct future_state : queued_job {
  using stored = std::conditional_t<std::is_void_v<R>, void_result, R>;

  scheduler_core* core = nullptr;
  std::atomic<std::uint32_t> refs{2};
  // 0: pending, 1: a waiter may sleep (wake it), 2: ready.
  std::atomic<std::uint32_t> ready{0};
  std::optional<stored> value;
  std::exception_ptr error;
  void (*destroy)(future_state*) noexcept = nullptr;

  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(this);
  }
  void complete(scheduler_core* c) noexcept {
    if (ready.exchange(2, std::memory_order_acq_rel) == 1) {
      sched::detail::epoch_wake(ready, true);  // an outside thread sleeps on `ready` (kept
                                               // alive by its reference)
      c->wake_joiners();                       // a worker sleeps on the scheduler's join epoch
    }
    release();
  }
  bool announce_park() noexcept {
    std::uint32_t expected = 0;
    return ready.compare_exchange_strong(expected, 1, std::memory_order_seq_cst) || expected == 1;
  }
  [[nodiscard]] bool is_ready() const noexcept {
    return ready.load(std::memory_order_acquire) == 2;
  }
};

template <class R, class F>
struct future_job final : future_state<R> {
  explicit future_job(F&& fn, scheduler_core* c, priority p) : f(std::move(fn)) {
    this->core = c;
    this->prio = p;
    this->execute = &run;
    this->destroy = &free;
  }
  F f;

  static void free(future_state<R>* s) noexcept { delete_job(static_cast<future_job*>(s)); }

  static void run(job* j, job_action action, scheduler_core* core) noexcept {
    auto* self = static_cast<future_job*>(j);
    if (action == job_action::cancel) {
      self->error = std::make_exception_ptr(task_cancelled());
    } else {
      try {
        if constexpr (std::is_void_v<R>) {
          self->f();
          self->value.emplace();
        } else {
          self->value.emplace(self->f());
        }
      } catch (...) {
        self->error = std::current_exception();
      }
    }
    self->complete(core);
  }
};

}  // namespace sched::detail

template <class R>
class future {
 public:
  future() = default;
  future(future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  future& operator=(future&& other) noexcept {
    if (this != &other) {
      reset();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  future(const future&) = delete;
  future& operator=(const future&) = delete;
  // Does not wait: an abandoned task still runs, its result is dropped with the state.
  ~future() { reset(); }

  // False after get() or for a default-constructed future.
  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
  [[nodiscard]] bool is_ready() const noexcept {
    TESSERA_ASSERT(valid(), "is_ready() on a future without state (moved from or after get())");
    return state_->is_ready();
  }

  // Waits for the task; on a worker of the task's scheduler it runs other work meanwhile.
  void wait() const {
    TESSERA_ASSERT(valid(), "wait() on a future without state (moved from or after get())");
    auto* s = state_;
    if (s->is_ready()) return;
    if (sched::detail::worker* w = s->core->local_worker()) {
      s->core->help_until(
          *w, [s] { return s->is_ready(); }, [s] { return s->announce_park(); });
      return;
    }
    sched::detail::brief_wait([s] { return s->is_ready(); });
    while (!s->is_ready()) {
      if (!s->announce_park()) break;
      sched::detail::epoch_wait(s->ready, 1);
    }
  }

  // The task's value, or its exception rethrown. Exactly once: the future is empty afterwards.
  R get() {
    wait();
    auto* s = std::exchange(state_, nullptr);
    struct release_on_exit {
      sched::detail::future_state<R>* s;
      ~release_on_exit() { s->release(); }
    } guard{s};
    if (s->error) std::rethrow_exception(std::move(s->error));
    if constexpr (!std::is_void_v<R>) return std::move(*s->value);
  }

 private:
  template <class...>
  friend class basic_scheduler;
  explicit future(sched::detail::future_state<R>* s) noexcept : state_(s) {}

  void reset() noexcept {
    if (state_ != nullptr) std::exchange(state_, nullptr)->release();
  }

  sched::detail::future_state<R>* state_ = nullptr;
};

}  // namespace tessera
