#include "tessera/profile/perfdiff.hpp"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tessera/core/error.hpp"

namespace pd = tessera::profile::perfdiff;

namespace {

// Google Benchmark JSON with `reps` repetitions per series, aggregates included (ignored).
std::string gbench_json(const std::map<std::string, std::vector<double>>& series) {
  std::ostringstream out;
  out << "{\"context\":{\"library_build_type\":\"release\"},\"benchmarks\":[";
  bool first = true;
  for (const auto& [name, samples] : series) {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      out << (first ? "" : ",") << "{\"name\":\"" << name << "\",\"run_name\":\"" << name
          << "\",\"run_type\":\"iteration\",\"repetitions\":" << samples.size()
          << ",\"repetition_index\":" << i
          << ",\"iterations\":1000,\"real_time\":" << samples[i] / 1000.0
          << ",\"cpu_time\":" << samples[i] / 1000.0 << ",\"time_unit\":\"us\"}";
      first = false;
    }
    out << ",{\"name\":\"" << name << "_median\",\"run_name\":\"" << name
        << "\",\"run_type\":\"aggregate\",\"aggregate_name\":\"median\",\"real_time\":1e9,"
           "\"cpu_time\":1e9,\"time_unit\":\"ns\"}";
  }
  out << "]}";
  return out.str();
}

std::vector<double> noisy(std::mt19937_64& rng, double mean, int n) {
  std::normal_distribution<double> d(mean, mean * 0.02);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  return path;
}

int run_tool(const std::string& args) {
  const std::string cmd = std::string(TESSERA_PERFDIFF_EXE) + " " + args + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("the exact Mann-Whitney p-value matches the textbook value") {
  // Complete separation of 3 vs 3: two of the 20 arrangements are as extreme.
  CHECK(pd::mann_whitney_p({1, 2, 3}, {4, 5, 6}) == Approx(0.1));
  CHECK(pd::mann_whitney_p({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}) == Approx(2.0 / 252));
  CHECK(pd::mann_whitney_p({1, 3, 5}, {2, 4, 6}) == Approx(0.7));
}

TEST_CASE("the normal approximation handles ties and all-equal samples") {
  CHECK(pd::mann_whitney_p({5, 5, 5, 5}, {5, 5, 5, 5}) == 1.0);
  std::vector<double> a(30, 1.0), b(30, 2.0);
  a[0] = 2.0;  // ties across the samples
  CHECK(pd::mann_whitney_p(a, b) < 1e-6);
}

TEST_CASE("Benjamini-Hochberg adjusts in rank order and stays monotone") {
  const auto q = pd::benjamini_hochberg({0.01, 0.04, 0.03, 0.5});
  CHECK(q[0] == Approx(0.04));
  CHECK(q[2] == Approx(0.04 * 4 / 3));  // 0.03 * 4 / 2 = 0.06 is capped by the next rank's value
  CHECK(q[1] == Approx(0.04 * 4 / 3));
  CHECK(q[3] == Approx(0.5));
}

TEST_CASE("an injected 20% slowdown is flagged and the unchanged series are not") {
  std::mt19937_64 rng(2024);
  std::map<std::string, std::vector<double>> base, cur;
  for (const char* name : {"fib/tessera/30", "fib/tbb/30", "sort/tessera/1000"}) {
    base[name] = noisy(rng, 1000, 10);
    cur[name] = noisy(rng, 1000, 10);
  }
  cur["fib/tessera/30"] = noisy(rng, 1200, 10);
  const auto b = pd::parse_series(gbench_json(base), "baseline");
  const auto c = pd::parse_series(gbench_json(cur), "current");
  REQUIRE(b.at("fib/tbb/30").size() == 10);  // aggregates are not samples
  const auto r = pd::compare(b, c);
  CHECK(r.regressed());
  for (const auto& row : r.rows) {
    INFO(row.name << " p=" << row.p << " q=" << row.q << " change=" << row.change);
    if (row.name == "fib/tessera/30") {
      CHECK(row.result == pd::verdict::regression);
      CHECK(row.change == Approx(0.2).margin(0.03));
      CHECK(row.q < 0.01);
    } else {
      CHECK(row.result == pd::verdict::unchanged);
    }
  }
  std::ostringstream table;
  pd::write_table(table, r);
  CHECK(table.str().find("REGRESSION") != std::string::npos);
}

TEST_CASE("two samples from one distribution are not flagged") {
  std::mt19937_64 rng(99);
  std::map<std::string, std::vector<double>> base, cur;
  for (int i = 0; i < 20; ++i) {
    const auto name = "bench/tessera/" + std::to_string(i);
    base[name] = noisy(rng, 500, 10);
    cur[name] = noisy(rng, 500, 10);
  }
  const auto r = pd::compare(pd::parse_series(gbench_json(base), "b"),
                             pd::parse_series(gbench_json(cur), "c"));
  CHECK_FALSE(r.regressed());
}

TEST_CASE("a 20% slowdown below the noise floor option is not a regression") {
  std::mt19937_64 rng(5);
  const pd::series_map b{{"x/tessera", noisy(rng, 100, 10)}};
  const pd::series_map c{{"x/tessera", noisy(rng, 120, 10)}};
  CHECK(pd::compare(b, c).regressed());
  CHECK_FALSE(pd::compare(b, c, {.noise_floor = 0.30}).regressed());
}

TEST_CASE("series with too few samples are reported, not tested") {
  const pd::series_map b{{"x/tessera", {100, 101}}, {"gone/tessera", {1, 2, 3}}};
  const pd::series_map c{{"x/tessera", {300, 301}}, {"new/tessera", {1, 2, 3}}};
  const auto r = pd::compare(b, c);
  CHECK_FALSE(r.regressed());
  REQUIRE(r.rows.size() == 3);
  for (const auto& row : r.rows) {
    if (row.name == "x/tessera") CHECK(row.result == pd::verdict::too_few_samples);
    if (row.name == "gone/tessera") CHECK(row.result == pd::verdict::only_in_baseline);
    if (row.name == "new/tessera") CHECK(row.result == pd::verdict::only_in_current);
  }
}

TEST_CASE("tessera session summaries are compared by their zone samples") {
  const std::string base = R"({"tessera_session_summary":1,"zones":[
    {"name":"parse","count":8,"samples_ns":[100,101,99,100,102,98,100,101]}]})";
  const std::string cur = R"({"tessera_session_summary":1,"zones":[
    {"name":"parse","count":8,"samples_ns":[150,151,149,150,152,148,150,151]}]})";
  const auto r = pd::compare(pd::parse_series(base, "b"), pd::parse_series(cur, "c"));
  CHECK(r.regressed());
}

TEST_CASE("malformed JSON is an error naming the file") {
  const auto bad = write_temp("tessera_perfdiff_bad.json", "{\"benchmarks\": [ {\"name\": ");
  try {
    (void)pd::load_series(bad);
    FAIL("no exception");
  } catch (const tessera::error& e) {
    CHECK(std::string(e.what()).find(bad) != std::string::npos);
    CHECK(std::string(e.what()).find("invalid JSON") != std::string::npos);
  }
  const auto other = write_temp("tessera_perfdiff_other.json", "{\"hello\": 1}");
  CHECK_THROWS_WITH(pd::load_series(other), Catch::Contains("neither Google Benchmark JSON"));
  CHECK_THROWS_WITH(pd::load_series("/nonexistent/x.json"), Catch::Contains("/nonexistent/x.json"));
}

TEST_CASE("tessera-perfdiff exits 1 on a regression, 0 without, 2 on bad input") {
  std::mt19937_64 rng(11);
  std::map<std::string, std::vector<double>> base{{"fib/tessera/30", noisy(rng, 1000, 10)}};
  std::map<std::string, std::vector<double>> same{{"fib/tessera/30", noisy(rng, 1000, 10)}};
  std::map<std::string, std::vector<double>> slow{{"fib/tessera/30", noisy(rng, 1200, 10)}};
  const auto b = write_temp("tessera_perfdiff_base.json", gbench_json(base));
  const auto s = write_temp("tessera_perfdiff_same.json", gbench_json(same));
  const auto w = write_temp("tessera_perfdiff_slow.json", gbench_json(slow));
  const auto bad = write_temp("tessera_perfdiff_bad2.json", "[1, 2");
  CHECK(run_tool(b + " " + w) == 1);
  CHECK(run_tool(b + " " + s) == 0);
  CHECK(run_tool(b + " " + w + " --noise-floor=30") == 0);
  CHECK(run_tool(b + " " + bad) == 2);
  CHECK(run_tool(b) == 2);
}
