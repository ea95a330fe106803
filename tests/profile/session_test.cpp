#include "tessera/profile/session.hpp"

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "tessera/core/error.hpp"

namespace tp = tessera::profile;

namespace {
void zones(int n) {
  for (int i = 0; i < n; ++i) {
    TESSERA_ZONE("work");
  }
}
}  // namespace

TEST_CASE("full buffers under two threads report exactly how many events were dropped") {
  constexpr std::uint32_t capacity = 100;
  constexpr int per_thread = 1000;
  tp::session s{{.buffer_events = capacity, .when_full = tp::full_policy::drop_newest}};
  s.start();
  std::thread a(zones, per_thread), b(zones, per_thread);
  a.join();
  b.join();
  const auto& t = s.stop();
  REQUIRE(t.threads.size() == 2);
  for (const auto& th : t.threads) {
    CHECK(th.events.size() == capacity);
    CHECK(th.dropped == per_thread - capacity);
  }
  CHECK(t.dropped() == 2 * (per_thread - capacity));
}

TEST_CASE("the flush policy keeps every event of a full buffer") {
  tp::session s{{.buffer_events = 64, .when_full = tp::full_policy::flush}};
  s.start();
  std::thread a(zones, 1000), b(zones, 1000);
  a.join();
  b.join();
  const auto& t = s.stop();
  CHECK(t.dropped() == 0);
  CHECK(t.event_count() == 2000);
  for (const auto& th : t.threads) {
    for (std::size_t i = 1; i < th.events.size(); ++i)
      CHECK(th.events[i - 1].t1 <= th.events[i].t1);
  }
}

TEST_CASE("only one session captures at a time") {
  tp::session first;
  first.start();
  tp::session second;
  CHECK_THROWS_AS(second.start(), tessera::error);
  first.stop();
  second.start();
  CHECK(second.running());
  second.stop();
  CHECK_FALSE(second.running());
}

TEST_CASE("a second session does not see the first one's events and buffers are reused") {
  tp::session a{{.buffer_events = 10}};
  a.start();
  zones(20);
  CHECK(a.stop().dropped() == 10);
  tp::session b{{.buffer_events = 50}};
  b.start();
  zones(20);
  const auto& t = b.stop();
  CHECK(t.event_count() == 20);
  CHECK(t.dropped() == 0);
}

TEST_CASE("threads that exit before stop() keep their events in the trace") {
  tp::session s;
  s.start();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(zones, 50);
  for (auto& th : threads) th.join();
  const auto& t = s.stop();
  CHECK(t.threads.size() == 4);
  CHECK(t.event_count() == 200);
}

TEST_CASE("zones recorded concurrently with stop() are either in the trace or gone") {
  std::atomic<bool> done{false};
  tp::session s;
  s.start();
  std::thread worker([&] {
    while (!done.load()) zones(10);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto& t = s.stop();
  done = true;
  worker.join();
  for (const auto& th : t.threads)
    for (const auto& e : th.events) CHECK(e.t0 <= e.t1);
  tp::session again;
  again.start();
  CHECK(again.stop().event_count() == 0);
}
