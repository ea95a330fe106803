// Regression detection between two benchmark runs: what the tessera-perfdiff tool does, as a
// library. Reads Google Benchmark JSON (run with --benchmark_repetitions; the raw
// per-repetition samples are compared, not the aggregates) or tessera session summaries
// (write_summary_json), runs a two-sided Mann-Whitney U test per series, adjusts the p-values
// with Benjamini-Hochberg over all compared series, and calls a series a regression when the
// adjusted p is below `alpha` and its median got slower by more than `noise_floor`.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace tessera::profile::perfdiff {

struct options {
  double alpha = 0.01;
  double noise_floor = 0.05;         // relative change of the median, 0.05 = 5%
  std::size_t min_samples = 3;       // per side; fewer -> too_few_samples, not tested
  std::string metric = "real_time";  // or cpu_time (Google Benchmark JSON)
};

// Series name -> samples (nanoseconds for Google Benchmark times and session summaries).
using series_map = std::map<std::string, std::vector<double>>;

// Throws tessera::error naming the file when it cannot be read, is not JSON, or is neither
// format.
[[nodiscard]] series_map load_series(const std::string& path, const options& opts = {});
// The same from text; `input` names it in errors.
[[nodiscard]] series_map parse_series(const std::string& text, const std::string& input,
                                      const options& opts = {});

// Two-sided p-value of the Mann-Whitney U test: exact for small samples without ties,
// otherwise the normal approximation with tie and continuity corrections.
[[nodiscard]] double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b);
// Benjamini-Hochberg adjusted p-values (q-values), in the order given.
[[nodiscard]] std::vector<double> benjamini_hochberg(const std::vector<double>& p);

enum class verdict {
  regression,
  improvement,
  unchanged,
  too_few_samples,
  only_in_baseline,
  only_in_current
};

struct comparison {
  std::string name;
  std::size_t baseline_n = 0;
  std::size_t current_n = 0;
  double baseline_median = 0;
  double current_median = 0;
  double change = 0;  // current / baseline - 1
  double p = 1;
  double q = 1;  // after Benjamini-Hochberg
  verdict result = verdict::unchanged;
};

struct report {
  std::vector<comparison> rows;
  [[nodiscard]] bool regressed() const noexcept;
};

[[nodiscard]] report compare(const series_map& baseline, const series_map& current,
                             const options& opts = {});
void write_table(std::ostream& out, const report& r, const options& opts = {});

}  // namespace tessera::profile::perfdiff
