// tessera memoized_service: an expensive function (a "render" that takes ~200 us) memoized
// through a two-tier cache, a small memory tier over a zstd-compressed tier. Four client
// threads request pages with a Zipf-like skew; the program prints each tier's hit ratio and
// the mean latency of a request with and without the cache.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <tessera/cache/cache.hpp>

namespace caching = tessera::caching;
using clock_type = std::chrono::steady_clock;

// The expensive function: deterministic output, ~200 us of work per call.
std::string render_page(int page) {
  std::string html = "<html><body><h1>page " + std::to_string(page) + "</h1>";
  const auto until = clock_type::now() + std::chrono::microseconds(200);
  std::uint64_t x = static_cast<std::uint64_t>(page) * 0x9e3779b97f4a7c15ULL;
  while (clock_type::now() < until) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  for (int i = 0; i < 40; ++i)
    html += "<p>paragraph " + std::to_string(i) + " of " + std::to_string(x % 1000) + "</p>";
  return html + "</body></html>";
}

int main() {
  constexpr int pages = 20'000, threads = 4, requests_per_thread = 20'000;
  // 500 pages stay rendered in memory; about 8 MiB of compressed pages sit below them.
  using page_cache = tessera::tiered_cache<int, std::string, caching::memory_tier<>,
                                           caching::compressed_tier<caching::zstd>>;
  page_cache cache({.capacity = 500}, {.capacity_bytes = 8 << 20}, "pages");
  auto cached_render = tessera::memoize(render_page, cache);

  // Zipf(0.9)-like page popularity.
  std::vector<double> cdf(pages);
  double sum = 0;
  for (int i = 0; i < pages; ++i)
    cdf[static_cast<std::size_t>(i)] = (sum += 1.0 / std::pow(i + 1, 0.9));

  std::atomic<std::int64_t> total_ns{0};
  std::atomic<std::size_t> bytes{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<unsigned>(t) + 1);
      std::uniform_real_distribution<double> u(0, sum);
      for (int i = 0; i < requests_per_thread; ++i) {
        const int page =
            static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
        const auto t0 = clock_type::now();
        bytes += cached_render(page).size();
        total_ns += (clock_type::now() - t0).count();
      }
    });
  }
  for (auto& c : clients) c.join();

  const auto st = cache.stats();
  const double requests = double(threads) * requests_per_thread;
  std::printf("%d requests over %d pages, %zu bytes served\n", threads * requests_per_thread, pages,
              bytes.load());
  for (const auto& s : st) {
    const double asked = double(s.hits + s.misses);
    std::printf("  tier %-10.*s hits %8llu  misses %8llu  hit ratio %5.1f%%  entries %llu\n",
                static_cast<int>(s.tier.size()), s.tier.data(),
                static_cast<unsigned long long>(s.hits), static_cast<unsigned long long>(s.misses),
                asked > 0 ? 100.0 * double(s.hits) / asked : 0.0,
                static_cast<unsigned long long>(s.entries));
  }
  const auto t0 = clock_type::now();
  for (int i = 0; i < 200; ++i) (void)render_page(i);
  const double uncached_us =
      std::chrono::duration<double, std::micro>(clock_type::now() - t0).count() / 200;
  std::printf("mean latency: %.1f us per request with the cache, %.1f us uncached\n",
              double(total_ns.load()) / requests / 1000.0, uncached_us);
  return 0;
}
