// graceful_degradation: a simulated service under one memory budget. Request buffers are high
// priority (with a reservation); the result cache is low priority and shrinks through its
// reclaimer when buffers need room; an optional feature (recommendations) switches off when
// pressure turns critical and back on once it falls. Load rises, then falls; a timeline shows
// the cache giving way and everything coming back.
#include <cstddef>
#include <cstdio>
#include <list>
#include <string>
#include <tessera/budget/budget.hpp>
#include <unordered_map>
#include <vector>

namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;

// A result cache whose bytes are charged to a budget account; evicts least recently used first,
// both when an insert does not fit and when the budget asks for memory back.
class result_cache {
 public:
  explicit result_cache(tessera::budget::account& account) : account_(account) {
    account_.set_reclaimer([this](std::size_t wanted) { return evict(wanted); });
  }
  ~result_cache() {
    account_.set_reclaimer({});
    evict(bytes_);
  }

  void put(int key, std::size_t size) {
    if (index_.count(key) != 0) return;
    if (!account_.try_charge(size)) return;  // no room: serve without caching
    lru_.push_front({key, size});
    index_[key] = lru_.begin();
    bytes_ += size;
  }
  bool get(int key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    lru_.splice(lru_.begin(), lru_, it->second);
    return true;
  }
  std::size_t evict(std::size_t wanted) {
    std::size_t freed = 0;
    while (freed < wanted && !lru_.empty()) {
      const auto [key, size] = lru_.back();
      index_.erase(key);
      lru_.pop_back();
      freed += size;
    }
    bytes_ -= freed;
    account_.release(freed);
    return freed;
  }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }

 private:
  struct entry {
    int key;
    std::size_t size;
  };
  tessera::budget::account& account_;
  std::list<entry> lru_;
  std::unordered_map<int, std::list<entry>::iterator> index_;
  std::size_t bytes_ = 0;
};

}  // namespace

int main() {
  tessera::budget memory{{.name = "service",
                          .limit = 64 * MiB,
                          .elevated_at = 0.80,
                          .critical_at = 0.95,
                          .hysteresis = 0.15}};
  auto& buffers = memory.create_account(
      {.name = "request_buffers", .priority = tessera::priority::high, .reserved = 8 * MiB});
  auto& cache_account = memory.create_account(
      {.name = "result_cache", .priority = tessera::priority::low, .high = 40 * MiB});
  auto& feature_account = memory.create_account(
      {.name = "recommendations", .priority = tessera::priority::normal, .limit = 8 * MiB});
  result_cache cache(cache_account);

  bool recommendations = true;
  auto subscription = memory.on_pressure([&](tessera::pressure_level level) {
    if (level == tessera::pressure_level::critical) recommendations = false;
    if (level == tessera::pressure_level::ok) recommendations = true;
  });

  std::printf("%4s %8s %10s %10s %10s %9s %16s %10s\n", "tick", "requests", "buffers", "cache",
              "hit rate", "pressure", "recommendations", "reclaimed");
  const std::size_t buffer_size = 256 * KiB;
  int next_key = 0;
  for (int tick = 0; tick < 40; ++tick) {
    // Load rises to a peak at tick 20 and falls back.
    const int requests = 20 + 9 * (tick <= 20 ? tick : 40 - tick);
    std::vector<tessera::budget::reservation> in_flight;
    int hits = 0;
    int served = 0;
    for (int r = 0; r < requests; ++r) {
      // A request buffer waits briefly for memory; the budget reclaims from the cache first.
      auto buffer = buffers.try_reserve(buffer_size);
      if (!buffer) continue;  // shed load: the service stays up
      in_flight.push_back(std::move(*buffer));
      ++served;
      const int key = (next_key++ * 7) % 400;  // results repeat: worth caching
      if (cache.get(key)) {
        ++hits;
      } else {
        cache.put(key, 64 * KiB);
      }
      if (recommendations) {
        // The optional feature uses scratch memory of its own while it is on.
        if (auto scratch = feature_account.try_reserve(32 * KiB)) { /* compute, then drop */
        }
      }
    }
    std::printf("%4d %8d %9zuM %9zuM %9.0f%% %9s %16s %9zuM\n", tick, served,
                buffers.charged() / MiB, cache.bytes() / MiB,
                served != 0 ? 100.0 * hits / served : 0.0,
                std::string(tessera::to_string(memory.pressure())).c_str(),
                recommendations ? "on" : "off", cache_account.reclaimed() / MiB);
    in_flight.clear();  // requests complete, buffers go back
  }
  std::printf("peak %zu MiB of %zu MiB; cache denied %llu inserts\n", memory.peak() / MiB,
              memory.limit() / MiB, static_cast<unsigned long long>(cache_account.denied()));
  return 0;
}
