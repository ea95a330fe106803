// Borrowing of unused reservations and taking them back (basic_budget.hpp, "Reservations and
// borrowing"): who may borrow, what the owner gets back and how.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "held_bytes.hpp"
#include "tessera/budget/basic_budget.hpp"

using namespace std::chrono_literals;
using budget_test::held_bytes;

namespace {
using shared_budget = tessera::basic_budget<tessera::budget_policies::shared_counters>;
}  // namespace

TEMPLATE_TEST_CASE("an account without a reclaimer never borrows reserved credit", "",
                   tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  auto& owner = b.create_account({.name = "owner", .reserved = 300});
  auto& other = b.create_account({.name = "other"});
  CHECK(b.claimed() == 300);
  CHECK(b.used() == 0);
  CHECK_FALSE(other.try_charge(701));  // only 700 is truly free
  CHECK(other.try_charge(700));
  CHECK_FALSE(other.try_charge(1));
  CHECK(b.lent() == 0);
  CHECK(owner.try_charge(300));  // within its reservation: nobody to take it back from
  CHECK_FALSE(owner.try_charge(1));
  owner.release(300);
  other.release(700);
  TestType::return_thread_credit();
  CHECK(b.claimed() == 300);
  CHECK(b.used() == 0);
}

TEMPLATE_TEST_CASE("an account borrows another's unused reservation", "", tessera::budget,
                   shared_budget) {
  TestType b{{.limit = 1000}};
  auto& owner = b.create_account({.name = "owner", .reserved = 300});
  auto& borrower = b.create_account({.name = "borrower"});
  auto& plain = b.create_account({.name = "plain"});  // no reclaimer
  held_bytes<typename TestType::account> cache(&borrower);
  cache.attach();
  REQUIRE(cache.add(900));  // 700 truly free + 200 of the owner's unused reservation
  TestType::return_thread_credit();
  CHECK(borrower.charged() == 900);
  CHECK(b.used() == 900);
  CHECK(b.lent() == 200);
  CHECK(b.claimed() == 1200);
  CHECK(b.used() <= b.limit());
  CHECK_FALSE(plain.try_charge(1));  // nothing truly free is left
  CHECK_FALSE(cache.add(101));       // the budget's hard limit still holds for borrowers
  CHECK(cache.add(100));             // the whole reservation lent out
  CHECK_FALSE(borrower.try_charge(1));
  CHECK(owner.charged() == 0);
  cache.clear();
  TestType::return_thread_credit();
  CHECK(b.lent() == 0);
  CHECK(b.used() == 0);
  CHECK(b.claimed() == 300);
}

TEMPLATE_TEST_CASE(
    "the owner takes its reservation back from a borrower through the borrower's reclaimer", "",
    tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  // The owner is the least important: a reservation is taken back whatever the priorities.
  auto& owner = b.create_account(
      {.name = "owner", .priority = tessera::priority::background, .reserved = 300});
  auto& borrower = b.create_account({.name = "borrower", .priority = tessera::priority::critical});
  held_bytes<typename TestType::account> cache(&borrower);
  std::vector<std::size_t> asked;
  borrower.set_reclaimer([&](std::size_t wanted) {
    asked.push_back(wanted);
    return cache.reclaim(wanted);
  });
  REQUIRE(cache.add(1000));
  TestType::return_thread_credit();
  REQUIRE(b.lent() == 300);

  CHECK(owner.try_charge(200));
  CHECK(asked == std::vector<std::size_t>{200});
  CHECK(cache.held == 800);
  CHECK(borrower.reclaimed() == 200);
  CHECK(owner.charged() == 200);
  CHECK(b.used() <= 1000);
  CHECK(owner.try_charge(100));  // the rest of its reservation
  CHECK(asked == std::vector<std::size_t>{200, 100});
  CHECK(b.lent() == 0);
  // Above its reservation the owner is an ordinary background account: nothing to take back,
  // and a more important account is never asked to make room for it.
  CHECK_FALSE(owner.try_charge(1));
  CHECK(asked.size() == 2);
  CHECK(b.used() <= 1000);
  owner.release(300);
  cache.clear();
  TestType::return_thread_credit();
  CHECK(b.used() == 0);
}

TEMPLATE_TEST_CASE("an owner waiting within its reservation gets it once the borrower releases", "",
                   tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  auto& owner = b.create_account({.name = "owner", .reserved = 400});
  auto& borrower = b.create_account({.name = "borrower"});
  std::atomic<int> calls{0};
  borrower.set_reclaimer([&](std::size_t) {
    calls.fetch_add(1);
    return std::size_t{0};  // cannot give back right now
  });
  REQUIRE(borrower.try_charge(1000));
  CHECK_FALSE(owner.try_charge(400));  // asked, but nothing came back
  CHECK(calls.load() > 0);
  std::thread releaser([&] {
    while (owner.waiting() == 0) std::this_thread::yield();
    borrower.release(1000);
    TestType::return_thread_credit();
  });
  CHECK(owner.charge(400, 10s));
  releaser.join();
  CHECK(owner.charged() == 400);
  owner.release(400);
  borrower.set_reclaimer({});
}
