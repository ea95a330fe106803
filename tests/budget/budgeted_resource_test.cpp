#include "tessera/budget/budgeted_resource.hpp"

#include <catch2/catch.hpp>
#include <memory_resource>
#include <string>
#include <vector>

TEST_CASE("a pmr vector under a budgeted resource hits the account's limit and recovers") {
  tessera::budget b{{.name = "mem", .limit = 1 << 20}};
  auto& acct = b.create_account({.name = "vectors", .limit = 64 * 1024});
  tessera::budgeted_resource res(acct, std::pmr::new_delete_resource());
  {
    std::pmr::vector<int> v(&res);
    v.reserve(1000);
    CHECK(acct.charged() == 1000 * sizeof(int));
    try {
      v.reserve(20'000);  // 80 KB: above the account's 64 KB
      FAIL("no exception");
    } catch (const tessera::out_of_memory& e) {
      CHECK(e.source() == "vectors");
      CHECK(e.requested() == 20'000 * sizeof(int));
      CHECK_THAT(e.what(), Catch::Contains("vectors") && Catch::Contains("80000"));
    }
    CHECK(v.capacity() == 1000);  // the strong guarantee of reserve
    CHECK_THROWS_AS(v.reserve(20'000), std::bad_alloc);
  }
  CHECK(acct.charged() == 0);
  std::pmr::vector<char> again(&res);
  again.reserve(60 * 1024);  // room again once the first vector went
  CHECK(acct.charged() == 60 * 1024);
}

TEST_CASE("a budgeted resource charges every node of a pmr list and releases them all") {
  tessera::budget b{{.limit = 1 << 20}};
  auto& acct = b.create_account({.name = "lists"});
  std::pmr::unsynchronized_pool_resource pool;
  tessera::budgeted_resource res(acct, &pool);
  CHECK(res.upstream() == &pool);
  CHECK(&res.account() == &acct);
  {
    std::pmr::vector<std::pmr::string> strings(&res);
    for (int i = 0; i < 100; ++i) strings.emplace_back(std::string(100, 'x'));
    CHECK(acct.charged() > 100 * 100);
  }
  CHECK(acct.charged() == 0);
  CHECK(acct.peak() > 100 * 100);
  CHECK(res.is_equal(res));
  tessera::budgeted_resource other(acct, &pool);
  CHECK_FALSE(res.is_equal(other));
}

TEST_CASE("a failing upstream leaves nothing charged") {
  tessera::budget b{{.limit = 1 << 20}};
  auto& acct = b.create_account({.name = "a"});
  tessera::budgeted_resource res(acct, std::pmr::null_memory_resource());
  CHECK_THROWS_AS(res.allocate(64), std::bad_alloc);
  tessera::budget::return_thread_credit();
  CHECK(acct.committed() == 0);
}
