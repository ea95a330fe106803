// tessera::budgeted_resource: a std::pmr::memory_resource that charges every allocation to a
// budget account before passing it to an upstream resource. Put it under pmr containers whose
// memory must count against a budget; allocation beyond the account's share throws
// tessera::out_of_memory (a std::bad_alloc) naming the account and the amount.
//
//   tessera::pool_resource pool;
//   tessera::budgeted_resource res(account, &pool);   // Upstream deduced: calls devirtualised
//   std::pmr::vector<order> orders(&res);
#pragma once

#include <cstddef>
#include <memory_resource>
#include <type_traits>

#include "tessera/budget/basic_budget.hpp"
#include "tessera/core/error.hpp"

namespace tessera {

// `Upstream` is any std::pmr::memory_resource type; naming the concrete one (a final class such
// as tessera::pool_resource) lets the compiler call it directly instead of through its vtable.
template <class Upstream = std::pmr::memory_resource, class Account = budget::account>
class budgeted_resource final : public std::pmr::memory_resource {
  static_assert(std::is_base_of_v<std::pmr::memory_resource, Upstream>,
                "tessera: budgeted_resource's upstream must be a std::pmr::memory_resource");

 public:
  explicit budgeted_resource(
      Account& account) requires std::is_same_v<Upstream, std::pmr::memory_resource>
      : account_(&account), upstream_(std::pmr::get_default_resource()) {}
  budgeted_resource(Account& account, Upstream* upstream) noexcept
      : account_(&account), upstream_(upstream) {}

  [[nodiscard]] Account& account() const noexcept { return *account_; }
  [[nodiscard]] Upstream* upstream() const noexcept { return upstream_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (!account_->try_charge(bytes)) throw out_of_memory(account_->name(), bytes);
    try {
      return upstream_->allocate(bytes, alignment);
    } catch (...) {
      account_->release(bytes);
      throw;
    }
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    if constexpr (requires(Account & a, std::size_t n) { a.try_release_to_credit(n); }) {
      // Into this thread's credit first: the account's total does not change, so no one can
      // charge these bytes before they are freed; the upstream's call then ends the function (a
      // tail call, so the fast path saves no registers).
      if (account_->try_release_to_credit(bytes)) [[likely]] {
        upstream_->deallocate(p, bytes, alignment);
        return;
      }
      deallocate_slow(p, bytes, alignment);
    } else {
      upstream_->deallocate(p, bytes, alignment);
      account_->release(bytes);
    }
  }
  [[gnu::noinline]] void deallocate_slow(void* p, std::size_t bytes, std::size_t alignment) {
    upstream_->deallocate(p, bytes, alignment);
    account_->release(bytes);
  }
  [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  Account* account_;
  Upstream* upstream_;
};

template <class Account>
budgeted_resource(Account&) -> budgeted_resource<std::pmr::memory_resource, Account>;
template <class Account, class Upstream>
budgeted_resource(Account&, Upstream*) -> budgeted_resource<Upstream, Account>;

}  // namespace tessera
