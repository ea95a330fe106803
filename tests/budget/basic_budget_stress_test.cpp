// Randomized multi-threaded stress of basic_budget with an invariant checker running alongside:
// no account and no budget is ever above its hard limit, accounts without a reclaimer never eat
// into reservations, borrowers lend reservations back to their owner (whose charges within them
// always succeed), and no credit is lost once every thread has finished.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sanitizers.hpp"
#include "tessera/budget/basic_budget.hpp"

using namespace std::chrono_literals;

namespace {

using shared_budget = tessera::basic_budget<tessera::budget_policies::shared_counters>;

constexpr int kOpsPerThread = TESSERA_TEST_SANITIZED ? 20'000 : 100'000;

// What the test itself knows is charged: raised after a charge succeeds and lowered before the
// release, so it never runs ahead of the real totals and any excess over a limit is real.
struct observed {
  std::atomic<std::size_t> bytes{0};
  std::atomic<std::size_t> max_over_reservation{0};
};

template <class Account>
struct shrinkable {  // a cache stand-in that the reclaimer can shrink from any thread
  std::mutex mutex;
  std::vector<std::size_t> items;
};

}  // namespace

TEMPLATE_TEST_CASE("no limit is ever exceeded and no credit is lost under random concurrent use",
                   "[stress]", tessera::budget, shared_budget) {
  using account = typename TestType::account;
  constexpr std::size_t kLimit = 1 << 20;
  TestType b{{.name = "stress", .limit = kLimit, .thread_credit = 16 * 1024}};

  struct spec {
    tessera::account_options options;
    bool reclaimable;
  };
  const std::vector<spec> specs = {
      {{.name = "critical",
        .priority = tessera::priority::critical,
        .reserved = 64 * 1024,
        .limit = 512 * 1024},
       false},
      {{.name = "high", .priority = tessera::priority::high, .limit = 700 * 1024}, false},
      {{.name = "normal",
        .priority = tessera::priority::normal,
        .reserved = 32 * 1024,
        .high = 256 * 1024,
        .limit = 600 * 1024},
       true},
      {{.name = "low", .priority = tessera::priority::low}, true},
      {{.name = "background", .priority = tessera::priority::background, .limit = 400 * 1024},
       true},
  };
  std::vector<account*> accounts;
  for (const auto& s : specs) accounts.push_back(&b.create_account(s.options));
  const std::size_t n = accounts.size();

  std::vector<observed> obs(n);
  std::atomic<std::size_t> obs_total{0};  // sum over accounts of observed bytes
  // Sum over accounts without a reclaimer of max(observed, reserved), plus the reservations of
  // those with one: accounts that cannot borrow must leave every reservation free.
  std::atomic<std::size_t> obs_unborrowed{0};
  for (std::size_t i = 0; i < n; ++i) {
    if (specs[i].reclaimable) obs_unborrowed.fetch_add(accounts[i]->reserved());
  }
  std::vector<shrinkable<account>> caches(n);

  const auto add_obs = [&](std::size_t i, std::size_t bytes) {
    const std::size_t r = accounts[i]->reserved();
    const std::size_t old = obs[i].bytes.fetch_add(bytes);
    obs_total.fetch_add(bytes);
    if (!specs[i].reclaimable)
      obs_unborrowed.fetch_add(std::max(old + bytes, r) - std::max(old, r));
  };
  const auto sub_obs = [&](std::size_t i, std::size_t bytes) {
    const std::size_t r = accounts[i]->reserved();
    const std::size_t old = obs[i].bytes.fetch_sub(bytes);
    if (!specs[i].reclaimable)
      obs_unborrowed.fetch_sub(std::max(old, r) - std::max(old - bytes, r));
    obs_total.fetch_sub(bytes);
  };
  // Take-backs: the reservation owner's thread calling a borrower's reclaimer.
  std::atomic<std::thread::id> owner_id{};
  std::atomic<int> take_backs{0};

  for (std::size_t i = 0; i < n; ++i) {
    if (!specs[i].reclaimable) continue;
    accounts[i]->set_reclaimer([&, i](std::size_t wanted) {
      if (std::this_thread::get_id() == owner_id.load()) take_backs.fetch_add(1);
      std::size_t freed = 0;
      std::vector<std::size_t> victims;
      {
        std::lock_guard lock(caches[i].mutex);
        while (freed < wanted && !caches[i].items.empty()) {
          freed += caches[i].items.back();
          victims.push_back(caches[i].items.back());
          caches[i].items.pop_back();
        }
      }
      for (auto v : victims) {
        sub_obs(i, v);
        accounts[i]->release(v);
      }
      return freed;
    });
  }

  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::atomic<int> reservation_denied{0};
  std::string first_violation;
  std::mutex violation_mutex;
  const auto violate = [&](std::string what) {
    if (violations.fetch_add(1) == 0) {
      std::lock_guard lock(violation_mutex);
      first_violation = std::move(what);
    }
  };

  // Pressure changes arrive one at a time and in order: never the same level twice in a row.
  std::atomic<int> last_level{static_cast<int>(tessera::pressure_level::ok)};
  std::atomic<int> level_changes{0};
  auto subscription = b.on_pressure([&](tessera::pressure_level l) {
    level_changes.fetch_add(1);
    if (last_level.exchange(static_cast<int>(l)) == static_cast<int>(l)) {
      violate("pressure level delivered twice: " + std::string(tessera::to_string(l)));
    }
  });

  std::atomic<bool> lent_seen{false};
  std::atomic<bool> workers_done{false};
  std::thread checker([&] {
    while (!stop.load()) {
      if (b.used() > kLimit) violate("budget used " + std::to_string(b.used()));
      if (obs_total.load() > kLimit) violate("observed total " + std::to_string(obs_total.load()));
      if (obs_unborrowed.load() > kLimit) {
        violate("accounts without a reclaimer ate into reservations: " +
                std::to_string(obs_unborrowed.load()));
      }
      if (b.lent() != 0) lent_seen.store(true);
      for (std::size_t i = 0; i < n; ++i) {
        if (accounts[i]->committed() > accounts[i]->limit()) violate(accounts[i]->name());
        if (obs[i].bytes.load() > accounts[i]->limit()) violate("observed " + accounts[i]->name());
      }
      std::this_thread::yield();
    }
  });

  // The reservation owner: whatever others do, charges within its reservation succeed, taking
  // it back from borrowers when they hold it (waiting, if need be, for them to give it back).
  std::thread owner([&] {
    owner_id.store(std::this_thread::get_id());
    std::mt19937 rng(7);
    std::size_t mine = 0;
    // Runs as long as the workers do, so that it meets a full budget now and then.
    for (int op = 0; op < kOpsPerThread || !workers_done.load(); ++op) {
      const std::size_t bytes = 1 + rng() % 8192;
      if (mine + bytes <= accounts[0]->reserved()) {
        if (accounts[0]->try_charge(bytes) || accounts[0]->charge(bytes, 10s)) {
          add_obs(0, bytes);
          mine += bytes;
        } else {
          reservation_denied.fetch_add(1);
        }
      } else if (mine > 0) {
        sub_obs(0, mine);
        accounts[0]->release(mine);
        mine = 0;
        // Leave the reservation unused (not held as this thread's credit) so it can be lent.
        TestType::return_thread_credit();
      }
    }
    sub_obs(0, mine);
    accounts[0]->release(mine);
  });

  const int workers = 3;
  std::vector<std::thread> threads;
  for (int t = 0; t < workers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      std::vector<std::vector<std::size_t>> held(n);
      for (int op = 0; op < kOpsPerThread; ++op) {
        const std::size_t i = 1 + rng() % (n - 1);
        const std::size_t bytes = rng() % 4 == 0 ? 1 + rng() % 65536 : 1 + rng() % 512;
        const unsigned what = rng() % 100;
        if (what < 55) {
          bool ok = false;
          if (what < 2) {
            ok = accounts[i]->charge(bytes, 200us);
          } else {
            ok = accounts[i]->try_charge(bytes);
          }
          if (!ok) continue;
          add_obs(i, bytes);
          if (specs[i].reclaimable) {
            std::lock_guard lock(caches[i].mutex);
            caches[i].items.push_back(bytes);
          } else {
            held[i].push_back(bytes);
          }
        } else if (!held[i].empty()) {
          const std::size_t v = held[i].back();
          held[i].pop_back();
          sub_obs(i, v);
          accounts[i]->release(v);
        } else if (specs[i].reclaimable) {
          std::size_t v = 0;
          {
            std::lock_guard lock(caches[i].mutex);
            if (caches[i].items.empty()) continue;
            v = caches[i].items.front();
            caches[i].items.front() = caches[i].items.back();
            caches[i].items.pop_back();
          }
          sub_obs(i, v);
          accounts[i]->release(v);
        }
      }
      for (std::size_t i = 0; i < n; ++i) {
        for (auto v : held[i]) {
          sub_obs(i, v);
          accounts[i]->release(v);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  workers_done = true;
  owner.join();
  // The budget's own thread may still be shrinking an account above its mark: detach the
  // reclaimers (which waits for calls in flight) before emptying what they touch.
  for (auto* a : accounts) a->set_reclaimer({});
  // Empty the caches from the main thread, then hand back what this thread holds.
  for (std::size_t i = 0; i < n; ++i) {
    for (auto v : caches[i].items) {
      sub_obs(i, v);
      accounts[i]->release(v);
    }
    caches[i].items.clear();
  }
  TestType::return_thread_credit();
  stop = true;
  checker.join();

  INFO(first_violation);
  CHECK(violations.load() == 0);
  CHECK(reservation_denied.load() == 0);
  std::size_t reserved = 0;
  for (std::size_t i = 0; i < n; ++i) {
    INFO(accounts[i]->name());
    CHECK(accounts[i]->committed() == 0);
    CHECK(accounts[i]->charged() == 0);
    CHECK(obs[i].bytes.load() == 0);
    reserved += accounts[i]->reserved();
  }
  CHECK(b.used() == 0);
  CHECK(b.claimed() == reserved);
  CHECK(b.lent() == 0);
  CHECK(b.peak() <= kLimit);
  // How often reservations were lent out and taken back here depends on the interleaving; the
  // next test makes sure both happen.
  INFO("lent seen: " << lent_seen.load() << ", take-backs: " << take_backs.load());
  // The run did push against the limits (otherwise it proved little).
  std::uint64_t denied = 0;
  for (auto* a : accounts) denied += a->denied();
  CHECK(denied > 0);
  CHECK(level_changes.load() > 0);
}

TEMPLATE_TEST_CASE(
    "a flood of low-priority charges cannot block a high-priority one that reclaimers can satisfy",
    "[stress]", tessera::budget, shared_budget) {
  using account = typename TestType::account;
  constexpr std::size_t kLimit = 256 * 1024;
  TestType b{{.limit = kLimit}};
  auto& low = b.create_account({.name = "low", .priority = tessera::priority::low});
  auto& high = b.create_account({.name = "high", .priority = tessera::priority::high});
  shrinkable<account> cache;
  low.set_reclaimer([&](std::size_t wanted) {
    std::size_t freed = 0;
    {
      std::lock_guard lock(cache.mutex);
      while (freed < wanted && !cache.items.empty()) {
        freed += cache.items.back();
        cache.items.pop_back();
      }
    }
    low.release(freed);
    return freed;
  });

  std::atomic<bool> stop{false};
  std::vector<std::thread> flood;
  for (int t = 0; t < 2; ++t) {
    flood.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (low.try_charge(1024)) {
          std::lock_guard lock(cache.mutex);
          cache.items.push_back(1024);
        }
      }
    });
  }
  // Wait until the flood has filled the budget.
  while (low.committed() + 4096 < kLimit) std::this_thread::yield();
  int granted = 0;
  const int rounds = TESSERA_TEST_SANITIZED ? 20 : 100;
  for (int r = 0; r < rounds; ++r) {
    if (high.charge(64 * 1024, std::chrono::steady_clock::now() + 10s)) {
      ++granted;
      high.release(64 * 1024);
    }
  }
  stop = true;
  for (auto& t : flood) t.join();
  CHECK(granted == rounds);
  CHECK(low.reclaimed() > 0);
  CHECK(b.used() <= kLimit);
  std::size_t left = 0;
  for (auto v : cache.items) left += v;
  low.release(left);
  TestType::return_thread_credit();
  CHECK(low.committed() == 0);  // the flood threads returned their credit when they ended
}

TEMPLATE_TEST_CASE(
    "borrowers flooding the budget give an owner its reservation back every time it asks",
    "[stress]", tessera::budget, shared_budget) {
  using account = typename TestType::account;
  constexpr std::size_t kLimit = 256 * 1024;
  constexpr std::size_t kReserved = 64 * 1024;
  TestType b{{.limit = kLimit}};
  // The owner is the least important account: a reservation does not depend on priority.
  auto& owner = b.create_account(
      {.name = "owner", .priority = tessera::priority::background, .reserved = kReserved});
  std::vector<account*> borrowers = {
      &b.create_account({.name = "low", .priority = tessera::priority::low}),
      &b.create_account({.name = "high", .priority = tessera::priority::high})};
  std::vector<shrinkable<account>> caches(borrowers.size());
  std::atomic<int> take_backs{0};
  const auto main_thread = std::this_thread::get_id();
  for (std::size_t i = 0; i < borrowers.size(); ++i) {
    borrowers[i]->set_reclaimer([&, i](std::size_t wanted) {
      if (std::this_thread::get_id() == main_thread) take_backs.fetch_add(1);
      std::size_t freed = 0;
      {
        std::lock_guard lock(caches[i].mutex);
        while (freed < wanted && !caches[i].items.empty()) {
          freed += caches[i].items.back();
          caches[i].items.pop_back();
        }
      }
      borrowers[i]->release(freed);
      return freed;
    });
  }

  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < borrowers.size(); ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 11));
      while (!stop.load(std::memory_order_relaxed)) {
        const std::size_t i = rng() % borrowers.size();
        const std::size_t bytes = 1 + rng() % 4096;
        if (borrowers[i]->try_charge(bytes)) {
          std::lock_guard lock(caches[i].mutex);
          caches[i].items.push_back(bytes);
        }
      }
    });
  }
  threads.emplace_back([&] {  // the checker
    while (!stop.load()) {
      if (b.used() > kLimit) violations.fetch_add(1);
      if (owner.committed() > kReserved) violations.fetch_add(1);
      std::this_thread::yield();
    }
  });

  const int rounds = TESSERA_TEST_SANITIZED ? 30 : 200;
  int denied = 0;
  int lent_before_round = 0;
  std::mt19937 rng(3);
  for (int r = 0; r < rounds; ++r) {
    // Wait until the borrowers have taken some of the unused reservation.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (b.lent() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    if (b.lent() == 0) break;  // no borrowing: fails below
    ++lent_before_round;
    std::size_t mine = 0;
    for (;;) {
      const std::size_t bytes = 1 + rng() % 8192;
      if (mine + bytes > kReserved) break;
      if (owner.try_charge(bytes) || owner.charge(bytes, 10s)) {
        mine += bytes;
      } else {
        ++denied;
      }
    }
    owner.release(mine);
    TestType::return_thread_credit();  // unused again: lendable
  }
  stop = true;
  for (auto& t : threads) t.join();
  for (auto* a : borrowers) a->set_reclaimer({});
  for (std::size_t i = 0; i < borrowers.size(); ++i) {
    std::size_t left = 0;
    for (auto v : caches[i].items) left += v;
    borrowers[i]->release(left);
  }
  TestType::return_thread_credit();

  CHECK(violations.load() == 0);
  CHECK(denied == 0);
  CHECK(lent_before_round == rounds);
  CHECK(take_backs.load() > 0);
  CHECK(b.used() == 0);
  CHECK(b.claimed() == kReserved);
  CHECK(b.peak() <= kLimit);
}
