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
#include <optional>
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

  // Charges exactly `n` to this account and to the budget; both stay within their hard limits
  // whatever other threads do meanwhile. What goes above the reservation also takes claimed
  // room: truly free room, or, when `borrow`, reservations their owners do not use.
  bool acquire(std::size_t n, bool borrow) noexcept {
    std::size_t old = used_.load(std::memory_order_relaxed);
    if (n > limit_ || old > limit_ - n) return false;
    // The budget is charged *before* the account (and given back after it), so that its totals
    // are never below the sums over accounts: limits checked on them bound the accounts too.
    if (!budget_->take_charged(n)) return false;
    std::size_t held = 0;  // claimed bytes taken ahead of the account update
    for (;;) {
      if (old > limit_ - n) {
        budget_->give(n, held);
        return false;
      }
      const std::size_t now = old + n;
      const std::size_t delta = std::max(now, reserved_) - std::max(old, reserved_);
      if (delta > held) {
        if (!budget_->take_claimed(delta - held, borrow)) {
          budget_->give(n, held);
          return false;
        }
        held = delta;
      }
      if (used_.compare_exchange_weak(old, now, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        if (held > delta) budget_->give(0, held - delta);
        update_max(peak_, now);
        if (now > high_) note_above_high();
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
    budget_->give(n, std::max(old, reserved_) - std::max(now, reserved_));
  }

  // Only accounts with a reclaimer borrow reserved room, so that an owner can always ask for it
  // back; nobody borrows while an owner is taking its reservation back.
  [[nodiscard]] bool may_borrow() const noexcept {
    return has_reclaimer_.load(std::memory_order_relaxed) && !budget_->taking_back();
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
  // when that fails, return this thread's credit, reclaim (borrowers first when the charge is
  // within the reservation, then less important accounts), retry. Out of line: the callers'
  // fast paths stay a few instructions with no registers to save.
  [[gnu::noinline]] bool charge_slow(std::size_t n, bool use_credit, bool as_waiter) noexcept {
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
      const auto generation = flush_generation_.load(std::memory_order_relaxed);
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
      if (extra != 0 && acquire(need + extra, false)) {  // credit is never borrowed
        got = need + extra;
      } else if (acquire(need, may_borrow())) {
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
    } else if (acquire(n, may_borrow())) {
      return true;
    }
    // Out of room: first give back what this thread holds, then take from others.
    return_thread_credit(budget_);
    if (acquire(n, may_borrow())) return true;
    const std::size_t used = used_.load(std::memory_order_relaxed);
    if (n <= limit_ && used <= limit_ - n) {
      // Within the reservation: borrowers must give it back, and nobody borrows meanwhile.
      std::optional<budget_state::take_back_scope> taking_back;
      if (used < reserved_) taking_back.emplace(*budget_);
      const bool borrow =
          taking_back ? has_reclaimer_.load(std::memory_order_relaxed) : may_borrow();
      // What reclaimers give back may be taken by others before this thread gets to it: ask
      // again while they make progress.
      for (int round = 0; round < 4; ++round) {
        const std::size_t freed = budget_->reclaim_for(*this, n, borrow);
        return_thread_credit(budget_);  // reclaimers may have released on this thread
        if (acquire(n, borrow)) return true;
        if (freed == 0) break;
      }
    }
    budget_->request_flush();
    denied_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  [[gnu::noinline]] void release_slow(std::size_t n, bool use_credit) noexcept {
    const op_scope scope(budget_);
    credit_slot* s = use_credit ? hot_credit_slot(this) : nullptr;
    if (s != nullptr) {
      const auto generation = flush_generation_.load(std::memory_order_relaxed);
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

  // Credit the calling thread takes beyond `need`: a chunk, shrunk near the account's limit or
  // soft mark (credit alone never takes it above `high`) and near the budget's truly free room
  // (credit is never borrowed, so borrowed bytes are exactly the ones charged).
  [[nodiscard]] std::size_t extra_credit(std::size_t need) const noexcept {
    const std::size_t a = used_.load(std::memory_order_relaxed);
    const std::size_t b = budget_->claimed_.load(std::memory_order_relaxed);
    const std::size_t a_cap = std::min(limit_, high_);
    const std::size_t a_room = a + need < a_cap ? a_cap - a - need : 0;
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
    has_reclaimer_.store(p != nullptr, std::memory_order_relaxed);
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
  // Read by every fast-path charge and release next to the fields above (this line is written
  // rarely): a thread's credit in this account is good only for the generation it was taken in.
  std::atomic<std::uint64_t> flush_generation_{1};

  // Charged bytes plus credit held by threads: what the hard limit bounds.
  alignas(false_sharing_range) std::atomic<std::size_t> used_{0};

  alignas(false_sharing_range) std::atomic<std::size_t> peak_{0};
  std::atomic<std::size_t> reclaimed_{0};
  std::atomic<std::uint64_t> denied_{0};
  std::atomic<std::uint32_t> waiting_{0};
  std::atomic<bool> has_reclaimer_{false};
  std::atomic<bool> shrink_pending_{false};

  // Above `high`: ask this account's reclaimer, on the budget's own thread, to shrink to it.
  void note_above_high() noexcept {
    if (!has_reclaimer_.load(std::memory_order_relaxed)) return;
    if (shrink_pending_.exchange(true, std::memory_order_acq_rel)) return;
    budget_->request_shrink(weak_from_this());
  }
  // Runs on the budget's shrinker thread.
  void shrink_to_high() noexcept {
    shrink_pending_.store(false, std::memory_order_release);  // charges from now on ask again
    const std::size_t used = used_.load(std::memory_order_acquire);
    if (used <= high_) return;
    std::size_t freed = 0;
    try {
      freed = call_reclaimer(used - high_);
    } catch (...) {
      // A reclaimer that throws gives nothing back.
    }
    if (auto* s = find_credit_slot(this)) return_slot(*s);
    reclaimed_.fetch_add(freed, std::memory_order_relaxed);
  }

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
      i = hot_credit_slots + next_victim_++ % (credit_slot_count - hot_credit_slots);
      clear(i);  // may run another budget's pressure subscribers, which may take slots
    }
    auto& s = tl_credit.slots[i];
    s.generation = a->flush_generation_.load(std::memory_order_relaxed);
    s.cap = 0;
    s.credit.store(0, std::memory_order_relaxed);
    s.owner.store(a.get(), std::memory_order_relaxed);
    holders_[i] = std::move(a);
    return promote(i);
  }

  // Moves slot `i` to the front (the hot slots the fast path looks at), shifting the one it
  // passes down, so that the slots stay roughly in order of last use. Owner thread only.
  credit_slot* promote(std::size_t i) noexcept {
    auto& sl = tl_credit.slots;
    for (; i != 0; --i) {
      swap(sl[i], sl[i - 1]);
      holders_[i].swap(holders_[i - 1]);
    }
    return &sl[0];
  }

  // This thread's reaper; constructing it (on first use) may throw.
  static credit_reaper& local() {
    thread_local credit_reaper reaper;
    return reaper;
  }

 private:
  static void swap(credit_slot& x, credit_slot& y) noexcept {
    const auto owner = x.owner.load(std::memory_order_relaxed);
    const auto credit = x.credit.load(std::memory_order_relaxed);
    x.owner.store(y.owner.load(std::memory_order_relaxed), std::memory_order_relaxed);
    x.credit.store(y.credit.load(std::memory_order_relaxed), std::memory_order_relaxed);
    y.owner.store(owner, std::memory_order_relaxed);
    y.credit.store(credit, std::memory_order_relaxed);
    std::swap(x.generation, y.generation);
    std::swap(x.cap, y.cap);
  }

  std::shared_ptr<account_state> holders_[credit_slot_count];
  std::size_t next_victim_ = 0;  // when every slot is taken, one of the cold ones goes
};

// This thread's slot for `a`, moved into the hot slots if it is not there; nullptr if none.
inline credit_slot* hot_credit_slot(const account_state* a) noexcept {
  const std::size_t i = find_credit_index(a);
  if (i == credit_slot_count) return nullptr;
  if (i < hot_credit_slots) return &tl_credit.slots[i];
  // A slot is only ever assigned through this thread's reaper: it exists, local() cannot throw.
  return credit_reaper::local().promote(i);
}

inline credit_slot* account_state::slot_for_charge() noexcept {
  if (auto* s = hot_credit_slot(this)) return s;
  try {
    return credit_reaper::local().assign(shared_from_this());
  } catch (...) {
    return nullptr;  // could not register this thread: charge the shared counters directly
  }
}

inline void budget_state::request_flush() noexcept {
  std::lock_guard lock(accounts_mutex_);
  for (const auto& w : accounts_) {
    if (auto a = w.lock()) a->flush_generation_.fetch_add(1, std::memory_order_relaxed);
  }
}

namespace reclaim {

inline std::size_t over(const account_state& a, std::size_t floor) noexcept {
  const std::size_t u = a.used_.load(std::memory_order_relaxed);
  return u > floor ? u - floor : 0;
}

// Asks `candidates` for `wanted` bytes in two rounds: first those above their soft `high` mark
// down to it, then down to their reservation; each round the least important first, then the
// largest overage. Returns the bytes given back.
inline std::size_t ask(const std::vector<account_state*>& candidates, std::size_t wanted) {
  std::size_t freed_total = 0;
  for (int round = 0; round < 2 && wanted != 0; ++round) {
    const auto floor_of = [round](const account_state& a) {
      return round == 0 ? std::max(a.high_, a.reserved_) : a.reserved_;
    };
    // Overages are read once: a comparator over changing values would break the sort.
    std::vector<std::pair<std::size_t, account_state*>> order;
    order.reserve(candidates.size());
    for (auto* a : candidates) order.emplace_back(over(*a, floor_of(*a)), a);
    std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
      if (x.second->priority_ != y.second->priority_) {
        return more_important(y.second->priority_, x.second->priority_);
      }
      return x.first > y.first;
    });
    for (const auto& [overage, a] : order) {
      if (wanted == 0) break;
      const std::size_t ask_for = std::min(wanted, over(*a, floor_of(*a)));
      if (ask_for == 0) continue;
      const std::size_t freed = a->call_reclaimer(ask_for);
      // A reclaimer's releases on this thread may sit in this thread's credit: hand them back.
      if (auto* s = find_credit_slot(a)) account_state::return_slot(*s);
      a->reclaimed_.fetch_add(freed, std::memory_order_relaxed);
      wanted -= std::min(wanted, freed);
      freed_total += freed;
    }
  }
  return freed_total;
}

}  // namespace reclaim

inline std::size_t budget_state::reclaim_for(const account_state& requester, std::size_t n,
                                             bool borrow) noexcept {
  std::size_t freed = 0;
  try {
    const std::size_t charged = charged_.load(std::memory_order_relaxed);
    const std::size_t claimed = claimed_.load(std::memory_order_relaxed);
    const std::size_t used = requester.used_.load(std::memory_order_relaxed);
    // The part of the charge within the requester's reservation needs only charged room; the
    // part above it also needs claimed room, unless the requester borrows.
    const std::size_t within =
        used < requester.reserved_ ? std::min(n, requester.reserved_ - used) : 0;
    const std::size_t charged_short = charged + n > limit_ ? charged + n - limit_ : 0;
    const std::size_t claimed_short =
        !borrow && claimed + (n - within) > limit_ ? claimed + (n - within) - limit_ : 0;
    std::size_t shortfall = std::max(charged_short, claimed_short);
    if (shortfall == 0) return 0;

    std::vector<std::shared_ptr<account_state>> all = accounts();
    std::vector<account_state*> candidates;
    // Take-back: the owner's reservation is lent to accounts above their own reservation (only
    // accounts with a reclaimer borrow), whatever their priority.
    if (const std::size_t take_back = std::min(charged_short, within); take_back != 0) {
      for (const auto& a : all) {
        if (a.get() != &requester && reclaim::over(*a, a->reserved_) != 0 &&
            a->has_reclaimer_.load(std::memory_order_relaxed)) {
          candidates.push_back(a.get());
        }
      }
      const std::size_t got = reclaim::ask(candidates, take_back);
      freed += got;
      shortfall -= std::min(shortfall, got);
    }
    // The rest, as any charge: from strictly less important accounts.
    if (shortfall != 0) {
      candidates.clear();
      for (const auto& a : all) {
        if (a.get() != &requester && more_important(requester.priority_, a->priority_) &&
            reclaim::over(*a, a->reserved_) != 0 &&
            a->has_reclaimer_.load(std::memory_order_relaxed)) {
          candidates.push_back(a.get());
        }
      }
      freed += reclaim::ask(candidates, shortfall);
    }
  } catch (...) {
    // A reclaimer threw or a snapshot could not be allocated: the charge fails instead.
  }
  return freed;
}

inline void budget_state::request_shrink(std::weak_ptr<account_state> a) noexcept {
  try {
    {
      std::lock_guard lock(shrink_mutex_);
      if (shrink_stop_) {
        if (auto p = a.lock()) p->shrink_pending_.store(false, std::memory_order_relaxed);
        return;
      }
      shrink_queue_.push_back(a);
      if (!shrinker_.joinable()) shrinker_ = std::thread([this] { shrinker_loop(); });
    }
    shrink_cv_.notify_one();
  } catch (...) {
    // No memory or no thread: the account is asked again on a later charge above its mark.
    if (auto p = a.lock()) p->shrink_pending_.store(false, std::memory_order_relaxed);
  }
}

inline void budget_state::shrinker_loop() noexcept {
  std::unique_lock lock(shrink_mutex_);
  for (;;) {
    shrink_cv_.wait(lock, [this] { return shrink_stop_ || !shrink_queue_.empty(); });
    if (shrink_stop_) break;
    auto batch = std::move(shrink_queue_);
    shrink_queue_.clear();
    lock.unlock();
    for (auto& w : batch) {
      if (auto a = w.lock()) a->shrink_to_high();
    }
    account_state::return_thread_credit(this);
    batch.clear();
    lock.lock();
  }
  lock.unlock();
  account_state::return_thread_credit(this);
}

}  // namespace tessera::detail
