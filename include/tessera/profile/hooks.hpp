// The one header every module includes to publish metrics into the process-wide profiler
// registry. It is deliberately tiny: a component keeps its own statistics (relaxed atomics,
// per-thread shards) and registers a *collector* that copies them into a sink when somebody
// scrapes (Prometheus export, bottleneck report, summary table). Nothing runs on the hot path.
//
//   auto reg = tessera::profile::publish("pool", [this](tessera::profile::metric_sink& s) {
//     s.gauge("tessera_pool_live_objects", "objects allocated and not freed", live(),
//             {{"pool", name_}});
//   });   // unregistered when `reg` is destroyed
//
// Metric names follow Prometheus conventions (snake_case, `tessera_<module>_` prefix, `_total`
// for counters, base units: seconds, bytes). Names the bottleneck report reads:
//   tessera_sched_tasks_total{worker}            tessera_sched_steals_total{worker}
//   tessera_sched_failed_steals_total{worker}    tessera_sched_parks_total{worker}
//   tessera_sched_idle_seconds_total{worker}     tessera_sched_busy_seconds_total{worker}
//   tessera_cache_hits_total{cache,tier}         tessera_cache_misses_total{cache,tier}
//   tessera_budget_pressure_events_total{budget,level}
//   tessera_budget_charged_bytes{budget,account}
//
// With TESSERA_PROFILE=0 publish() registers nothing and collectors are never called.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifndef TESSERA_PROFILE
#define TESSERA_PROFILE 1
#endif

namespace tessera::profile {

enum class metric_type : std::uint8_t { counter, gauge };

struct label {
  std::string_view key;
  std::string_view value;
};

// Receives the current value of each metric during a scrape. Implemented by exporters.
class metric_sink {
 public:
  virtual void sample(std::string_view name, std::string_view help, metric_type type, double value,
                      std::initializer_list<label> labels) = 0;

  void counter(std::string_view name, std::string_view help, double value,
               std::initializer_list<label> labels = {}) {
    sample(name, help, metric_type::counter, value, labels);
  }
  void gauge(std::string_view name, std::string_view help, double value,
             std::initializer_list<label> labels = {}) {
    sample(name, help, metric_type::gauge, value, labels);
  }

 protected:
  ~metric_sink() = default;
};

using collector = std::function<void(metric_sink&)>;

namespace detail {

// The process-wide list of collectors. An inline function's static is one object per process
// (static linking and default-visibility shared libraries alike), so header-only users share it.
class collector_registry {
 public:
  std::uint64_t add(std::string component, collector fn) {
    std::lock_guard lock(mutex_);
    entries_.push_back(
        {++next_id_, std::move(component), std::make_shared<collector>(std::move(fn))});
    return next_id_;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [id](const entry& e) { return e.id == id; });
  }
  // Calls every collector. Collectors are copied out first so one may (un)register others.
  void collect(metric_sink& sink) const {
    std::vector<std::shared_ptr<collector>> fns;
    {
      std::lock_guard lock(mutex_);
      fns.reserve(entries_.size());
      for (const auto& e : entries_) fns.push_back(e.fn);
    }
    for (const auto& fn : fns) (*fn)(sink);
  }
  std::vector<std::string> components() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.component);
    return out;
  }

 private:
  struct entry {
    std::uint64_t id;
    std::string component;
    std::shared_ptr<collector> fn;
  };
  mutable std::mutex mutex_;
  std::vector<entry> entries_;
  std::uint64_t next_id_ = 0;
};

inline collector_registry& collectors() {
  static collector_registry registry;
  return registry;
}

}  // namespace detail

// Keeps a collector registered; unregisters it on destruction. Movable, not copyable.
class [[nodiscard]] publication {
 public:
  publication() = default;
  explicit publication(std::uint64_t id) noexcept : id_(id) {}
  publication(publication&& other) noexcept : id_(std::exchange(other.id_, 0)) {}
  publication& operator=(publication&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, 0);
    }
    return *this;
  }
  publication(const publication&) = delete;
  publication& operator=(const publication&) = delete;
  ~publication() { reset(); }

  void reset() noexcept {
    if (id_ != 0) detail::collectors().remove(std::exchange(id_, 0));
  }
  [[nodiscard]] bool active() const noexcept { return id_ != 0; }

 private:
  std::uint64_t id_ = 0;
};

// Registers `fn` under `component` ("sched", "pool", "cache", ...) until the result is destroyed.
// `fn` must stay valid (and thread-safe to call) while registered.
[[nodiscard]] inline publication publish(std::string component, collector fn) {
#if TESSERA_PROFILE
  return publication(detail::collectors().add(std::move(component), std::move(fn)));
#else
  (void)component;
  (void)fn;
  return publication();
#endif
}

// Scrapes every registered collector into `sink` (used by exporters and reports).
inline void collect(metric_sink& sink) {
  detail::collectors().collect(sink);
}

}  // namespace tessera::profile
