// tessera::budget: a hard memory (or any countable resource) limit divided among accounts with
// priorities, reservations, soft marks and reclaimers, so that under pressure important work
// gets what it needs and the rest degrades gracefully. Use one budget per resource; give each
// consumer (request buffers, a cache, a batch job) its own account.
//
//   tessera::budget b{{.name = "memory", .limit = 512 << 20}};
//   auto& buffers = b.create_account({.name = "buffers", .priority = tessera::priority::high,
//                                     .reserved = 64 << 20});
//   auto& cache = b.create_account({.name = "cache", .priority = tessera::priority::low});
//   cache.set_reclaimer([&](std::size_t wanted) { return my_cache.evict_bytes(wanted); });
//   if (buffers.try_charge(n)) { ...; buffers.release(n); }
//
// Not for per-object ownership tracking: an account counts bytes, it does not know who holds them.
//
// Reservations and borrowing (cgroup v2's memory.min). An account's `reserved` bytes are set
// aside when it is created, but while the owner does not use them the budget lends them out:
//  - Only accounts with a reclaimer borrow. They may charge into reservations their owners do
//    not use (within their own `limit`, and with the budget's total never above its limit).
//    Accounts without a reclaimer get truly free room only (limit minus charges minus unused
//    reservations), because nobody could ask them to give borrowed bytes back.
//  - The owner takes its reservation back on demand: a charge within its reservation that finds
//    the budget full asks borrowers (accounts above their own reservation, whatever their
//    priority: lowest priority, then largest overage, first) to give back what it needs, and
//    nobody borrows while that runs. The rest of a charge above the reservation competes like
//    any other, by reclaiming from less important accounts only.
//  - "Guaranteed" thus means: a charge within the reservation succeeds whenever borrowers'
//    reclaimers give back what they are asked for. try_charge asks once (a few rounds while they
//    make progress); charge(n, deadline) keeps asking until the deadline, meanwhile every thread
//    hands back its credit on its next call. A borrower whose reclaimer gives back less (or that
//    removes its reclaimer while it holds borrowed bytes) delays the owner until it releases.
//  - Nothing is ever reclaimed from an account below its own reservation, and credit chunks of
//    the fast path are never borrowed: only exact charges borrow.
// Soft mark: a charge that takes an account above `high` (credit chunks never do) asks the
// account's reclaimer for (committed - high) on a thread of the budget's own, started on first
// use, never on the charging thread; charges while it stays above ask again once that is done.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tessera/budget/detail/account_state.hpp"
#include "tessera/budget/detail/budget_state.hpp"
#include "tessera/budget/options.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/policy.hpp"
#include "tessera/profile/hooks.hpp"

namespace tessera {

namespace budget_policies {

struct credit_tag {};

// Default: each thread charges from credit it takes in chunks from the shared counters, so an
// uncontended charge/release pair touches no shared atomic. Credit a thread holds counts as
// charged, so limits hold exactly; near a limit the chunks shrink to nothing.
struct per_thread_credit {
  using policy_category = credit_tag;
  static constexpr bool enabled = true;
};

// Every charge and release updates the shared counters: exact usage figures at any instant, at
// the cost of contention between threads.
struct shared_counters {
  using policy_category = credit_tag;
  static constexpr bool enabled = false;
};

}  // namespace budget_policies

// RAII: bytes charged to an account, released when the handle is destroyed.
template <class Account>
class [[nodiscard]] basic_reservation {
 public:
  basic_reservation() = default;
  // Adopts `bytes` already charged to `account`.
  basic_reservation(Account& account, std::size_t bytes) noexcept
      : account_(&account), bytes_(bytes) {}
  basic_reservation(basic_reservation&& o) noexcept
      : account_(std::exchange(o.account_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  basic_reservation& operator=(basic_reservation&& o) noexcept {
    if (this != &o) {
      reset();
      account_ = std::exchange(o.account_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  basic_reservation(const basic_reservation&) = delete;
  basic_reservation& operator=(const basic_reservation&) = delete;
  ~basic_reservation() { reset(); }

  void reset() noexcept {
    if (account_ != nullptr && bytes_ != 0) account_->release(bytes_);
    account_ = nullptr;
    bytes_ = 0;
  }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] Account* account() const noexcept { return account_; }
  explicit operator bool() const noexcept { return account_ != nullptr; }

 private:
  Account* account_ = nullptr;
  std::size_t bytes_ = 0;
};

// One consumer's share of a budget. Created by basic_budget::create_account, which owns it.
template <bool ThreadCredit>
class basic_account : public detail::account_state {
 public:
  using reservation = basic_reservation<basic_account>;
  using reclaimer = std::function<std::size_t(std::size_t wanted)>;

  using detail::account_state::account_state;

  // Charges `bytes` if this account and the budget stay within their hard limits, reclaiming
  // when needed (see "Reservations and borrowing" above). Never waits; false when it cannot be
  // met. The fast path looks at this thread's two hot credit slots: no shared atomic written.
  bool try_charge(std::size_t bytes) noexcept {
    if (try_charge_from_credit(bytes)) [[likely]]
      return true;
    return charge_slow(bytes, ThreadCredit, false);
  }

  // Like try_charge, but waits until `deadline` for releases or reclaims; waiters are served
  // most important first, then in arrival order.
  template <class Clock, class Duration>
  bool charge(std::size_t bytes, std::chrono::time_point<Clock, Duration> deadline) {
    if (try_charge(bytes)) return true;
    if (bytes > limit_ || bytes > budget_->limit_) return false;  // can never be met
    const auto steady_deadline =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline - Clock::now());
    return budget_->wait_charge(
        priority_, waiting_, [&] { return charge_slow(bytes, false, true); },
        [&] { release_shared(bytes); }, steady_deadline);
  }
  template <class Rep, class Period>
  bool charge(std::size_t bytes, std::chrono::duration<Rep, Period> timeout) {
    return charge(bytes, std::chrono::steady_clock::now() + timeout);
  }

  void release(std::size_t bytes) noexcept {
    if (try_release_to_credit(bytes)) [[likely]]
      return;
    release_slow(bytes, ThreadCredit);
  }

  // The fast paths alone, for wrappers with slow paths of their own (budgeted_resource): true
  // when this thread's credit covered the charge or took the release; false when the caller
  // must call try_charge or release instead (always, with the shared_counters policy).
  [[nodiscard]] bool try_charge_from_credit(std::size_t bytes) noexcept {
    if constexpr (ThreadCredit) {
      auto* s = detail::hot_slot_of(this);
      if (s != nullptr && s->generation == flush_generation_.load(std::memory_order_relaxed)) {
        const std::size_t have = s->credit.load(std::memory_order_relaxed);
        if (have >= bytes) [[likely]] {
          s->credit.store(have - bytes, std::memory_order_relaxed);
          return true;
        }
      }
    }
    return false;
  }
  [[nodiscard]] bool try_release_to_credit(std::size_t bytes) noexcept {
    if constexpr (ThreadCredit) {
      auto* s = detail::hot_slot_of(this);
      if (s != nullptr && s->generation == flush_generation_.load(std::memory_order_relaxed)) {
        const std::size_t have = s->credit.load(std::memory_order_relaxed) + bytes;
        if (have <= s->cap) [[likely]] {
          s->credit.store(have, std::memory_order_relaxed);
          return true;
        }
      }
    }
    return false;
  }

  // Called (from any thread, without tessera's locks held) with the bytes wanted back when a
  // strictly more important account needs room, when an owner takes back a reservation this
  // account may have borrowed (whatever the priorities), or, on the budget's own thread, when a
  // charge took this account above its `high` mark; returns the bytes it released. Pass {} to
  // remove. Setting a reclaimer lets the account borrow unused reservations. A consumer should
  // not hold a lock its reclaimer takes while it charges (tessera::cache never does): reclaim for
  // a less important account cannot deadlock that way, but a take-back may ask any borrower.
  // A failed try_charge asks every thread to hand back its credit on its next operation, so
  // a budget that is often full behaves like one with shared counters only.
  void set_reclaimer(reclaimer fn) { detail::account_state::set_reclaimer(std::move(fn)); }

  [[nodiscard]] std::optional<reservation> try_reserve(std::size_t bytes) noexcept {
    if (!try_charge(bytes)) return std::nullopt;
    return reservation(*this, bytes);
  }
  // Throws tessera::out_of_memory naming this account when `bytes` cannot be charged.
  [[nodiscard]] reservation reserve(std::size_t bytes) {
    if (!try_charge(bytes)) throw out_of_memory(name_, bytes);
    return reservation(*this, bytes);
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] tessera::priority priority() const noexcept { return priority_; }
  [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
  [[nodiscard]] std::size_t reserved() const noexcept { return reserved_; }
  [[nodiscard]] std::size_t high() const noexcept { return high_; }
  // Bytes charged, counting credit threads hold for this account (what the limit bounds).
  [[nodiscard]] std::size_t committed() const noexcept {
    return used_.load(std::memory_order_acquire);
  }
  // Bytes charged and not released (exact when no thread charges or releases meanwhile).
  [[nodiscard]] std::size_t charged() const {
    const std::size_t c = committed();
    const std::size_t held = ThreadCredit ? outstanding_credit() : 0;
    return c > held ? c - held : 0;
  }
  [[nodiscard]] std::size_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t reclaimed() const noexcept {
    return reclaimed_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t denied() const noexcept {
    return denied_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint32_t waiting() const noexcept {
    return waiting_.load(std::memory_order_acquire);
  }
};

// Keeps a pressure subscription alive; unsubscribes on destruction.
class [[nodiscard]] pressure_subscription {
 public:
  pressure_subscription() = default;
  pressure_subscription(std::shared_ptr<detail::budget_state> b, std::uint64_t id) noexcept
      : budget_(std::move(b)), id_(id) {}
  pressure_subscription(pressure_subscription&&) noexcept = default;
  pressure_subscription& operator=(pressure_subscription&& o) noexcept {
    if (this != &o) {
      reset();
      budget_ = std::move(o.budget_);
      id_ = o.id_;
    }
    return *this;
  }
  ~pressure_subscription() { reset(); }
  void reset() noexcept {
    if (budget_) budget_->unsubscribe(id_);
    budget_.reset();
  }

 private:
  std::shared_ptr<detail::budget_state> budget_;
  std::uint64_t id_ = 0;
};

template <class... Policies>
class basic_budget {
  static_assert(policy_list<budget_policies::credit_tag>::template accepts<Policies...>);
  using credit =
      select_policy_t<budget_policies::credit_tag, budget_policies::per_thread_credit, Policies...>;

 public:
  using account = basic_account<credit::enabled>;
  using reservation = typename account::reservation;

  explicit basic_budget(budget_options o = {})
      : state_(std::make_shared<detail::budget_state>(validated(std::move(o)))) {
    publication_ = profile::publish("budget", [this](profile::metric_sink& s) { collect(s); });
  }
  basic_budget(const basic_budget&) = delete;
  basic_budget& operator=(const basic_budget&) = delete;
  // Accounts are owned by their budget: it outlives everything that charges them.
  ~basic_budget() { state_->stop_shrinker(); }

  // Creates an account; its reservation is set aside in the budget at once. Throws
  // tessera::error when the options are inconsistent or the reservation does not fit.
  account& create_account(account_options o) {
    const std::string input = "budget '" + state_->name_ + "' account '" + o.name + "'";
    if (o.reserved > o.limit) throw error(input, "reserved is above limit");
    if (o.high < o.reserved) throw error(input, "high is below reserved");
    if (o.reserved != 0 && !state_->reserve(o.reserved)) {
      throw error(input, "reservation of " + std::to_string(o.reserved) +
                             " bytes does not fit in the budget's free " +
                             std::to_string(state_->limit_ - std::min(state_->limit_, claimed())) +
                             " bytes");
    }
    auto a = std::make_shared<account>(state_, o);
    std::lock_guard lock(mutex_);
    state_->add_account(a);
    accounts_.push_back(a);
    return *a;
  }

  // Removes an account before the budget goes: detaches its reclaimer (waiting for calls in
  // flight), hands back the calling thread's credit in it and gives its reservation back to the
  // budget; references to it dangle afterwards. Precondition: no other thread charges or
  // releases it meanwhile or later. Throws tessera::error, leaving the account in place (its
  // reclaimer detached), when bytes are still committed to it, by a charge not released or as
  // credit another thread holds (that thread hands it back on its next call or when it ends).
  void remove_account(account& a) {
    a.set_reclaimer({});
    detail::account_state::return_thread_credit(state_.get());
    if (const std::size_t c = a.committed(); c != 0) {
      throw error("budget '" + state_->name_ + "' account '" + a.name() + "'",
                  "cannot be removed: " + std::to_string(c) + " bytes are still committed to it");
    }
    std::shared_ptr<account> keep;
    {
      std::lock_guard lock(mutex_);
      const auto it = std::find_if(accounts_.begin(), accounts_.end(),
                                   [&](const auto& p) { return p.get() == &a; });
      TESSERA_ASSERT(it != accounts_.end(), "remove_account: the account is not this budget's");
      keep = std::move(*it);
      accounts_.erase(it);
    }
    state_->remove_account(&a);
    state_->unreserve(a.reserved());
  }

  [[nodiscard]] const std::string& name() const noexcept { return state_->name_; }
  [[nodiscard]] std::size_t limit() const noexcept { return state_->limit_; }
  // What the hard limit bounds: charges to every account, credit threads hold included. Never
  // above limit().
  [[nodiscard]] std::size_t used() const noexcept { return state_->charged_.load(); }
  // used() plus reservations their owners do not use: what accounts without a reclaimer see as
  // taken, and what pressure levels follow. Above limit() by lent().
  [[nodiscard]] std::size_t claimed() const noexcept { return state_->claimed_.load(); }
  // Unused reservations currently borrowed by accounts with a reclaimer.
  [[nodiscard]] std::size_t lent() const noexcept { return state_->lent(); }
  // Highest used().
  [[nodiscard]] std::size_t peak() const noexcept { return state_->peak_.load(); }
  [[nodiscard]] pressure_level pressure() const noexcept { return state_->level(); }
  [[nodiscard]] std::uint64_t pressure_events(pressure_level l) const noexcept {
    return state_->pressure_events(l);
  }

  // `fn(level)` runs on the thread whose charge or release changed the level, one change at a
  // time and in order; it may charge and release. Keep the result to stay subscribed.
  [[nodiscard]] pressure_subscription on_pressure(std::function<void(pressure_level)> fn) {
    return pressure_subscription(state_, state_->subscribe(std::move(fn)));
  }

  // Returns the calling thread's unused credit (of every budget) to the shared counters; threads
  // do this by themselves when they exit.
  static void return_thread_credit() noexcept {
    detail::account_state::return_thread_credit(nullptr);
  }

  [[nodiscard]] std::vector<account*> accounts() const {
    std::lock_guard lock(mutex_);
    std::vector<account*> out;
    for (const auto& a : accounts_) out.push_back(a.get());
    return out;
  }

 private:
  static budget_options validated(budget_options o) {
    const std::string input = "budget '" + o.name + "'";
    if (!(o.elevated_at > 0 && o.elevated_at <= o.critical_at && o.critical_at <= 1)) {
      throw error(input, "pressure marks must satisfy 0 < elevated_at <= critical_at <= 1");
    }
    if (!(o.hysteresis >= 0 && o.hysteresis < o.elevated_at)) {
      throw error(input, "hysteresis must be in [0, elevated_at)");
    }
    return o;
  }

  void collect(profile::metric_sink& s) const {
    const std::string& b = state_->name_;
    for (auto* a : accounts()) {
      const profile::label l[] = {{"budget", b}, {"account", a->name()}};
      s.gauge("tessera_budget_charged_bytes", "bytes charged to the account",
              static_cast<double>(a->charged()), {l[0], l[1]});
      s.gauge("tessera_budget_peak_bytes", "most bytes the account ever had committed",
              static_cast<double>(a->peak()), {l[0], l[1]});
      s.counter("tessera_budget_reclaimed_bytes_total", "bytes the account's reclaimer gave back",
                static_cast<double>(a->reclaimed()), {l[0], l[1]});
      s.counter("tessera_budget_denied_total", "charges the account could not get",
                static_cast<double>(a->denied()), {l[0], l[1]});
      s.gauge("tessera_budget_waiting", "charges waiting on the account",
              static_cast<double>(a->waiting()), {l[0], l[1]});
    }
    s.gauge("tessera_budget_used_bytes", "bytes charged to the budget's accounts",
            static_cast<double>(used()), {{"budget", b}});
    s.gauge("tessera_budget_limit_bytes", "the budget's hard limit", static_cast<double>(limit()),
            {{"budget", b}});
    for (auto l : {pressure_level::ok, pressure_level::elevated, pressure_level::critical}) {
      s.counter("tessera_budget_pressure_events_total",
                "times the budget's pressure entered a level",
                static_cast<double>(pressure_events(l)), {{"budget", b}, {"level", to_string(l)}});
    }
  }

  std::shared_ptr<detail::budget_state> state_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<account>> accounts_;
  profile::publication publication_;  // last: unregistered before the rest goes
};

using budget = basic_budget<>;

}  // namespace tessera
