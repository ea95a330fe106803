// Tests that pools publish tessera_memory_* metrics into the profiler registry.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "tessera/memory/object_pool.hpp"
#include "tessera/memory/pool_resource.hpp"
#include "tessera/profile/hooks.hpp"

namespace {
struct recording_sink final : tessera::profile::metric_sink {
  std::map<std::string, double> values;
  void sample(std::string_view name, std::string_view, tessera::profile::metric_type, double value,
              std::initializer_list<tessera::profile::label> labels) override {
    std::string key(name);
    for (const auto& l : labels) key += "{" + std::string(l.key) + "=" + std::string(l.value) + "}";
    values[key] = value;
  }
};
}  // namespace

TEST_CASE("a pool publishes live objects and upstream bytes under its name", "[memory][metrics]") {
  tessera::object_pool<double> pool{{.name = "metered"}};
  auto a = pool.make(1.0);
  auto b = pool.make(2.0);
  recording_sink s;
  tessera::profile::collect(s);
  CHECK(s.values.at("tessera_memory_live_objects{pool=metered}") == 2);
  CHECK(s.values.at("tessera_memory_upstream_bytes{pool=metered}") > 0);
  CHECK(s.values.at("tessera_memory_refills_total{pool=metered}") >= 1);
  CHECK(s.values.count("tessera_memory_peak_upstream_bytes{pool=metered}") == 1);
}

TEST_CASE("a pool stops publishing when it is destroyed", "[memory][metrics]") {
  { tessera::pool_resource r{{.name = "gone"}}; }
  recording_sink s;
  tessera::profile::collect(s);
  CHECK(s.values.count("tessera_memory_live_objects{pool=gone}") == 0);
}

TEST_CASE("publish_metrics = false keeps a pool out of the registry", "[memory][metrics]") {
  tessera::object_pool<int> quiet{{.name = "quiet", .publish_metrics = false}};
  recording_sink s;
  tessera::profile::collect(s);
  CHECK(s.values.count("tessera_memory_live_objects{pool=quiet}") == 0);
}
