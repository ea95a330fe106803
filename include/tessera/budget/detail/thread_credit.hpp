// Per-thread credit slots (RocksDB's chunked reservations): a thread charges and releases from
// credit it already holds without touching shared atomics. Credit in a slot is always counted as
// charged in its account and budget, so holding it can never push a total past a hard limit.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace tessera::detail {

class account_state;

struct credit_slot {
  // Written only by the owning thread; atomics so that scrapers may read them (relaxed loads and
  // stores compile to plain moves, so the owner's fast path pays nothing for it).
  std::atomic<account_state*> owner{nullptr};
  std::atomic<std::size_t> credit{0};
  std::uint64_t generation = 0;  // the budget's flush generation this credit belongs to
  std::size_t cap = 0;           // most credit a release may keep here
};

inline constexpr std::size_t credit_slot_count = 8;

// The fast path looks at the first two slots only: the accounts this thread used last, so that
// a thread alternating between two accounts stays on it. The slow path moves the slot it uses
// to the front (account_state.hpp, hot_credit_slot).
inline constexpr std::size_t hot_credit_slots = 2;

struct thread_credit {
  credit_slot slots[credit_slot_count];
};

// Constant-initialised and trivially destructible, so access needs no TLS guard; initial-exec, so
// that even in a shared library the fast path reaches it without a call.
#if defined(__GNUC__)
#define TESSERA_BUDGET_TLS_MODEL [[gnu::tls_model("initial-exec")]]
#else
#define TESSERA_BUDGET_TLS_MODEL
#endif
TESSERA_BUDGET_TLS_MODEL constinit inline thread_local thread_credit tl_credit;

[[nodiscard]] inline std::size_t find_credit_index(const account_state* a) noexcept {
  std::size_t i = 0;
  while (i < credit_slot_count && tl_credit.slots[i].owner.load(std::memory_order_relaxed) != a) {
    ++i;
  }
  return i;
}
[[nodiscard]] inline credit_slot* find_credit_slot(const account_state* a) noexcept {
  const std::size_t i = find_credit_index(a);
  return i < credit_slot_count ? &tl_credit.slots[i] : nullptr;
}

// This thread's slot for `a`, moved into the hot slots if it is not there; nullptr if none.
// Defined in account_state.hpp.
inline credit_slot* hot_credit_slot(const account_state* a) noexcept;

// The slot the fast path uses for `a` on this thread, or nullptr (then the slow path runs).
[[nodiscard]] inline credit_slot* hot_slot_of(const account_state* a) noexcept {
  static_assert(hot_credit_slots == 2);
  auto& tl = tl_credit;
  if (tl.slots[0].owner.load(std::memory_order_relaxed) == a) return &tl.slots[0];
  if (tl.slots[1].owner.load(std::memory_order_relaxed) == a) return &tl.slots[1];
  return nullptr;
}

// Every thread that holds credit, so that scrapers can tell charged bytes from held credit.
// Leaked on purpose: threads may exit after static destruction has begun.
struct credit_registry {
  std::mutex mutex;
  std::vector<thread_credit*> threads;
};

inline credit_registry& credit_threads() {
  static auto* registry = new credit_registry;
  return *registry;
}

}  // namespace tessera::detail
