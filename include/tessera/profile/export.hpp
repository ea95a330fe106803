// Exporters: Chrome trace event JSON (opens in Perfetto and chrome://tracing), Prometheus text
// exposition 0.0.4, a per-zone summary table (text or JSON, the JSON being what
// tessera-perfdiff compares) and the bottleneck report. Functions taking a path throw
// tessera::error naming the file when it cannot be written.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "tessera/profile/metrics.hpp"
#include "tessera/profile/session.hpp"

namespace tessera::profile {

// X records for zones, i for instants, C for counter tracks, b/e for async spans, M for the
// process and thread names; timestamps in microseconds from the session's start.
void write_chrome_trace(std::ostream& out, const trace& t);
void write_chrome_trace(const std::string& path, const trace& t);

// Text exposition format 0.0.4 (passes `promtool check metrics` for well-named metrics).
void write_prometheus(std::ostream& out, const metrics_snapshot& m);
void write_prometheus(const std::string& path, const metrics_snapshot& m);
[[nodiscard]] std::string prometheus_text();  // of metrics().snapshot()

// Per zone name: how often, how long in total, self time (total minus nested zones on the
// same thread) and percentiles of the durations.
struct zone_stats {
  std::string name;
  std::string file;
  std::uint32_t line = 0;
  std::uint64_t count = 0;
  std::int64_t total_ns = 0;
  std::int64_t self_ns = 0;
  double p50_ns = 0;
  double p99_ns = 0;
  double max_ns = 0;
  std::vector<double> samples_ns;  // the first durations (at most summary_samples)
};
inline constexpr std::size_t summary_samples = 1000;

// Sorted by self time, largest first.
[[nodiscard]] std::vector<zone_stats> summarize(const trace& t);
void write_summary_table(std::ostream& out, const trace& t);
// {"tessera_session_summary":1,"zones":[{"name":..,"count":..,"samples_ns":[..]},..]}
void write_summary_json(std::ostream& out, const trace& t);

// One line of the bottleneck report; findings are ranked by `score` (0..1, larger is worse).
struct finding {
  double score = 0;
  std::string subject;  // "zone parse", "sched worker 3", "cache users/l1", "budget main"
  std::string figure;   // "42.0% of all self time", "idle 61.2%", "hit ratio 12.5%"
};

// Top zones by self time (when `t` is given), per-worker idle and steal ratios
// (tessera_sched_*), the lowest cache hit ratios (tessera_cache_*) and budget pressure events
// (tessera_budget_*), best `limit` first.
[[nodiscard]] std::vector<finding> find_bottlenecks(const trace* t, const metrics_snapshot& m,
                                                    std::size_t limit = 10);
void write_bottleneck_report(std::ostream& out, const std::vector<finding>& findings);

}  // namespace tessera::profile
