// bench_memory: tessera's pools against the allocators a user would otherwise pick, on the
// patterns pools are for. Systems: tessera (object_pool for one size, pool_resource for many),
// malloc (glibc), mimalloc, pmr (std::pmr::unsynchronized_pool_resource), pmr_sync
// (std::pmr::synchronized_pool_resource), boost (boost::pool<>, unordered free). A system that
// cannot run a workload (boost: one size only; pmr: one thread only) is left out of it.
#include <benchmark/benchmark.h>

#include <mimalloc.h>
#include "quick_mode.hpp"

#include <algorithm>
#include <atomic>
#include <boost/pool/pool.hpp>
#include <boost/pool/pool_alloc.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory_resource>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tessera/memory/memory.hpp"

// glibc's allocator by its own names: the binary links mimalloc, and Debian's libmimalloc.so
// exports malloc/free, so a plain malloc() call here would measure mimalloc a second time.
extern "C" void* __libc_malloc(std::size_t);
extern "C" void __libc_free(void*);
extern "C" void* __libc_memalign(std::size_t, std::size_t);

namespace {

const bool quick = tessera_bench::quick_mode();

template <std::size_t N>
struct blob {
  unsigned char bytes[N];
};

// ---- the systems, one allocate(n)/deallocate(p, n) face each --------------------------------

struct sys_malloc {
  void* allocate(std::size_t n) { return __libc_malloc(n); }
  void deallocate(void* p, std::size_t) { __libc_free(p); }
};

struct sys_mimalloc {
  void* allocate(std::size_t n) { return mi_malloc(n); }
  void deallocate(void* p, std::size_t) { mi_free(p); }
};

// The pmr pools are used directly (their own allocate/deallocate), default options, over the
// default upstream, as their documentation shows.
struct sys_pmr {
  std::pmr::unsynchronized_pool_resource r;
  void* allocate(std::size_t n) { return r.allocate(n, alignof(std::max_align_t)); }
  void deallocate(void* p, std::size_t n) { r.deallocate(p, n, alignof(std::max_align_t)); }
};

struct sys_pmr_sync {
  std::pmr::synchronized_pool_resource r;
  void* allocate(std::size_t n) { return r.allocate(n, alignof(std::max_align_t)); }
  void deallocate(void* p, std::size_t n) { r.deallocate(p, n, alignof(std::max_align_t)); }
};

// boost::pool<>: one size per pool; free() is the unordered (constant time) release.
template <std::size_t N>
struct sys_boost {
  boost::pool<> p{N};
  void* allocate(std::size_t) { return p.malloc(); }
  void deallocate(void* q, std::size_t) { p.free(q); }
};

// tessera for one size: object_pool (thread-caching, default upstream).
template <std::size_t N>
struct sys_tessera_pool {
  tessera::object_pool<blob<N>> p{{.name = "bench", .publish_metrics = false}};
  void* allocate(std::size_t) { return p.allocate(); }
  void deallocate(void* q, std::size_t) { p.deallocate(static_cast<blob<N>*>(q)); }
};

// tessera for many sizes: pool_resource (thread-caching size classes).
struct sys_tessera_resource {
  tessera::pool_resource r{{.name = "bench", .publish_metrics = false}};
  void* allocate(std::size_t n) { return r.allocate(n, alignof(std::max_align_t)); }
  void deallocate(void* p, std::size_t n) { r.deallocate(p, n, alignof(std::max_align_t)); }
};

// pmr faces of malloc and mimalloc, for the container workloads.
class malloc_resource final : public std::pmr::memory_resource {
  void* do_allocate(std::size_t n, std::size_t a) override {
    void* p = a <= alignof(std::max_align_t) ? __libc_malloc(n) : __libc_memalign(a, n);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void do_deallocate(void* p, std::size_t, std::size_t) override { __libc_free(p); }
  bool do_is_equal(const memory_resource& o) const noexcept override { return this == &o; }
};

class mimalloc_resource final : public std::pmr::memory_resource {
  void* do_allocate(std::size_t n, std::size_t a) override {
    void* p = a <= alignof(std::max_align_t) ? mi_malloc(n) : mi_malloc_aligned(n, a);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void do_deallocate(void* p, std::size_t, std::size_t) override { mi_free(p); }
  bool do_is_equal(const memory_resource& o) const noexcept override { return this == &o; }
};

// ---- churn: allocate 1024 objects, free them all ---------------------------------------------

constexpr std::size_t churn_objects = 1024;

template <class Sys, std::size_t N>
void churn(benchmark::State& state) {
  Sys sys;
  std::vector<void*> ptrs(churn_objects);
  for (auto _ : state) {
    for (auto& p : ptrs) {
      p = sys.allocate(N);
      static_cast<unsigned char*>(p)[0] = 1;
    }
    benchmark::ClobberMemory();
    for (void* p : ptrs) sys.deallocate(p, N);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(churn_objects));
}

// Same, freed in a random order (fixed per run, the same for every system).
template <class Sys, std::size_t N>
void churn_shuffled(benchmark::State& state) {
  Sys sys;
  std::vector<void*> ptrs(churn_objects);
  std::vector<std::size_t> order(churn_objects);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (auto _ : state) {
    for (auto& p : ptrs) {
      p = sys.allocate(N);
      static_cast<unsigned char*>(p)[0] = 1;
    }
    benchmark::ClobberMemory();
    for (std::size_t i : order) sys.deallocate(ptrs[i], N);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(churn_objects));
}

// ---- two threads: a partner thread that runs its part of every iteration ---------------------

class partner {
 public:
  explicit partner(std::function<void()> part) : part_(std::move(part)), t_([this] { loop(); }) {}
  ~partner() {
    stop_ = true;
    go_.fetch_add(1);
    go_.notify_one();
    t_.join();
  }
  // Starts the partner's part, runs `mine`, returns when both are done.
  template <class F>
  void run(F&& mine) {
    const int target = go_.fetch_add(1) + 1;
    go_.notify_one();
    mine();
    await(done_, target);
  }

 private:
  static void await(std::atomic<int>& a, int target) {
    for (int spins = 0;; ++spins) {
      const int seen = a.load(std::memory_order_acquire);
      if (seen >= target) return;
      if (spins >= 4096) a.wait(seen);  // the value checked, or a wake-up could be missed
    }
  }
  void loop() {
    for (int round = 1;; ++round) {
      await(go_, round);
      if (stop_) return;
      part_();
      done_.fetch_add(1, std::memory_order_release);
      done_.notify_one();
    }
  }
  std::function<void()> part_;
  std::atomic<int> go_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  std::thread t_;
};

// cross_thread: one thread allocates batches of 1024 objects, the other frees them. The two run
// at once, one batch apart: while thread A allocates batch i, thread B frees batch i-1 (which
// A allocated), so every free is a free by another thread; one handoff per batch keeps the
// measure on the allocator rather than on thread wake-ups.
template <class Sys, std::size_t N>
void cross_thread(benchmark::State& state) {
  Sys sys;
  std::vector<void*> batches[2] = {std::vector<void*>(churn_objects, nullptr),
                                   std::vector<void*>(churn_objects, nullptr)};
  std::size_t round = 0;
  {
    partner consumer([&] {
      for (void*& p : batches[(round + 1) % 2]) {
        if (p != nullptr) sys.deallocate(p, N);
        p = nullptr;
      }
    });
    for (auto _ : state) {
      consumer.run([&] {
        for (void*& p : batches[round % 2]) {
          p = sys.allocate(N);
          static_cast<unsigned char*>(p)[0] = 1;
        }
      });
      ++round;
    }
  }
  for (auto& b : batches) {
    for (void* p : b) {
      if (p != nullptr) sys.deallocate(p, N);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(churn_objects));
}

// ---- mixed: sizes from a Pareto distribution up to 1 KiB (as mimalloc-bench's alloc-test) ----

struct mixed_script {
  static constexpr std::size_t slots = 1024;
  std::vector<std::uint32_t> size;  // per step: the new object's size
  std::vector<std::uint32_t> slot;  // per step: the slot it replaces
  explicit mixed_script(std::size_t steps) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::size_t i = 0; i < steps; ++i) {
      // Pareto with x_min 16 bytes and shape 1.0, cut at 1 KiB: many small, a long tail.
      const double x = 16.0 / std::pow(1.0 - u(rng), 1.0);
      size.push_back(static_cast<std::uint32_t>(std::min(x, 1024.0)));
      slot.push_back(static_cast<std::uint32_t>(rng() % slots));
    }
  }
};

template <class Sys>
void mixed(benchmark::State& state) {
  static const mixed_script script(quick ? 4096 : 16384);
  Sys sys;
  std::vector<void*> live(mixed_script::slots, nullptr);
  std::vector<std::uint32_t> live_size(mixed_script::slots, 0);
  for (auto _ : state) {
    for (std::size_t i = 0; i < script.size.size(); ++i) {
      const std::uint32_t s = script.slot[i];
      if (live[s] != nullptr) sys.deallocate(live[s], live_size[s]);
      live[s] = sys.allocate(script.size[i]);
      live_size[s] = script.size[i];
      static_cast<unsigned char*>(live[s])[0] = 1;
    }
  }
  for (std::size_t s = 0; s < live.size(); ++s) {
    if (live[s] != nullptr) sys.deallocate(live[s], live_size[s]);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(script.size.size()));
}

// ---- larson: two threads replace random objects; each round the threads swap their sets ----

template <class Sys>
void larson(benchmark::State& state) {
  constexpr std::size_t slots = 1024;
  const std::size_t steps = quick ? 2000 : 8000;
  Sys sys;
  struct set {
    std::vector<void*> p = std::vector<void*>(slots, nullptr);
    std::vector<std::uint32_t> n = std::vector<std::uint32_t>(slots, 0);
  };
  set sets[2];
  std::vector<std::uint32_t> sizes, picks;
  std::mt19937 rng(3);
  for (std::size_t i = 0; i < 2 * steps; ++i) {
    sizes.push_back(16 + rng() % 497);  // 16..512 bytes
    picks.push_back(rng() % slots);
  }
  int round = 0;
  auto work = [&](int thread) {
    set& s = sets[(thread + round) % 2];  // the set the other thread filled last round
    const std::size_t base = static_cast<std::size_t>(thread) * steps;
    for (std::size_t i = 0; i < steps; ++i) {
      const std::uint32_t k = picks[base + i];
      if (s.p[k] != nullptr) sys.deallocate(s.p[k], s.n[k]);
      s.n[k] = sizes[base + i];
      s.p[k] = sys.allocate(s.n[k]);
      static_cast<unsigned char*>(s.p[k])[0] = 1;
    }
  };
  {
    partner other([&] { work(1); });
    for (auto _ : state) {
      other.run([&] { work(0); });
      ++round;
    }
  }
  for (auto& s : sets) {
    for (std::size_t k = 0; k < slots; ++k) {
      if (s.p[k] != nullptr) sys.deallocate(s.p[k], s.n[k]);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(2 * steps));
}

// ---- std::pmr containers on each resource ----------------------------------------------------

// Each resource built as its documentation shows; tessera's with metrics off, as elsewhere here.
template <class Resource>
struct resource_box {
  Resource r;
};
template <>
struct resource_box<tessera::pool_resource> {
  tessera::pool_resource r{{.name = "bench", .publish_metrics = false}};
};

template <class Resource>
void vector_push(benchmark::State& state) {
  resource_box<Resource> box;
  Resource& r = box.r;
  const int n = 4096;
  for (auto _ : state) {
    std::pmr::vector<int> v{&r};
    for (int i = 0; i < n; ++i) v.push_back(i);
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

template <class Resource>
void map_insert(benchmark::State& state) {
  resource_box<Resource> box;
  Resource& r = box.r;
  std::vector<int> keys(1024);
  std::mt19937 rng(11);
  for (auto& k : keys) k = static_cast<int>(rng());
  for (auto _ : state) {
    std::pmr::map<int, int> m{&r};
    for (int k : keys) m.emplace(k, k);
    benchmark::DoNotOptimize(m.size());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(keys.size()));
}

// Boost.Pool's node-container allocator, single-threaded (null_mutex) as its docs describe.
void map_insert_boost(benchmark::State& state) {
  using alloc = boost::fast_pool_allocator<std::pair<const int, int>,
                                           boost::default_user_allocator_new_delete,
                                           boost::details::pool::null_mutex>;
  std::vector<int> keys(1024);
  std::mt19937 rng(11);
  for (auto& k : keys) k = static_cast<int>(rng());
  for (auto _ : state) {
    std::map<int, int, std::less<int>, alloc> m;
    for (int k : keys) m.emplace(k, k);
    benchmark::DoNotOptimize(m.size());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(keys.size()));
}

template <std::size_t N>
void register_churn() {
  const std::string n = std::to_string(N);
  benchmark::RegisterBenchmark(("churn/tessera/" + n).c_str(), churn<sys_tessera_pool<N>, N>);
  benchmark::RegisterBenchmark(("churn/malloc/" + n).c_str(), churn<sys_malloc, N>);
  benchmark::RegisterBenchmark(("churn/mimalloc/" + n).c_str(), churn<sys_mimalloc, N>);
  benchmark::RegisterBenchmark(("churn/pmr/" + n).c_str(), churn<sys_pmr, N>);
  benchmark::RegisterBenchmark(("churn/pmr_sync/" + n).c_str(), churn<sys_pmr_sync, N>);
  benchmark::RegisterBenchmark(("churn/boost/" + n).c_str(), churn<sys_boost<N>, N>);
}

}  // namespace

int main(int argc, char** argv) {
  register_churn<16>();
  register_churn<64>();
  register_churn<256>();

  benchmark::RegisterBenchmark("churn_shuffled/tessera/64",
                               churn_shuffled<sys_tessera_pool<64>, 64>);
  benchmark::RegisterBenchmark("churn_shuffled/malloc/64", churn_shuffled<sys_malloc, 64>);
  benchmark::RegisterBenchmark("churn_shuffled/mimalloc/64", churn_shuffled<sys_mimalloc, 64>);
  benchmark::RegisterBenchmark("churn_shuffled/pmr/64", churn_shuffled<sys_pmr, 64>);
  benchmark::RegisterBenchmark("churn_shuffled/pmr_sync/64", churn_shuffled<sys_pmr_sync, 64>);
  benchmark::RegisterBenchmark("churn_shuffled/boost/64", churn_shuffled<sys_boost<64>, 64>);

  benchmark::RegisterBenchmark("cross_thread/tessera/64", cross_thread<sys_tessera_pool<64>, 64>)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cross_thread/malloc/64", cross_thread<sys_malloc, 64>)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cross_thread/mimalloc/64", cross_thread<sys_mimalloc, 64>)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cross_thread/pmr_sync/64", cross_thread<sys_pmr_sync, 64>)
      ->UseRealTime();

  benchmark::RegisterBenchmark("mixed/tessera", mixed<sys_tessera_resource>);
  benchmark::RegisterBenchmark("mixed/malloc", mixed<sys_malloc>);
  benchmark::RegisterBenchmark("mixed/mimalloc", mixed<sys_mimalloc>);
  benchmark::RegisterBenchmark("mixed/pmr", mixed<sys_pmr>);
  benchmark::RegisterBenchmark("mixed/pmr_sync", mixed<sys_pmr_sync>);

  benchmark::RegisterBenchmark("vector_push/tessera", vector_push<tessera::pool_resource>);
  benchmark::RegisterBenchmark("vector_push/malloc", vector_push<malloc_resource>);
  benchmark::RegisterBenchmark("vector_push/mimalloc", vector_push<mimalloc_resource>);
  benchmark::RegisterBenchmark("vector_push/pmr",
                               vector_push<std::pmr::unsynchronized_pool_resource>);
  benchmark::RegisterBenchmark("vector_push/pmr_sync",
                               vector_push<std::pmr::synchronized_pool_resource>);

  benchmark::RegisterBenchmark("map_insert/tessera", map_insert<tessera::pool_resource>);
  benchmark::RegisterBenchmark("map_insert/malloc", map_insert<malloc_resource>);
  benchmark::RegisterBenchmark("map_insert/mimalloc", map_insert<mimalloc_resource>);
  benchmark::RegisterBenchmark("map_insert/pmr",
                               map_insert<std::pmr::unsynchronized_pool_resource>);
  benchmark::RegisterBenchmark("map_insert/pmr_sync",
                               map_insert<std::pmr::synchronized_pool_resource>);
  benchmark::RegisterBenchmark("map_insert/boost", map_insert_boost);

  benchmark::RegisterBenchmark("larson/tessera", larson<sys_tessera_resource>)->UseRealTime();
  benchmark::RegisterBenchmark("larson/malloc", larson<sys_malloc>)->UseRealTime();
  benchmark::RegisterBenchmark("larson/mimalloc", larson<sys_mimalloc>)->UseRealTime();
  benchmark::RegisterBenchmark("larson/pmr_sync", larson<sys_pmr_sync>)->UseRealTime();

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
