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

struct thread_credit {
  credit_slot slots[credit_slot_count];
};

// Constant-initialised and trivially destructible, so access needs no TLS guard.
constinit inline thread_local thread_credit tl_credit;

[[nodiscard]] inline credit_slot* find_credit_slot(const account_state* a) noexcept {
  for (auto& s : tl_credit.slots) {
    if (s.owner.load(std::memory_order_relaxed) == a) return &s;
  }
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
