// tessera::tiered_cache<K, V, Tiers...>: an ordered list of tiers, fastest first, e.g. memory
// -> zstd-compressed memory -> disk. A hit in a lower tier promotes the entry to the first tier;
// an entry the first tier evicts for size is demoted to the next tier, if that tier's admission
// policy lets it in (admit_frequent<2> turns away keys requested only once).
//
//   using blobs = tessera::tiered_cache<std::string, std::string, tessera::caching::memory_tier<>,
//                                       tessera::caching::compressed_tier<tessera::caching::zstd>,
//                                       tessera::caching::disk_tier<>>;
//   blobs c({.capacity = 10'000}, {.capacity_bytes = 64 << 20}, {.directory = "/var/cache/app"});
//   auto v = c.get_or_load(key, [&] { return fetch(key); });
//
// Entries live in one tier at a time (a promotion removes the lower copy). Keys and values of the
// byte tiers go through caching::codec (codec.hpp). Each tier publishes hits, misses and bytes
// to the profiler under {cache=name, tier=memory|compressed|disk}; the memory tiers also their
// evictions and loader time, the disk tier its records, deleted segments and read/write time.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "tessera/cache/codec.hpp"
#include "tessera/cache/compression.hpp"
#include "tessera/cache/concurrent_cache.hpp"
#include "tessera/cache/detail/frequency_sketch.hpp"
#include "tessera/cache/detail/key_hash.hpp"
#include "tessera/cache/disk_store.hpp"
#include "tessera/profile/hooks.hpp"

namespace tessera::caching {

// --- admission into a lower tier -----------------------------------------------------------------
struct admission_policy_tag {};

// Every demoted entry is admitted.
struct admit_all {
  using policy_category = admission_policy_tag;
  void record(std::uint64_t) noexcept {}
  [[nodiscard]] bool admits(std::uint64_t) noexcept { return true; }
};

// Admits a demoted entry only when its key was requested at least N times recently (a
// count-min sketch of the requests that reach the tiered cache): one-hit wonders stay out.
template <unsigned N = 2>
struct admit_frequent {
  using policy_category = admission_policy_tag;
  admit_frequent() : sketch_(1 << 16) {}
  void record(std::uint64_t h) {
    std::lock_guard lock(mu_);
    sketch_.increment(h);
  }
  [[nodiscard]] bool admits(std::uint64_t h) {
    std::lock_guard lock(mu_);
    return sketch_.frequency(h) >= N;
  }

 private:
  std::mutex mu_;
  detail::frequency_sketch sketch_;
};

struct tier_stats {
  std::string_view tier;
  std::uint64_t hits = 0, misses = 0, evictions = 0, rejected = 0, corrupt = 0;
  std::uint64_t entries = 0, bytes = 0;
};

namespace detail {
// Demotion target of a tier: the next tier's put (empty for the last tier).
template <class K, class V>
using demote_fn = std::function<void(const K&, std::uint64_t, const V&)>;
}  // namespace detail

// --- memory_tier ---------------------------------------------------------------------------------
// The in-memory cache (tessera::cache with Policies...) as a tier.
template <class... Policies>
struct memory_tier {
  struct options {
    std::size_t capacity = 10'000;  // entries, or weight with a weigh_by<> policy
  };
  template <class K, class V>
  class store {
   public:
    store(const options& o, const std::string& name)
        : cache_({.capacity = o.capacity,
                  .on_removal =
                      [this](const K& k, const V& v, removal_cause c) {
                        if (c == removal_cause::size && demote_) demote_(k, 0, v);
                      },
                  .name = name,
                  .tier = "memory"}) {}
    std::optional<V> get(const K& k, std::uint64_t) { return cache_.get(k); }
    // Only the first tier loads; lower tiers never see get_or_load.
    void put(const K& k, std::uint64_t, const V& v) { cache_.put(k, v); }
    template <class F>
    V get_or_load(const K& k, F&& f) {
      return cache_.get_or_load(k, std::forward<F>(f));
    }
    bool erase(const K& k, std::uint64_t) { return cache_.invalidate(k); }
    void clear() { cache_.clear(); }
    void set_demote(detail::demote_fn<K, V> fn) { demote_ = std::move(fn); }
    [[nodiscard]] tier_stats stats() const {
      const auto s = cache_.stats();
      return {"memory", s.hits, s.misses, s.evictions, 0, 0, cache_.size(), 0};
    }
    void record(std::uint64_t) {}
    bool admits(std::uint64_t) { return true; }

   private:
    detail::demote_fn<K, V> demote_;
    basic_cache<K, V, Policies...> cache_;
  };
};

// --- compressed_tier -----------------------------------------------------------------------------
// Values serialized (codec<V>) and compressed with Compression (zstd or lz4), held in memory and
// evicted by s3fifo within `capacity_bytes`.
template <class Compression, class Admission = admit_all>
struct compressed_tier {
  struct options {
    std::size_t capacity_bytes = std::size_t{64} << 20;
  };
  template <class K, class V>
  class store {
    struct blob_weight {
      std::size_t operator()(const K&, const std::string& b) const {
        return b.size() + sizeof(K) + 96;  // + entry and node overhead
      }
    };

   public:
    store(const options& o, const std::string& name)
        : cache_({.capacity = o.capacity_bytes,
                  .on_removal =
                      [this](const K& k, const std::string& b, removal_cause c) {
                        if (c == removal_cause::size && demote_) {
                          if (auto v = unpack(b)) demote_(k, 0, *v);
                        }
                      },
                  .name = name,
                  .tier = "compressed"}) {}
    std::optional<V> get(const K& k, std::uint64_t) {
      auto b = cache_.get(k);
      if (!b) return std::nullopt;
      return unpack(*b);
    }
    void put(const K& k, std::uint64_t, const V& v) {
      cache_.put(k, Compression::compress(encode(v)));
    }
    bool erase(const K& k, std::uint64_t) { return cache_.invalidate(k); }
    void clear() { cache_.clear(); }
    void set_demote(detail::demote_fn<K, V> fn) { demote_ = std::move(fn); }
    [[nodiscard]] tier_stats stats() const {
      const auto s = cache_.stats();
      return {"compressed",     s.hits,          s.misses,      s.evictions,
              rejected_.load(), corrupt_.load(), cache_.size(), cache_.weight()};
    }
    void record(std::uint64_t h) { admission_.record(h); }
    bool admits(std::uint64_t h) {
      if (admission_.admits(h)) return true;
      ++rejected_;
      return false;
    }

   private:
    std::optional<V> unpack(const std::string& b) {
      try {
        return decode<V>(Compression::decompress(b));
      } catch (const error&) {
        ++corrupt_;  // cannot happen short of memory corruption; still never returned
        return std::nullopt;
      }
    }
    detail::demote_fn<K, V> demote_;
    Admission admission_;
    std::atomic<std::uint64_t> rejected_{0}, corrupt_{0};
    basic_cache<K, std::string, s3fifo, weigh_by<blob_weight>> cache_;
  };
};

// --- disk_tier -----------------------------------------------------------------------------------
// Records in segment files under a directory (disk_store.hpp): the last tier, it survives a
// restart of the process.
template <class Admission = admit_all>
struct disk_tier {
  using options = disk_options;
  template <class K, class V>
  class store {
   public:
    store(const options& o, const std::string& name) : disk_(o) {
      if (!name.empty()) {
        publication_ = profile::publish("cache", [this, name](profile::metric_sink& s) {
          const auto st = disk_.stats();
          const std::initializer_list<profile::label> l{{"cache", name}, {"tier", "disk"}};
          s.counter("tessera_cache_hits_total", "cache hits", static_cast<double>(st.hits), l);
          s.counter("tessera_cache_misses_total", "cache misses", static_cast<double>(st.misses),
                    l);
          s.counter("tessera_cache_corrupt_records_total",
                    "disk records that failed their checksum", static_cast<double>(st.corrupt), l);
          s.gauge("tessera_cache_weight", "bytes in the segment files",
                  static_cast<double>(st.bytes), l);
          s.gauge("tessera_cache_entries", "records held", static_cast<double>(st.records), l);
          // The disk tier evicts whole segments (oldest first), so that is what it counts.
          s.counter("tessera_cache_evicted_segments_total",
                    "segment files deleted to stay under the capacity",
                    static_cast<double>(st.erased_segments), l);
          s.counter("tessera_cache_read_seconds_total", "time spent reading records",
                    static_cast<double>(st.read_ns) * 1e-9, l);
          s.counter("tessera_cache_write_seconds_total", "time spent appending records",
                    static_cast<double>(st.write_ns) * 1e-9, l);
        });
      }
    }
    std::optional<V> get(const K& k, std::uint64_t h) {
      auto b = disk_.get(h, encode(k));
      if (!b) return std::nullopt;
      try {
        return decode<V>(*b);
      } catch (const error&) {
        return std::nullopt;  // a record of another type under this key: a miss
      }
    }
    void put(const K& k, std::uint64_t h, const V& v) { disk_.put(h, encode(k), encode(v)); }
    bool erase(const K& k, std::uint64_t h) { return disk_.erase(h, encode(k)); }
    void clear() { disk_.clear(); }
    void set_demote(detail::demote_fn<K, V>) {}
    [[nodiscard]] tier_stats stats() const {
      const auto s = disk_.stats();
      return {"disk",           s.hits,    s.misses,  s.erased_segments,
              rejected_.load(), s.corrupt, s.records, s.bytes};
    }
    void record(std::uint64_t h) { admission_.record(h); }
    bool admits(std::uint64_t h) {
      if (admission_.admits(h)) return true;
      ++rejected_;
      return false;
    }
    disk_store& raw() noexcept { return disk_; }

   private:
    disk_store disk_;
    Admission admission_;
    std::atomic<std::uint64_t> rejected_{0};
    profile::publication publication_;
  };
};

}  // namespace tessera::caching

namespace tessera {

template <class K, class V, class... Tiers>
class tiered_cache {
  static_assert(sizeof...(Tiers) >= 1, "tessera::tiered_cache needs at least one tier");
  template <class T>
  using store_of = typename T::template store<K, V>;
  static constexpr std::size_t N = sizeof...(Tiers);

 public:
  using key_type = K;
  using mapped_type = V;

  // One options struct per tier, in tier order; `name` labels the published metrics.
  explicit tiered_cache(const typename Tiers::options&... opts, const std::string& name = {})
      : tiers_(std::make_unique<store_of<Tiers>>(opts, name)...) {
    wire(std::make_index_sequence<N>{});
  }
  tiered_cache(const tiered_cache&) = delete;
  tiered_cache& operator=(const tiered_cache&) = delete;

  // The value from the first tier that has it (promoted to the first tier), or nullopt.
  [[nodiscard]] std::optional<V> get(const K& key) {
    const auto h = hash_of(key);
    record(h);
    if (auto v = top().get(key, h)) return v;
    if constexpr (N == 1) {
      return std::nullopt;
    } else {
      std::lock_guard lock(stripe(h));
      auto v = take_below(key, h, std::make_index_sequence<N - 1>{});
      if (v) top().put(key, h, *v);  // promote
      return v;
    }
  }

  // Stores in the first tier and drops older copies from the tiers below.
  void put(const K& key, const V& value) {
    const auto h = hash_of(key);
    std::lock_guard lock(stripe(h));
    erase_below(key, h, std::make_index_sequence<N - 1>{});
    top().put(key, h, value);
  }

  // Single-flight through the first tier; a miss there looks in the lower tiers before it
  // calls loader().
  template <class F>
  V get_or_load(const K& key, F&& loader) {
    const auto h = hash_of(key);
    record(h);
    return top().get_or_load(key, [&]() -> V {
      {
        std::lock_guard lock(stripe(h));
        if (auto v = take_below(key, h, std::make_index_sequence<N - 1>{})) return std::move(*v);
      }
      return loader();
    });
  }

  bool invalidate(const K& key) {
    const auto h = hash_of(key);
    std::lock_guard lock(stripe(h));
    const bool any = top().erase(key, h);
    return erase_below(key, h, std::make_index_sequence<N - 1>{}) || any;
  }
  void clear() {
    std::apply([](auto&... t) { (t->clear(), ...); }, tiers_);
  }

  // Statistics of each tier, first tier first.
  [[nodiscard]] std::array<caching::tier_stats, N> stats() const {
    return std::apply(
        [](const auto&... t) { return std::array<caching::tier_stats, N>{t->stats()...}; }, tiers_);
  }
  // Tier I's store (tests, and the disk tier's raw() store).
  template <std::size_t I>
  [[nodiscard]] auto& tier() noexcept {
    return *std::get<I>(tiers_);
  }

 private:
  auto& top() noexcept { return *std::get<0>(tiers_); }
  std::mutex& stripe(std::uint64_t h) noexcept { return stripes_[h % stripes_.size()].value; }

  static std::uint64_t hash_of(const K& key) {
    return caching::detail::mix64(static_cast<std::uint64_t>(caching::detail::key_hash<K>{}(key)));
  }
  void record(std::uint64_t h) {
    if constexpr (N > 1)
      std::apply([h](auto&, auto&... lower) { (lower->record(h), ...); }, tiers_);
  }
  // The value from the first lower tier that has it, removed from there.
  template <std::size_t... I>
  std::optional<V> take_below([[maybe_unused]] const K& key, [[maybe_unused]] std::uint64_t h,
                              std::index_sequence<I...>) {
    std::optional<V> v;
    (void)(... || (v = std::get<I + 1>(tiers_)->get(key, h),
                   v ? (std::get<I + 1>(tiers_)->erase(key, h), true) : false));
    return v;
  }
  template <std::size_t... I>
  bool erase_below([[maybe_unused]] const K& key, [[maybe_unused]] std::uint64_t h,
                   std::index_sequence<I...>) {
    bool any = false;  // every tier erases: no short-circuit
    ((any = std::get<I + 1>(tiers_)->erase(key, h) || any), ...);
    return any;
  }
  template <std::size_t I>
  void demote(const K& key, const V& value) {
    if constexpr (I + 1 < N) {
      auto& next = *std::get<I + 1>(tiers_);
      const auto h = hash_of(key);
      if (next.admits(h)) next.put(key, h, value);
    }
  }
  template <std::size_t... I>
  void wire(std::index_sequence<I...>) {
    (std::get<I>(tiers_)->set_demote(
         [this](const K& k, std::uint64_t, const V& v) { demote<I>(k, v); }),
     ...);
  }

  std::tuple<std::unique_ptr<store_of<Tiers>>...> tiers_;
  std::array<padded<std::mutex>, 64> stripes_{};
};

}  // namespace tessera
