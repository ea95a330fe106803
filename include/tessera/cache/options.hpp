// Runtime knobs of tessera::basic_cache (cache_options, entry_options), its statistics, and the
// two seams to other modules: an executor (anything with spawn(), e.g. tessera's scheduler) for
// refresh_after_write, and a budget account (tessera/budget) the cache charges its bytes to.
// Both seams are concepts, so this header needs neither the sched nor the budget headers.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tessera/cache/policies.hpp"

namespace tessera::caching {

// Anything that runs a void() callable later, somewhere: tessera's scheduler, a thread pool,
// or a test's inline executor.
template <class E>
concept executor = requires(E& e) {
  e.spawn([] {});
};

// A non-owning, type-erased reference to an executor (the executor must outlive the cache).
class executor_ref {
 public:
  executor_ref() = default;
  template <executor E>
  requires(!std::same_as<std::remove_cvref_t<E>, executor_ref>)
      executor_ref(E& e)  // NOLINT: implicit on purpose, `.executor = my_scheduler` reads well
      : self_(&e), spawn_([](void* self, std::function<void()> fn) {
          static_cast<E*>(self)->spawn(std::move(fn));
        }) {}

  explicit operator bool() const noexcept { return self_ != nullptr; }
  void spawn(std::function<void()> fn) const { spawn_(self_, std::move(fn)); }

 private:
  void* self_ = nullptr;
  void (*spawn_)(void*, std::function<void()>) = nullptr;
};

// The members a budget account provides (agreed with tessera/budget). The reclaimer may be
// called from any thread while the cache is in use; it returns the bytes it freed.
template <class A>
concept budget_account = requires(A& a, std::size_t n, std::function<std::size_t(std::size_t)> fn) {
  { a.try_charge(n) }
  noexcept->std::same_as<bool>;
  { a.release(n) }
  noexcept;
  a.set_reclaimer(std::move(fn));
};

// A non-owning, type-erased reference to a budget account (the account must outlive the cache).
class account_ref {
 public:
  account_ref() = default;
  template <budget_account A>
  requires(!std::same_as<std::remove_cvref_t<A>, account_ref>)
      account_ref(A& a)  // NOLINT: implicit on purpose, `.budget = account`
      : self_(&a),
        charge_([](void* s, std::size_t n) noexcept { return static_cast<A*>(s)->try_charge(n); }),
        release_([](void* s, std::size_t n) noexcept { static_cast<A*>(s)->release(n); }),
        reclaimer_([](void* s, std::function<std::size_t(std::size_t)> fn) {
          static_cast<A*>(s)->set_reclaimer(std::move(fn));
        }) {}

  explicit operator bool() const noexcept { return self_ != nullptr; }
  [[nodiscard]] bool try_charge(std::size_t n) const noexcept { return charge_(self_, n); }
  void release(std::size_t n) const noexcept { release_(self_, n); }
  void set_reclaimer(std::function<std::size_t(std::size_t)> fn) const {
    reclaimer_(self_, std::move(fn));
  }

 private:
  void* self_ = nullptr;
  bool (*charge_)(void*, std::size_t) noexcept = nullptr;
  void (*release_)(void*, std::size_t) noexcept = nullptr;
  void (*reclaimer_)(void*, std::function<std::size_t(std::size_t)>) = nullptr;
};

// Per-entry settings of put() and get_or_load().
struct entry_options {
  std::chrono::nanoseconds ttl{0};  // 0: only the cache-wide expiry applies
  std::vector<std::string> tags{};  // for invalidate_tag()
};

template <class K, class V>
struct cache_options {
  std::size_t capacity = 10'000;  // entries, or weight units with a weigh_by<> policy
  std::chrono::nanoseconds expire_after_write{0};   // 0: never
  std::chrono::nanoseconds expire_after_access{0};  // 0: never
  // get_or_load() on an entry older than this returns it and reloads it on `executor`
  // (0: never). Needs an executor.
  std::chrono::nanoseconds refresh_after_write{0};
  executor_ref executor{};
  // Called with no lock held for every entry that leaves the cache (and for replaced values).
  std::function<void(const K&, const V&, removal_cause)> on_removal{};
  // Bytes of each entry are charged here; when the budget reclaims, the cache evicts by its
  // policy. The bytes of an entry: its weight with a weigh_by<> policy, otherwise
  // `bytes_per_entry` (0: an estimate from sizeof(K) + sizeof(V) + node overhead).
  account_ref budget{};
  std::size_t bytes_per_entry = 0;
  std::string name{};  // non-empty: metrics published under {cache=name, tier}
  std::string tier = "memory";
};

struct cache_stats {
  std::uint64_t hits = 0, misses = 0;
  std::uint64_t evictions = 0, expirations = 0, explicit_removals = 0;
  std::uint64_t loads = 0, load_failures = 0, refreshes = 0, rejected_by_budget = 0;
  double load_seconds = 0;
  [[nodiscard]] double hit_ratio() const noexcept {
    const auto n = hits + misses;
    return n == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(n);
  }
  [[nodiscard]] double miss_ratio() const noexcept {
    const auto n = hits + misses;
    return n == 0 ? 0.0 : static_cast<double>(misses) / static_cast<double>(n);
  }
};

}  // namespace tessera::caching
