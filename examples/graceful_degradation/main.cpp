// graceful_degradation: a simulated service under one memory budget. Request buffers are high
// priority (with a reservation); the result cache is low priority and shrinks through its
// reclaimer when buffers need room; an optional feature (recommendations) switches off when
// pressure turns critical and back on once it falls. Load rises, then falls; a timeline shows
// the cache giving way and everything coming back.
#include <cstddef>
#include <cstdio>
#include <string>
#include <tessera/budget/budget.hpp>
#include <tessera/cache/cache.hpp>
#include <vector>

namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;

// Results are 64 KiB each; the cache charges every entry's bytes to its budget account.
constexpr std::size_t result_size = 64 * KiB;

}  // namespace

int main() {
  tessera::budget memory{{.name = "service",
                          .limit = 64 * MiB,
                          .elevated_at = 0.80,
                          .critical_at = 0.95,
                          .hysteresis = 0.15}};
  auto& buffers = memory.create_account(
      {.name = "request_buffers", .priority = tessera::priority::high, .reserved = 8 * MiB});
  auto& cache_account = memory.create_account(
      {.name = "result_cache", .priority = tessera::priority::low, .high = 40 * MiB});
  auto& feature_account = memory.create_account(
      {.name = "recommendations", .priority = tessera::priority::normal, .limit = 8 * MiB});
  // The result cache: tessera::cache charging its entries to the low-priority account. When the
  // budget needs memory for request buffers it calls the account's reclaimer and the cache
  // evicts by its policy; an insert the account cannot pay for is skipped (served uncached).
  tessera::cache<int, std::string> cache{{.capacity = 1'000'000,
                                          .budget = cache_account,
                                          .bytes_per_entry = result_size,
                                          .name = "results"}};

  bool recommendations = true;
  auto subscription = memory.on_pressure([&](tessera::pressure_level level) {
    if (level == tessera::pressure_level::critical) recommendations = false;
    if (level == tessera::pressure_level::ok) recommendations = true;
  });

  std::printf("%4s %8s %10s %10s %10s %9s %16s %10s\n", "tick", "requests", "buffers", "cache",
              "hit rate", "pressure", "recommendations", "reclaimed");
  const std::size_t buffer_size = 256 * KiB;
  int next_key = 0;
  for (int tick = 0; tick < 40; ++tick) {
    // Load rises to a peak at tick 20 and falls back.
    const int requests = 20 + 9 * (tick <= 20 ? tick : 40 - tick);
    std::vector<tessera::budget::reservation> in_flight;
    int hits = 0;
    int served = 0;
    for (int r = 0; r < requests; ++r) {
      // A request buffer waits briefly for memory; the budget reclaims from the cache first.
      auto buffer = buffers.try_reserve(buffer_size);
      if (!buffer) continue;  // shed load: the service stays up
      in_flight.push_back(std::move(*buffer));
      ++served;
      const int key = (next_key++ * 7) % 400;  // results repeat: worth caching
      if (cache.get(key)) {
        ++hits;
      } else {
        cache.put(key, std::string(result_size, 'r'));
      }
      if (recommendations) {
        // The optional feature uses scratch memory of its own while it is on.
        if (auto scratch = feature_account.try_reserve(32 * KiB)) { /* compute, then drop */
        }
      }
    }
    std::printf("%4d %8d %9zuM %9zuM %9.0f%% %9s %16s %9zuM\n", tick, served,
                buffers.charged() / MiB, cache.size() * result_size / MiB,
                served != 0 ? 100.0 * hits / served : 0.0,
                std::string(tessera::to_string(memory.pressure())).c_str(),
                recommendations ? "on" : "off", cache_account.reclaimed() / MiB);
    in_flight.clear();  // requests complete, buffers go back
  }
  std::printf("peak %zu MiB of %zu MiB; cache denied %llu inserts\n", memory.peak() / MiB,
              memory.limit() / MiB, static_cast<unsigned long long>(cache_account.denied()));
  return 0;
}
