// The shared state behind tessera::basic_budget and its accounts: hard-limited counters,
// reclaim, priority-ordered waiting and pressure levels. Internal to tessera/budget.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tessera/budget/detail/thread_credit.hpp"
#include "tessera/budget/options.hpp"
#include "tessera/core/assert.hpp"
#include "tessera/core/cache_line.hpp"
#include "tessera/core/priority.hpp"

namespace tessera::detail {

using reclaimer_fn = std::function<std::size_t(std::size_t wanted)>;
using pressure_fn = std::function<void(pressure_level)>;

inline void update_max(std::atomic<std::size_t>& peak, std::size_t value) noexcept {
  std::size_t seen = peak.load(std::memory_order_relaxed);
  while (seen < value && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

class budget_state;

// The innermost charge or release slow path running on this thread. Pressure subscribers of its
// budget are called when it ends rather than in the middle of it, so that a subscriber may charge
// and release (even on the same account) while this thread's credit is being rearranged.
struct op_scope {
  explicit op_scope(budget_state* b) noexcept : budget(b), outer(current) { current = this; }
  op_scope(const op_scope&) = delete;
  op_scope& operator=(const op_scope&) = delete;
  inline ~op_scope();

  budget_state* budget;
  op_scope* outer;
  bool deferred = false;
  static constinit inline thread_local op_scope* current = nullptr;
};

class budget_state {
 public:
  explicit budget_state(const budget_options& o)
      : name_(o.name),
        limit_(o.limit),
        chunk_(o.thread_credit),
        elevated_on_(mark(o.elevated_at)),
        elevated_off_(mark(o.elevated_at - o.hysteresis)),
        critical_on_(mark(o.critical_at)),
        critical_off_(mark(o.critical_at - o.hysteresis)) {}

  // Takes `n` bytes of the hard-limited total (everything charged to every account, credit
  // threads hold included). Never lets it pass the limit.
  bool take_charged(std::size_t n) noexcept {
    std::size_t old = charged_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ || old > limit_ - n) return false;
    } while (!charged_.compare_exchange_weak(old, old + n, std::memory_order_seq_cst,
                                             std::memory_order_relaxed));
    update_max(peak_, old + n);
    return true;
  }

  // Takes `n` bytes of claimed room (charges plus reservations their owners do not use). Only a
  // borrower may take it past the limit, into reservations lent to it; everyone else gets truly
  // free room only. The caller holds `n` of take_charged, which is what the hard limit bounds.
  bool take_claimed(std::size_t n, bool borrow) noexcept {
    if (n == 0) return true;
    if (borrow) {
      claimed_.fetch_add(n, std::memory_order_seq_cst);
    } else {
      std::size_t old = claimed_.load(std::memory_order_relaxed);
      do {
        if (n > limit_ || old > limit_ - n) return false;
      } while (!claimed_.compare_exchange_weak(old, old + n, std::memory_order_seq_cst,
                                               std::memory_order_relaxed));
    }
    update_pressure();
    return true;
  }

  void give(std::size_t charged, std::size_t claimed) noexcept {
    if (charged != 0) {
      [[maybe_unused]] const std::size_t old =
          charged_.fetch_sub(charged, std::memory_order_seq_cst);
      TESSERA_ASSERT(old >= charged, "a budget was given back more than was charged to it");
    }
    if (claimed != 0) {
      [[maybe_unused]] const std::size_t old =
          claimed_.fetch_sub(claimed, std::memory_order_seq_cst);
      TESSERA_ASSERT(old >= claimed, "a budget was given back more than it holds");
      update_pressure();
    }
    if (waiters_.load(std::memory_order_seq_cst) > 0) wake_waiters();
  }

  // Reservations lent out: claimed room beyond the limit, held by borrowers.
  [[nodiscard]] std::size_t lent() const noexcept {
    const std::size_t c = claimed_.load(std::memory_order_relaxed);
    return c > limit_ ? c - limit_ : 0;
  }

  // While an owner takes its reservation back, nobody else may borrow what borrowers give back.
  [[nodiscard]] bool taking_back() const noexcept {
    return taking_back_.load(std::memory_order_seq_cst) != 0;
  }
  struct take_back_scope {
    explicit take_back_scope(budget_state& b) noexcept : budget(b) {
      budget.taking_back_.fetch_add(1, std::memory_order_seq_cst);
      budget.request_flush();  // borrowers' threads hand back their credit on their next call
    }
    take_back_scope(const take_back_scope&) = delete;
    take_back_scope& operator=(const take_back_scope&) = delete;
    ~take_back_scope() { budget.taking_back_.fetch_sub(1, std::memory_order_seq_cst); }
    budget_state& budget;
  };

  // Asks every thread to return its credit in this budget's accounts on its next charge or
  // release of them. Defined after account_state.
  void request_flush() noexcept;

  // True when a waiter at least as important as `p` waits: others must not take what it waits for.
  [[nodiscard]] bool blocked_for(priority p) const noexcept {
    return top_waiter_.load(std::memory_order_relaxed) <= static_cast<int>(to_index(p));
  }

  // ---- pressure -------------------------------------------------------------------------------
  [[nodiscard]] pressure_level level() const noexcept {
    return static_cast<pressure_level>(level_.load(std::memory_order_acquire));
  }

  std::uint64_t subscribe(pressure_fn fn) {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.emplace_back(++next_subscriber_, std::make_shared<pressure_fn>(std::move(fn)));
    return next_subscriber_;
  }
  void unsubscribe(std::uint64_t id) noexcept {
    std::lock_guard lock(subscribers_mutex_);
    std::erase_if(subscribers_, [id](const auto& s) { return s.first == id; });
  }

  [[nodiscard]] std::uint64_t pressure_events(pressure_level l) const noexcept {
    return events_[static_cast<std::size_t>(l)].load(std::memory_order_relaxed);
  }

  // ---- waiting in priority order ----------------------------------------------------------------
  template <class TryCharge, class Undo>
  bool wait_charge(priority p, std::atomic<std::uint32_t>& waiting, TryCharge&& try_charge,
                   Undo&& undo, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(wait_mutex_);
    const auto me = waiting_set_.emplace(static_cast<int>(to_index(p)), ++ticket_).first;
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    waiting.fetch_add(1, std::memory_order_release);
    top_waiter_.store(waiting_set_.begin()->first, std::memory_order_relaxed);
    request_flush();
    bool ok = false;
    for (;;) {
      const std::uint64_t seq = release_seq_.load(std::memory_order_seq_cst);
      if (waiting_set_.begin() == me) {
        lock.unlock();  // reclaimers run without our locks held
        ok = try_charge();
        lock.lock();
        if (ok && waiting_set_.begin() != me) {
          // A more important waiter arrived while this one was trying: it goes first.
          lock.unlock();
          undo();
          lock.lock();
          ok = false;
        }
        if (ok) break;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      // Credit idle threads still hold comes back only when they run again: poll now and then.
      if (release_seq_.load(std::memory_order_seq_cst) == seq) {
        wait_cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(2)));
      }
    }
    waiting_set_.erase(me);
    waiters_.fetch_sub(1, std::memory_order_seq_cst);
    waiting.fetch_sub(1, std::memory_order_relaxed);
    top_waiter_.store(
        waiting_set_.empty() ? static_cast<int>(priority_count) : waiting_set_.begin()->first,
        std::memory_order_relaxed);
    lock.unlock();
    wait_cv_.notify_all();  // the next waiter in line may try now
    return ok;
  }

  [[nodiscard]] bool has_waiters() const noexcept {
    return waiters_.load(std::memory_order_relaxed) > 0;
  }

  // ---- accounts, for reclaim and metrics --------------------------------------------------------
  void add_account(std::weak_ptr<account_state> a) {
    std::lock_guard lock(accounts_mutex_);
    accounts_.push_back(std::move(a));
  }
  void remove_account(const account_state* a) noexcept {
    std::lock_guard lock(accounts_mutex_);
    std::erase_if(accounts_, [a](const auto& w) {
      const auto p = w.lock();
      return !p || p.get() == a;
    });
  }
  [[nodiscard]] std::vector<std::shared_ptr<account_state>> accounts() const {
    std::vector<std::shared_ptr<account_state>> out;
    std::lock_guard lock(accounts_mutex_);
    for (const auto& w : accounts_) {
      if (auto a = w.lock()) out.push_back(std::move(a));
    }
    return out;
  }

  // Sets aside a new account's reservation: it must fit in truly free room.
  bool reserve(std::size_t n) noexcept { return take_claimed(n, false); }
  // Gives a removed account's reservation back.
  void unreserve(std::size_t n) noexcept { give(0, n); }

  // Frees room for `requester` to charge `n` (borrowing if `borrow`) by asking borrowers to give
  // back what the requester's reservation needs, then less important accounts to shrink;
  // returns the bytes given back. Defined after account_state.
  std::size_t reclaim_for(const account_state& requester, std::size_t n, bool borrow) noexcept;

  // ---- accounts above their soft mark shrink on the budget's own thread -----------------------
  // Queues `a` to be asked to shrink to its `high` mark; starts the thread on first use.
  void request_shrink(std::weak_ptr<account_state> a) noexcept;
  // Stops and joins that thread; later requests are dropped. Called by the budget's destructor.
  void stop_shrinker() noexcept {
    std::thread t;
    {
      std::lock_guard lock(shrink_mutex_);
      shrink_stop_ = true;
      t = std::move(shrinker_);
    }
    shrink_cv_.notify_all();
    if (!t.joinable()) return;
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // destroyed from inside a reclaimer the thread runs: it ends on its own
    } else {
      t.join();
    }
  }

  const std::string name_;
  const std::size_t limit_;
  const std::size_t chunk_;

  alignas(false_sharing_range) std::atomic<int> top_waiter_{static_cast<int>(priority_count)};

  // What the hard limit bounds: the sum over accounts of their charges (credit included).
  alignas(false_sharing_range) std::atomic<std::size_t> charged_{0};
  std::atomic<std::size_t> peak_{0};
  // charged_ plus reservations their owners do not use; above the limit by what is lent out.
  // Pressure levels follow it, so a reservation counts as taken for pressure.
  std::atomic<std::size_t> claimed_{0};
  std::atomic<std::uint32_t> taking_back_{0};

 private:
  [[nodiscard]] std::size_t mark(double fraction) const noexcept {
    if (fraction <= 0) return 0;
    if (fraction >= 1) return limit_;
    return static_cast<std::size_t>(static_cast<long double>(limit_) * fraction);
  }

  [[nodiscard]] pressure_level target_level(pressure_level now, std::size_t used) const noexcept {
    if (used >= critical_on_ && critical_on_ > 0) return pressure_level::critical;
    if (now == pressure_level::critical && used >= critical_off_ && critical_off_ > 0) {
      return pressure_level::critical;
    }
    if (used >= elevated_on_ && elevated_on_ > 0) return pressure_level::elevated;
    if (now != pressure_level::ok && used >= elevated_off_ && elevated_off_ > 0) {
      return pressure_level::elevated;
    }
    return pressure_level::ok;
  }

  void update_pressure() noexcept {
    const auto now = level();
    if (target_level(now, claimed_.load(std::memory_order_relaxed)) == now) return;
    {
      std::lock_guard lock(level_mutex_);
      const auto current = level();
      const auto target = target_level(current, claimed_.load(std::memory_order_relaxed));
      if (target == current) return;
      level_.store(static_cast<std::uint8_t>(target), std::memory_order_release);
      events_[static_cast<std::size_t>(target)].fetch_add(1, std::memory_order_relaxed);
    }
    if (op_scope::current != nullptr && op_scope::current->budget == this) {
      op_scope::current->deferred = true;
      return;
    }
    notify_subscribers();
  }

 public:
  // Delivers level changes one at a time and in order; a subscriber may charge or release
  // (which may change the level again) without deadlocking: whoever holds the notifier lock
  // delivers what others signalled.
  void notify_subscribers() noexcept {
    for (;;) {
      pending_.store(true, std::memory_order_seq_cst);
      std::unique_lock lock(notify_mutex_, std::try_to_lock);
      if (!lock.owns_lock()) return;
      while (pending_.exchange(false, std::memory_order_seq_cst)) {
        const auto l = level();
        if (l == delivered_) continue;
        delivered_ = l;
        std::vector<std::shared_ptr<pressure_fn>> fns;
        try {
          std::lock_guard s(subscribers_mutex_);
          for (const auto& e : subscribers_) fns.push_back(e.second);
        } catch (...) {
          return;  // out of memory while copying: the next change delivers again
        }
        for (const auto& fn : fns) (*fn)(l);
      }
      lock.unlock();
      if (!pending_.load(std::memory_order_seq_cst)) return;
    }
  }

 private:
  void wake_waiters() noexcept {
    release_seq_.fetch_add(1, std::memory_order_seq_cst);
    { std::lock_guard lock(wait_mutex_); }
    wait_cv_.notify_all();
  }

  const std::size_t elevated_on_, elevated_off_, critical_on_, critical_off_;

  std::atomic<std::uint8_t> level_{0};
  std::atomic<std::uint64_t> events_[pressure_level_count]{};
  std::mutex level_mutex_;
  std::mutex notify_mutex_;
  std::atomic<bool> pending_{false};
  pressure_level delivered_ = pressure_level::ok;
  std::mutex subscribers_mutex_;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<pressure_fn>>> subscribers_;
  std::uint64_t next_subscriber_ = 0;

  std::atomic<std::uint32_t> waiters_{0};
  std::atomic<std::uint64_t> release_seq_{0};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::set<std::pair<int, std::uint64_t>> waiting_set_;  // (priority index, arrival)
  std::uint64_t ticket_ = 0;

  mutable std::mutex accounts_mutex_;
  std::vector<std::weak_ptr<account_state>> accounts_;

  void shrinker_loop() noexcept;
  std::mutex shrink_mutex_;
  std::condition_variable shrink_cv_;
  std::vector<std::weak_ptr<account_state>> shrink_queue_;
  std::thread shrinker_;
  bool shrink_stop_ = false;
};

inline op_scope::~op_scope() {
  current = outer;
  if (deferred) budget->notify_subscribers();
}

}  // namespace tessera::detail
