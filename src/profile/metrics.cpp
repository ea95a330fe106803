// Shard slots, histogram arithmetic and the process-wide metrics registry (metrics.hpp).
#include "tessera/profile/metrics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>

#include "tessera/core/error.hpp"

namespace tessera::profile {
namespace detail {
namespace {

struct slot_pool {
  std::mutex mutex;
  std::vector<std::uint32_t> free;
  std::uint32_t next = 0;
};

slot_pool& slots() {
  static auto* p = new slot_pool;  // never destroyed: threads exit after static destruction
  return *p;
}

struct slot_guard {
  std::uint32_t slot = no_slot;
  ~slot_guard() {
    if (slot == no_slot) return;
    tl_slot = max_slots;  // whatever this thread still counts goes to the overflow shard
    auto& p = slots();
    std::lock_guard lock(p.mutex);
    p.free.push_back(slot);
  }
};
thread_local slot_guard tl_slot_guard;
constinit thread_local bool tl_slot_taken = false;

}  // namespace

std::uint32_t acquire_slot() noexcept {
  if (tl_slot_taken) return max_slots;  // the thread is exiting: its slot went back already
  tl_slot_taken = true;
  auto& p = slots();
  std::uint32_t s = max_slots;
  {
    std::lock_guard lock(p.mutex);
    if (!p.free.empty()) {
      s = p.free.back();
      p.free.pop_back();
    } else if (p.next < max_slots) {
      s = p.next++;
    }
  }
  tl_slot = s;
  if (s < max_slots) tl_slot_guard.slot = s;
  return s;
}

}  // namespace detail

double histogram_layout::lower_bound(int index) noexcept {
  const int exponent = min_exponent + index / sub_buckets;
  const int sub = index % sub_buckets;
  return std::ldexp(1.0 + sub / double(sub_buckets), exponent);
}

double histogram_layout::upper_bound(int index) noexcept {
  const int exponent = min_exponent + index / sub_buckets;
  const int sub = index % sub_buckets;
  return std::ldexp(1.0 + (sub + 1) / double(sub_buckets), exponent);
}

void histogram_snapshot::add(double v, std::uint64_t n) {
  if (n == 0) return;
  buckets_.resize(static_cast<std::size_t>(histogram_layout::bucket_count));
  if (count_ == 0 || v < min_) min_ = v;
  if (count_ == 0 || v > max_) max_ = v;
  buckets_[static_cast<std::size_t>(histogram_layout::index(v))] += n;
  count_ += n;
  sum_ += v * double(n);
}

void histogram_snapshot::merge(const histogram_snapshot& other) {
  if (other.count_ == 0) return;
  buckets_.resize(static_cast<std::size_t>(histogram_layout::bucket_count));
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

double histogram_snapshot::quantile(double q) const noexcept {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  if (rank == 1) return min_;  // the extremes are known exactly
  if (rank >= count_) return max_;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const int idx = static_cast<int>(i);
      const double mid =
          (histogram_layout::lower_bound(idx) + histogram_layout::upper_bound(idx)) / 2;
      // The end buckets also hold out-of-range values; min/max of a shard scraped while it
      // records may lag its buckets, hence no std::clamp (which needs min <= max).
      return std::max(std::min(mid, max_), min_);
    }
  }
  return max_;
}

histogram::~histogram() {
  for (auto& s : shards_) delete s.load(std::memory_order_relaxed);
}

void histogram::record_slow(double v) noexcept {
  const auto slot = detail::thread_slot();
  if (slot >= detail::max_slots) {
    std::lock_guard lock(overflow_mutex_);
    overflow_.add(v);
    return;
  }
  // Only the slot's owner stores here; a later owner of the slot keeps using the shard.
  if (shards_[slot].load(std::memory_order_relaxed) == nullptr)
    shards_[slot].store(new detail::histogram_shard, std::memory_order_release);
  record(v);
}

void histogram::record_outlier(detail::histogram_shard& shard, double v) noexcept {
  auto& b = shard.buckets[static_cast<std::size_t>(histogram_layout::index(v))];
  b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (std::isnan(v)) return;  // counted, but no minimum or maximum
  const auto key = detail::order_key(std::bit_cast<std::uint64_t>(v));
  if (key < shard.min_key.load(std::memory_order_relaxed))
    shard.min_key.store(key, std::memory_order_relaxed);
  if (key > shard.max_key.load(std::memory_order_relaxed))
    shard.max_key.store(key, std::memory_order_relaxed);
}

histogram_snapshot histogram::snapshot() const {
  histogram_snapshot out;
  for (const auto& p : shards_) {
    const auto* shard = p.load(std::memory_order_acquire);
    if (shard == nullptr) continue;
    histogram_snapshot part;
    part.buckets_.resize(static_cast<std::size_t>(histogram_layout::bucket_count));
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < part.buckets_.size(); ++i) {
      part.buckets_[i] = shard->buckets[i].load(std::memory_order_relaxed);
      total += part.buckets_[i];
    }
    if (total == 0) continue;
    part.count_ = total;
    const auto min_key = shard->min_key.load(std::memory_order_relaxed);
    const auto max_key = shard->max_key.load(std::memory_order_relaxed);
    if (min_key <= max_key) {  // otherwise only NaNs so far, or a record in flight
      part.min_ = std::bit_cast<double>(detail::from_order_key(min_key));
      part.max_ = std::bit_cast<double>(detail::from_order_key(max_key));
    }
    for (std::size_t i = 0; i < part.buckets_.size(); ++i) {
      if (part.buckets_[i] == 0) continue;
      const int idx = static_cast<int>(i);
      const double mid =
          (histogram_layout::lower_bound(idx) + histogram_layout::upper_bound(idx)) / 2;
      part.sum_ += double(part.buckets_[i]) * std::max(std::min(mid, part.max_), part.min_);
    }
    out.merge(part);
  }
  {
    std::lock_guard lock(overflow_mutex_);
    out.merge(overflow_);
  }
  return out;
}

const family_snapshot* metrics_snapshot::find(std::string_view name) const noexcept {
  for (const auto& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

namespace {

using label_set = std::vector<std::pair<std::string, std::string>>;

bool valid_name(std::string_view n, bool colon_ok) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

label_set to_label_set(std::string_view metric, std::initializer_list<label> labels) {
  label_set out;
  for (const auto& l : labels) {
    if (!valid_name(l.key, false) || l.key.starts_with("__"))
      throw error("metric " + std::string(metric),
                  "label name '" + std::string(l.key) + "' is not a Prometheus label name");
    out.emplace_back(std::string(l.key), std::string(l.value));
  }
  return out;
}

// Adds collectors' samples to a snapshot, grouped by metric name.
struct snapshot_sink final : metric_sink {
  metrics_snapshot& out;
  std::map<std::string, std::size_t, std::less<>> index;
  explicit snapshot_sink(metrics_snapshot& o) : out(o) {
    for (std::size_t i = 0; i < out.families.size(); ++i) index.emplace(out.families[i].name, i);
  }
  void sample(std::string_view name, std::string_view help, metric_type type, double value,
              std::initializer_list<label> labels) override {
    const auto kind = type == metric_type::counter ? metric_kind::counter : metric_kind::gauge;
    auto it = index.find(name);
    if (it == index.end()) {
      it = index.emplace(std::string(name), out.families.size()).first;
      out.families.push_back({std::string(name), std::string(help), kind, {}});
    }
    auto& family = out.families[it->second];
    if (family.kind != kind) return;  // one name, two kinds: the first one registered wins
    series_snapshot s;
    for (const auto& l : labels) s.labels.emplace_back(std::string(l.key), std::string(l.value));
    s.value = value;
    family.series.push_back(std::move(s));
  }
};

}  // namespace

struct registry::impl {
  struct series {
    label_set labels;
    std::unique_ptr<profile::counter> c;
    std::unique_ptr<profile::gauge> g;
    std::unique_ptr<profile::histogram> h;
  };
  struct family {
    std::string name;
    std::string help;
    metric_kind kind;
    std::vector<std::unique_ptr<series>> series_list;
  };
  mutable std::mutex mutex;
  std::vector<std::unique_ptr<family>> families;

  series& find_or_add(std::string_view name, std::string_view help, metric_kind kind,
                      std::initializer_list<label> labels) {
    if (!valid_name(name, true))
      throw error("metric " + std::string(name), "not a Prometheus metric name");
    auto set = to_label_set(name, labels);
    std::lock_guard lock(mutex);
    family* f = nullptr;
    for (auto& fam : families)
      if (fam->name == name) f = fam.get();
    if (f == nullptr) {
      families.push_back(
          std::make_unique<family>(family{std::string(name), std::string(help), kind, {}}));
      f = families.back().get();
    } else if (f->kind != kind) {
      throw error("metric " + std::string(name), "already registered as another kind");
    }
    for (auto& s : f->series_list)
      if (s->labels == set) return *s;
    auto s = std::make_unique<series>();
    s->labels = std::move(set);
    switch (kind) {
      case metric_kind::counter: s->c = std::make_unique<profile::counter>(); break;
      case metric_kind::gauge: s->g = std::make_unique<profile::gauge>(); break;
      case metric_kind::histogram: s->h = std::make_unique<profile::histogram>(); break;
    }
    f->series_list.push_back(std::move(s));
    return *f->series_list.back();
  }
};

registry::registry() : impl_(std::make_unique<impl>()) {}
registry::~registry() = default;

counter& registry::counter(std::string_view name, std::string_view help,
                           std::initializer_list<label> labels) {
  return *impl_->find_or_add(name, help, metric_kind::counter, labels).c;
}
gauge& registry::gauge(std::string_view name, std::string_view help,
                       std::initializer_list<label> labels) {
  return *impl_->find_or_add(name, help, metric_kind::gauge, labels).g;
}
histogram& registry::histogram(std::string_view name, std::string_view help,
                               std::initializer_list<label> labels) {
  return *impl_->find_or_add(name, help, metric_kind::histogram, labels).h;
}

metrics_snapshot registry::snapshot(bool include_published) const {
  metrics_snapshot out;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& f : impl_->families) {
      family_snapshot fs{f->name, f->help, f->kind, {}};
      for (const auto& s : f->series_list) {
        series_snapshot ss;
        ss.labels = s->labels;
        if (s->c) ss.value = double(s->c->value());
        if (s->g) ss.value = s->g->value();
        if (s->h) ss.histogram = s->h->snapshot();
        fs.series.push_back(std::move(ss));
      }
      out.families.push_back(std::move(fs));
    }
  }
  if (include_published) {
    snapshot_sink sink(out);
    collect(sink);
  }
  return out;
}

registry& metrics() {
  static auto* r = new registry;  // never destroyed: metrics may be touched during exit
  return *r;
}

}  // namespace tessera::profile
