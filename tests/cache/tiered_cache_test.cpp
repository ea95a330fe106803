// tiered_cache: demotion on eviction, promotion on a lower hit, admission of lower tiers,
// compression round trips, codecs for user types and single-flight across tiers.
#include "tessera/cache/tiered_cache.hpp"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace caching = tessera::caching;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& tag)
      : path(fs::temp_directory_path() /
             ("tessera_tiered_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::string payload(int i) {
  return "payload " + std::to_string(i) + std::string(200, 'z');
}

// A user type with its own codec.
struct point {
  int x = 0;
  std::string label;
  bool operator==(const point&) const = default;
};

}  // namespace

template <>
struct tessera::caching::codec<point> {
  static void encode(const point& p, std::string& out) {
    out.append(reinterpret_cast<const char*>(&p.x), sizeof p.x);
    out.append(p.label);
  }
  static point decode(std::string_view b) {
    if (b.size() < sizeof(int)) throw tessera::error("point record", "too short");
    point p;
    std::memcpy(&p.x, b.data(), sizeof p.x);
    p.label = std::string(b.substr(sizeof(int)));
    return p;
  }
};

TEMPLATE_TEST_CASE("zstd and lz4 round-trip and reject garbage", "", caching::zstd, caching::lz4) {
  const std::string raw = payload(1) + payload(2);
  const auto packed = TestType::compress(raw);
  CHECK(packed.size() < raw.size());
  CHECK(TestType::decompress(packed) == raw);
  CHECK(TestType::decompress(TestType::compress("")).empty());
  CHECK_THROWS_AS(TestType::decompress("definitely not compressed"), tessera::error);
}

TEST_CASE("codecs round-trip built-in and user types") {
  CHECK(caching::decode<double>(caching::encode(2.5)) == 2.5);
  CHECK(caching::decode<std::string>(caching::encode(std::string("abc"))) == "abc");
  CHECK(caching::decode<point>(caching::encode(point{3, "p"})) == point{3, "p"});
  CHECK_THROWS_AS(caching::decode<std::uint64_t>("abc"), tessera::error);
}

TEST_CASE("evicted entries are demoted and a lower hit promotes them") {
  using tiers = tessera::tiered_cache<int, std::string, caching::memory_tier<caching::lru>,
                                      caching::compressed_tier<caching::zstd>>;
  tiers c({.capacity = 64}, {.capacity_bytes = 1 << 20});
  for (int i = 0; i < 200; ++i) c.put(i, payload(i));
  auto st = c.stats();
  CHECK(st[0].entries <= 64 + 8);
  CHECK(st[1].entries >= 100);  // the rest went down, compressed
  CHECK(st[1].bytes < 136 * 200);
  // Key 0 was evicted early: it comes back from the compressed tier and moves up.
  REQUIRE(c.get(0) == payload(0));
  st = c.stats();
  CHECK(st[1].hits == 1);
  CHECK(c.get(0) == payload(0));
  CHECK(c.stats()[0].hits >= 1);
  CHECK(c.stats()[1].hits == 1);
  // A put replaces the lower copy, an invalidate removes every copy.
  c.put(1, "new");
  CHECK(c.get(1) == std::string("new"));
  CHECK(c.invalidate(2));
  CHECK_FALSE(c.get(2));
}

TEST_CASE("three tiers: memory, lz4 and disk, and the disk keeps values across restarts") {
  temp_dir d("three");
  using tiers = tessera::tiered_cache<std::string, point, caching::memory_tier<>,
                                      caching::compressed_tier<caching::lz4>, caching::disk_tier<>>;
  {
    tiers c({.capacity = 16}, {.capacity_bytes = 8 << 10}, {.directory = d.path}, "t3");
    for (int i = 0; i < 500; ++i) c.put("k" + std::to_string(i), point{i, payload(i)});
    const auto st = c.stats();
    CHECK(st[2].entries > 100);
    CHECK(c.get("k0") == point{0, payload(0)});
    CHECK(c.stats()[2].hits == 1);
  }
  tiers again({.capacity = 16}, {.capacity_bytes = 8 << 10}, {.directory = d.path});
  CHECK(again.get("k1") == point{1, payload(1)});
}

namespace {
// The disk tier's published samples, by metric name.
struct disk_sink final : tessera::profile::metric_sink {
  std::map<std::string, double, std::less<>> values;
  void sample(std::string_view name, std::string_view, tessera::profile::metric_type, double value,
              std::initializer_list<tessera::profile::label> labels) override {
    bool ours = false, disk = false;
    for (const auto& l : labels) {
      ours |= l.key == "cache" && l.value == "metrics-disk";
      disk |= l.key == "tier" && l.value == "disk";
    }
    if (ours && disk) values[std::string(name)] += value;
  }
};
}  // namespace

TEST_CASE("the disk tier publishes hits, misses, records, evicted segments and its read time") {
  temp_dir d("metrics");
  using tiers =
      tessera::tiered_cache<int, std::string, caching::memory_tier<>, caching::disk_tier<>>;
  tiers c({.capacity = 4},
          {.directory = d.path, .capacity_bytes = 16 << 10, .segment_bytes = 4 << 10},
          "metrics-disk");
  for (int i = 0; i < 200; ++i) c.put(i, payload(i));
  int found = 0;
  for (int i = 190; i < 196; ++i) found += c.get(i).has_value();  // demoted: read from disk
  (void)c.get(100000);                                            // a miss everywhere
  disk_sink sink;
  tessera::profile::collect(sink);
  CHECK(found == 6);
  CHECK(sink.values["tessera_cache_hits_total"] >= 6);
  CHECK(sink.values["tessera_cache_misses_total"] >= 1);
  CHECK(sink.values["tessera_cache_entries"] == static_cast<double>(c.stats()[1].entries));
  CHECK(sink.values["tessera_cache_evicted_segments_total"] >= 1);
  CHECK(sink.values["tessera_cache_read_seconds_total"] > 0);
  CHECK(sink.values["tessera_cache_write_seconds_total"] > 0);
}

TEST_CASE("admit_frequent keeps one-hit wonders out of the lower tier") {
  using tiers =
      tessera::tiered_cache<int, std::string, caching::memory_tier<caching::fifo>,
                            caching::compressed_tier<caching::lz4, caching::admit_frequent<2>>>;
  tiers c({.capacity = 8}, {.capacity_bytes = 1 << 20});
  // Keys 0..9 are requested twice, the rest once, before they are demoted.
  for (int i = 0; i < 10; ++i) (void)c.get(i);
  for (int i = 0; i < 100; ++i) c.get_or_load(i, [i] { return payload(i); });
  const auto st = c.stats();
  CHECK(st[1].rejected >= 80);
  CHECK(st[1].entries <= 12);
  CHECK(c.get(3) == payload(3));  // kept below, comes back
}

TEST_CASE("get_or_load across tiers finds demoted entries instead of loading again") {
  temp_dir d("load");
  using tiers =
      tessera::tiered_cache<int, std::string, caching::memory_tier<>, caching::disk_tier<>>;
  tiers c({.capacity = 32}, {.directory = d.path});
  std::atomic<int> loads{0};
  std::atomic<bool> wrong{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const auto v = c.get_or_load(i % 100, [&, i] {
          ++loads;
          return payload(i % 100);
        });
        if (v != payload(i % 100)) wrong = true;
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK_FALSE(wrong.load());
  const int after_threads = loads.load();
  CHECK(after_threads >= 100);
  // Every key is now in memory or on disk: none is loaded again.
  for (int i = 0; i < 100; ++i)
    CHECK(c.get_or_load(i, [&] {
      ++loads;
      return std::string();
    }) == payload(i));
  CHECK(loads.load() == after_threads);
  CHECK(c.stats()[1].hits > 0);
}
