#include "tessera/profile/clock.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

TEST_CASE("calibrated ticks track steady_clock") {
  const auto& info = tessera::profile::init_clock();
  CHECK(info.ticks_per_ns > 0);
  if (const char* env = std::getenv("TESSERA_PROFILE_CLOCK"); env && std::string(env) == "steady") {
    CHECK_FALSE(info.using_tsc);
    CHECK(info.ticks_per_ns == 1.0);
  } else if (!info.using_tsc) {
    WARN("the TSC is not used here: cpuid does not report an invariant TSC");
  }
  const auto t0 = tessera::profile::now_ticks();
  const auto s0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto t1 = tessera::profile::now_ticks();
  const auto s1 = std::chrono::steady_clock::now();
  const auto c = tessera::profile::calibration();
  const double measured = double(c.to_ns(t1) - c.to_ns(t0));
  const double expected =
      double(std::chrono::duration_cast<std::chrono::nanoseconds>(s1 - s0).count());
  // Calibration error is ~1e-4; the slack covers preemption between the paired reads.
  CHECK(measured == Approx(expected).epsilon(0.05));
}

TEST_CASE("ticks never go backwards on one thread") {
  tessera::profile::init_clock();
  auto prev = tessera::profile::now_ticks();
  for (int i = 0; i < 100000; ++i) {
    const auto t = tessera::profile::now_ticks();
    REQUIRE(t >= prev);
    prev = t;
  }
}
