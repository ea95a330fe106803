#include "tessera/profile/hooks.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>

namespace {

// Records each sample as "name{k=v,...}" -> value.
struct recording_sink final : tessera::profile::metric_sink {
  std::map<std::string, double> values;
  std::map<std::string, tessera::profile::metric_type> types;
  void sample(std::string_view name, std::string_view, tessera::profile::metric_type type,
              double value, std::initializer_list<tessera::profile::label> labels) override {
    std::string key(name);
    key += '{';
    for (const auto& l : labels) key += std::string(l.key) + "=" + std::string(l.value) + ",";
    key += '}';
    values[key] = value;
    types[key] = type;
  }
};

}  // namespace

TEST_CASE("a published collector is scraped with its labels until its publication ends") {
  double live = 3;
  recording_sink before;
  {
    auto reg = tessera::profile::publish("pool", [&](tessera::profile::metric_sink& s) {
      s.gauge("tessera_test_live_objects", "live objects", live, {{"pool", "orders"}});
      s.counter("tessera_test_refills_total", "refills", 7);
    });
    CHECK(reg.active());
    tessera::profile::collect(before);
  }
  CHECK(before.values.at("tessera_test_live_objects{pool=orders,}") == 3);
  CHECK(before.types.at("tessera_test_refills_total{}") == tessera::profile::metric_type::counter);

  recording_sink after;
  tessera::profile::collect(after);
  CHECK(after.values.count("tessera_test_live_objects{pool=orders,}") == 0);
}

TEST_CASE("a moved publication unregisters once, from its new owner") {
  int calls = 0;
  tessera::profile::publication outer;
  {
    auto reg = tessera::profile::publish("x", [&](tessera::profile::metric_sink&) { ++calls; });
    outer = std::move(reg);
    CHECK_FALSE(reg.active());
  }
  recording_sink sink;
  tessera::profile::collect(sink);
  CHECK(calls == 1);
  outer.reset();
  tessera::profile::collect(sink);
  CHECK(calls == 1);
}
