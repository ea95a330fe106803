#include "tessera/profile/sampler.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "tessera/profile/metrics.hpp"
#include "tessera/profile/session.hpp"

namespace tp = tessera::profile;

TEST_CASE("a process sample sees CPU time, resident memory, page faults and context switches") {
  const auto before = tp::sample_process();
  volatile double x = 0;
  for (int i = 0; i < 2'000'000; ++i) x = x + 1.0;
  constexpr std::size_t bytes = 16u << 20;
  auto block = std::make_unique<char[]>(bytes);
  std::memset(block.get(), 1, bytes);                         // touching fresh pages faults them in
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // gives the CPU up voluntarily
  const auto after = tp::sample_process();
  CHECK(after.user_cpu_seconds + after.system_cpu_seconds >
        before.user_cpu_seconds + before.system_cpu_seconds);
  CHECK(after.resident_bytes > 0);
  CHECK(after.minor_faults + after.major_faults > before.minor_faults + before.major_faults);
  CHECK(after.voluntary_switches > before.voluntary_switches);
  if (!after.energy_joules) WARN("RAPL energy counters are not readable here: energy not sampled");
  CHECK(block[bytes - 1] == 1);
}

TEST_CASE("the sampler records counter tracks into the session and publishes process metrics") {
  tp::session s;
  s.start();
  {
    tp::process_sampler sampler{{.period = std::chrono::milliseconds(1)}};
    while (sampler.samples() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto m = tp::metrics().snapshot();
    const auto* rss = m.find("tessera_process_resident_memory_bytes");
    REQUIRE(rss != nullptr);
    CHECK(rss->series.at(0).value > 0);
    REQUIRE(m.find("tessera_process_cpu_seconds_total") != nullptr);
    CHECK(m.find("tessera_process_cpu_seconds_total")->series.size() == 2);
  }
  const auto& t = s.stop();
  int rss_samples = 0;
  std::string thread_name;
  for (const auto& th : t.threads)
    for (const auto& e : th.events)
      if (std::string(e.where->name) == "process resident bytes") {
        ++rss_samples;
        thread_name = th.name;
      }
  CHECK(rss_samples >= 3);
  CHECK(thread_name == "tessera process sampler");
  CHECK(tp::metrics().snapshot().find("tessera_process_resident_memory_bytes") == nullptr);
}
