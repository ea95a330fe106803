// tessera showcase: one small program in which every module plays its part, printing what it
// did. A scheduler computes, a memoized function is served from a cache whose bytes are charged
// to a budget, objects come from a pool, and the profiler times it all and exports the metrics.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <tessera/tessera.hpp>
#include <vector>

namespace {

// Something worth caching: the number of primes below n, counted in parallel.
long count_primes(tessera::scheduler& sched, long n) {
  TESSERA_ZONE("count_primes");
  return tessera::parallel_reduce(
      sched, 2L, n, 0L,
      [](long b, long e, long acc) {
        for (long x = b; x < e; ++x) {
          bool prime = true;
          for (long d = 2; d * d <= x && prime; ++d) prime = x % d != 0;
          acc += prime ? 1 : 0;
        }
        return acc;
      },
      [](long a, long b) { return a + b; });
}

struct order {
  long id;
  double price;
};

}  // namespace

int main() {
  const auto info = tessera::build_info();
  std::printf("tessera %s built with %s (mimalloc %s, oneTBB interop %s, assertions %s)\n",
              info.version.c_str(), info.compiler.c_str(), info.mimalloc ? "on" : "off",
              info.tbb ? "on" : "off", info.assertions ? "on" : "off");

  tessera::profile::session session{{.process_name = "showcase"}};
  session.start();

  // budget: the cache may use 1 MiB, at low priority.
  tessera::budget memory{{.name = "showcase", .limit = 1 << 20}};
  auto& cache_bytes = memory.create_account(
      {.name = "prime_cache", .priority = tessera::priority::low, .limit = 1 << 20});

  // cache + sched: count_primes memoized; repeated arguments are hits.
  tessera::scheduler sched{{.name = "showcase"}};
  tessera::cache<long, long> results{{.capacity = 1'000, .budget = cache_bytes, .name = "primes"}};
  auto primes_below = tessera::memoize([&](long n) { return count_primes(sched, n); }, results);
  long checksum = 0;
  for (int round = 0; round < 3; ++round) {
    for (long n : {10'000L, 50'000L, 100'000L, 200'000L}) checksum += primes_below(n);
  }
  std::printf(
      "primes below 200000: %ld (sched: %u threads); cache: %.0f%% hits, %zu bytes "
      "charged to budget account '%s'\n",
      primes_below(200'000), sched.concurrency(), 100.0 * results.stats().hit_ratio(),
      cache_bytes.charged(), cache_bytes.name().c_str());

  // memory: orders from a thread-caching pool.
  tessera::object_pool<order> orders;
  std::vector<tessera::pool_ptr<order>> book;
  for (long i = 0; i < 10'000; ++i) book.push_back(orders.make(order{i, 100.0 + 0.01 * i}));
  double notional = 0;
  for (const auto& o : book) notional += o->price;
  std::printf("order pool: %zu live orders, notional %.2f\n", book.size(), notional);
  book.clear();

  const auto& trace = session.stop();
  std::printf("profile: %zu events captured (checksum %ld)\n", trace.event_count(), checksum);
  tessera::profile::write_summary_table(std::cout, trace);
  return 0;
}
