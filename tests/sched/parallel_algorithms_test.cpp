#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tessera/sched/parallel_for.hpp"
#include "tessera/sched/parallel_invoke.hpp"
#include "tessera/sched/parallel_reduce.hpp"
#include "tessera/sched/parallel_sort.hpp"
#include "test_support.hpp"

namespace {
// 0, 1, the edges of run_chunk's blocks of 16, grain edges and large.
std::vector<std::size_t> sizes() {
  return {0, 1, 2, 7, 15, 16, 17, 33, 63, 64, 65, 4095, 4096, 4097, sched_test::scaled(1'000'003)};
}
}  // namespace

TEMPLATE_TEST_CASE("parallel_for visits every index exactly once", "", sched_test::spinning,
                   sched_test::parking, sched_test::neighbourly) {
  TestType s{{.workers = 2}};
  for (std::size_t n : sizes()) {
    for (std::size_t grain : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{64}}) {
      std::vector<std::atomic<int>> hits(n);
      tessera::parallel_for(s, std::size_t{0}, n, [&](std::size_t i) { hits[i].fetch_add(1); },
                            {.grain = grain});
      std::size_t wrong = 0;
      for (auto& h : hits) wrong += h.load() != 1;
      INFO("n = " << n << ", grain = " << grain);
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("a vectorisable parallel_for body from any start and any grain gives the serial result") {
  // Simple bodies run in blocks the compiler turns into SIMD; chunks that start and end off
  // those blocks (odd starts, a grain of 17) must still touch each element once.
  tessera::scheduler s{{.workers = 2}};
  for (std::size_t start : {std::size_t{0}, std::size_t{3}, std::size_t{16}}) {
    for (std::size_t grain : {std::size_t{0}, std::size_t{17}}) {
      const std::size_t n = 10'000;
      std::vector<float> a(n), expected(n);
      for (std::size_t i = 0; i < n; ++i) a[i] = expected[i] = static_cast<float>(i % 97);
      for (std::size_t i = start; i < n; ++i) expected[i] += 0.5f * static_cast<float>(i % 5);
      float* p = a.data();
      tessera::parallel_for(s, start, n,
                            [p](std::size_t i) { p[i] += 0.5f * static_cast<float>(i % 5); },
                            {.grain = grain});
      INFO("start = " << start << ", grain = " << grain);
      CHECK(a == expected);
    }
  }
}

TEST_CASE("parallel_for with a range body covers the whole range with disjoint sub-ranges") {
  tessera::scheduler s{{.workers = 2}};
  for (std::size_t n : sizes()) {
    std::vector<int> hits(n, 0);
    std::atomic<std::size_t> covered{0};
    tessera::parallel_for(s, std::size_t{0}, n, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) hits[i]++;
      covered.fetch_add(e - b);
    });
    CHECK(covered.load() == n);
    CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
  }
}

TEST_CASE("a parallel_for longer than a heartbeat is shared with the other workers") {
  // Each element sleeps far longer than a heartbeat, so after the caller's first chunk the rest
  // must be split and taken by a worker (the serial prefix may not swallow the loop).
  tessera::scheduler s{{.workers = 2}};
  std::mutex m;
  std::set<std::thread::id> threads;
  tessera::parallel_for(s, 0, 64, [&](int) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    const std::lock_guard lock(m);
    threads.insert(std::this_thread::get_id());
  });
  CHECK(threads.size() >= 2);
}

TEST_CASE(
    "parallel_for accepts signed indices and iterator ranges and parallel_for_each visits all") {
  tessera::scheduler s{{.workers = 2}};
  std::vector<long> v(10'000);
  tessera::parallel_for(s, -5000, 5000, [&](int i) { v[static_cast<std::size_t>(i + 5000)] = i; });
  for (int i = -5000; i < 5000; ++i) REQUIRE(v[static_cast<std::size_t>(i + 5000)] == i);
  tessera::parallel_for(s, v.begin(), v.end(), [](std::vector<long>::iterator it) { *it *= 2; });
  tessera::parallel_for_each(s, v.begin(), v.end(), [](long& x) { x += 1; });
  for (int i = -5000; i < 5000; ++i) REQUIRE(v[static_cast<std::size_t>(i + 5000)] == 2 * i + 1);
}

TEST_CASE("a body's exception propagates out of parallel_for") {
  tessera::scheduler s{{.workers = 2}};
  CHECK_THROWS_AS(tessera::parallel_for(s, 0, 100000,
                                        [](int i) {
                                          if (i == 77777) throw std::domain_error("bad element");
                                        }),
                  std::domain_error);
}

TEMPLATE_TEST_CASE("parallel_reduce matches the serial sum", "", sched_test::spinning,
                   sched_test::parking) {
  TestType s{{.workers = 2}};
  for (std::size_t n : sizes()) {
    std::vector<std::int64_t> v(n);
    std::iota(v.begin(), v.end(), std::int64_t{-3});
    const auto serial = std::accumulate(v.begin(), v.end(), std::int64_t{0});
    const auto leaf = [&](std::size_t b, std::size_t e, std::int64_t acc) {
      for (std::size_t i = b; i < e; ++i) acc += v[i];
      return acc;
    };
    INFO("n = " << n);
    CHECK(tessera::parallel_reduce(s, std::size_t{0}, n, std::int64_t{0}, leaf, std::plus<>{}) ==
          serial);
    CHECK(tessera::parallel_deterministic_reduce(s, std::size_t{0}, n, std::int64_t{0}, leaf,
                                                 std::plus<>{}) == serial);
    CHECK(tessera::parallel_reduce(s, v.begin(), v.end(), std::int64_t{5}) == serial + 5);
  }
}

TEST_CASE("parallel_deterministic_reduce gives bit-identical floating-point sums every run") {
  tessera::scheduler s{{.workers = 2}};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> d(-1e6, 1e6);
  std::vector<double> v(sched_test::scaled(300'000));
  for (auto& x : v) x = d(rng) * std::pow(10.0, static_cast<int>(rng() % 20) - 10);
  const auto leaf = [&](std::size_t b, std::size_t e, double acc) {
    for (std::size_t i = b; i < e; ++i) acc += v[i];
    return acc;
  };
  const double first =
      tessera::parallel_deterministic_reduce(s, std::size_t{0}, v.size(), 0.0, leaf, std::plus<>{});
  for (int run = 0; run < 20; ++run) {
    const double again = tessera::parallel_deterministic_reduce(s, std::size_t{0}, v.size(), 0.0,
                                                                leaf, std::plus<>{});
    REQUIRE(std::memcmp(&first, &again, sizeof(double)) == 0);
  }
  tessera::scheduler one{{.workers = 1}};
  const double on_one = tessera::parallel_deterministic_reduce(one, std::size_t{0}, v.size(), 0.0,
                                                               leaf, std::plus<>{});
  CHECK(std::memcmp(&first, &on_one, sizeof(double)) == 0);
}

TEST_CASE("parallel_transform_reduce agrees with the serial loop on the vector and scalar paths") {
  tessera::scheduler s{{.workers = 2}};
  for (std::size_t n : sizes()) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i % 1000) * 0.5;
    double serial = 1.0;
    for (double x : v) serial += x * x;
    // A generic lambda takes the xsimd path; the typed one the scalar path.
    const double vec = tessera::parallel_transform_reduce(
        s, v.data(), v.data() + n, 1.0, std::plus<>{}, [](auto x) { return x * x; });
    const double scalar = tessera::parallel_transform_reduce(
        s, v.begin(), v.end(), 1.0, std::plus<>{}, [](double x) { return x * x; });
    INFO("n = " << n);
    CHECK(vec == Approx(serial).epsilon(1e-12));
    CHECK(scalar == Approx(serial).epsilon(1e-12));
    const auto mx = tessera::parallel_transform_reduce(
        s, v.begin(), v.end(), -1.0, [](double a, double b) { return std::max(a, b); },
        [](double x) { return x; });
    CHECK(mx == (n == 0 ? -1.0 : *std::max_element(v.begin(), v.end())));
  }
}

TEMPLATE_TEST_CASE("parallel_sort sorts like std::sort", "", sched_test::spinning,
                   sched_test::parking) {
  TestType s{{.workers = 2}};
  std::mt19937 rng(3);
  for (std::size_t n : sizes()) {
    n = std::min<std::size_t>(n, sched_test::scaled(200'000));
    for (int kind = 0; kind < 3; ++kind) {
      std::vector<std::uint32_t> v(n);
      for (auto& x : v) x = kind == 0 ? rng() : kind == 1 ? rng() % 4 : 0;
      if (kind == 2) std::iota(v.begin(), v.end(), 0u);
      auto expect = v;
      std::sort(expect.begin(), expect.end());
      tessera::parallel_sort(s, v.begin(), v.end());
      INFO("n = " << n << ", kind = " << kind);
      CHECK(v == expect);
    }
  }
  std::vector<int> desc(10'000);
  std::iota(desc.begin(), desc.end(), 0);
  tessera::parallel_sort(s, desc.begin(), desc.end(), std::greater<>{});
  CHECK(std::is_sorted(desc.begin(), desc.end(), std::greater<>{}));
}

namespace {
long fib(int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
  tessera::parallel_invoke([&] { a = fib(n - 1); }, [&] { b = fib(n - 2); });
  return a + b;
}
}  // namespace

TEMPLATE_TEST_CASE("parallel_invoke computes fib like the serial recursion", "",
                   sched_test::spinning, sched_test::parking, sched_test::neighbourly) {
  TestType s{{.workers = 2}};
  CHECK(s.execute([] { return fib(TESSERA_TEST_SANITIZED ? 18 : 24); }) ==
        (TESSERA_TEST_SANITIZED ? 2584 : 46368));
  std::atomic<int> calls{0};
  tessera::parallel_invoke(
      s, [&] { calls++; }, [&] { calls++; }, [&] { calls++; }, [&] { calls++; });
  CHECK(calls.load() == 4);
  CHECK(s.stats().tasks > 0);
}

TEST_CASE("parallel_invoke rethrows an exception of either branch") {
  tessera::scheduler s{{.workers = 2}};
  CHECK_THROWS_AS(tessera::parallel_invoke(
                      s, [] { throw std::length_error("left"); }, [] {}),
                  std::length_error);
  CHECK_THROWS_AS(tessera::parallel_invoke(
                      s, [] {}, [] { throw std::length_error("right"); }),
                  std::length_error);
}

TEST_CASE("the algorithms without a scheduler use default_scheduler()") {
  std::vector<int> v(1000, 1);
  tessera::parallel_for(std::size_t{0}, v.size(), [&](std::size_t i) { v[i] += 1; });
  CHECK(std::accumulate(v.begin(), v.end(), 0) == 2000);
  tessera::parallel_sort(v.begin(), v.end());
  long a = 0, b = 0;
  tessera::parallel_invoke([&] { a = 1; }, [&] { b = 2; });
  CHECK(a + b == 3);
}
