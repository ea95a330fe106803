// tessera::object_pool<T>: many objects of one type made and destroyed at a high rate (orders,
// nodes, messages, tasks). `make()` returns an owning pool_ptr; `create`/`destroy` are the raw
// pair. Thread-caching by default; `memory::locked` or `memory::single_threaded` otherwise.
// Not for objects of many sizes (use pool_resource) or that live as long as a phase (arena).
//
//   tessera::object_pool<order> orders{{.name = "orders"}};
//   tessera::pool_ptr<order> o = orders.make(42, 100.5);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "tessera/memory/detail/pool_core.hpp"
#include "tessera/profile/hooks.hpp"

namespace tessera {

struct pool_options {
  std::string_view name = "object_pool";
  std::size_t max_objects = 0;  // 0: unbounded; else allocation beyond throws out_of_memory
  std::uint32_t batch = 0;      // objects moved per refill/drain; 0: chosen from the size
  std::pmr::memory_resource* upstream = nullptr;  // with memory::upstream<memory::resource>
  bool publish_metrics = true;  // tessera_memory_*{pool=name} in the profiler registry
};

// Destroys through the pool that made the object, whatever that pool's policies.
template <class T>
struct pool_deleter {
  void* pool = nullptr;
  void (*destroy)(void* pool, T* p) noexcept = nullptr;
  void operator()(T* p) const noexcept { destroy(pool, p); }
};

template <class T>
using pool_ptr = std::unique_ptr<T, pool_deleter<T>>;

namespace memory::detail {
// Publishes a core's statistics as tessera_memory_* metrics labelled with its name.
template <class Core>
profile::publication publish_core(const Core& core, std::string_view component) {
  return profile::publish(std::string(component), [&core](profile::metric_sink& s) {
    const pool_stats st = core.stats();
    const std::string_view pool = core.name();
    s.gauge("tessera_memory_live_objects", "objects handed out and not returned",
            static_cast<double>(st.live_objects), {{"pool", pool}});
    s.gauge("tessera_memory_live_bytes", "bytes handed out and not returned",
            static_cast<double>(st.live_bytes), {{"pool", pool}});
    s.gauge("tessera_memory_cached_objects", "free objects in per-thread caches",
            static_cast<double>(st.cached_objects), {{"pool", pool}});
    s.gauge("tessera_memory_upstream_bytes", "bytes held from the upstream",
            static_cast<double>(st.upstream_bytes), {{"pool", pool}});
    s.gauge("tessera_memory_peak_upstream_bytes", "most bytes ever held from the upstream",
            static_cast<double>(st.peak_upstream_bytes), {{"pool", pool}});
    s.counter("tessera_memory_refills_total", "batches moved from the shared pool to a cache",
              static_cast<double>(st.refills), {{"pool", pool}});
    s.counter("tessera_memory_drains_total", "batches moved from a cache to the shared pool",
              static_cast<double>(st.drains), {{"pool", pool}});
    s.counter("tessera_memory_upstream_allocations_total", "chunks taken from the upstream",
              static_cast<double>(st.upstream_allocations), {{"pool", pool}});
  });
}
// What a policy list selects: shared by object_pool and pool_resource.
template <class... Policies>
struct pool_selection {
  using threading = select_policy_t<threading_tag, thread_caching, Policies...>;
  using source = typename select_policy_t<upstream_tag, default_upstream, Policies...>::source;
  // HomeClasses: as many size classes as the pool has (see pool_core).
  template <std::uint32_t HomeClasses>
  using core_for = pool_core<
      threading, source, select_policy_t<leak_check_tag, default_leak_check, Policies...>::enabled,
      select_policy_t<poison_tag, default_poison, Policies...>::enabled,
      select_policy_t<free_check_tag, default_free_check, Policies...>::enabled, HomeClasses>;
};

}  // namespace memory::detail

template <class T, class... Policies>
class basic_object_pool {
  static_assert(memory::pool_policies::accepts<Policies...>);
  using selection = memory::detail::pool_selection<Policies...>;
  using threading = typename selection::threading;
  using source = typename selection::source;
  using core_type = typename selection::template core_for<1>;

 public:
  using value_type = T;
  // Every block is this big and this aligned (at least 16 bytes: a free block holds links).
  static constexpr std::size_t block_align = alignof(T) > alignof(void*) ? alignof(T)
                                                                         : alignof(void*);
  static constexpr std::size_t block_size =
      ((sizeof(T) < 16 ? 16 : sizeof(T)) + block_align - 1) / block_align * block_align;
  static_assert(block_size <= UINT32_MAX, "tessera::object_pool: T is too large for a pool");

  explicit basic_object_pool(pool_options opt = {})
      : core_(memory::detail::core_config{.name = std::string(opt.name),
                                          .sizes = {static_cast<std::uint32_t>(block_size)},
                                          .align = block_align < 64 ? 64 : block_align,
                                          .max_blocks = opt.max_objects,
                                          .max_bytes = 0,
                                          .batch = opt.batch,
                                          .batch_bytes = 8192},
              memory::detail::make_source<source>(opt.upstream)) {
    if (opt.publish_metrics) publication_ = memory::detail::publish_core(core_, "memory");
  }

  basic_object_pool(const basic_object_pool&) = delete;
  basic_object_pool& operator=(const basic_object_pool&) = delete;

  // Storage for one T (not constructed). Throws out_of_memory when a bounded pool is full.
  [[nodiscard]] T* allocate() { return static_cast<T*>(core_.allocate(0)); }
  void deallocate(T* p) noexcept { core_.deallocate(p, 0); }

  template <class... Args>
  [[nodiscard]] T* create(Args&&... args) {
    void* mem = core_.allocate(0);
    try {
      return ::new (mem) T(std::forward<Args>(args)...);
    } catch (...) {
      core_.deallocate_checked(mem, 0);
      throw;
    }
  }

  // Destroys and frees an object from create(). With check_double_free a foreign pointer or
  // a second destroy is reported and ignored (the destructor is not run again).
  void destroy(T* p) noexcept {
    if (p == nullptr) return;
    if (!core_.check_free(p, 0)) return;
    p->~T();
    core_.deallocate_checked(p, 0);
  }

  template <class... Args>
  [[nodiscard]] pool_ptr<T> make(Args&&... args) {
    return pool_ptr<T>(create(std::forward<Args>(args)...),
                       pool_deleter<T>{this, [](void* pool, T* p) noexcept {
                                         static_cast<basic_object_pool*>(pool)->destroy(p);
                                       }});
  }

  [[nodiscard]] pool_stats stats() const { return core_.stats(); }
  // Returns chunks whose objects are all free to the upstream; the bytes released.
  std::size_t trim() noexcept { return core_.trim(); }
  [[nodiscard]] const std::string& name() const noexcept { return core_.name(); }

 private:
  core_type core_;
  profile::publication publication_;  // after core_: unregistered before core_ dies
};

// The common case: thread-caching pool on the default upstream.
template <class T>
using object_pool = basic_object_pool<T>;

}  // namespace tessera
