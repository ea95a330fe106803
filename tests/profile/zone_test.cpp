#include "tessera/profile/zone.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <thread>

#include "tessera/profile/session.hpp"

namespace tp = tessera::profile;

namespace {
const tp::thread_trace* only_thread(const tp::trace& t) {
  return t.threads.size() == 1 ? &t.threads.front() : nullptr;
}
}  // namespace

TEST_CASE("a zone records its call site and encloses the zones nested in it") {
  tp::session s;
  s.start();
  {
    TESSERA_ZONE("outer");
    { TESSERA_ZONE("inner"); }
  }
  const auto& t = s.stop();
  const auto* th = only_thread(t);
  REQUIRE(th != nullptr);
  REQUIRE(th->events.size() == 2);
  const auto& inner = th->events[0];  // recorded when it ended, before outer
  const auto& outer = th->events[1];
  CHECK(std::string(inner.where->name) == "inner");
  CHECK(std::string(outer.where->name) == "outer");
  CHECK(std::string(outer.where->file).find("zone_test.cpp") != std::string::npos);
  CHECK(outer.where->line > 0);
  CHECK(std::strlen(outer.where->function) > 0);
  CHECK(outer.t0 <= inner.t0);
  CHECK(inner.t1 <= outer.t1);
  CHECK(t.dropped() == 0);
}

TEST_CASE("nothing is recorded while no session runs") {
  { TESSERA_ZONE("before"); }
  tp::session s;
  s.start();
  { TESSERA_ZONE("during"); }
  const auto& t = s.stop();
  { TESSERA_ZONE("after"); }
  REQUIRE(t.event_count() == 1);
  CHECK(std::string(t.threads[0].events[0].where->name) == "during");
}

TEST_CASE("zone values, instants, counter samples and async spans are captured") {
  tp::session s;
  s.start();
  { TESSERA_ZONE_VALUE("chunk", 4096); }
  TESSERA_INSTANT("checkpoint");
  TESSERA_PLOT("queue length", 7);
  TESSERA_ASYNC_BEGIN(span, "request");
  CHECK(span.open());
  std::thread([span]() mutable { TESSERA_ASYNC_END(span); }).join();
  const auto& t = s.stop();
  int zones = 0, instants = 0, counters = 0, asyncs = 0;
  for (const auto& th : t.threads) {
    for (const auto& e : th.events) {
      switch (e.where->kind) {
        case tp::site_kind::zone_value:
          ++zones;
          CHECK(std::bit_cast<double>(e.arg) == 4096.0);
          break;
        case tp::site_kind::instant: ++instants; break;
        case tp::site_kind::counter_track:
          ++counters;
          CHECK(std::bit_cast<double>(e.arg) == 7.0);
          break;
        case tp::site_kind::async:
          ++asyncs;
          CHECK(e.t0 <= e.t1);
          CHECK(th.tid != (e.arg >> 32));  // began on main, ended on the helper thread
          break;
        default: break;
      }
    }
  }
  CHECK(zones == 1);
  CHECK(instants == 1);
  CHECK(counters == 1);
  CHECK(asyncs == 1);
}

TEST_CASE("a named thread carries its name into the trace") {
  tp::session s;
  s.start();
  std::thread([] {
    tp::set_thread_name("decoder");
    TESSERA_ZONE("decode");
  }).join();
  const auto& t = s.stop();
  REQUIRE(t.threads.size() == 1);
  CHECK(t.threads[0].name == "decoder");
}
