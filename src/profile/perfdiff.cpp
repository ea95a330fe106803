// Mann-Whitney U, Benjamini-Hochberg and the readers of tessera/profile/perfdiff.hpp.
#include "tessera/profile/perfdiff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <ostream>

#include "tessera/core/error.hpp"
#include "tessera/profile/detail/json.hpp"

namespace tessera::profile::perfdiff {
namespace {

using detail::json;

double unit_to_ns(const std::string& unit) {
  if (unit == "ns") return 1.0;
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  return 0.0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// P(U <= u) for sample sizes m, n without ties: counts of arrangements by U (a DP over
// the number of elements of each sample placed so far).
double exact_cdf(std::size_t m, std::size_t n, double u) {
  const std::size_t max_u = m * n;
  // f[i][j][k]: arrangements of i and j elements with U = k; rolled over i.
  std::vector<std::vector<std::vector<double>>> f(
      m + 1, std::vector<std::vector<double>>(n + 1, std::vector<double>(max_u + 1, 0.0)));
  for (std::size_t i = 0; i <= m; ++i) {
    for (std::size_t j = 0; j <= n; ++j) {
      if (i == 0 || j == 0) {
        f[i][j][0] = 1.0;
        continue;
      }
      for (std::size_t k = 0; k <= i * j; ++k) {
        // The largest element is from the first sample (it beats all j others) or the second.
        double c = f[i][j - 1][k];
        if (k >= j) c += f[i - 1][j][k - j];
        f[i][j][k] = c;
      }
    }
  }
  double total = 0, below = 0;
  for (std::size_t k = 0; k <= max_u; ++k) {
    total += f[m][n][k];
    if (static_cast<double>(k) <= u + 1e-9) below += f[m][n][k];
  }
  return below / total;
}

}  // namespace

double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 || n2 == 0) return 1.0;
  struct item {
    double v;
    bool first;
  };
  std::vector<item> all;
  all.reserve(n1 + n2);
  for (double v : a) all.push_back({v, true});
  for (double v : b) all.push_back({v, false});
  std::sort(all.begin(), all.end(), [](const item& x, const item& y) { return x.v < y.v; });
  const std::size_t n = all.size();
  double rank_sum = 0, tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].v == all[i].v) ++j;
    const double avg_rank = (double(i + 1) + double(j)) / 2;  // ranks i+1 .. j
    for (std::size_t k = i; k < j; ++k)
      if (all[k].first) rank_sum += avg_rank;
    const double t = double(j - i);
    if (t > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  const double u1 = rank_sum - double(n1) * double(n1 + 1) / 2;
  const double mu = double(n1) * double(n2) / 2;
  if (!ties && n1 * n2 <= 400) {
    const double lo = exact_cdf(n1, n2, std::min(u1, double(n1 * n2) - u1));
    return std::min(1.0, 2 * lo);
  }
  const double nn = double(n);
  const double var = double(n1) * double(n2) / 12.0 * ((nn + 1) - tie_term / (nn * (nn - 1)));
  if (var <= 0) return 1.0;  // every value tied
  const double z = std::max(0.0, std::fabs(u1 - mu) - 0.5) / std::sqrt(var);
  return std::erfc(z / std::sqrt(2.0));
}

std::vector<double> benjamini_hochberg(const std::vector<double>& p) {
  const std::size_t m = p.size();
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return p[x] < p[y]; });
  std::vector<double> q(m, 1.0);
  double running = 1.0;
  for (std::size_t k = m; k-- > 0;) {
    const double adjusted = p[order[k]] * double(m) / double(k + 1);
    running = std::min(running, adjusted);
    q[order[k]] = std::min(1.0, running);
  }
  return q;
}

series_map parse_series(const std::string& text, const std::string& input, const options& opts) {
  const json doc = detail::parse_json(text, input);
  if (!doc.is_object()) throw error(input, "expected a JSON object at the top level");
  series_map out;
  if (const json* zones = doc.find("tessera_session_summary") ? doc.find("zones") : nullptr) {
    if (!zones->is_array()) throw error(input, "\"zones\" is not an array");
    for (const auto& z : zones->as_array()) {
      const json* name = z.find("name");
      const json* samples = z.find("samples_ns");
      if (name == nullptr || !name->is_string() || samples == nullptr || !samples->is_array())
        throw error(input, "a zone without \"name\" or \"samples_ns\"");
      auto& v = out[name->as_string()];
      for (const auto& s : samples->as_array())
        if (s.is_number()) v.push_back(s.as_number());
    }
    return out;
  }
  const json* benchmarks = doc.find("benchmarks");
  if (benchmarks == nullptr || !benchmarks->is_array())
    throw error(input,
                "neither Google Benchmark JSON (no \"benchmarks\" array) nor a tessera session "
                "summary");
  for (const auto& b : benchmarks->as_array()) {
    if (const json* e = b.find("error_occurred"); e != nullptr && e->is_bool() && e->as_bool())
      continue;
    if (const json* rt = b.find("run_type");
        rt != nullptr && rt->is_string() && rt->as_string() == "aggregate")
      continue;  // the raw repetitions are the samples
    const json* name = b.find("run_name");
    if (name == nullptr) name = b.find("name");
    const json* value = b.find(opts.metric);
    if (name == nullptr || !name->is_string() || value == nullptr || !value->is_number())
      throw error(input, "a benchmark entry without a name or \"" + opts.metric + "\"");
    double scale = 1.0;
    if (const json* unit = b.find("time_unit"); unit != nullptr && unit->is_string()) {
      scale = unit_to_ns(unit->as_string());
      if (scale == 0) throw error(input, "unknown time_unit '" + unit->as_string() + "'");
    }
    out[name->as_string()].push_back(value->as_number() * scale);
  }
  return out;
}

series_map load_series(const std::string& path, const options& opts) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  const std::string input = "file '" + path + "'";
  if (f == nullptr) throw error(input, "cannot be opened for reading");
  std::string text;
  char buf[65536];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  std::fclose(f);
  return parse_series(text, input, opts);
}

bool report::regressed() const noexcept {
  return std::any_of(rows.begin(), rows.end(),
                     [](const comparison& c) { return c.result == verdict::regression; });
}

report compare(const series_map& baseline, const series_map& current, const options& opts) {
  report r;
  std::vector<std::size_t> tested;
  std::vector<double> pvalues;
  for (const auto& [name, base] : baseline) {
    comparison c;
    c.name = name;
    c.baseline_n = base.size();
    c.baseline_median = median(base);
    const auto it = current.find(name);
    if (it == current.end()) {
      c.result = verdict::only_in_baseline;
      r.rows.push_back(c);
      continue;
    }
    const auto& cur = it->second;
    c.current_n = cur.size();
    c.current_median = median(cur);
    c.change = c.baseline_median != 0 ? c.current_median / c.baseline_median - 1 : 0;
    if (base.size() < opts.min_samples || cur.size() < opts.min_samples) {
      c.result = verdict::too_few_samples;
    } else {
      c.p = mann_whitney_p(base, cur);
      tested.push_back(r.rows.size());
      pvalues.push_back(c.p);
    }
    r.rows.push_back(c);
  }
  for (const auto& [name, cur] : current) {
    if (baseline.count(name)) continue;
    comparison c;
    c.name = name;
    c.current_n = cur.size();
    c.current_median = median(cur);
    c.result = verdict::only_in_current;
    r.rows.push_back(c);
  }
  const auto q = benjamini_hochberg(pvalues);
  for (std::size_t i = 0; i < tested.size(); ++i) {
    auto& c = r.rows[tested[i]];
    c.q = q[i];
    if (c.q < opts.alpha && c.change > opts.noise_floor)
      c.result = verdict::regression;
    else if (c.q < opts.alpha && c.change < -opts.noise_floor)
      c.result = verdict::improvement;
    else
      c.result = verdict::unchanged;
  }
  return r;
}

void write_table(std::ostream& out, const report& r, const options& opts) {
  char line[512];
  std::snprintf(line, sizeof line, "%-48s %5s %5s %14s %14s %9s %10s %10s  %s\n", "series", "n_b",
                "n_c", "baseline", "current", "change", "p", "q(BH)", "verdict");
  out << line;
  for (const auto& c : r.rows) {
    const char* v = "";
    switch (c.result) {
      case verdict::regression: v = "REGRESSION"; break;
      case verdict::improvement: v = "improvement"; break;
      case verdict::unchanged: v = "unchanged"; break;
      case verdict::too_few_samples: v = "too few samples (not tested)"; break;
      case verdict::only_in_baseline: v = "only in baseline"; break;
      case verdict::only_in_current: v = "only in current"; break;
    }
    const bool tested = c.result == verdict::regression || c.result == verdict::improvement ||
                        c.result == verdict::unchanged;
    char p[32] = "-", q[32] = "-", change[32] = "-";
    if (tested) {
      std::snprintf(p, sizeof p, "%.2g", c.p);
      std::snprintf(q, sizeof q, "%.2g", c.q);
    }
    if (c.baseline_n && c.current_n)
      std::snprintf(change, sizeof change, "%+.1f%%", 100 * c.change);
    std::snprintf(line, sizeof line, "%-48.48s %5zu %5zu %14.4g %14.4g %9s %10s %10s  %s\n",
                  c.name.c_str(), c.baseline_n, c.current_n, c.baseline_median, c.current_median,
                  change, p, q, v);
    out << line;
  }
  std::snprintf(line, sizeof line,
                "regression: q < %.3g after Benjamini-Hochberg over %zu series and median slower "
                "by more than %.1f%%\n",
                opts.alpha,
                static_cast<std::size_t>(std::count_if(r.rows.begin(), r.rows.end(),
                                                       [](const comparison& c) {
                                                         return c.result == verdict::regression ||
                                                                c.result == verdict::improvement ||
                                                                c.result == verdict::unchanged;
                                                       })),
                100 * opts.noise_floor);
  out << line;
}

}  // namespace tessera::profile::perfdiff
