#include "tessera/profile/metrics.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "tessera/core/error.hpp"

namespace tp = tessera::profile;

TEST_CASE("a counter adds up every thread's increments") {
  tp::counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.add();
    });
  for (auto& t : threads) t.join();
  c.add(5);
  CHECK(c.value() == 40005);
}

TEST_CASE("more threads than shard slots still count exactly") {
  tp::counter c;
  tp::histogram h;
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  constexpr int n = static_cast<int>(tp::detail::max_slots) + 8;
  for (int t = 0; t < n; ++t)
    threads.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < n) std::this_thread::yield();  // all alive at once
      for (int i = 0; i < 100; ++i) {
        c.add();
        h.record(1.0);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(c.value() == std::uint64_t(n) * 100);
  CHECK(h.snapshot().count() == std::uint64_t(n) * 100);
}

TEST_CASE("a gauge holds the last value set plus what was added") {
  tp::gauge g;
  g.set(10);
  g.add(-2.5);
  CHECK(g.value() == 7.5);
}

TEST_CASE("histogram percentiles are within 1% of the exact quantiles on random data") {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(10.0, 2.0);  // spans many octaves
  std::vector<double> values(100000);
  for (auto& v : values) v = dist(rng);
  tp::histogram h;
  for (double v : values) h.record(v);
  auto sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const auto snap = h.snapshot();
  REQUIRE(snap.count() == values.size());
  double exact_sum = 0;
  for (double v : values) exact_sum += v;
  CHECK(snap.sum() == Approx(exact_sum).epsilon(0.008));
  CHECK(snap.min() == sorted.front());
  CHECK(snap.max() == sorted.back());
  for (double q : {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0}) {
    const auto rank = std::max<std::size_t>(1, std::size_t(std::ceil(q * double(sorted.size()))));
    const double exact = sorted[rank - 1];
    const double got = snap.quantile(q);
    INFO("q=" << q << " exact=" << exact << " histogram=" << got);
    CHECK(std::fabs(got - exact) <= 0.01 * exact);
  }
}

TEST_CASE("merged histogram snapshots equal one histogram of all values") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(1e-6, 1e3);
  tp::histogram_snapshot a, b, all;
  for (int i = 0; i < 5000; ++i) {
    const double v = dist(rng);
    (i % 2 ? a : b).add(v);
    all.add(v);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.buckets() == all.buckets());
  CHECK(a.quantile(0.5) == all.quantile(0.5));
  CHECK(a.sum() == Approx(all.sum()));
}

TEST_CASE("a histogram records from several threads") {
  tp::histogram h;
  std::vector<std::thread> threads;
  for (int t = 1; t <= 3; ++t)
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 1000; ++i) h.record(double(t));
    });
  for (auto& t : threads) t.join();
  const auto s = h.snapshot();
  CHECK(s.count() == 3000);
  CHECK(s.sum() == Approx(6000).epsilon(0.008));  // estimated from the buckets
  CHECK(s.min() == 1.0);
  CHECK(s.max() == 3.0);
  CHECK(s.quantile(0.5) == Approx(2.0).epsilon(0.01));
}

TEST_CASE("non-positive values land in the lowest bucket and keep min exact") {
  tp::histogram_snapshot s;
  s.add(0.0);
  s.add(-3.0);
  s.add(5.0);
  CHECK(s.min() == -3.0);
  CHECK(s.quantile(0.0) == -3.0);
  CHECK(s.quantile(1.0) == Approx(5.0).epsilon(0.01));
}

TEST_CASE("a histogram keeps exact extremes across negative, zero, huge and NaN records") {
  tp::histogram h;
  for (double v : {5.0, -3.0, 0.0, 1e300, std::nan(""), 0.25}) h.record(v);
  const auto s = h.snapshot();
  CHECK(s.count() == 6);
  CHECK(s.min() == -3.0);
  CHECK(s.max() == 1e300);
  CHECK(s.quantile(0.0) == -3.0);
  CHECK(s.quantile(1.0) == 1e300);
}

TEST_CASE("the registry returns one metric per name and label set") {
  tp::registry r;
  auto& a = r.counter("tessera_test_requests_total", "requests", {{"route", "/a"}});
  auto& b = r.counter("tessera_test_requests_total", "requests", {{"route", "/b"}});
  auto& a2 = r.counter("tessera_test_requests_total", "requests", {{"route", "/a"}});
  CHECK(&a == &a2);
  CHECK(&a != &b);
  a.add(3);
  b.add(1);
  r.gauge("tessera_test_queue_length", "queue").set(4);
  r.histogram("tessera_test_latency_seconds", "latency").record(0.5);
  const auto snap = r.snapshot(false);
  const auto* requests = snap.find("tessera_test_requests_total");
  REQUIRE(requests != nullptr);
  REQUIRE(requests->series.size() == 2);
  CHECK(requests->series[0].value == 3);
  CHECK(requests->series[0].labels.at(0).second == "/a");
  CHECK(snap.find("tessera_test_queue_length")->series[0].value == 4);
  CHECK(snap.find("tessera_test_latency_seconds")->series[0].histogram.count() == 1);
}

TEST_CASE("the registry rejects bad names and a name reused for another kind") {
  tp::registry r;
  CHECK_THROWS_AS(r.counter("bad name", "x"), tessera::error);
  CHECK_THROWS_AS(r.counter("ok_total", "x", {{"bad-label", "v"}}), tessera::error);
  r.counter("tessera_test_things_total", "x");
  CHECK_THROWS_AS(r.gauge("tessera_test_things_total", "x"), tessera::error);
}

TEST_CASE("a registry snapshot includes the collectors published through hooks") {
  tp::registry r;
  r.counter("tessera_test_own_total", "own").add(2);
  auto pub = tp::publish("fake", [](tp::metric_sink& s) {
    s.counter("tessera_test_published_total", "published", 9, {{"worker", "0"}});
    s.gauge("tessera_test_own_total", "a gauge under a counter's name is ignored", 1);
  });
  const auto snap = r.snapshot();
  REQUIRE(snap.find("tessera_test_published_total") != nullptr);
  CHECK(snap.find("tessera_test_published_total")->series.at(0).value == 9);
  CHECK(snap.find("tessera_test_own_total")->series.size() == 1);
  pub.reset();
  CHECK(r.snapshot().find("tessera_test_published_total") == nullptr);
}
