// tessera::basic_scheduler<Policies...> (alias tessera::scheduler): a work-stealing thread pool
// for fine-grained fork-join and for independent tasks with priorities. Use one per process
// (tessera::default_scheduler()) unless you need isolation; tasks must not block on I/O for
// long (use a separate pool for that).
//
//   tessera::scheduler s{{.workers = 4}};
//   auto f = s.submit(tessera::priority::high, [] { return 42; });
//   s.spawn([] { ... });                     // fire-and-forget
//   int v = s.execute([] { return tessera::parallel_reduce(...); });   // caller takes part
#pragma once

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "tessera/core/assert.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/policy.hpp"
#include "tessera/core/priority.hpp"
#include "tessera/profile/hooks.hpp"
#include "tessera/sched/detail/core.hpp"
#include "tessera/sched/future.hpp"
#include "tessera/sched/policies.hpp"

namespace tessera {

// What the destructor (or an explicit shutdown()) does with tasks that are still queued.
enum class shutdown_mode : std::uint8_t {
  drain,   // run them, and whatever they spawn, before the workers stop
  cancel,  // do not run queued spawn()/submit()/task_group tasks: futures get task_cancelled,
           // groups count them as skipped; fork-join work already under way still finishes
};

struct shutdown_report {
  std::uint64_t ran = 0;        // tasks run over the scheduler's life
  std::uint64_t cancelled = 0;  // queued tasks cancelled by a shutdown in cancel mode
};

struct scheduler_options {
  unsigned workers = 0;                 // worker threads; 0: std::thread::hardware_concurrency()
  unsigned external_slots = 1;          // outside threads that can take part in execute() at once
  std::string thread_name = "tessera";  // workers are named "<name>-<index>" (15 chars kept)
  bool pin = false;                     // pin worker i to CPU i % hardware_concurrency
  std::size_t stack_size = 0;           // bytes per worker stack; 0: the system default
  shutdown_mode on_destroy = shutdown_mode::drain;
  // Receives exceptions of spawn()ed tasks (nobody waits for them). Unset: std::terminate,
  // as for an exception escaping a std::thread: never silently dropped.
  std::function<void(std::exception_ptr)> on_unhandled_exception{};
  std::string name = "default";  // the `scheduler` label of its metrics
};

struct scheduler_stats {
  std::uint64_t tasks = 0;
  std::uint64_t steals = 0;
  std::uint64_t failed_steals = 0;
  std::uint64_t parks = 0;
  double idle_seconds = 0;
};

namespace sched::detail {

template <class F>
struct spawn_job final : queued_job {
  spawn_job(F&& fn, priority p) : f(std::move(fn)) {
    prio = p;
    execute = &run;
  }
  F f;
  static void run(job* j, job_action action, scheduler_core* core) noexcept {
    auto* self = static_cast<spawn_job*>(j);
    if (action == job_action::run) {
      try {
        self->f();
      } catch (...) {
        core->unhandled_exception(std::current_exception());
      }
    }
    delete_job(self);
  }
};

}  // namespace sched::detail

template <class... Policies>
class basic_scheduler final : public sched::detail::scheduler_core {
  static_assert(
      policy_list<sched::idle_policy_tag, sched::victim_policy_tag>::accepts<Policies...>);
  using idle = select_policy_t<sched::idle_policy_tag, sched::spin_then_park, Policies...>;
  using victim = select_policy_t<sched::victim_policy_tag, sched::random_victim, Policies...>;
  static_assert(sched::idle_policy<idle>,
                "the idle policy must provide spin_for and max_spinners()");
  static_assert(sched::victim_policy<victim>, "the victim policy must provide first_victim()");

  using job = sched::detail::job;
  using worker = sched::detail::worker;

 public:
  explicit basic_scheduler(scheduler_options options = {}) : options_(std::move(options)) {
    unsigned n = options_.workers;
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    workers_ = n;
    const unsigned slots = n + options_.external_slots;
    slots_.reserve(slots);
    for (unsigned i = 0; i < slots; ++i) {
      auto w = std::make_unique<worker>();
      w->owner = this;
      w->index = i;
      w->external = i >= n;
      w->rng = 0x9E3779B97F4A7C15ULL * (i + 1) ^ reinterpret_cast<std::uintptr_t>(this);
      slots_.push_back(std::move(w));
    }
    threads_.reserve(n);
    try {
      for (unsigned i = 0; i < n; ++i) start_thread(i);
    } catch (...) {
      shutdown(shutdown_mode::drain);
      throw;
    }
    publication_ = profile::publish("sched", [this](profile::metric_sink& sink) { collect(sink); });
  }

  ~basic_scheduler() override { shutdown(options_.on_destroy); }

  [[nodiscard]] unsigned workers() const noexcept { return workers_; }
  // Threads that may run tasks at once (the workers; a caller of execute() adds one).
  [[nodiscard]] unsigned concurrency() const noexcept override { return workers_; }
  [[nodiscard]] const scheduler_options& options() const noexcept { return options_; }

  // Fire-and-forget. Exceptions go to options().on_unhandled_exception.
  template <class F>
  requires std::invocable < std::decay_t<F>
  & > void spawn(F&& f) { spawn(current_priority(), std::forward<F>(f)); }
  template <class F>
  requires std::invocable < std::decay_t<F>
  & > void spawn(priority p, F&& f) {
    using J = sched::detail::spawn_job<std::decay_t<F>>;
    enqueue(sched::detail::new_job<J>(std::decay_t<F>(std::forward<F>(f)), p));
  }

  // Runs f on a worker; the future delivers its value or exception. Higher priorities are
  // taken first by every worker.
  template <class F>
  requires std::invocable < std::decay_t<F>
  & > auto submit(F&& f) { return submit(current_priority(), std::forward<F>(f)); }
  template <class F>
  requires std::invocable < std::decay_t<F>
  & > auto submit(priority p, F&& f) {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    using J = sched::detail::future_job<R, std::decay_t<F>>;
    J* j = sched::detail::new_job<J>(std::decay_t<F>(std::forward<F>(f)), this, p);
    future<R> result(static_cast<sched::detail::future_state<R>*>(j));
    enqueue(j);
    return result;
  }

  // Runs f with the calling thread taking part (when an outside slot is free; otherwise f runs
  // on a worker and the caller sleeps), and returns its result. On a worker: calls f directly.
  template <class F>
  requires std::invocable<F&>
  auto execute(F&& f) -> std::remove_cvref_t<std::invoke_result_t<F&>> {
    using R = std::remove_cvref_t<std::invoke_result_t<F&>>;
    if (local_worker() != nullptr) return f();
    admit();
    struct leave_guard {
      basic_scheduler* s;
      ~leave_guard() { s->inflight_.fetch_sub(1, std::memory_order_seq_cst); }
    } leave{this};
    if (worker* slot = acquire_slot()) {
      struct slot_guard {
        worker* slot;
        worker* saved;
        ~slot_guard() {
          sched::detail::this_worker = saved;
          slot->occupied.store(false, std::memory_order_release);
        }
      } guard{slot, sched::detail::this_worker};
      sched::detail::this_worker = slot;
      slot->current = priority::normal;
      return f();
    }
    // No free slot: hand f to the workers and sleep until it is done.
    std::conditional_t<std::is_void_v<R>, bool, std::optional<R>> result{};
    auto body = [&] {
      if constexpr (std::is_void_v<R>) {
        f();
      } else {
        result.emplace(f());
      }
    };
    sched::detail::fork_frame<decltype(body)> frame(body, priority::normal);
    inject(&frame);
    block_until([&] { return frame.state.load(std::memory_order_acquire) == 2; },
                [&] {
                  std::uint32_t expected = 0;
                  return frame.state.compare_exchange_strong(expected, 1) || expected == 1;
                });
    if (frame.error) std::rethrow_exception(frame.error);
    if constexpr (!std::is_void_v<R>) return std::move(*result);
  }

  // Fork-join for the parallel algorithms: a and b in parallel, both done on return.
  template <class A, class B>
  void fork2(A&& a, B&& b) {
    if (worker* w = local_worker()) {
      sched::detail::fork2(*w, a, b);
    } else {
      execute([&] { sched::detail::fork2(*local_worker(), a, b); });
    }
  }
  // Lazy binary splitting: split a range only while no work is queued here for thieves.
  [[nodiscard]] bool should_split() const noexcept {
    worker* w = local_worker();
    return w == nullptr || w->deques[to_index(w->current)].looks_empty();
  }

  // Stops the workers (see shutdown_mode); later submissions throw. Idempotent; the
  // destructor calls it with options().on_destroy. Must not be called from a task of this
  // scheduler.
  shutdown_report shutdown(shutdown_mode mode = shutdown_mode::drain) {
    if (shut_down_) return report_;
    TESSERA_ASSERT(local_worker() == nullptr,
                   "shutdown() from a task of the same scheduler would wait for itself");
    stopping_.store(true, std::memory_order_seq_cst);
    while (inflight_.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
    cancel_.store(mode == shutdown_mode::cancel, std::memory_order_seq_cst);
    draining_.store(true, std::memory_order_seq_cst);
    wake_all();
    for (auto& t : threads_) pthread_join(t, nullptr);
    threads_.clear();
    // Whatever is left (a job spawned onto a deque after its worker looked for the last time,
    // or onto an outside slot): run or cancel it here, so nothing is lost.
    for (bool found = true; found;) {
      found = false;
      for (auto& w : slots_) {
        for (auto& dq : w->deques) {
          job* j = nullptr;
          while (dq.steal(j) != sched::detail::chase_lev_deque<job*>::steal_result::empty) {
            if (j != nullptr) {
              finish_at_shutdown(j);
              found = true;
            }
            j = nullptr;
          }
        }
      }
      for (auto& q : inject_) {
        while (job* j = q.try_pop()) {
          finish_at_shutdown(j);
          found = true;
        }
      }
    }
    publication_.reset();
    report_.ran = stats().tasks + swept_ran_;
    report_.cancelled = cancelled_.load(std::memory_order_relaxed);
    shut_down_ = true;
    return report_;
  }

  [[nodiscard]] scheduler_stats stats() const {
    scheduler_stats s;
    for (const auto& w : slots_) {
      s.tasks += w->stats.tasks.load(std::memory_order_relaxed);
      s.steals += w->stats.steals.load(std::memory_order_relaxed);
      s.failed_steals += w->stats.failed_steals.load(std::memory_order_relaxed);
      s.parks += w->stats.parks.load(std::memory_order_relaxed);
      s.idle_seconds +=
          static_cast<double>(w->stats.idle_ns.load(std::memory_order_relaxed)) * 1e-9;
    }
    return s;
  }

  // --- scheduler_core ---
  job* find_help(worker& w) noexcept override { return find_work(w); }

  void inject(job* j) override {
    const priority p = j->prio;  // once pushed, j may be taken, run and freed
    inject_[to_index(p)].push(j);
    note_urgent(p);
    notify_external();
  }

  void unhandled_exception(std::exception_ptr e) noexcept override {
    if (options_.on_unhandled_exception) {
      try {
        options_.on_unhandled_exception(std::move(e));
        return;
      } catch (...) {
      }
    }
    std::terminate();
  }

 private:
  priority current_priority() const noexcept {
    worker* w = sched::detail::this_worker;
    return w != nullptr ? w->current : priority::normal;
  }

  void admit() {
    inflight_.fetch_add(1, std::memory_order_seq_cst);
    if (stopping_.load(std::memory_order_seq_cst)) {
      inflight_.fetch_sub(1, std::memory_order_seq_cst);
      throw error("scheduler '" + options_.name + "'", "is shut down; the task was not queued");
    }
  }

  void enqueue(job* j) override {
    if (worker* w = local_worker()) {
      push_local(*w, j);
      return;
    }
    try {
      admit();
    } catch (...) {
      j->execute(j, sched::detail::job_action::cancel, this);  // frees it (a future sees
      throw;                                                   // task_cancelled if kept)
    }
    inject(j);
    inflight_.fetch_sub(1, std::memory_order_seq_cst);
  }

  worker* acquire_slot() noexcept {
    for (unsigned i = workers_; i < slots_.size(); ++i) {
      bool expected = false;
      if (!slots_[i]->occupied.load(std::memory_order_relaxed) &&
          slots_[i]->occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        return slots_[i].get();
      }
    }
    return nullptr;
  }

  job* steal_from_others(worker& w, std::size_t level) noexcept {
    const auto n = static_cast<unsigned>(slots_.size());
    if (n <= 1) return nullptr;
    const unsigned start = victim::first_victim(w, n);
    bool saw_work = false;
    for (unsigned k = 0, v = start; k < n; ++k, v = v + 1 == n ? 0 : v + 1) {
      if (v == w.index) continue;
      auto& dq = slots_[v]->deques[level];
      if (dq.looks_empty()) continue;
      saw_work = true;
      job* j = nullptr;
      for (int attempt = 0; attempt < 2; ++attempt) {
        const auto r = dq.steal(j);
        if (r == sched::detail::chase_lev_deque<job*>::steal_result::taken) {
          sched::detail::worker_stats::bump(w.stats.steals);
          return j;
        }
        if (r == sched::detail::chase_lev_deque<job*>::steal_result::empty) break;
      }
    }
    if (saw_work) sched::detail::worker_stats::bump(w.stats.failed_steals);
    return nullptr;
  }

  // Highest priority first, everywhere: own deque, outside submissions, then other workers.
  job* find_work(worker& w) noexcept {
    if (urgent_.load(std::memory_order_relaxed)) {
      if (job* j = find_between(w, 0, urgent_levels)) return j;
      // A look can come back empty while urgent jobs are queued (another worker holds the
      // injection queue, wins a steal, or a push is half done), so the flag goes by what the
      // queues hold, not by what this look took: cleared, then set again if any may be queued.
      clear_urgent();
      if (urgent_queued()) {
        urgent_.store(true, std::memory_order_relaxed);
        if (job* j = find_between(w, 0, urgent_levels)) return j;
      }
    }
    return find_between(w, urgent_levels, priority_count);
  }

  [[nodiscard]] bool urgent_queued() const noexcept {
    for (std::size_t level = 0; level < urgent_levels; ++level) {
      if (inject_[level].maybe_nonempty()) return true;
      for (const auto& slot : slots_) {
        if (!slot->deques[level].looks_empty()) return true;
      }
    }
    return false;
  }

  job* find_between(worker& w, std::size_t first, std::size_t last) noexcept {
    for (std::size_t level = first; level < last; ++level) {
      auto& own = w.deques[level];
      if (!own.looks_empty()) {
        if (job* j = own.take()) return j;
      }
      if (job* j = inject_[level].try_pop()) {
        if (inject_[level].maybe_nonempty()) wake_helper();
        return j;
      }
      if (job* j = steal_from_others(w, level)) {
        wake_helper();
        return j;
      }
    }
    return nullptr;
  }

  // A worker that found work away from home wakes one more sleeper: more work may be queued.
  void wake_helper() noexcept {
    if (should_wake()) wake_one();
  }

  bool any_injected() const noexcept {
    for (const auto& q : inject_) {
      if (q.maybe_nonempty()) return true;
    }
    return false;
  }

  void dispatch(worker& w, job* j) noexcept {
    if (j->cancellable && cancel_.load(std::memory_order_relaxed)) {
      cancelled_.fetch_add(1, std::memory_order_relaxed);
      j->execute(j, sched::detail::job_action::cancel, this);
      return;
    }
    run_job(w, j, this);
  }

  void finish_at_shutdown(job* j) noexcept {
    if (j->cancellable && cancel_.load(std::memory_order_relaxed)) {
      cancelled_.fetch_add(1, std::memory_order_relaxed);
      j->execute(j, sched::detail::job_action::cancel, this);
    } else {
      ++swept_ran_;
      j->execute(j, sched::detail::job_action::run, this);
    }
  }

  void worker_main(worker& w) noexcept {
    sched::detail::this_worker = &w;
    using clock = std::chrono::steady_clock;
    const unsigned max_spinners = idle::max_spinners(workers_);
    for (;;) {
      if (job* j = find_work(w)) {
        dispatch(w, j);
        continue;
      }
      const auto idle_start = clock::now();
      job* found = nullptr;
      if constexpr (idle::spin_for.count() > 0) {
        if (spinners_.fetch_add(1, std::memory_order_relaxed) < max_spinners) {
          const auto deadline = idle_start + idle::spin_for;
          while (found == nullptr && !draining_.load(std::memory_order_relaxed)) {
            for (int i = 0; i < 16; ++i) sched::detail::cpu_relax();
            found = find_work(w);
            if (clock::now() > deadline) break;
          }
        }
        spinners_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (found == nullptr) {
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        const std::uint32_t key = work_epoch_.load(std::memory_order_seq_cst);
        found = find_work(w);
        if (found == nullptr) {
          if (draining_.load(std::memory_order_seq_cst) && !any_injected()) {
            sleepers_.fetch_sub(1, std::memory_order_seq_cst);
            break;
          }
          if (!any_injected()) {
            sched::detail::worker_stats::bump(w.stats.parks);
            sched::detail::epoch_wait(work_epoch_, key);
          }
        }
        // Leaving the sleepers takes up a pending wake-up whether or not this worker actually
        // slept: one sent while it was taking its last look would otherwise stay pending for
        // ever, and should_wake() would never wake a sleeper again (the pool runs on one thread).
        woke_up();
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      }
      sched::detail::worker_stats::bump(
          w.stats.idle_ns,
          static_cast<std::uint64_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - idle_start)
                  .count()));
      if (found != nullptr) dispatch(w, found);
    }
    sched::detail::this_worker = nullptr;
  }

  struct thread_start {
    basic_scheduler* self;
    unsigned index;
  };

  static void* thread_entry(void* arg) {
    std::unique_ptr<thread_start> start(static_cast<thread_start*>(arg));
    basic_scheduler* self = start->self;
    const unsigned i = start->index;
    const std::string name = (self->options_.thread_name + "-" + std::to_string(i)).substr(0, 15);
    pthread_setname_np(pthread_self(), name.c_str());
    if (self->options_.pin) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(i % std::max(1u, std::thread::hardware_concurrency()), &set);
      pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }
    self->worker_main(*self->slots_[i]);
    return nullptr;
  }

  void start_thread(unsigned i) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (options_.stack_size != 0) pthread_attr_setstacksize(&attr, options_.stack_size);
    auto* start = new thread_start{this, i};
    pthread_t t;
    const int rc = pthread_create(&t, &attr, &thread_entry, start);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      delete start;
      throw std::system_error(rc, std::generic_category(), "tessera: starting a worker thread");
    }
    threads_.push_back(t);
  }

  void collect(profile::metric_sink& sink) const {
    const auto now = std::chrono::steady_clock::now();
    const double alive = std::chrono::duration<double>(now - started_).count();
    for (const auto& w : slots_) {
      const std::string idx = std::to_string(w->index);
      const std::string& sn = options_.name;
      const double idle_s =
          static_cast<double>(w->stats.idle_ns.load(std::memory_order_relaxed)) * 1e-9;
      sink.counter("tessera_sched_tasks_total", "tasks run",
                   static_cast<double>(w->stats.tasks.load(std::memory_order_relaxed)),
                   {{"scheduler", sn}, {"worker", idx}});
      sink.counter("tessera_sched_steals_total", "tasks taken from another worker",
                   static_cast<double>(w->stats.steals.load(std::memory_order_relaxed)),
                   {{"scheduler", sn}, {"worker", idx}});
      sink.counter("tessera_sched_failed_steals_total",
                   "sweeps over other workers that saw work but took none",
                   static_cast<double>(w->stats.failed_steals.load(std::memory_order_relaxed)),
                   {{"scheduler", sn}, {"worker", idx}});
      sink.counter("tessera_sched_parks_total", "times the worker went to sleep",
                   static_cast<double>(w->stats.parks.load(std::memory_order_relaxed)),
                   {{"scheduler", sn}, {"worker", idx}});
      sink.counter("tessera_sched_idle_seconds_total", "time spent looking for work or asleep",
                   idle_s, {{"scheduler", sn}, {"worker", idx}});
      if (!w->external) {
        sink.counter("tessera_sched_busy_seconds_total", "time alive and not idle",
                     std::max(0.0, alive - idle_s), {{"scheduler", sn}, {"worker", idx}});
      }
    }
  }

  scheduler_options options_;
  unsigned workers_ = 0;
  std::vector<std::unique_ptr<worker>> slots_;
  std::vector<pthread_t> threads_;
  sched::detail::injection_queue inject_[priority_count];
  alignas(false_sharing_range) std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> cancel_{false};
  std::atomic<std::uint32_t> inflight_{0};
  std::atomic<std::uint64_t> cancelled_{0};
  std::uint64_t swept_ran_ = 0;
  bool shut_down_ = false;
  shutdown_report report_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  profile::publication publication_;
};

using scheduler = basic_scheduler<>;

// The process-wide scheduler (hardware_concurrency workers), created on first use. Needs the
// compiled library (tessera::tessera).
scheduler& default_scheduler();

}  // namespace tessera
