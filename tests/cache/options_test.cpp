// The seams of cache_options: a budget account (charging, reclaiming, shrinking under
// pressure) and an executor, both reached only through concepts.
#include "tessera/cache/options.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tessera/cache/concurrent_cache.hpp"

namespace caching = tessera::caching;

namespace {

// A budget account with the agreed members and a hard limit; like the budget module's, it
// calls the reclaimer when a charge does not fit, from the charging thread.
class test_account {
 public:
  explicit test_account(std::size_t limit) : limit_(limit) {}
  bool try_charge(std::size_t bytes) noexcept {
    {
      std::lock_guard lock(mu_);
      if (used_ + bytes <= limit_) {
        used_ += bytes;
        return true;
      }
    }
    return false;
  }
  void release(std::size_t bytes) noexcept {
    std::lock_guard lock(mu_);
    used_ -= bytes;
  }
  void set_reclaimer(std::function<std::size_t(std::size_t)> fn) {
    std::lock_guard lock(mu_);
    reclaimer_ = std::move(fn);
  }
  // What the budget does under pressure: asks the owner to give back `wanted` bytes.
  std::size_t pressure(std::size_t wanted) {
    std::function<std::size_t(std::size_t)> fn;
    {
      std::lock_guard lock(mu_);
      fn = reclaimer_;
    }
    return fn ? fn(wanted) : 0;
  }
  std::size_t used() {
    std::lock_guard lock(mu_);
    return used_;
  }
  bool has_reclaimer() {
    std::lock_guard lock(mu_);
    return static_cast<bool>(reclaimer_);
  }

 private:
  std::mutex mu_;
  std::size_t limit_, used_ = 0;
  std::function<std::size_t(std::size_t)> reclaimer_;
};

struct by_size {
  std::size_t operator()(const int&, const std::string& s) const { return s.size(); }
};
using sized_cache =
    tessera::cache<int, std::string, caching::weigh_by<by_size>, caching::shards<4>>;

struct inline_executor {
  int spawned = 0;
  void spawn(std::function<void()> fn) {
    ++spawned;
    fn();
  }
};

}  // namespace

static_assert(caching::budget_account<test_account>);
static_assert(!caching::budget_account<int>);
static_assert(caching::executor<inline_executor>);
static_assert(!caching::executor<int>);

TEST_CASE("a cache charges its bytes to the budget and gives them back") {
  test_account acct(1 << 20);
  {
    sized_cache c{{.capacity = 1 << 20, .budget = acct}};
    CHECK(acct.has_reclaimer());
    for (int i = 0; i < 10; ++i) c.put(i, std::string(100, 'x'));
    CHECK(acct.used() == 1000);
    c.put(0, std::string(50, 'y'));  // replaced: the difference comes back
    CHECK(acct.used() == 950);
    c.invalidate(1);
    CHECK(acct.used() == 850);
  }
  CHECK(acct.used() == 0);  // the destructor releases what the cache still held
  CHECK_FALSE(acct.has_reclaimer());
}

TEST_CASE("when the budget is full the cache evicts its own entries to make room") {
  test_account acct(1000);
  sized_cache c{{.capacity = 1 << 20, .budget = acct}};
  for (int i = 0; i < 50; ++i) c.put(i, std::string(100, 'x'));
  CHECK(acct.used() <= 1000);
  CHECK(c.weight() == acct.used());
  CHECK(c.get(49));  // the newest made it in
  CHECK(c.size() <= 10);
}

TEST_CASE("budget pressure shrinks the cache by its policy") {
  test_account acct(1 << 20);
  sized_cache c{{.capacity = 1 << 20, .budget = acct}};
  for (int i = 0; i < 100; ++i) c.put(i, std::string(100, 'x'));
  REQUIRE(acct.used() == 10'000);
  const std::size_t freed = acct.pressure(2'500);
  CHECK(freed >= 2'500);
  CHECK(freed < 2'500 + 4 * 100);  // about what was asked, not everything
  CHECK(acct.used() == 10'000 - freed);
  CHECK(c.weight() == acct.used());
  CHECK(c.stats().evictions == freed / 100);
}

TEST_CASE("the reclaimer may run on another thread while the cache is in use") {
  test_account acct(64 * 100);
  sized_cache c{{.capacity = 1 << 20, .budget = acct}};
  std::atomic<bool> stop{false};
  std::thread pressure([&] {
    while (!stop.load()) acct.pressure(500);
  });
  for (int i = 0; i < 5'000; ++i) {
    c.put(i % 300, std::string(100, 'x'));
    (void)c.get((i * 7) % 300);
  }
  stop = true;
  pressure.join();
  CHECK(c.weight() == acct.used());
  CHECK(acct.used() <= 64 * 100);
}

TEST_CASE("an entry the budget cannot hold is not cached, and a stale one is dropped") {
  test_account acct(150);
  sized_cache c{{.capacity = 1 << 20, .budget = acct}};
  c.put(1, std::string(100, 'a'));
  c.put(1, std::string(400, 'b'));  // cannot fit even in an empty cache
  CHECK_FALSE(c.get(1));
  CHECK(acct.used() == 0);
  CHECK(c.stats().rejected_by_budget == 1);
  CHECK(c.get_or_load(2, [] { return std::string(400, 'c'); }) == std::string(400, 'c'));
  CHECK_FALSE(c.contains(2));
}

TEST_CASE("executor_ref runs work on any executor") {
  inline_executor ex;
  caching::executor_ref ref = ex;
  int ran = 0;
  ref.spawn([&] { ++ran; });
  CHECK(ran == 1);
  CHECK(ex.spawned == 1);
  CHECK_FALSE(caching::executor_ref{});
}
