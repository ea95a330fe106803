#include "tessera/profile/export.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tessera/core/error.hpp"
#include "tessera/profile/detail/json.hpp"

namespace tp = tessera::profile;
using tp::detail::json;

namespace {

void nested(int depth) {
  TESSERA_ZONE("level");
  if (depth > 0) {
    nested(depth - 1);
    nested(depth - 1);
  }
}

std::int64_t ns_of(const json& v) {
  return std::llround(v.as_number() * 1000.0);
}

tp::trace capture_two_threads() {
  tp::session s;
  s.start();
  auto work = [] {
    for (int i = 0; i < 20; ++i) {
      TESSERA_ZONE_VALUE("batch", i);
      nested(3);
      TESSERA_INSTANT("batch done");
      TESSERA_PLOT("batches", i);
    }
  };
  std::thread a([&] {
    tp::set_thread_name("producer \"a\"");
    work();
  });
  work();
  a.join();
  TESSERA_ASYNC_BEGIN(span, "async job");
  std::thread([span]() mutable { TESSERA_ASYNC_END(span); }).join();
  return s.stop();
}

// A sample line of the text format: name{label="value",...} value (no regex: g++ 12 warns
// inside <regex> under -O1 -fsanitize=address).
bool valid_sample_line(const std::string& line) {
  std::size_t i = 0;
  auto name_char = [&](bool first, bool colon) {
    const char c = line[i];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
  };
  if (i >= line.size() || !name_char(true, true)) return false;
  while (i < line.size() && name_char(false, true)) ++i;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      if (!name_char(true, false)) return false;
      while (i < line.size() && name_char(false, false)) ++i;
      if (line.compare(i, 2, "=\"") != 0) return false;
      i += 2;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\') {
          if (i + 1 >= line.size() || std::string("\\\"n").find(line[i + 1]) == std::string::npos)
            return false;
          ++i;
        }
        ++i;
      }
      if (i >= line.size()) return false;
      ++i;  // closing quote
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;  // }
  }
  if (i >= line.size() || line[i] != ' ') return false;
  const std::string value = line.substr(i + 1);
  if (value == "+Inf" || value == "-Inf" || value == "NaN") return true;
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  return !value.empty() && *end == '\0';
}

bool on_path(const char* tool) {
  const std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

TEST_CASE("the Chrome trace is valid JSON whose zones nest per thread in time order") {
  const auto t = capture_two_threads();
  std::ostringstream out;
  tp::write_chrome_trace(out, t);
  const json doc = tp::detail::parse_json(out.str(), "chrome trace");
  const json* events = doc.find("traceEvents");
  REQUIRE(events != nullptr);
  REQUIRE(events->is_array());

  std::map<std::int64_t, std::vector<std::pair<std::int64_t, std::int64_t>>> zones;  // tid ->
  std::map<std::int64_t, std::int64_t> last_ts;
  std::map<std::int64_t, std::string> thread_names;
  std::map<char, int> phases;
  for (const auto& e : events->as_array()) {
    const auto ph = e.find("ph")->as_string();
    REQUIRE(ph.size() == 1);
    ++phases[ph[0]];
    const auto tid = static_cast<std::int64_t>(e.find("tid")->as_number());
    if (ph == "M") {
      if (e.find("name")->as_string() == "thread_name")
        thread_names[tid] = e.find("args")->find("name")->as_string();
      continue;
    }
    const auto ts = ns_of(*e.find("ts"));
    if (ph == "b" || ph == "e") continue;  // async ends are placed on the thread that ended them
    if (last_ts.count(tid)) CHECK(ts >= last_ts[tid]);
    last_ts[tid] = ts;
    if (ph == "X") zones[tid].push_back({ts, ts + ns_of(*e.find("dur"))});
  }
  CHECK(phases['X'] == 2 * 20 * 16);  // 20 batches of 1 + 15 nested levels, two threads
  CHECK(phases['i'] == 2 * 20);
  CHECK(phases['C'] == 2 * 20);
  CHECK(phases['b'] == 1);
  CHECK(phases['e'] == 1);
  CHECK(phases['M'] >= 3);
  bool named = false;
  for (const auto& [tid, name] : thread_names) named |= name == "producer \"a\"";
  CHECK(named);

  REQUIRE(zones.size() == 2);
  for (auto& [tid, list] : zones) {
    std::vector<std::pair<std::int64_t, std::int64_t>> stack;
    for (const auto& z : list) {
      while (!stack.empty() && stack.back().second <= z.first) stack.pop_back();
      if (!stack.empty()) CHECK(z.second <= stack.back().second);  // inside its parent
      stack.push_back(z);
    }
  }
}

TEST_CASE("the Chrome trace reports dropped events") {
  tp::session s{{.buffer_events = 4}};
  s.start();
  for (int i = 0; i < 10; ++i) {
    TESSERA_ZONE("z");
  }
  const auto& t = s.stop();
  std::ostringstream out;
  tp::write_chrome_trace(out, t);
  const json doc = tp::detail::parse_json(out.str(), "chrome trace");
  CHECK(doc.find("otherData")->find("dropped_events")->as_number() == 6);
}

TEST_CASE("writing a trace to an unwritable path names the file") {
  tp::trace t;
  try {
    tp::write_chrome_trace("/nonexistent-dir/trace.json", t);
    FAIL("no exception");
  } catch (const tessera::error& e) {
    CHECK(std::string(e.what()).find("/nonexistent-dir/trace.json") != std::string::npos);
  }
}

TEST_CASE("the Prometheus text parses and passes promtool check metrics") {
  tp::registry r;
  r.counter("tessera_test_requests_total", "Requests served.", {{"route", "/a \"quoted\"\\"}})
      .add(3);
  r.counter("tessera_test_requests_total", "Requests served.", {{"route", "/b\nnewline"}}).add(1);
  r.gauge("tessera_test_queue_length", "Items waiting.").set(2.5);
  auto& h = r.histogram("tessera_test_latency_seconds", "Request latency.", {{"route", "/a"}});
  for (int i = 1; i <= 1000; ++i) h.record(i * 1e-4);
  auto pub = tp::publish("fake", [](tp::metric_sink& s) {
    s.counter("tessera_test_published_total", "Published by a collector.", 9, {{"worker", "0"}});
    s.counter("tessera_test_published_total", "Published by a collector.", 1, {{"worker", "0"}});
  });
  std::ostringstream out;
  tp::write_prometheus(out, r.snapshot());
  const std::string text = out.str();
  INFO(text);

  std::istringstream lines(text);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    INFO(line);
    CHECK(valid_sample_line(line));
    ++samples;
  }
  CHECK(samples > 8);
  CHECK_FALSE(valid_sample_line("bad-name 1"));  // the checker itself can fail
  CHECK_FALSE(valid_sample_line("x{a=\"b} 1"));
  CHECK(text.find("tessera_test_published_total{worker=\"0\"} 10\n") != std::string::npos);
  CHECK(text.find("tessera_test_latency_seconds_count{route=\"/a\"} 1000\n") != std::string::npos);
  CHECK(text.find("tessera_test_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 1000\n") !=
        std::string::npos);

  if (!on_path("promtool")) {
    WARN(
        "promtool is not on PATH: skipping `promtool check metrics` (install Debian's prometheus)");
    return;
  }
  const auto path = std::filesystem::temp_directory_path() / "tessera_profile_metrics.prom";
  {
    std::ofstream f(path);
    f << text;
  }
  const std::string cmd = "promtool check metrics < " + path.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string verdict;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) verdict += buf;
  const int status = pclose(p);
  INFO("promtool: " << verdict);
  CHECK(status == 0);
  std::filesystem::remove(path);
}

TEST_CASE("the summary gives each zone its self time apart from the zones nested in it") {
  tp::session s;
  s.start();
  for (int i = 0; i < 5; ++i) {
    TESSERA_ZONE("outer");
    {
      TESSERA_ZONE("inner");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  const auto& t = s.stop();
  const auto zones = tp::summarize(t);
  REQUIRE(zones.size() == 2);
  const auto& inner = zones[0].name == "inner" ? zones[0] : zones[1];
  const auto& outer = zones[0].name == "outer" ? zones[0] : zones[1];
  CHECK(inner.name == "inner");  // the sleep is inner's self time: first by self time
  CHECK(outer.count == 5);
  CHECK(inner.count == 5);
  CHECK(outer.total_ns >= inner.total_ns);
  CHECK(outer.self_ns == outer.total_ns - inner.total_ns);
  CHECK(inner.self_ns == inner.total_ns);
  CHECK(inner.p50_ns >= 200'000 * 0.99);
  CHECK(inner.samples_ns.size() == 5);

  std::ostringstream table;
  tp::write_summary_table(table, t);
  CHECK(table.str().find("inner") != std::string::npos);
  std::ostringstream js;
  tp::write_summary_json(js, t);
  const json doc = tp::detail::parse_json(js.str(), "summary");
  CHECK(doc.find("zones")->as_array().size() == 2);
}

TEST_CASE("the bottleneck report ranks idle workers, poor caches and budget pressure") {
  auto sched = tp::publish("sched", [](tp::metric_sink& s) {
    s.counter("tessera_sched_idle_seconds_total", "", 3.0, {{"worker", "0"}});
    s.counter("tessera_sched_busy_seconds_total", "", 1.0, {{"worker", "0"}});
    s.counter("tessera_sched_idle_seconds_total", "", 0.1, {{"worker", "1"}});
    s.counter("tessera_sched_busy_seconds_total", "", 3.9, {{"worker", "1"}});
    s.counter("tessera_sched_tasks_total", "", 100, {{"worker", "0"}});
    s.counter("tessera_sched_steals_total", "", 40, {{"worker", "0"}});
    s.counter("tessera_sched_failed_steals_total", "", 60, {{"worker", "0"}});
  });
  auto cache = tp::publish("cache", [](tp::metric_sink& s) {
    s.counter("tessera_cache_hits_total", "", 10, {{"cache", "users"}, {"tier", "l1"}});
    s.counter("tessera_cache_misses_total", "", 90, {{"cache", "users"}, {"tier", "l1"}});
    s.counter("tessera_cache_hits_total", "", 99, {{"cache", "blobs"}, {"tier", "l1"}});
    s.counter("tessera_cache_misses_total", "", 1, {{"cache", "blobs"}, {"tier", "l1"}});
  });
  auto budget = tp::publish("budget", [](tp::metric_sink& s) {
    s.counter("tessera_budget_pressure_events_total", "", 5,
              {{"budget", "main"}, {"level", "high"}});
  });
  const auto findings = tp::find_bottlenecks(nullptr, tp::metrics().snapshot(), 10);
  REQUIRE(findings.size() == 5);
  CHECK(findings[0].subject == "cache users/l1");
  CHECK(findings[0].figure.find("hit ratio 10.0%") != std::string::npos);
  CHECK(findings[1].subject == "sched worker 0");
  CHECK(findings[1].figure.find("idle 75.0%") != std::string::npos);
  CHECK(findings[1].figure.find("steal ratio 40.0%") != std::string::npos);
  CHECK(findings[1].figure.find("60.0% of steal attempts failed") != std::string::npos);
  CHECK(findings[2].subject == "budget main/high");
  CHECK(findings[2].figure.find("5 pressure events") != std::string::npos);
  CHECK(findings.back().subject == "cache blobs/l1");
  std::ostringstream out;
  tp::write_bottleneck_report(out, findings);
  CHECK(out.str().find("1. cache users/l1: hit ratio 10.0%") != std::string::npos);
  CHECK(tp::find_bottlenecks(nullptr, tp::metrics().snapshot(), 2).size() == 2);
}

TEST_CASE("the bottleneck report puts the zone with the most self time first") {
  tp::session s;
  s.start();
  {
    TESSERA_ZONE("slow");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  { TESSERA_ZONE("fast"); }
  const auto& t = s.stop();
  const auto findings = tp::find_bottlenecks(&t, tp::metrics_snapshot{}, 10);
  REQUIRE(findings.size() == 2);
  CHECK(findings[0].subject == "zone slow");
  CHECK(findings[0].score > 0.9);
}
