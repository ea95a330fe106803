#include "tessera/budget/basic_budget.hpp"

#include "held_bytes.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using budget_test::held_bytes;

namespace {

using shared_budget = tessera::basic_budget<tessera::budget_policies::shared_counters>;

struct recording_sink final : tessera::profile::metric_sink {
  std::map<std::string, double> values;
  void sample(std::string_view name, std::string_view, tessera::profile::metric_type, double value,
              std::initializer_list<tessera::profile::label> labels) override {
    std::string key(name);
    key += '{';
    for (const auto& l : labels) key += std::string(l.key) + "=" + std::string(l.value) + ",";
    key += '}';
    values[key] = value;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("an account charges up to its hard limit and no further", "", tessera::budget,
                   shared_budget) {
  TestType b{{.name = "mem", .limit = 10'000}};
  auto& a = b.create_account({.name = "a", .limit = 1000});
  CHECK(a.try_charge(600));
  CHECK_FALSE(a.try_charge(500));
  CHECK(a.committed() <= 1000);
  CHECK(a.try_charge(400));
  CHECK_FALSE(a.try_charge(1));
  a.release(1000);
  CHECK(a.try_charge(1000));
  a.release(1000);
  TestType::return_thread_credit();
  CHECK(a.committed() == 0);
  CHECK(a.charged() == 0);
  CHECK(b.used() == 0);
  CHECK(a.denied() == 2);
}

TEMPLATE_TEST_CASE("the budget's limit bounds the sum over its accounts", "", tessera::budget,
                   shared_budget) {
  TestType b{{.limit = 1000}};
  auto& x = b.create_account({.name = "x"});
  auto& y = b.create_account({.name = "y"});
  CHECK(x.try_charge(700));
  CHECK_FALSE(y.try_charge(400));
  CHECK(y.try_charge(300));
  CHECK(b.used() <= 1000);
  CHECK(x.charged() == 700);
  CHECK(y.charged() == 300);
  x.release(700);
  y.release(300);
  TestType::return_thread_credit();
  CHECK(b.used() == 0);
  CHECK(b.peak() <= 1000);
}

TEMPLATE_TEST_CASE(
    "a charge above the soft mark asks the account to shrink to it, off the "
    "charging thread and without anyone else's demand",
    "", tessera::budget, shared_budget) {
  TestType b{{.limit = 10'000}};
  auto& a = b.create_account({.name = "a", .high = 300});
  held_bytes<typename TestType::account> cache(&a);
  std::mutex m;
  std::vector<std::size_t> asked;
  std::thread::id asked_on;
  a.set_reclaimer([&](std::size_t wanted) {
    {
      std::lock_guard lock(m);
      asked.push_back(wanted);
      asked_on = std::this_thread::get_id();
    }
    return cache.reclaim(wanted);
  });
  REQUIRE(cache.add(250));  // below the mark: not asked
  REQUIRE(cache.add(250));  // 500: 200 above it
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (a.committed() > 300 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  CHECK(a.committed() <= 300);
  {
    std::lock_guard lock(m);
    REQUIRE_FALSE(asked.empty());
    CHECK(asked.front() == 200);
    CHECK(asked_on != std::this_thread::get_id());
  }
  CHECK(a.reclaimed() >= 200);
  CHECK(cache.held == 300);
  a.set_reclaimer({});
  cache.clear();
}

TEMPLATE_TEST_CASE("creating an account whose reservation does not fit throws naming it", "",
                   tessera::budget, shared_budget) {
  TestType b{{.name = "mem", .limit = 1000}};
  (void)b.create_account({.name = "first", .reserved = 800});
  try {
    (void)b.create_account({.name = "second", .reserved = 300});
    FAIL("no exception");
  } catch (const tessera::error& e) {
    CHECK_THAT(e.what(), Catch::Contains("second") && Catch::Contains("reservation"));
  }
  CHECK_THROWS_AS(b.create_account({.name = "bad", .reserved = 10, .limit = 5}), tessera::error);
  CHECK_THROWS_AS(TestType({.elevated_at = 0.9, .critical_at = 0.5}), tessera::error);
}

TEMPLATE_TEST_CASE("a reservation handle releases its bytes when it goes away", "", tessera::budget,
                   shared_budget) {
  TestType b{{.limit = 1000}};
  auto& a = b.create_account({.name = "req"});
  {
    auto r = a.reserve(600);
    CHECK(r.bytes() == 600);
    CHECK(a.charged() == 600);
    CHECK_FALSE(a.try_reserve(500).has_value());
    try {
      auto r2 = a.reserve(500);
      FAIL("no exception");
    } catch (const tessera::out_of_memory& e) {
      CHECK(e.source() == "req");
      CHECK(e.requested() == 500);
    }
    auto moved = std::move(r);
    CHECK_FALSE(r);
    CHECK(moved.bytes() == 600);
  }
  CHECK(a.charged() == 0);
  auto r3 = a.try_reserve(1000);
  CHECK(r3.has_value());
}

TEMPLATE_TEST_CASE("a charge that does not fit reclaims from less important accounts first", "",
                   tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  auto& high = b.create_account({.name = "high", .priority = tessera::priority::high});
  auto& low = b.create_account({.name = "low", .priority = tessera::priority::low});
  auto& bg = b.create_account({.name = "bg", .priority = tessera::priority::background});
  auto& peer = b.create_account({.name = "peer", .priority = tessera::priority::high});
  std::vector<std::string> order;
  held_bytes<typename TestType::account> low_cache(&low), bg_cache(&bg), peer_cache(&peer);
  low.set_reclaimer([&](std::size_t w) {
    order.push_back("low");
    return low_cache.reclaim(w);
  });
  bg.set_reclaimer([&](std::size_t w) {
    order.push_back("bg");
    return bg_cache.reclaim(w);
  });
  peer.set_reclaimer([&](std::size_t w) {
    order.push_back("peer");
    return peer_cache.reclaim(w);
  });
  REQUIRE(low_cache.add(300));
  REQUIRE(bg_cache.add(200));
  REQUIRE(peer_cache.add(400));
  TestType::return_thread_credit();

  CHECK(high.try_charge(350));  // 100 free: 200 from bg, then 50 from low; never from peer
  CHECK(order == std::vector<std::string>{"bg", "low"});
  CHECK(bg_cache.held == 0);
  CHECK(low_cache.held == 250);
  CHECK(peer_cache.held == 400);
  CHECK(bg.reclaimed() == 200);
  CHECK(low.reclaimed() == 50);
  CHECK(b.used() <= 1000);

  order.clear();
  CHECK_FALSE(high.try_charge(300));  // only 250 can be reclaimed from below
  CHECK(order == std::vector<std::string>{"low"});
  CHECK(high.denied() == 1);
  high.release(350);
  peer_cache.clear();
  low_cache.clear();
}

TEMPLATE_TEST_CASE("clearing a reclaimer waits for a call of it running on another thread", "",
                   tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  auto& high = b.create_account({.name = "high", .priority = tessera::priority::high});
  auto& low = b.create_account({.name = "low", .priority = tessera::priority::low});
  held_bytes<typename TestType::account> low_cache(&low);
  std::atomic<bool> entered{false};
  std::atomic<bool> finished{false};
  low.set_reclaimer([&](std::size_t w) {
    entered.store(true);
    std::this_thread::sleep_for(50ms);  // the owner tries to detach meanwhile
    const std::size_t freed = low_cache.reclaim(w);
    finished.store(true);
    return freed;
  });
  REQUIRE(low_cache.add(800));
  TestType::return_thread_credit();

  std::atomic<bool> charged{false};  // Catch2 assertions stay on the main thread
  std::thread charger([&] {
    charged.store(high.try_charge(500));
    if (charged.load()) high.release(500);
    TestType::return_thread_credit();
  });
  while (!entered.load()) std::this_thread::yield();
  low.set_reclaimer({});  // what a cache's destructor does before its entries go away
  CHECK(finished.load());
  charger.join();
  CHECK(charged.load());
  low_cache.clear();
}

TEMPLATE_TEST_CASE("reclaim asks accounts above their soft mark, then spares their reservation", "",
                   tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  auto& high = b.create_account({.name = "high", .priority = tessera::priority::high});
  auto& big = b.create_account(
      {.name = "big", .priority = tessera::priority::low, .reserved = 100, .high = 300});
  auto& small = b.create_account({.name = "small", .priority = tessera::priority::low});
  held_bytes<typename TestType::account> big_cache(&big), small_cache(&small);
  // Filled before the reclaimers are set, so that crossing big's mark does not already ask it to
  // shrink on the budget's thread: this test is about the order of reclaim.
  REQUIRE(big_cache.add(500));    // 100 of it within the reservation
  REQUIRE(small_cache.add(400));  // budget: 500 + 400 = 900 of 1000
  TestType::return_thread_credit();
  std::vector<std::pair<std::string, std::size_t>> asked;
  big.set_reclaimer([&](std::size_t w) {
    asked.emplace_back("big", w);
    return big_cache.reclaim(w);
  });
  small.set_reclaimer([&](std::size_t w) {
    asked.emplace_back("small", w);
    return small_cache.reclaim(w);
  });
  CHECK(high.try_charge(600));  // short by 500: big to its mark (200), small (300)
  REQUIRE(asked.size() == 2);
  CHECK(asked[0] == std::pair<std::string, std::size_t>{"big", 200});
  CHECK(asked[1] == std::pair<std::string, std::size_t>{"small", 300});
  asked.clear();
  CHECK_FALSE(high.try_charge(400));  // 100 left in small, 200 above big's reservation: not 400
  CHECK(big_cache.held >= 100);       // the reservation is never reclaimed
  high.release(600);
  big_cache.clear();
  small_cache.clear();
}

TEMPLATE_TEST_CASE("charge waits for a release and gives up at its deadline", "", tessera::budget,
                   shared_budget) {
  TestType b{{.limit = 1000}};
  auto& a = b.create_account({.name = "a"});
  auto& w = b.create_account({.name = "w"});
  REQUIRE(a.try_charge(900));
  CHECK_FALSE(w.charge(200, 30ms));
  CHECK(w.waiting() == 0);

  std::thread releaser([&] {
    while (w.waiting() == 0) std::this_thread::yield();
    a.release(900);
  });
  CHECK(w.charge(200, std::chrono::steady_clock::now() + 10s));
  releaser.join();
  CHECK(w.charged() == 200);
  CHECK_FALSE(w.charge(2000, 10s));  // can never fit: fails at once
  w.release(200);
}

TEMPLATE_TEST_CASE("waiters are served most important first", "", tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  auto& filler = b.create_account({.name = "filler"});
  auto& lo = b.create_account({.name = "lo", .priority = tessera::priority::low});
  auto& hi = b.create_account({.name = "hi", .priority = tessera::priority::high});
  REQUIRE(filler.try_charge(1000));
  std::mutex m;
  std::vector<std::string> served;
  std::thread t_lo([&] {
    if (lo.charge(600, 10s)) {
      std::lock_guard lock(m);
      served.push_back("lo");
    }
  });
  while (lo.waiting() == 0) std::this_thread::yield();
  std::thread t_hi([&] {
    if (hi.charge(600, 10s)) {
      std::lock_guard lock(m);
      served.push_back("hi");
    }
  });
  while (hi.waiting() == 0) std::this_thread::yield();
  CHECK_FALSE(lo.try_charge(1));  // a more important waiter is in line: no barging
  filler.release(600);            // room for one of them: the important one
  while (true) {
    std::lock_guard lock(m);
    if (!served.empty()) break;
  }
  filler.release(400);
  hi.release(600);  // now the other fits
  t_hi.join();
  t_lo.join();
  CHECK(served == std::vector<std::string>{"hi", "lo"});
  lo.release(600);
}

TEMPLATE_TEST_CASE("pressure rises at its marks and falls only below them minus hysteresis", "",
                   tessera::budget, shared_budget) {
  TestType b{
      {.name = "p", .limit = 10'000, .elevated_at = 0.5, .critical_at = 0.8, .hysteresis = 0.2}};
  auto& a = b.create_account({.name = "a"});
  std::vector<tessera::pressure_level> seen;
  auto sub = b.on_pressure([&](tessera::pressure_level l) { seen.push_back(l); });
  using L = tessera::pressure_level;

  REQUIRE(a.try_charge(4000));
  CHECK(b.pressure() == L::ok);
  REQUIRE(a.try_charge(1200));  // 5200: elevated
  CHECK(b.pressure() == L::elevated);
  REQUIRE(a.try_charge(3000));  // 8200: critical
  CHECK(b.pressure() == L::critical);
  a.release(1000);  // 7200: above 6000, stays critical
  CHECK(b.pressure() == L::critical);
  a.release(1500);  // 5700: below 6000, elevated
  CHECK(b.pressure() == L::elevated);
  a.release(1500);  // 4200: above 3000, stays elevated
  CHECK(b.pressure() == L::elevated);
  a.release(2000);  // 2200: ok
  CHECK(b.pressure() == L::ok);
  CHECK(seen == std::vector<L>{L::elevated, L::critical, L::elevated, L::ok});
  CHECK(b.pressure_events(L::elevated) == 2);
  CHECK(b.pressure_events(L::critical) == 1);
  CHECK(b.pressure_events(L::ok) == 1);

  sub.reset();
  REQUIRE(a.try_charge(6000));
  CHECK(b.pressure() == L::critical);
  CHECK(seen.size() == 4);  // unsubscribed
  a.release(8200);
}

TEMPLATE_TEST_CASE("an account released from another thread gives its bytes back", "",
                   tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  auto& a = b.create_account({.name = "a"});
  REQUIRE(a.try_charge(800));
  std::thread([&] { a.release(800); }).join();  // its credit comes back when the thread ends
  CHECK(a.committed() <= 800);
  TestType::return_thread_credit();
  CHECK(a.charged() == 0);
  CHECK(a.try_charge(1000));
  a.release(1000);
}

TEMPLATE_TEST_CASE("a budget publishes charged bytes per account and pressure events", "",
                   tessera::budget, shared_budget) {
  TestType b{{.name = "pub", .limit = 1000}};
  auto& a = b.create_account({.name = "acc"});
  REQUIRE(a.try_charge(900));
  CHECK_FALSE(a.try_charge(500));
  recording_sink sink;
  tessera::profile::collect(sink);
  CHECK(sink.values.at("tessera_budget_charged_bytes{budget=pub,account=acc,}") == 900);
  CHECK(sink.values.at("tessera_budget_denied_total{budget=pub,account=acc,}") == 1);
  CHECK(sink.values.at("tessera_budget_peak_bytes{budget=pub,account=acc,}") >= 900);
  CHECK(sink.values.at("tessera_budget_pressure_events_total{budget=pub,level=critical,}") == 1);
  CHECK(sink.values.count("tessera_budget_waiting{budget=pub,account=acc,}") == 1);
  CHECK(sink.values.count("tessera_budget_reclaimed_bytes_total{budget=pub,account=acc,}") == 1);
  a.release(900);
}

TEMPLATE_TEST_CASE("a charge within its reservation is not held back by a more important waiter",
                   "", tessera::budget, shared_budget) {
  TestType b{{.limit = 1000}};
  auto& owner =
      b.create_account({.name = "owner", .priority = tessera::priority::low, .reserved = 200});
  auto& filler = b.create_account({.name = "filler"});
  auto& hi = b.create_account({.name = "hi", .priority = tessera::priority::critical});
  REQUIRE(filler.try_charge(800));
  std::atomic<bool> got{false};
  std::thread waiter([&] { got = hi.charge(500, 10s); });
  while (hi.waiting() == 0) std::this_thread::yield();
  CHECK(owner.try_charge(150));        // inside the reservation
  CHECK_FALSE(owner.try_charge(100));  // above it: the budget is full
  filler.release(800);
  waiter.join();
  CHECK(got.load());
  hi.release(500);
  owner.release(150);
}

TEMPLATE_TEST_CASE("reclaimers and pressure subscribers may use the budget without deadlock", "",
                   tessera::budget, shared_budget) {
  TestType b{{.limit = 1000, .elevated_at = 0.5, .critical_at = 0.9, .hysteresis = 0.1}};
  auto& high = b.create_account({.name = "high", .priority = tessera::priority::high});
  auto& low = b.create_account({.name = "low", .priority = tessera::priority::low});
  auto& side = b.create_account({.name = "side", .priority = tessera::priority::background});
  held_bytes<typename TestType::account> cache(&low);
  std::size_t seen_charged = 0;
  low.set_reclaimer([&](std::size_t wanted) {
    const std::size_t freed = cache.reclaim(wanted);
    seen_charged = low.charged() + b.used();  // reads take tessera's locks: none may be held
    if (side.try_charge(1)) side.release(1);
    return freed;
  });
  int calls = 0;
  auto sub = b.on_pressure([&](tessera::pressure_level) {
    ++calls;
    if (side.try_charge(10)) side.release(10);  // may change the level again: no deadlock
  });
  REQUIRE(cache.add(800));
  CHECK(high.try_charge(500));
  CHECK(seen_charged > 0);
  CHECK(calls > 0);
  CHECK(b.used() <= 1000);
  high.release(500);
  cache.clear();
}

TEMPLATE_TEST_CASE("a charge with a system_clock deadline waits and expires", "", tessera::budget,
                   shared_budget) {
  TestType b{{.limit = 100}};
  auto& a = b.create_account({.name = "a"});
  REQUIRE(a.try_charge(100));
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(a.charge(1, std::chrono::system_clock::now() + 20ms));
  CHECK(std::chrono::steady_clock::now() - start >= 15ms);  // it did wait, not fail at once
  CHECK(a.waiting() == 0);
  a.release(100);
  CHECK(a.charge(100, std::chrono::system_clock::now() + 20ms));
  a.release(100);
}

TEMPLATE_TEST_CASE(
    "a pressure subscriber charging the account that changed the level loses no credit", "",
    tessera::budget, shared_budget) {
  TestType b{{.limit = 1000, .elevated_at = 0.5, .critical_at = 0.9, .hysteresis = 0.1}};
  auto& a = b.create_account({.name = "a"});
  int calls = 0;
  auto sub = b.on_pressure([&](tessera::pressure_level) {
    ++calls;
    if (a.try_charge(5)) a.release(5);
  });
  for (int round = 0; round < 3; ++round) {
    REQUIRE(a.try_charge(600));  // elevated
    REQUIRE(a.try_charge(320));  // critical
    a.release(900);              // back to ok
    a.release(20);
  }
  CHECK(calls == 9);
  TestType::return_thread_credit();
  CHECK(a.committed() == 0);
  CHECK(b.used() == 0);
}

TEMPLATE_TEST_CASE("a removed account gives its reservation back to its budget", "",
                   tessera::budget, shared_budget) {
  TestType b{{.name = "mem", .limit = 1000}};
  auto& keep = b.create_account({.name = "keep"});
  auto& gone = b.create_account({.name = "gone", .reserved = 600});
  REQUIRE(gone.try_charge(400));
  CHECK_FALSE(keep.try_charge(401));  // the reservation is set aside
  try {
    b.remove_account(gone);
    FAIL("no exception");
  } catch (const tessera::error& e) {
    CHECK_THAT(e.what(), Catch::Contains("gone") && Catch::Contains("400"));
  }
  CHECK(b.accounts().size() == 2);  // still there after a refused removal
  gone.release(400);
  b.remove_account(gone);
  CHECK(b.accounts().size() == 1);
  CHECK(b.claimed() == 0);
  CHECK(keep.try_charge(1000));  // the whole budget is free again
  keep.release(1000);
  TestType::return_thread_credit();
  CHECK(b.used() == 0);
}

TEMPLATE_TEST_CASE("a thread charging more accounts than it has credit slots loses no credit", "",
                   tessera::budget, shared_budget) {
  TestType b{{.limit = 1 << 20, .thread_credit = 4096}};
  std::vector<typename TestType::account*> accounts;
  for (int i = 0; i < 12; ++i) {
    accounts.push_back(&b.create_account({.name = "a" + std::to_string(i)}));
  }
  std::vector<std::size_t> expected(accounts.size(), 0);
  // Alternating pairs stay on the fast path; strides through all twelve evict and promote slots.
  for (int round = 0; round < 200; ++round) {
    const std::size_t i = static_cast<std::size_t>(round) % accounts.size();
    const std::size_t j = static_cast<std::size_t>(round * 5 + 1) % accounts.size();
    const std::size_t k = (i + 1) % accounts.size();
    for (std::size_t a : {i, j, i, j, k}) {
      REQUIRE(accounts[a]->try_charge(10 + a));
      expected[a] += 10 + a;
    }
    accounts[j]->release(10 + j);
    expected[j] -= 10 + j;
  }
  for (std::size_t a = 0; a < accounts.size(); ++a) {
    INFO(accounts[a]->name());
    CHECK(accounts[a]->charged() == expected[a]);
    CHECK(accounts[a]->committed() >= expected[a]);
    accounts[a]->release(expected[a]);
  }
  TestType::return_thread_credit();
  for (auto* a : accounts) CHECK(a->committed() == 0);
  CHECK(b.used() == 0);
}
