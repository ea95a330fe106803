// bench_cache: tessera::cache against the caches a C++ user would otherwise pick:
//   mutex_lru  std::mutex + std::list + std::unordered_map, splice on hit (the hand-written LRU)
//   tbb_lru    tbb::concurrent_lru_cache (oneTBB's preview LRU, operator[] loads on a miss)
// Workloads (keys Zipf 0.99 over 1M keys, cache of 100k entries, 2 threads):
//   get_hit      reads of cached keys only (the Zipf draws that fall in the cached 100k)
//   cache_mixed  90% get, 10% put (the issue's `mixed`, renamed: bench_memory has a `mixed`
//                workload and tools/bench_ratio.py groups all binaries together; tbb_lru has
//                no put, so it is not in this group)
//   get_or_load  read, loading (a cheap computation) and inserting on a miss
// and, for tessera alone, per-tier latency: tier_get/tessera/{memory,memory_zstd,memory_disk}
// and disk_tier/tessera/{read,write}. TESSERA_QUICK=1 shrinks the key space ten times.
#define TBB_PREVIEW_CONCURRENT_LRU_CACHE 1
#include <tbb/concurrent_lru_cache.h>

#include <benchmark/benchmark.h>

#include "quick_mode.hpp"

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/cache/cache.hpp"

namespace {

namespace caching = tessera::caching;
using key_t_ = std::uint64_t;
using value_t = std::uint64_t;

const bool quick = tessera_bench::quick_mode();
const std::size_t kKeys = quick ? 100'000 : 1'000'000;
const std::size_t kCapacity = kKeys / 10;
constexpr std::size_t kStream = 1 << 20;
constexpr std::size_t kBatch = 1024;

key_t_ key_of_rank(std::size_t r) {
  return caching::detail::mix64(r + 1);
}
value_t value_of(key_t_ k) {
  return k * 2 + 1;
}

// Zipf(0.99) ranks by inversion of the CDF; rank 0 is the most popular key.
std::vector<std::uint32_t> zipf_ranks(std::size_t n, std::size_t count, std::uint32_t seed) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i)
    cdf[i] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), 0.99));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<std::uint32_t> out(count);
  for (auto& r : out) {
    r = static_cast<std::uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
  }
  return out;
}

struct streams {
  std::vector<key_t_> all;  // Zipf over every key
  std::vector<key_t_> hot;  // the draws that fall in the cached (most popular) ranks
  std::vector<std::uint8_t> is_put;
  streams() {
    const auto ranks = zipf_ranks(kKeys, kStream * 2, 42);
    for (auto r : ranks) {
      if (all.size() < kStream) all.push_back(key_of_rank(r));
      if (r < kCapacity && hot.size() < kStream) hot.push_back(key_of_rank(r));
    }
    std::mt19937 rng(7);
    is_put.resize(kStream);
    for (auto& p : is_put) p = rng() % 10 == 0;
  }
};
const streams& keys() {
  static const streams s;
  return s;
}

// --- peers -----------------------------------------------------------------------------------

// The hand-written LRU done right: one lock, reserve()d map, splice instead of erase+insert,
// the value copied out under the lock.
class mutex_lru {
 public:
  explicit mutex_lru(std::size_t capacity) : capacity_(capacity) { map_.reserve(capacity * 2); }
  std::optional<value_t> get(key_t_ k) {
    std::lock_guard lock(mu_);
    auto it = map_.find(k);
    if (it == map_.end()) return std::nullopt;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }
  void put(key_t_ k, value_t v) {
    std::lock_guard lock(mu_);
    auto it = map_.find(k);
    if (it != map_.end()) {
      it->second->second = v;
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    if (map_.size() >= capacity_) {
      // Reuse the evicted node: no allocation on a full cache.
      auto last = std::prev(order_.end());
      map_.erase(last->first);
      last->first = k;
      last->second = v;
      order_.splice(order_.begin(), order_, last);
    } else {
      order_.emplace_front(k, v);
    }
    map_.emplace(k, order_.begin());
  }
  template <class F>
  value_t get_or_load(key_t_ k, F&& load) {
    if (auto v = get(k)) return *v;
    const value_t v = load();
    put(k, v);
    return v;
  }

 private:
  std::mutex mu_;
  std::size_t capacity_;
  std::list<std::pair<key_t_, value_t>> order_;
  std::unordered_map<key_t_, std::list<std::pair<key_t_, value_t>>::iterator> map_;
};

value_t tbb_load(key_t_ k) {
  return value_of(k);
}
using tbb_lru = tbb::concurrent_lru_cache<key_t_, value_t, value_t (*)(key_t_)>;

using tessera_cache = tessera::cache<key_t_, value_t>;

template <class C>
std::unique_ptr<C> make(std::size_t capacity);
template <>
std::unique_ptr<tessera_cache> make(std::size_t capacity) {
  return std::make_unique<tessera_cache>(tessera_cache::options{.capacity = capacity});
}
template <>
std::unique_ptr<mutex_lru> make(std::size_t capacity) {
  return std::make_unique<mutex_lru>(capacity);
}
template <>
std::unique_ptr<tbb_lru> make(std::size_t capacity) {
  return std::make_unique<tbb_lru>(&tbb_load, capacity);
}

template <class C>
void fill_hot(C& c) {
  for (std::size_t r = 0; r < kCapacity; ++r) {
    const auto k = key_of_rank(r);
    if constexpr (std::is_same_v<C, tbb_lru>) {
      (void)c[k].value();
    } else {
      c.put(k, value_of(k));
    }
  }
}

template <class C>
value_t read(C& c, key_t_ k) {
  if constexpr (std::is_same_v<C, tbb_lru>) {
    return c[k].value();
  } else {
    auto v = c.get(k);
    return v ? *v : 0;
  }
}

// One cache per benchmark run, built by thread 0 before the timed loop (Google Benchmark's loop
// start is a barrier for all threads).
template <class C>
std::unique_ptr<C>& shared_cache() {
  static std::unique_ptr<C> c;
  return c;
}

template <class C>
void get_hit(benchmark::State& state) {
  const auto& ks = keys().hot;
  if (state.thread_index() == 0) {
    shared_cache<C>() = make<C>(kCapacity);
    fill_hot(*shared_cache<C>());
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (ks.size() / 2);
  value_t sum = 0;
  for (auto _ : state) {
    C& c = *shared_cache<C>();
    for (std::size_t b = 0; b < kBatch; ++b) {
      sum += read(c, ks[i]);
      if (++i == ks.size()) i = 0;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  if (state.thread_index() == 0) shared_cache<C>().reset();
}

template <class C>
void mixed(benchmark::State& state) {
  const auto& ks = keys().all;
  const auto& puts = keys().is_put;
  if (state.thread_index() == 0) {
    shared_cache<C>() = make<C>(kCapacity);
    fill_hot(*shared_cache<C>());
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (ks.size() / 2);
  value_t sum = 0;
  for (auto _ : state) {
    C& c = *shared_cache<C>();
    for (std::size_t b = 0; b < kBatch; ++b) {
      if (puts[i]) {
        c.put(ks[i], value_of(ks[i]));
      } else {
        sum += read(c, ks[i]);
      }
      if (++i == ks.size()) i = 0;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  if (state.thread_index() == 0) shared_cache<C>().reset();
}

template <class C>
void get_or_load(benchmark::State& state) {
  const auto& ks = keys().all;
  if (state.thread_index() == 0) {
    shared_cache<C>() = make<C>(kCapacity);
    fill_hot(*shared_cache<C>());
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (ks.size() / 2);
  value_t sum = 0;
  for (auto _ : state) {
    C& c = *shared_cache<C>();
    for (std::size_t b = 0; b < kBatch; ++b) {
      const key_t_ k = ks[i];
      if constexpr (std::is_same_v<C, tbb_lru>) {
        sum += c[k].value();
      } else {
        sum += c.get_or_load(k, [k] { return value_of(k); });
      }
      if (++i == ks.size()) i = 0;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  if (state.thread_index() == 0) shared_cache<C>().reset();
}

// --- tiers (tessera only): the cost of a lookup that goes below the first tier ----------------

std::string blob_of(key_t_ k) {
  std::string s = "record " + std::to_string(k) + " ";
  while (s.size() < 512) s += "lorem ipsum dolor sit amet ";
  return s;
}

std::filesystem::path bench_dir() {
  return std::filesystem::temp_directory_path() /
         ("tessera_bench_cache_" + std::to_string(::getpid()));
}

// Keys Zipf over 10x the first tier; the rest of the working set sits in the lower tier.
template <class Tiered, class Make>
void tier_get(benchmark::State& state, Make make_cache) {
  const std::size_t n = quick ? 20'000 : 100'000, first = n / 10;
  auto c = make_cache(first, n);
  for (std::size_t r = 0; r < n; ++r) c->put(key_of_rank(r), blob_of(key_of_rank(r)));
  const auto ranks = zipf_ranks(n, 1 << 16, 9);
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    auto v = c->get(key_of_rank(ranks[i]));
    bytes += v ? v->size() : 0;
    if (++i == ranks.size()) i = 0;
  }
  benchmark::DoNotOptimize(bytes);
  const auto st = c->stats();
  state.counters["first_tier_hit_ratio"] =
      static_cast<double>(st[0].hits) /
      static_cast<double>(std::max<std::uint64_t>(st[0].hits + st[0].misses, 1));
  if (st.size() > 1) {
    state.counters["lower_tier_hits"] = static_cast<double>(st[1].hits);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  c.reset();
  std::filesystem::remove_all(bench_dir());
}

using one_tier = tessera::tiered_cache<key_t_, std::string, caching::memory_tier<>>;
using zstd_tiers = tessera::tiered_cache<key_t_, std::string, caching::memory_tier<>,
                                         caching::compressed_tier<caching::zstd>>;
using disk_tiers =
    tessera::tiered_cache<key_t_, std::string, caching::memory_tier<>, caching::disk_tier<>>;

void tier_get_memory(benchmark::State& state) {
  // The whole working set in memory: the baseline the lower tiers are measured against.
  tier_get<one_tier>(state, [](std::size_t, std::size_t n) {
    return std::make_unique<one_tier>(caching::memory_tier<>::options{.capacity = n});
  });
}
void tier_get_memory_zstd(benchmark::State& state) {
  tier_get<zstd_tiers>(state, [](std::size_t first, std::size_t n) {
    return std::make_unique<zstd_tiers>(
        caching::memory_tier<>::options{.capacity = first},
        caching::compressed_tier<caching::zstd>::options{.capacity_bytes = n * 512});
  });
}
void tier_get_memory_disk(benchmark::State& state) {
  tier_get<disk_tiers>(state, [](std::size_t first, std::size_t) {
    std::filesystem::remove_all(bench_dir());
    return std::make_unique<disk_tiers>(caching::memory_tier<>::options{.capacity = first},
                                        caching::disk_options{.directory = bench_dir()});
  });
}

// Raw disk tier latency: one record read or written per iteration (page cache warm).
void disk_read(benchmark::State& state) {
  std::filesystem::remove_all(bench_dir());
  {
    caching::disk_store d({.directory = bench_dir()});
    const std::size_t n = 10'000;
    for (std::size_t k = 0; k < n; ++k) d.put(key_of_rank(k), std::to_string(k), blob_of(k));
    std::size_t i = 0, bytes = 0;
    for (auto _ : state) {
      auto v = d.get(key_of_rank(i), std::to_string(i));
      bytes += v ? v->size() : 0;
      if (++i == n) i = 0;
    }
    benchmark::DoNotOptimize(bytes);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  }
  std::filesystem::remove_all(bench_dir());
}
void disk_write(benchmark::State& state) {
  std::filesystem::remove_all(bench_dir());
  {
    caching::disk_store d({.directory = bench_dir(), .capacity_bytes = 256 << 20});
    const std::string blob = blob_of(1);
    std::size_t i = 0;
    for (auto _ : state) {
      d.put(key_of_rank(i), std::to_string(i), blob);
      ++i;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * blob.size()));
  }
  std::filesystem::remove_all(bench_dir());
}

}  // namespace

BENCHMARK_TEMPLATE(get_hit, tessera_cache)->Name("get_hit/tessera")->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(get_hit, mutex_lru)->Name("get_hit/mutex_lru")->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(get_hit, tbb_lru)->Name("get_hit/tbb_lru")->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(mixed, tessera_cache)->Name("cache_mixed/tessera")->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(mixed, mutex_lru)->Name("cache_mixed/mutex_lru")->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(get_or_load, tessera_cache)
    ->Name("get_or_load/tessera")
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(get_or_load, mutex_lru)
    ->Name("get_or_load/mutex_lru")
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(get_or_load, tbb_lru)->Name("get_or_load/tbb_lru")->Threads(2)->UseRealTime();
BENCHMARK(tier_get_memory)->Name("tier_get/tessera/memory");
BENCHMARK(tier_get_memory_zstd)->Name("tier_get/tessera/memory_zstd");
BENCHMARK(tier_get_memory_disk)->Name("tier_get/tessera/memory_disk");
BENCHMARK(disk_read)->Name("disk_tier/tessera/read");
BENCHMARK(disk_write)->Name("disk_tier/tessera/write");

BENCHMARK_MAIN();
