// Eviction policies of tessera::basic_cache (category caching::eviction_tag): lru, fifo, clock,
// sieve, s3fifo, s3fifo_sieve, w_tinylfu and arc. Pick one by passing it to the cache; the
// default is caching::default_eviction, s3fifo_sieve (see the miss-ratio table in
// benchmarks/cache/README.md).
//
// Each policy has a member type `impl` that works on detail::hook (links, hash, weight, counter):
//   impl(capacity)   capacity in weight units, for sizing queues and sketches
//   admit(h)         a new entry      update(h, old_weight)  its value was replaced
//   hit(h)           a read hit: when `buffers_hits` is false it only touches h->freq with
//                    relaxed atomics (readers hold a shared lock); when true the cache
//                    buffers hits and replays them under the exclusive lock (as Caffeine's
//                    read buffer does), so no reader moves a list node
//   remove(h)        explicit removal   evict() unlinks and returns the victim (nullptr: empty)
// `evicts_before_admit`: the cache makes room before admit() (as the papers of clock, sieve and
// s3fifo and libCacheSim do, so a newcomer is never its own victim); w_tinylfu and arc admit
// first because the newcomer takes part in their decision.
// No policy rounds a window or small queue to zero entries: every split is clamped to >= 1.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tessera/cache/detail/frequency_sketch.hpp"
#include "tessera/cache/detail/ghost.hpp"
#include "tessera/cache/detail/hook.hpp"
#include "tessera/cache/policies.hpp"

namespace tessera::caching {

namespace detail {
// `part` of `capacity` (a fraction), never zero: the small-cache defect is a window or small
// queue computed as capacity * 0.01 that rounds to nothing for capacities below 100.
[[nodiscard]] constexpr std::size_t at_least_one(std::size_t capacity, double part) noexcept {
  const auto n = static_cast<std::size_t>(static_cast<double>(capacity) * part);
  return std::max<std::size_t>(n, 1);
}
}  // namespace detail

// Least recently used. Hits are buffered and replayed in order before the next write, which
// yields exact LRU order as long as the buffer is drained before it overflows.
struct lru {
  using policy_category = eviction_tag;
  static constexpr std::string_view name = "lru";
  static constexpr bool evicts_before_admit = true;
  static constexpr bool buffers_hits = true;
  class impl {
   public:
    explicit impl(std::size_t) {}
    void admit(detail::hook* h) { list_.push_front(h); }
    void hit(detail::hook* h) { list_.move_to_front(h); }
    void update(detail::hook* h, std::size_t old_w) {
      list_.reweigh(old_w, h->weight);
      list_.move_to_front(h);
    }
    void remove(detail::hook* h) { list_.remove(h); }
    detail::hook* evict() {
      auto* v = list_.back();
      if (v) list_.remove(v);
      return v;
    }
    void clear() { list_.clear(); }

   private:
    detail::hook_list list_;
  };
};

// First in, first out: a hit changes nothing.
struct fifo {
  using policy_category = eviction_tag;
  static constexpr std::string_view name = "fifo";
  static constexpr bool evicts_before_admit = true;
  static constexpr bool buffers_hits = false;
  class impl {
   public:
    explicit impl(std::size_t) {}
    void admit(detail::hook* h) { list_.push_front(h); }
    void hit(detail::hook*) {}
    void update(detail::hook* h, std::size_t old_w) { list_.reweigh(old_w, h->weight); }
    void remove(detail::hook* h) { list_.remove(h); }
    detail::hook* evict() {
      auto* v = list_.back();
      if (v) list_.remove(v);
      return v;
    }
    void clear() { list_.clear(); }

   private:
    detail::hook_list list_;
  };
};

// CLOCK (second chance): a hit sets a bit; eviction gives bitten entries one more round.
struct clock {
  using policy_category = eviction_tag;
  static constexpr std::string_view name = "clock";
  static constexpr bool evicts_before_admit = true;
  static constexpr bool buffers_hits = false;
  class impl {
   public:
    explicit impl(std::size_t) {}
    void admit(detail::hook* h) {
      h->freq.store(0, std::memory_order_relaxed);
      list_.push_front(h);
    }
    void hit(detail::hook* h) { h->touch_bit(); }
    void update(detail::hook* h, std::size_t old_w) {
      list_.reweigh(old_w, h->weight);
      h->touch_bit();
    }
    void remove(detail::hook* h) { list_.remove(h); }
    detail::hook* evict() {
      while (auto* v = list_.back()) {
        if (v->freq.load(std::memory_order_relaxed) != 0) {
          v->freq.store(0, std::memory_order_relaxed);
          list_.move_to_front(v);
          continue;
        }
        list_.remove(v);
        return v;
      }
      return nullptr;
    }
    void clear() { list_.clear(); }

   private:
    detail::hook_list list_;
  };
};

// SIEVE (Zhang et al., NSDI'24): FIFO order, a hand that walks from old to new skipping (and
// clearing) visited entries; survivors stay in place, so nothing moves on a hit.
struct sieve {
  using policy_category = eviction_tag;
  static constexpr std::string_view name = "sieve";
  static constexpr bool evicts_before_admit = true;
  static constexpr bool buffers_hits = false;
  class impl {
   public:
    explicit impl(std::size_t) {}
    void admit(detail::hook* h) {
      h->freq.store(0, std::memory_order_relaxed);
      list_.push_front(h);
    }
    void hit(detail::hook* h) { h->touch_bit(); }
    void update(detail::hook* h, std::size_t old_w) {
      list_.reweigh(old_w, h->weight);
      h->touch_bit();
    }
    void remove(detail::hook* h) {
      if (hand_ == h) hand_ = h->prev;
      list_.remove(h);
    }
    detail::hook* evict() {
      if (list_.empty()) return nullptr;
      auto* h = hand_ ? hand_ : list_.back();
      while (h->freq.load(std::memory_order_relaxed) != 0) {
        h->freq.store(0, std::memory_order_relaxed);
        h = h->prev ? h->prev : list_.back();
      }
      hand_ = h->prev;
      list_.remove(h);
      return h;
    }
    void clear() {
      list_.clear();
      hand_ = nullptr;
    }

   private:
    detail::hook_list list_;
    detail::hook* hand_ = nullptr;
  };
};

namespace detail {
// The queues of S3-FIFO (Yang et al., SOSP'23; defaults of libCacheSim's S3FIFO): a small FIFO
// (10%) filters one-hit wonders, a main queue with 2-bit counters keeps the rest, a ghost FIFO
// of hashes (90% of the capacity) sends returning keys straight to main. An entry read while in
// the small queue moves to main when it reaches the small queue's tail. `SieveMain` picks how
// main evicts: false reinserts a counted tail entry at the head (the paper's FIFO-reinsertion),
// true sweeps a SIEVE hand from old to new that decrements counters and leaves survivors in
// place (Zhang et al., NSDI'24), so newcomers to main are judged before old survivors again.
template <bool SieveMain>
class s3fifo_queues {
 public:
  explicit s3fifo_queues(std::size_t capacity)
      : small_max_(at_least_one(capacity, 0.10)), ghost_max_(at_least_one(capacity, 0.90)) {}
  void admit(hook* h) {
    h->freq.store(0, std::memory_order_relaxed);
    if (ghost_.contains(h->hash)) {
      h->queue = kMain;
      main_.push_front(h);
    } else {
      h->queue = kSmall;
      small_.push_front(h);
    }
  }
  void hit(hook* h) { h->touch_counter(3); }
  void update(hook* h, std::size_t old_w) {
    queue_of(h).reweigh(old_w, h->weight);
    h->touch_counter(3);
  }
  void remove(hook* h) {
    if (hand_ == h) hand_ = h->prev;
    queue_of(h).remove(h);
  }
  hook* evict() {
    for (;;) {
      if (small_.empty() && main_.empty()) return nullptr;
      if (!small_.empty() && (small_.weight() >= small_max_ || main_.empty())) {
        auto* t = small_.back();
        small_.remove(t);
        if (t->freq.load(std::memory_order_relaxed) > 0) {
          t->freq.store(0, std::memory_order_relaxed);
          t->queue = kMain;
          main_.push_front(t);
          continue;
        }
        ghost_.push(t->hash, ghost_limit());
        return t;
      }
      if constexpr (SieveMain) {
        return sweep_main();
      } else {
        auto* t = main_.back();
        const auto f = t->freq.load(std::memory_order_relaxed);
        if (f > 0) {
          t->freq.store(static_cast<std::uint8_t>(f - 1), std::memory_order_relaxed);
          main_.move_to_front(t);
          continue;
        }
        main_.remove(t);
        return t;
      }
    }
  }
  void clear() {
    small_.clear();
    main_.clear();
    ghost_.clear();
    hand_ = nullptr;
  }
  // For tests: the small queue's share of the capacity (never zero).
  [[nodiscard]] std::size_t small_capacity() const noexcept { return small_max_; }

 private:
  static constexpr std::uint8_t kSmall = 0, kMain = 1;
  hook_list& queue_of(hook* h) { return h->queue == kMain ? main_ : small_; }
  // Terminates: every step past a counted entry lowers its counter (at most 3 laps).
  hook* sweep_main() {
    auto* h = hand_ ? hand_ : main_.back();
    for (auto f = h->freq.load(std::memory_order_relaxed); f != 0;
         f = h->freq.load(std::memory_order_relaxed)) {
      h->freq.store(static_cast<std::uint8_t>(f - 1), std::memory_order_relaxed);
      h = h->prev ? h->prev : main_.back();
    }
    hand_ = h->prev;
    main_.remove(h);
    return h;
  }
  // The ghost holds hashes, not weights: convert its share of the capacity by the mean weight.
  std::size_t ghost_limit() const {
    const std::size_t n = small_.size() + main_.size();
    const std::size_t w = small_.weight() + main_.weight();
    const std::size_t mean = n == 0 || w == 0 ? 1 : std::max<std::size_t>(w / n, 1);
    return std::max<std::size_t>(ghost_max_ / mean, 1);
  }
  std::size_t small_max_;
  std::size_t ghost_max_;
  hook_list small_, main_;
  ghost_fifo ghost_;
  hook* hand_ = nullptr;  // SieveMain: the next main entry to examine (nullptr: main's tail)
};
}  // namespace detail

// S3-FIFO as published: small FIFO, ghost, and a main FIFO with reinsertion (see s3fifo_queues).
struct s3fifo {
  using policy_category = eviction_tag;
  static constexpr std::string_view name = "s3fifo";
  static constexpr bool evicts_before_admit = true;
  static constexpr bool buffers_hits = false;
  using impl = detail::s3fifo_queues<false>;
};

// S3-FIFO whose main queue is evicted by a SIEVE hand (the SIEVE paper proposes SIEVE as the
// building block inside other policies). Same parameters as s3fifo (10% small, 90% ghost,
// 2-bit counters); survivors of main keep their place, so popular keys of a stationary skewed
// workload stay while main's newcomers are judged first. The default policy: on the shared
// traces it is at or below lru, fifo, clock, sieve, s3fifo, w_tinylfu and arc at each of the
// benchmark's nine trace/capacity points, though not at every other capacity
// (benchmarks/cache/README.md). A hit only bumps a relaxed 2-bit counter.
struct s3fifo_sieve {
  using policy_category = eviction_tag;
  static constexpr std::string_view name = "s3fifo_sieve";
  static constexpr bool evicts_before_admit = true;
  static constexpr bool buffers_hits = false;
  using impl = detail::s3fifo_queues<true>;
};

// W-TinyLFU (Einziger et al.; Caffeine): an LRU window of ~1% admits every new entry; entries
// leaving it enter the segmented LRU main region (80% protected, 20% probation) only when the
// frequency sketch says they are requested more often than the main region's victim.
struct w_tinylfu {
  using policy_category = eviction_tag;
  static constexpr std::string_view name = "w_tinylfu";
  static constexpr bool evicts_before_admit = false;
  static constexpr bool buffers_hits = true;
  class impl {
   public:
    explicit impl(std::size_t capacity)
        : window_max_(detail::at_least_one(capacity, 0.01)),
          main_max_(capacity > window_max_ ? capacity - window_max_ : 1),
          protected_max_(detail::at_least_one(main_max_, 0.80)),
          sketch_(capacity) {}
    void admit(detail::hook* h) {
      sketch_.increment(h->hash);
      h->queue = kWindow;
      window_.push_front(h);
    }
    void hit(detail::hook* h) {
      sketch_.increment(h->hash);
      switch (h->queue) {
        case kWindow: window_.move_to_front(h); break;
        case kProtected: protected_.move_to_front(h); break;
        default:
          probation_.remove(h);
          h->queue = kProtected;
          protected_.push_front(h);
          while (protected_.weight() > protected_max_ && protected_.size() > 1) {
            auto* d = protected_.back();
            protected_.remove(d);
            d->queue = kProbation;
            probation_.push_front(d);
          }
      }
    }
    void update(detail::hook* h, std::size_t old_w) {
      queue_of(h).reweigh(old_w, h->weight);
      hit(h);
    }
    void remove(detail::hook* h) { queue_of(h).remove(h); }
    detail::hook* evict() {
      // Window overflow moves to probation while main has room; otherwise the oldest window
      // entry (the candidate) duels with the main region's victim.
      while (window_.weight() > window_max_ && !window_.empty()) {
        auto* cand = window_.back();
        if (main_weight() + cand->weight <= main_max_) {
          window_.remove(cand);
          cand->queue = kProbation;
          probation_.push_front(cand);
          continue;
        }
        auto* victim = !probation_.empty() ? probation_.back() : protected_.back();
        window_.remove(cand);
        if (victim == nullptr) return cand;
        if (admit_candidate(cand->hash, victim->hash)) {
          queue_of(victim).remove(victim);
          cand->queue = kProbation;
          probation_.push_front(cand);
          return victim;
        }
        return cand;
      }
      for (auto* q : {&probation_, &protected_, &window_}) {
        if (auto* v = q->back()) {
          q->remove(v);
          return v;
        }
      }
      return nullptr;
    }
    void clear() {
      window_.clear();
      probation_.clear();
      protected_.clear();
    }

   private:
    static constexpr std::uint8_t kWindow = 0, kProbation = 1, kProtected = 2;
    detail::hook_list& queue_of(detail::hook* h) {
      return h->queue == kWindow ? window_ : h->queue == kProbation ? probation_ : protected_;
    }
    std::size_t main_weight() const { return probation_.weight() + protected_.weight(); }
    // Caffeine's rule: a strictly more frequent candidate wins; a warm candidate (>= 6) that
    // loses is still let in at random 1 in 128 times, which defeats hash-flooding attacks.
    bool admit_candidate(std::uint64_t cand, std::uint64_t victim) {
      const unsigned fc = sketch_.frequency(cand), fv = sketch_.frequency(victim);
      if (fc > fv) return true;
      if (fc < 6) return false;
      rng_ ^= rng_ << 13;
      rng_ ^= rng_ >> 7;
      rng_ ^= rng_ << 17;
      return (rng_ & 127) == 0;
    }
    std::size_t window_max_, main_max_, protected_max_;
    detail::hook_list window_, probation_, protected_;
    detail::frequency_sketch sketch_;
    std::uint64_t rng_ = 0x2545f4914f6cdd1dULL;
  };
};

// ARC (Megiddo & Modha, FAST'03): recency list T1 and frequency list T2 with ghost lists B1/B2
// that steer the target size p of T1. For the simulator comparison; hits are buffered.
struct arc {
  using policy_category = eviction_tag;
  static constexpr std::string_view name = "arc";
  static constexpr bool evicts_before_admit = false;
  static constexpr bool buffers_hits = true;
  class impl {
   public:
    explicit impl(std::size_t capacity) : c_(std::max<std::size_t>(capacity, 1)) {}
    void admit(detail::hook* h) {
      from_b2_ = false;
      if (b1_.erase(h->hash)) {
        const std::size_t delta =
            std::max<std::size_t>(b1_.size() ? b2_.size() / b1_.size() : 1, 1);
        p_ = std::min(c_, p_ + delta);
        put(h, kT2);
      } else if (b2_.erase(h->hash)) {
        const std::size_t delta =
            std::max<std::size_t>(b2_.size() ? b1_.size() / b2_.size() : 1, 1);
        p_ = p_ > delta ? p_ - delta : 0;
        from_b2_ = true;
        put(h, kT2);
      } else {
        put(h, kT1);
      }
      fresh_ = h;
    }
    void hit(detail::hook* h) {
      if (h->queue == kT1) {
        t1_.remove(h);
        put(h, kT2);
      } else {
        t2_.move_to_front(h);
      }
    }
    void update(detail::hook* h, std::size_t old_w) {
      (h->queue == kT1 ? t1_ : t2_).reweigh(old_w, h->weight);
      hit(h);
    }
    void remove(detail::hook* h) {
      if (fresh_ == h) fresh_ = nullptr;
      (h->queue == kT1 ? t1_ : t2_).remove(h);
    }
    detail::hook* evict() {
      // REPLACE(x) runs before x is inserted in the paper; here x is already in, so leave it
      // out of |T1| when comparing with p.
      const std::size_t fresh_w = fresh_ && fresh_->queue == kT1 ? fresh_->weight : 0;
      const std::size_t t1 = t1_.weight() - fresh_w;
      const bool from_t1 = !t1_.empty() && t1_.back() != fresh_ &&
                           (t2_.empty() || t1 > p_ || (from_b2_ && t1 == p_));
      detail::hook* v = nullptr;
      if (from_t1) {
        v = t1_.back();
        t1_.remove(v);
        b1_.push_front(v->hash);
      } else if (!t2_.empty()) {
        v = t2_.back();
        t2_.remove(v);
        b2_.push_front(v->hash);
      } else if (!t1_.empty()) {
        v = t1_.back();
        t1_.remove(v);
        b1_.push_front(v->hash);
      }
      if (v == fresh_) fresh_ = nullptr;
      while (b1_.size() > 0 && t1_.size() + b1_.size() > c_) b1_.pop_back();
      while (b2_.size() > 0 && t1_.size() + t2_.size() + b1_.size() + b2_.size() > 2 * c_)
        b2_.pop_back();
      return v;
    }
    void clear() {
      t1_.clear();
      t2_.clear();
      b1_.clear();
      b2_.clear();
      p_ = 0;
      fresh_ = nullptr;
    }

   private:
    static constexpr std::uint8_t kT1 = 0, kT2 = 1;
    void put(detail::hook* h, std::uint8_t q) {
      h->queue = q;
      (q == kT1 ? t1_ : t2_).push_front(h);
    }
    std::size_t c_;
    std::size_t p_ = 0;
    bool from_b2_ = false;
    detail::hook* fresh_ = nullptr;
    detail::hook_list t1_, t2_;
    detail::ghost_lru b1_, b2_;
  };
};

// Every policy, for tests and the simulator's `--policy all`.
template <class... P>
struct eviction_list {};
using all_evictions = eviction_list<lru, fifo, clock, sieve, s3fifo, s3fifo_sieve, w_tinylfu, arc>;

}  // namespace tessera::caching
