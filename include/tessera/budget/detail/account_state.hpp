// The shared state of one budget account: its hard-limited counter, its reclaimer, and the slow
// paths of charging and releasing (taking and returning per-thread credit, reclaiming from less
// important accounts). Internal to tessera/budget.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tessera/budget/detail/budget_state.hpp"
#include "tessera/budget/detail/thread_credit.hpp"

namespace tessera::detail {

class account_state : public std::enable_shared_from_this<account_state> {
 public:
  account_state(std::shared_ptr<budget_state> b, const account_options& o)
      : budget_(b.get()),
        limit_(o.limit),
        reserved_(o.reserved),
        high_(o.high),
        priority_(o.priority),
        name_(o.name),
        owner_(std::move(b)) {}

  account_state(const account_state&) = delete;
  account_state& operator=(const account_state&) = delete;

  // Charges exactly `n` to this account and, above its reservation, to the budget; both totals
  // stay within their limits whatever other threads do meanwhile.
  bool acquire(std::size_t n) noexcept {
    std::size_t old = used_.load(std::memory_order_relaxed);
    std::size_t held = 0;  // budget bytes taken ahead of the account update
    for (;;) {
      if (n > limit_ || old > limit_ - n) {
        if (held != 0) budget_->give(held);
        return false;
      }
      const std::size_t now = old + n;
      // Only what goes above the reservation counts against the budget (the reservation was set
      // aside when the account was created). The budget is charged *before* the account so that
      // the budget's total is never below the sum over accounts.
      const std::size_t delta = std::max(now, reserved_) - std::max(old, reserved_);
      if (delta > held) {
        if (!budget_->take(delta - held)) {
          if (held != 0) budget_->give(held);
          return false;
        }
        held = delta;
      }
      if (used_.compare_exchange_weak(old, now, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        if (held > delta) budget_->give(held - delta);
        update_max(peak_, now);
        return true;
      }
    }
  }

  void release_shared(std::size_t n) noexcept {
    if (n == 0) return;
    std::size_t old = used_.load(std::memory_order_relaxed);
    std::size_t now = 0;
    do {
      TESSERA_ASSERT(old >= n, "an account was released more than was charged to it");
      now = old - n;
    } while (!used_.compare_exchange_weak(old, now, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
    const std::size_t delta = std::max(old, reserved_) - std::max(now, reserved_);
    if (delta != 0) budget_->give(delta);
  }

  static void return_slot(credit_slot& s) noexcept {
    const std::size_t c = s.credit.load(std::memory_order_relaxed);
    if (c == 0) return;
    s.credit.store(0, std::memory_order_relaxed);
    s.owner.load(std::memory_order_relaxed)->release_shared(c);
  }

  // Returns the calling thread's credit in every account of `b` (or of every budget).
  static void return_thread_credit(const budget_state* b) noexcept {
    for (auto& s : tl_credit.slots) {
      const auto* owner = s.owner.load(std::memory_order_relaxed);
      if (owner != nullptr && (b == nullptr || owner->budget_ == b)) return_slot(s);
    }
  }

  // Slow path of a charge: refill this thread's credit, or charge the shared counters directly;
  // when that fails, return this thread's credit, reclaim from less important accounts, retry.
  bool charge_slow(std::size_t n, bool use_credit, bool as_waiter) noexcept {
    const op_scope scope(budget_);
    // Charges within the reservation take nothing from the budget: no waiter can object.
    if (!as_waiter && budget_->blocked_for(priority_) &&
        used_.load(std::memory_order_relaxed) + n > reserved_) {
      denied_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    credit_slot* s = nullptr;
    if (use_credit && !budget_->has_waiters()) {
      s = slot_for_charge();
    } else if (use_credit) {
      // Someone waits: hand back what this thread holds and charge the shared counters exactly.
      if (auto* mine = find_credit_slot(this)) return_slot(*mine);
    }
    std::size_t have = 0;
    if (s != nullptr) {
      const auto generation = budget_->flush_generation_.load(std::memory_order_relaxed);
      if (s->generation != generation) {
        return_slot(*s);
        s->generation = generation;
      }
      have = s->credit.load(std::memory_order_relaxed);
      if (have >= n) {
        s->credit.store(have - n, std::memory_order_relaxed);
        return true;
      }
      const std::size_t need = n - have;
      const std::size_t extra = extra_credit(need);
      std::size_t got = 0;
      if (extra != 0 && acquire(need + extra)) {
        got = need + extra;
      } else if (acquire(need)) {
        got = need;
      }
      if (got != 0) {
        const std::size_t left = got - need;  // have + got - n
        s->credit.store(left, std::memory_order_relaxed);
        // A release may keep up to about twice the chunk taken, so a charge/release pair of the
        // same size stays on the fast path without hoarding.
        s->cap = left + std::min(need, left);
        return true;
      }
    } else if (acquire(n)) {
      return true;
    }
    // Out of room: first give back what this thread holds, then take from less important accounts.
    return_thread_credit(budget_);
    if (acquire(n)) return true;
    if (n <= limit_ && used_.load(std::memory_order_relaxed) <= limit_ - n) {
      budget_->reclaim_for(*this, n);
      return_thread_credit(budget_);  // reclaimers may have charged on this thread
      if (acquire(n)) return true;
    }
    budget_->request_flush();
    denied_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  void release_slow(std::size_t n, bool use_credit) noexcept {
    const op_scope scope(budget_);
    credit_slot* s = use_credit ? find_credit_slot(this) : nullptr;
    if (s != nullptr) {
      const auto generation = budget_->flush_generation_.load(std::memory_order_relaxed);
      if (s->generation != generation || budget_->has_waiters()) {
        return_slot(*s);
        s->generation = generation;
        s->cap = 0;
      } else {
        const std::size_t have = s->credit.load(std::memory_order_relaxed) + n;
        const std::size_t keep = std::min(have, s->cap);
        s->credit.store(keep, std::memory_order_relaxed);
        release_shared(have - keep);
        return;
      }
    }
    release_shared(n);
  }

  // Credit the calling thread takes beyond `need`: a chunk, shrunk near either limit.
  [[nodiscard]] std::size_t extra_credit(std::size_t need) const noexcept {
    const std::size_t a = used_.load(std::memory_order_relaxed);
    const std::size_t b = budget_->used_.load(std::memory_order_relaxed);
    const std::size_t a_room = a + need < limit_ ? limit_ - a - need : 0;
    const std::size_t b_room = b + need < budget_->limit_ ? budget_->limit_ - b - need : 0;
    return std::min({budget_->chunk_, a_room / 16, b_room / 16});
  }

  // Credit held by all threads for this account (exact when no thread charges meanwhile).
  [[nodiscard]] std::size_t outstanding_credit() const {
    auto& r = credit_threads();
    std::lock_guard lock(r.mutex);
    std::size_t sum = 0;
    for (const auto* t : r.threads) {
      for (const auto& s : t->slots) {
        if (s.owner.load(std::memory_order_relaxed) == this) {
          sum += s.credit.load(std::memory_order_relaxed);
        }
      }
    }
    return sum;
  }

  [[nodiscard]] std::shared_ptr<const reclaimer_fn> reclaimer() const {
    std::lock_guard lock(reclaimer_mutex_);
    return reclaimer_;
  }
  // Replaces the reclaimer and waits for calls of the old one still running on other threads,
  // so that once it returns the owner may destroy whatever the old reclaimer touched (a cache
  // clears its reclaimer in its destructor). Must not be called while holding a lock that the
  // reclaimer takes.
  void set_reclaimer(reclaimer_fn fn) {
    auto p = fn ? std::make_shared<const reclaimer_fn>(std::move(fn)) : nullptr;
    std::unique_lock lock(reclaimer_mutex_);
    reclaimer_ = std::move(p);
    // A reclaimer that replaces itself must not wait for its own call.
    const unsigned own = running_reclaimer_ == this ? 1U : 0U;
    reclaim_done_.wait(lock, [&] { return reclaims_in_flight_ <= own; });
  }
  // Calls the reclaimer, if one is set; 0 when none is.
  std::size_t call_reclaimer(std::size_t wanted) {
    std::shared_ptr<const reclaimer_fn> fn;
    {
      std::lock_guard lock(reclaimer_mutex_);
      if (!reclaimer_) return 0;
      fn = reclaimer_;
      ++reclaims_in_flight_;
    }
    struct in_flight {
      account_state& a;
      const account_state* saved = running_reclaimer_;
      explicit in_flight(account_state& s) : a(s) { running_reclaimer_ = &s; }
      in_flight(const in_flight&) = delete;
      in_flight& operator=(const in_flight&) = delete;
      ~in_flight() {
        running_reclaimer_ = saved;
        std::lock_guard lock(a.reclaimer_mutex_);
        if (--a.reclaims_in_flight_ == 0) a.reclaim_done_.notify_all();
      }
    } guard(*this);
    return (*fn)(wanted);
  }

  budget_state* const budget_;
  const std::size_t limit_;
  const std::size_t reserved_;
  const std::size_t high_;
  const priority priority_;
  const std::string name_;

  // Charged bytes plus credit held by threads: what the hard limit bounds.
  alignas(false_sharing_range) std::atomic<std::size_t> used_{0};

  alignas(false_sharing_range) std::atomic<std::size_t> peak_{0};
  std::atomic<std::size_t> reclaimed_{0};
  std::atomic<std::uint64_t> denied_{0};
  std::atomic<std::uint32_t> waiting_{0};

 private:
  credit_slot* slot_for_charge() noexcept;

  std::shared_ptr<budget_state> owner_;
  mutable std::mutex reclaimer_mutex_;
  std::condition_variable reclaim_done_;
  unsigned reclaims_in_flight_ = 0;
  std::shared_ptr<const reclaimer_fn> reclaimer_;
  // The account whose reclaimer this thread is running, if any.
  static inline thread_local const account_state* running_reclaimer_ = nullptr;
};

// Keeps the accounts in this thread's slots alive and returns their credit when the thread ends.
class credit_reaper {
 public:
  credit_reaper() {
    auto& r = credit_threads();
    std::lock_guard lock(r.mutex);
    r.threads.push_back(&tl_credit);
  }
  credit_reaper(const credit_reaper&) = delete;
  credit_reaper& operator=(const credit_reaper&) = delete;
  ~credit_reaper() {
    {
      auto& r = credit_threads();
      std::lock_guard lock(r.mutex);
      std::erase(r.threads, &tl_credit);
    }
    for (std::size_t i = 0; i < credit_slot_count; ++i) clear(i);
  }

  void clear(std::size_t i) noexcept {
    auto& s = tl_credit.slots[i];
    if (s.owner.load(std::memory_order_relaxed) == nullptr) return;
    account_state::return_slot(s);
    s.owner.store(nullptr, std::memory_order_relaxed);
    holders_[i].reset();
  }

  credit_slot* assign(std::shared_ptr<account_state> a) noexcept {
    std::size_t i = 0;
    while (i < credit_slot_count &&
           tl_credit.slots[i].owner.load(std::memory_order_relaxed) != nullptr) {
      ++i;
    }
    while (i == credit_slot_count ||
           tl_credit.slots[i].owner.load(std::memory_order_relaxed) != nullptr) {
      i = next_victim_++ % credit_slot_count;
      clear(i);  // may run another budget's pressure subscribers, which may take slots
    }
    auto& s = tl_credit.slots[i];
    s.generation = a->budget_->flush_generation_.load(std::memory_order_relaxed);
    s.cap = 0;
    s.credit.store(0, std::memory_order_relaxed);
    s.owner.store(a.get(), std::memory_order_relaxed);
    holders_[i] = std::move(a);
    return &s;
  }

 private:
  std::shared_ptr<account_state> holders_[credit_slot_count];
  std::size_t next_victim_ = 0;
};

inline credit_slot* account_state::slot_for_charge() noexcept {
  if (auto* s = find_credit_slot(this)) return s;
  try {
    thread_local credit_reaper reaper;
    return reaper.assign(shared_from_this());
  } catch (...) {
    return nullptr;  // could not register this thread: charge the shared counters directly
  }
}

inline void budget_state::reclaim_for(const account_state& requester, std::size_t n) noexcept {
  try {
    const std::size_t used = used_.load(std::memory_order_relaxed);
    const std::size_t room = used < limit_ ? limit_ - used : 0;
    if (n <= room) return;
    std::size_t shortfall = n - room;

    std::vector<std::shared_ptr<account_state>> candidates;
    for (auto& a : accounts()) {
      if (a.get() != &requester && more_important(requester.priority_, a->priority_) &&
          a->used_.load(std::memory_order_relaxed) > a->reserved_ && a->reclaimer()) {
        candidates.push_back(std::move(a));
      }
    }
    const auto over = [](const account_state& a, std::size_t floor) {
      const std::size_t u = a.used_.load(std::memory_order_relaxed);
      return u > floor ? u - floor : 0;
    };
    // First round: accounts above their soft `high` mark shrink to it; second: to their
    // reservation. Each round asks the least important first, then the largest overage.
    for (int round = 0; round < 2 && shortfall != 0; ++round) {
      const auto floor_of = [round](const account_state& a) {
        return round == 0 ? std::max(a.high_, a.reserved_) : a.reserved_;
      };
      // Overages are read once: a comparator over changing values would break the sort.
      std::vector<std::pair<std::size_t, account_state*>> order;
      order.reserve(candidates.size());
      for (const auto& a : candidates) order.emplace_back(over(*a, floor_of(*a)), a.get());
      std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
        if (x.second->priority_ != y.second->priority_) {
          return more_important(y.second->priority_, x.second->priority_);
        }
        return x.first > y.first;
      });
      for (const auto& [overage, a] : order) {
        if (shortfall == 0) break;
        const std::size_t floor = floor_of(*a);
        const std::size_t wanted = std::min(shortfall, over(*a, floor));
        if (wanted == 0) continue;
        const std::size_t freed = a->call_reclaimer(wanted);
        // A reclaimer's releases on this thread may sit in this thread's credit: hand them back.
        if (auto* s = find_credit_slot(a)) account_state::return_slot(*s);
        a->reclaimed_.fetch_add(freed, std::memory_order_relaxed);
        shortfall -= std::min(shortfall, freed);
      }
    }
  } catch (...) {
    // A reclaimer threw or a snapshot could not be allocated: the charge fails instead.
  }
}

}  // namespace tessera::detail
