// Test helper for tessera/budget: a stand-in for a cache that holds bytes charged to an account
// and gives them back when the account's reclaimer asks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>

namespace budget_test {

// A stand-in for a cache: holds charged bytes and gives them back when asked.
template <class Account>
struct held_bytes {
  explicit held_bytes(Account* a) : account(a) {}
  Account* account;
  std::mutex mutex;
  std::size_t held = 0;

  bool add(std::size_t n) {
    if (!account->try_charge(n)) return false;
    std::lock_guard lock(mutex);
    held += n;
    return true;
  }
  std::size_t reclaim(std::size_t wanted) {
    std::size_t freed = 0;
    {
      std::lock_guard lock(mutex);
      freed = std::min(wanted, held);
      held -= freed;
    }
    account->release(freed);
    return freed;
  }
  void attach() {
    account->set_reclaimer([this](std::size_t wanted) { return reclaim(wanted); });
  }
  void clear() { reclaim(held); }
};

}  // namespace budget_test
