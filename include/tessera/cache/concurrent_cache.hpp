// tessera::cache<K, V, Policies...>: a concurrent in-memory cache with a choice of eviction
// policy, capacity in entries or weight, expiry, single-flight loading, tags and listeners.
// Use it where a std::mutex + std::list + unordered_map LRU would become the bottleneck or
// loses too many hits; for values that should overflow to compressed memory or disk, wrap it
// in tessera::tiered_cache.
//
//   tessera::cache<std::string, blob> c{{.capacity = 100'000}};
//   auto b = c.get_or_load(key, [&] { return fetch(key); });   // one fetch per key at a time
//
// Concurrency: keys are spread over shards, each with a reader/writer lock; there is no global
// lock. A hit takes one shard's shared lock and moves no list node: clock, sieve, s3fifo and
// s3fifo_sieve (the default) set a counter with a relaxed atomic; lru, w_tinylfu and arc append
// the entry to the shard's read buffer, replayed in order under the exclusive lock before the
// next write (Caffeine's read buffer). Listeners, loaders, budget calls and destructors of removed
// values run with no lock held.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>  // std::shared_lock
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tessera/cache/detail/flight.hpp"
#include "tessera/cache/detail/key_hash.hpp"
#include "tessera/cache/detail/reader_lock.hpp"
#include "tessera/cache/eviction.hpp"
#include "tessera/cache/options.hpp"
#include "tessera/cache/policies.hpp"
#include "tessera/core/assert.hpp"
#include "tessera/core/cache_line.hpp"
#include "tessera/core/policy.hpp"
#include "tessera/profile/hooks.hpp"

namespace tessera {

namespace caching {
// The policy at or below every other policy's miss ratio on each shared trace and capacity
// measured with cachesim (the table is in benchmarks/cache/README.md).
using default_eviction = s3fifo_sieve;
}  // namespace caching

template <class K, class V, class... Policies>
class basic_cache {
  static_assert(policy_list<caching::eviction_tag, caching::locking_tag, caching::weigher_tag,
                            caching::clock_tag, caching::stats_tag>::accepts<Policies...>);

 public:
  using key_type = K;
  using mapped_type = V;
  using eviction = select_policy_t<caching::eviction_tag, caching::default_eviction, Policies...>;
  using locking = select_policy_t<caching::locking_tag, caching::shards<>, Policies...>;
  using weigher = select_policy_t<caching::weigher_tag, caching::unit_weight, Policies...>;
  using clock_type = select_policy_t<caching::clock_tag, caching::steady_clock, Policies...>;
  using stats_policy = select_policy_t<caching::stats_tag, caching::record_stats, Policies...>;
  using options = caching::cache_options<K, V>;
  using removal_cause = caching::removal_cause;

  explicit basic_cache(options opts = {}) : opts_(std::move(opts)) {
    TESSERA_ASSERT(opts_.capacity > 0, "a cache needs a capacity of at least 1");
    TESSERA_ASSERT(opts_.refresh_after_write.count() == 0 || opts_.executor,
                   "refresh_after_write needs an executor (cache_options::executor)");
    std::size_t n = locking::count;
    if (n == 0) {
      n = 1;
      while (n < 64 && opts_.capacity / (n * 2) >= 128) n *= 2;
    }
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(n));
    const std::size_t per = (opts_.capacity + n - 1) / n;
    shards_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<shard>(per));
    eaw_ = opts_.expire_after_write.count();
    eaa_ = opts_.expire_after_access.count();
    raw_ = opts_.refresh_after_write.count();
    if (opts_.budget) {
      opts_.budget.set_reclaimer([this](std::size_t wanted) { return reclaim(wanted); });
    }
    if (!opts_.name.empty()) {
      publication_ = profile::publish("cache", [this](profile::metric_sink& s) { collect(s); });
    }
  }
  basic_cache(const basic_cache&) = delete;
  basic_cache& operator=(const basic_cache&) = delete;
  ~basic_cache() {
    publication_.reset();
    for (auto n = refreshing_.load(); n != 0; n = refreshing_.load()) refreshing_.wait(n);
    if (opts_.budget) {
      opts_.budget.set_reclaimer({});
      std::size_t held = 0;
      for (auto& s : shards_)
        for (auto& [k, e] : s->map) held += bytes_of(e.weight);
      opts_.budget.release(held);
    }
  }

  // The value, or nullopt on a miss (an expired entry is a miss).
  [[nodiscard]] std::optional<V> get(const K& key) {
    std::optional<V> out;
    lookup(key, hash_of(key), [&](entry& e) { out.emplace(e.value); });
    return out;
  }

  [[nodiscard]] bool contains(const K& key) const {
    const shard& s = shard_for(hash_of(key));
    std::shared_lock lock(s.mu);
    auto it = s.map.find(key);
    std::int64_t now = 0;
    return it != s.map.end() && !is_expired(it->second, now);
  }

  // Inserts or replaces (the old value goes to the listener as `replaced`). With a budget that
  // cannot be met even after evicting, the key is left absent.
  void put(const K& key, V value, const caching::entry_options& eo = {}) {
    const auto h = hash_of(key);
    shard& s = shard_for(h);
    const std::size_t w = weigher{}(key, value);
    if (!charge(w)) {
      count(s.rejected);
      remove_key(key, removal_cause::size);
      return;
    }
    removals gone;
    {
      std::unique_lock lock(s.mu);
      s.drain();
      insert_locked(s, key, h, std::move(value), w, eo, gone);
    }
    notify(gone);
  }

  // The cached value, or the result of loader() stored under `key`. Concurrent callers that
  // miss on one key share a single call of loader(); its exception reaches all of them and
  // nothing is stored. No lock is held while loader() runs, so it may use this cache for other
  // keys (loading the same key from inside its own loader throws std::logic_error). With
  // refresh_after_write, a hit on an old entry returns it and reloads it on the executor.
  template <class F>
  V get_or_load(const K& key, F&& loader, const caching::entry_options& eo = {}) {
    const auto h = hash_of(key);
    std::optional<V> out;
    bool refresh = false;
    lookup(key, h, [&](entry& e) {
      out.emplace(e.value);
      refresh = raw_ != 0 && wants_refresh(e);
    });
    if (out) {
      if constexpr (std::is_copy_constructible_v<std::decay_t<F>>) {
        if (refresh) start_refresh(key, h, std::decay_t<F>(loader), eo);
      }
      return std::move(*out);
    }
    shard& s = shard_for(h);
    std::shared_ptr<flight> f;
    {
      std::unique_lock lock(s.mu);
      s.drain();
      auto it = s.map.find(key);
      std::int64_t now = 0;
      if (it != s.map.end() && !is_expired(it->second, now)) return it->second.value;
      auto fit = s.flights.find(key);
      if (fit != s.flights.end()) {
        f = fit->second;
        if (f->owner == std::this_thread::get_id()) {
          throw std::logic_error("tessera::cache: get_or_load of a key from inside its own loader");
        }
        lock.unlock();
        return f->wait();
      }
      f = std::make_shared<flight>();
      s.flights.emplace(key, f);
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<V> loaded;
    try {
      loaded.emplace(std::forward<F>(loader)());
    } catch (...) {
      count_load(s, t0, false);
      {
        std::unique_lock lock(s.mu);
        s.flights.erase(key);
      }
      f->set_exception(std::current_exception());
      throw;
    }
    count_load(s, t0, true);
    const std::size_t w = weigher{}(key, *loaded);
    const bool charged = charge(w);
    removals gone;
    bool waiters = false;
    {
      std::unique_lock lock(s.mu);
      s.drain();
      s.flights.erase(key);
      // Past the erase nobody new can join the flight: without waiters there is nothing to
      // publish (the common case, and it spares a copy of the value).
      waiters = f.use_count() > 1;
      if (!charged) {
        count(s.rejected);
      } else if (f->invalidated) {
        release_bytes(w);
      } else {
        insert_locked(s, key, h, V(*loaded), w, eo, gone);
      }
    }
    if (waiters) f->set_value(*loaded);
    notify(gone);
    return std::move(*loaded);
  }

  // Removes `key` (a load in flight for it is not stored); true when it was present.
  bool invalidate(const K& key) { return remove_key(key, removal_cause::explicit_); }

  // Removes every entry for which pred(key, value) is true (pred runs under a shard lock: it
  // must not use this cache). Returns how many were removed.
  template <class Pred>
  std::size_t invalidate_if(Pred pred) {
    return remove_matching([&](const K& k, const entry& e) { return pred(k, e.value); },
                           removal_cause::explicit_);
  }

  // Removes every entry put with `tag` in its entry_options.
  std::size_t invalidate_tag(std::string_view tag) {
    return remove_matching(
        [&](const K&, const entry& e) {
          if (!e.tags) return false;
          return std::find(e.tags->begin(), e.tags->end(), tag) != e.tags->end();
        },
        removal_cause::explicit_);
  }

  void clear() {
    for (auto& sp : shards_) {
      shard& s = *sp;
      removals gone;
      {
        std::unique_lock lock(s.mu);
        s.drain();
        for (auto& [k, f] : s.flights) f->invalidated = true;
        s.policy.clear();
        while (!s.map.empty()) {
          const auto w = s.map.begin()->second.weight;
          gone.push_back({s.map.extract(s.map.begin()), std::nullopt, removal_cause::explicit_, w});
        }
        s.weight = 0;
        count(s.explicit_removals, gone.size());
      }
      notify(gone);
    }
  }

  // Removes expired entries now (expired entries are otherwise removed when read or evicted).
  std::size_t cleanup() {
    return remove_matching(
        [](const K&, const entry& e) {
          std::int64_t now = 0;
          return is_expired(e, now);
        },
        removal_cause::expired);
  }

  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
      std::shared_lock lock(s->mu);
      n += s->map.size();
    }
    return n;
  }
  [[nodiscard]] std::size_t weight() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
      std::shared_lock lock(s->mu);
      n += s->weight;
    }
    return n;
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return opts_.capacity; }
  [[nodiscard]] std::size_t shard_count() const noexcept { return shards_.size(); }

  // Evicts by policy until the total weight is at most about `target` (each shard keeps at
  // most target / shard_count()). Returns the number of entries evicted.
  std::size_t shrink_to(std::size_t target) {
    const std::size_t per = target / shards_.size();
    std::size_t n = 0;
    for (auto& sp : shards_) {
      shard& s = *sp;
      removals gone;
      {
        std::unique_lock lock(s.mu);
        s.drain();
        evict_over(s, per, gone);
      }
      n += gone.size();
      notify(gone);
    }
    return n;
  }

  // Evicts by policy until `wanted` bytes of budget are freed or the cache is empty; returns
  // the bytes freed. This is the reclaimer registered with the budget account.
  std::size_t reclaim(std::size_t wanted) {
    std::size_t freed = 0;
    const std::size_t n = shards_.size();
    const std::size_t start = reclaim_cursor_.fetch_add(1, std::memory_order_relaxed);
    for (bool progress = true; freed < wanted && progress;) {
      progress = false;
      for (std::size_t i = 0; i < n && freed < wanted; ++i) {
        shard& s = *shards_[(start + i) % n];
        removals gone;
        {
          std::unique_lock lock(s.mu);
          s.drain();
          if (auto* v = s.policy.evict()) evict_one(s, static_cast<entry*>(v), gone);
        }
        gone.for_each([&](removal& r) { freed += bytes_of(r.weight); });
        progress |= !gone.empty();
        notify(gone);
      }
    }
    return freed;
  }

  [[nodiscard]] caching::cache_stats stats() const {
    caching::cache_stats st;
    for (const auto& c : reads_) {
      st.hits += c->hits.load(std::memory_order_relaxed);
      st.misses += c->misses.load(std::memory_order_relaxed);
    }
    for (const auto& s : shards_) {
      st.evictions += s->evictions.load(std::memory_order_relaxed);
      st.expirations += s->expirations.load(std::memory_order_relaxed);
      st.explicit_removals += s->explicit_removals.load(std::memory_order_relaxed);
      st.loads += s->loads.load(std::memory_order_relaxed);
      st.load_failures += s->load_failures.load(std::memory_order_relaxed);
      st.refreshes += s->refreshes.load(std::memory_order_relaxed);
      st.rejected_by_budget += s->rejected.load(std::memory_order_relaxed);
      st.load_seconds += static_cast<double>(s->load_ns.load(std::memory_order_relaxed)) * 1e-9;
    }
    return st;
  }

  [[nodiscard]] const options& config() const noexcept { return opts_; }

 private:
  struct entry : caching::detail::hook {
    template <class VV>
    explicit entry(VV&& v) : value(std::forward<VV>(v)) {}
    V value;
    const K* key = nullptr;
    std::int64_t write_deadline = 0;  // ns on clock_type; 0: none
    std::int64_t written = 0;         // ns on clock_type, kept only for refresh_after_write
    std::atomic<std::int64_t> access_deadline{0};
    std::atomic<bool> refreshing{false};
    std::unique_ptr<std::vector<std::string>> tags;
  };
  using map_type = std::unordered_map<K, entry, caching::detail::key_hash<K>>;

  using flight = caching::detail::flight<V>;

  struct removal {
    typename map_type::node_type node{};        // an evicted or removed entry
    std::optional<std::pair<K, V>> replaced{};  // or the old value of a replaced one
    removal_cause cause = removal_cause::size;
    std::size_t weight = 0;
  };
  using removals = caching::detail::small_list<removal>;

  static constexpr std::size_t kReadBuffer = 32;

  struct alignas(false_sharing_range) shard {
    explicit shard(std::size_t cap) : capacity(cap), policy(cap) {}
    mutable caching::detail::reader_lock mu;
    std::size_t capacity;
    std::size_t weight = 0;
    map_type map;
    typename eviction::impl policy;
    std::unordered_map<K, std::shared_ptr<flight>, caching::detail::key_hash<K>> flights;
    std::array<std::atomic<entry*>, kReadBuffer> reads{};
    std::atomic<std::uint32_t> read_count{0};
    std::atomic<std::uint64_t> evictions{0}, expirations{0}, explicit_removals{0}, loads{0},
        load_failures{0}, load_ns{0}, refreshes{0}, rejected{0};

    // Under the shared lock: true when the buffer is full and should be drained. Hits past a
    // full buffer are dropped (they only sharpen the recency order).
    bool buffer_hit(entry* e) noexcept {
      const auto i = read_count.fetch_add(1, std::memory_order_relaxed);
      if (i < kReadBuffer) reads[i].store(e, std::memory_order_relaxed);
      return i + 1 >= kReadBuffer;
    }
    // Under the exclusive lock, before anything is removed: the buffer then holds live entries.
    void drain() noexcept {
      if constexpr (eviction::buffers_hits) {
        const auto n =
            std::min<std::size_t>(read_count.load(std::memory_order_relaxed), kReadBuffer);
        for (std::size_t i = 0; i < n; ++i) {
          if (auto* e = reads[i].exchange(nullptr, std::memory_order_relaxed)) policy.hit(e);
        }
        read_count.store(0, std::memory_order_relaxed);
      }
    }
  };

  std::uint64_t hash_of(const K& key) const {
    return caching::detail::mix64(static_cast<std::uint64_t>(caching::detail::key_hash<K>{}(key)));
  }
  shard& shard_for(std::uint64_t h) { return *shards_[shift_ == 64 ? 0 : h >> shift_]; }
  const shard& shard_for(std::uint64_t h) const { return *shards_[shift_ == 64 ? 0 : h >> shift_]; }

  // The read path: one shard's shared lock, no list node moved. `on_hit` copies what it needs.
  template <class OnHit>
  void lookup(const K& key, std::uint64_t h, OnHit&& on_hit) {
    shard& s = shard_for(h);
    const std::size_t slot = caching::detail::reader_slot();
    bool hit = false, drain = false, expired = false;
    {
      const caching::detail::shared_guard guard(s.mu, slot);
      auto it = s.map.find(key);
      if (it != s.map.end()) {
        entry& e = it->second;
        std::int64_t now = 0;
        if (is_expired(e, now)) {
          expired = true;
        } else {
          hit = true;
          on_hit(e);
          if (eaa_ != 0) e.access_deadline.store(now_or(now) + eaa_, std::memory_order_relaxed);
          if constexpr (eviction::buffers_hits) {
            drain = s.buffer_hit(&e);
          } else {
            s.policy.hit(&e);
          }
        }
      }
    }
    if constexpr (stats_policy::enabled) {
      // The slot is this thread's (shared only past 8 threads): a plain relaxed load and store
      // instead of a locked add; a rare lost increment between threads of one slot is the price.
      auto& c = *reads_[slot];
      auto& n = hit ? c.hits : c.misses;
      n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    if (drain) {
      std::unique_lock lock(s.mu, std::try_to_lock);
      if (lock.owns_lock()) s.drain();
    }
    if (expired) remove_if_expired(s, key);
  }

  static std::int64_t now_or(std::int64_t& now) {
    if (now == 0) now = clock_type::now_ns();
    return now;
  }
  static bool is_expired(const entry& e, std::int64_t& now) {
    const auto ad = e.access_deadline.load(std::memory_order_relaxed);
    if (e.write_deadline == 0 && ad == 0) return false;
    const auto t = now_or(now);
    return (e.write_deadline != 0 && t >= e.write_deadline) || (ad != 0 && t >= ad);
  }

  static void count(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    if constexpr (stats_policy::enabled) c.fetch_add(n, std::memory_order_relaxed);
  }
  static void count_load(shard& s, std::chrono::steady_clock::time_point t0, bool ok) noexcept {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    count(ok ? s.loads : s.load_failures);
    count(s.load_ns, static_cast<std::uint64_t>(ns));
  }

  // --- budget ---------------------------------------------------------------------------------
  std::size_t bytes_of(std::size_t weight) const noexcept {
    if constexpr (std::is_same_v<weigher, caching::unit_weight>) {
      const std::size_t per = opts_.bytes_per_entry != 0
                                  ? opts_.bytes_per_entry
                                  : sizeof(K) + sizeof(entry) + 4 * sizeof(void*);
      return weight * per;
    } else {
      return weight;
    }
  }
  // Never called with a shard lock held: the account may call our reclaimer from inside.
  bool charge(std::size_t weight) {
    if (!opts_.budget) return true;
    const std::size_t bytes = bytes_of(weight);
    if (opts_.budget.try_charge(bytes)) return true;
    reclaim(bytes);
    return opts_.budget.try_charge(bytes);
  }
  void release_bytes(std::size_t weight) noexcept {
    if (opts_.budget) opts_.budget.release(bytes_of(weight));
  }

  // --- refresh_after_write --------------------------------------------------------------------
  bool wants_refresh(entry& e) {
    if (clock_type::now_ns() < e.written + raw_) return false;
    return !e.refreshing.exchange(true, std::memory_order_relaxed);
  }
  template <class F>
  void start_refresh(const K& key, std::uint64_t h, F loader, const caching::entry_options& eo) {
    refreshing_.fetch_add(1);
    try {
      opts_.executor.spawn([this, key, h, loader = std::move(loader), eo]() mutable {
        run_refresh(key, h, loader, eo);
        if (refreshing_.fetch_sub(1) == 1) refreshing_.notify_all();
      });
    } catch (...) {
      refreshing_.fetch_sub(1);
      throw;
    }
  }
  template <class F>
  void run_refresh(const K& key, std::uint64_t h, F& loader, const caching::entry_options& eo) {
    shard& s = shard_for(h);
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<V> v;
    try {
      v.emplace(loader());
    } catch (...) {
      // The old value stays; the next hit past the refresh time tries again.
      count_load(s, t0, false);
      std::shared_lock lock(s.mu);
      if (auto it = s.map.find(key); it != s.map.end()) it->second.refreshing.store(false);
      return;
    }
    count_load(s, t0, true);
    count(s.refreshes);
    const std::size_t w = weigher{}(key, *v);
    if (!charge(w)) return;
    removals gone;
    {
      std::unique_lock lock(s.mu);
      s.drain();
      // Only replace the entry the refresh was started for: one invalidated meanwhile stays gone.
      auto it = s.map.find(key);
      if (it != s.map.end() && it->second.refreshing.load(std::memory_order_relaxed)) {
        insert_locked(s, key, h, std::move(*v), w, eo, gone);
      } else {
        lock.unlock();
        release_bytes(w);
      }
    }
    notify(gone);
  }

  // --- mutation under the exclusive shard lock ------------------------------------------------
  void insert_locked(shard& s, const K& key, std::uint64_t h, V&& value, std::size_t w,
                     const caching::entry_options& eo, removals& gone) {
    if constexpr (eviction::evicts_before_admit && std::is_copy_assignable_v<K> &&
                  std::is_move_assignable_v<V>) {
      if (s.weight + w > s.capacity && !opts_.on_removal && !opts_.budget &&
          s.map.find(key) == s.map.end()) {
        // A full cache and nobody to hand the victim to: the victim's node becomes the new
        // entry's (as a hand-written LRU reuses its list node), saving a free and a malloc.
        evict_over(s, s.capacity > w ? s.capacity - w : 0, gone);
        if (!gone.empty() && !gone[gone.size() - 1].node.empty()) {
          auto node = std::move(gone[gone.size() - 1].node);
          node.key() = key;
          node.mapped().value = std::move(value);
          const auto pos = s.map.insert(std::move(node)).position;
          set_meta(pos->second, &pos->first, h, w, eo);
          s.weight += w;
          s.policy.admit(&pos->second);
          return evict_over(s, s.capacity, gone);
        }
      }
    }
    auto [it, inserted] = s.map.try_emplace(key, std::move(value));
    entry& e = it->second;
    if (!inserted) {
      const std::size_t old_w = e.weight;
      if (opts_.on_removal || opts_.budget) {
        gone.push_back(
            {{}, std::pair<K, V>(key, std::move(e.value)), removal_cause::replaced, old_w});
      }
      e.value = std::move(value);
      set_meta(e, &it->first, h, w, eo);
      s.weight = s.weight - old_w + w;
      s.policy.update(&e, old_w);
    } else {
      set_meta(e, &it->first, h, w, eo);
      if constexpr (eviction::evicts_before_admit) {
        evict_over(s, s.capacity > w ? s.capacity - w : 0, gone);
      }
      s.weight += w;
      s.policy.admit(&e);
    }
    evict_over(s, s.capacity, gone);
  }

  void set_meta(entry& e, const K* key, std::uint64_t h, std::size_t w,
                const caching::entry_options& eo) {
    e.key = key;
    e.hash = h;
    e.weight = w;
    std::int64_t now = 0;
    std::int64_t wd = 0;
    if (eaw_ != 0) wd = now_or(now) + eaw_;
    if (eo.ttl.count() != 0) {
      const auto t = now_or(now) + eo.ttl.count();
      wd = wd == 0 ? t : std::min(wd, t);
    }
    e.write_deadline = wd;
    e.written = raw_ != 0 ? now_or(now) : 0;
    e.refreshing.store(false, std::memory_order_relaxed);
    e.access_deadline.store(eaa_ != 0 ? now_or(now) + eaa_ : 0, std::memory_order_relaxed);
    if (!eo.tags.empty()) {
      e.tags = std::make_unique<std::vector<std::string>>(eo.tags);
    } else {
      e.tags.reset();
    }
  }

  void evict_one(shard& s, entry* e, removals& gone) {
    std::int64_t now = 0;
    const auto cause = is_expired(*e, now) ? removal_cause::expired : removal_cause::size;
    count(cause == removal_cause::size ? s.evictions : s.expirations);
    s.weight -= e->weight;
    gone.push_back({s.map.extract(*e->key), std::nullopt, cause, e->weight});
  }

  void evict_over(shard& s, std::size_t limit, removals& gone) {
    while (s.weight > limit) {
      auto* v = s.policy.evict();
      if (v == nullptr) break;
      evict_one(s, static_cast<entry*>(v), gone);
    }
  }

  void remove_locked(shard& s, entry& e, removal_cause cause, removals& gone) {
    s.policy.remove(&e);
    s.weight -= e.weight;
    count(cause == removal_cause::expired ? s.expirations : s.explicit_removals);
    gone.push_back({s.map.extract(*e.key), std::nullopt, cause, e.weight});
  }

  bool remove_key(const K& key, removal_cause cause) {
    shard& s = shard_for(hash_of(key));
    removals gone;
    {
      std::unique_lock lock(s.mu);
      s.drain();
      if (auto fit = s.flights.find(key); fit != s.flights.end()) fit->second->invalidated = true;
      auto it = s.map.find(key);
      if (it == s.map.end()) return false;
      remove_locked(s, it->second, cause, gone);
    }
    notify(gone);
    return true;
  }

  void remove_if_expired(shard& s, const K& key) {
    removals gone;
    {
      std::unique_lock lock(s.mu);
      s.drain();
      auto it = s.map.find(key);
      std::int64_t now = 0;
      if (it == s.map.end() || !is_expired(it->second, now)) return;
      remove_locked(s, it->second, removal_cause::expired, gone);
    }
    notify(gone);
  }

  template <class Match>
  std::size_t remove_matching(Match match, removal_cause cause) {
    std::size_t n = 0;
    for (auto& sp : shards_) {
      shard& s = *sp;
      removals gone;
      {
        std::unique_lock lock(s.mu);
        s.drain();
        std::vector<entry*> hit;
        for (auto& [k, e] : s.map)
          if (match(k, e)) hit.push_back(&e);
        for (auto* e : hit) remove_locked(s, *e, cause, gone);
      }
      n += gone.size();
      notify(gone);
    }
    return n;
  }

  // After the lock is released: budget bytes back, then listeners, then value destructors.
  void notify(removals& gone) {
    if (opts_.budget) {
      std::size_t w = 0;
      gone.for_each([&](removal& r) { w += r.weight; });
      if (w != 0) release_bytes(w);
    }
    if (opts_.on_removal) {
      gone.for_each([this](removal& r) {
        if (r.replaced) {
          opts_.on_removal(r.replaced->first, r.replaced->second, r.cause);
        } else {
          opts_.on_removal(r.node.key(), r.node.mapped().value, r.cause);
        }
      });
    }
    gone.clear();
  }

  void collect(profile::metric_sink& sink) const {
    const auto st = stats();
    const std::initializer_list<profile::label> labels{{"cache", opts_.name}, {"tier", opts_.tier}};
    sink.counter("tessera_cache_hits_total", "cache hits", static_cast<double>(st.hits), labels);
    sink.counter("tessera_cache_misses_total", "cache misses", static_cast<double>(st.misses),
                 labels);
    sink.counter("tessera_cache_evictions_total", "entries evicted for size",
                 static_cast<double>(st.evictions), labels);
    sink.counter("tessera_cache_load_seconds_total", "time spent in loaders", st.load_seconds,
                 labels);
    sink.gauge("tessera_cache_weight", "total weight of the entries (bytes with a byte weigher)",
               static_cast<double>(weight()), labels);
    sink.gauge("tessera_cache_entries", "entries held", static_cast<double>(size()), labels);
  }

  // Hit and miss counters per reader slot, so readers on two cores write different lines.
  struct read_counters {
    std::atomic<std::uint64_t> hits{0}, misses{0};
  };

  options opts_;
  std::array<padded<read_counters>, caching::detail::reader_slots> reads_{};
  std::vector<std::unique_ptr<shard>> shards_;
  unsigned shift_ = 64;
  std::int64_t eaw_ = 0, eaa_ = 0, raw_ = 0;
  std::atomic<std::size_t> reclaim_cursor_{0};
  std::atomic<int> refreshing_{0};
  profile::publication publication_;
};

template <class K, class V, class... Policies>
using cache = basic_cache<K, V, Policies...>;

}  // namespace tessera
