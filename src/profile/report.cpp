// Summary table, summary JSON and the bottleneck report (export.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>

#include "tessera/profile/export.hpp"
#include "text.hpp"

namespace tessera::profile {
namespace {

struct zone_acc {
  zone_stats stats;
  histogram_snapshot durations;
};

std::string format(const char* fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}

const std::string* label_value(const series_snapshot& s, std::string_view key) {
  for (const auto& [k, v] : s.labels)
    if (k == key) return &v;
  return nullptr;
}

// Sum of the family's series per value of `key` (e.g. per worker).
std::map<std::string, double> by_label(const metrics_snapshot& m, std::string_view family,
                                       std::string_view key) {
  std::map<std::string, double> out;
  if (const auto* f = m.find(family)) {
    for (const auto& s : f->series) {
      const auto* v = label_value(s, key);
      out[v ? *v : std::string("?")] += s.value;
    }
  }
  return out;
}

std::map<std::string, double> by_two_labels(const metrics_snapshot& m, std::string_view family,
                                            std::string_view k1, std::string_view k2) {
  std::map<std::string, double> out;
  if (const auto* f = m.find(family)) {
    for (const auto& s : f->series) {
      const auto* a = label_value(s, k1);
      const auto* b = label_value(s, k2);
      out[(a ? *a : std::string("?")) + "/" + (b ? *b : std::string("?"))] += s.value;
    }
  }
  return out;
}

}  // namespace

std::vector<zone_stats> summarize(const trace& t) {
  std::map<std::string, zone_acc> zones;
  struct open_zone {
    std::int64_t t0, t1;
    std::int64_t child_ns;
    zone_acc* acc;
  };
  for (const auto& th : t.threads) {
    std::vector<const event*> evs;
    for (const auto& e : th.events)
      if (e.where->kind == site_kind::zone || e.where->kind == site_kind::zone_value)
        evs.push_back(&e);
    std::sort(evs.begin(), evs.end(), [](const event* a, const event* b) {
      return a->t0 != b->t0 ? a->t0 < b->t0 : a->t1 > b->t1;
    });
    std::vector<open_zone> stack;
    auto close = [&](const open_zone& z) {
      const auto dur = z.t1 - z.t0;
      auto& s = z.acc->stats;
      s.count += 1;
      s.total_ns += dur;
      s.self_ns += std::max<std::int64_t>(0, dur - z.child_ns);
      s.max_ns = std::max(s.max_ns, double(dur));
      z.acc->durations.add(double(dur));
      if (s.samples_ns.size() < summary_samples) s.samples_ns.push_back(double(dur));
    };
    for (const event* e : evs) {
      const auto t0 = t.clock.to_ns(e->t0);
      const auto t1 = t.clock.to_ns(e->t1);
      while (!stack.empty() && stack.back().t1 <= t0) {
        close(stack.back());
        stack.pop_back();
      }
      if (!stack.empty()) stack.back().child_ns += std::min(t1, stack.back().t1) - t0;
      auto& acc = zones[e->where->name];
      if (acc.stats.count == 0 && acc.stats.name.empty()) {
        acc.stats.name = e->where->name;
        acc.stats.file = e->where->file;
        acc.stats.line = e->where->line;
      }
      stack.push_back({t0, t1, 0, &acc});
    }
    while (!stack.empty()) {
      close(stack.back());
      stack.pop_back();
    }
  }
  std::vector<zone_stats> out;
  for (auto& [name, acc] : zones) {
    acc.stats.p50_ns = acc.durations.quantile(0.5);
    acc.stats.p99_ns = acc.durations.quantile(0.99);
    out.push_back(std::move(acc.stats));
  }
  std::sort(out.begin(), out.end(),
            [](const zone_stats& a, const zone_stats& b) { return a.self_ns > b.self_ns; });
  return out;
}

void write_summary_table(std::ostream& out, const trace& t) {
  const auto zones = summarize(t);
  std::int64_t all_self = 0;
  for (const auto& z : zones) all_self += z.self_ns;
  char line[512];
  std::snprintf(line, sizeof line, "%-32s %10s %12s %12s %7s %12s %12s\n", "zone", "count",
                "total ms", "self ms", "self %", "p50 us", "p99 us");
  out << line;
  for (const auto& z : zones) {
    std::snprintf(line, sizeof line, "%-32.32s %10llu %12.3f %12.3f %6.1f%% %12.3f %12.3f\n",
                  z.name.c_str(), static_cast<unsigned long long>(z.count),
                  double(z.total_ns) / 1e6, double(z.self_ns) / 1e6,
                  all_self > 0 ? 100.0 * double(z.self_ns) / double(all_self) : 0.0, z.p50_ns / 1e3,
                  z.p99_ns / 1e3);
    out << line;
  }
  if (t.dropped() != 0)
    out << "(" << t.dropped() << " events were dropped: buffers were full; figures are partial)\n";
}

void write_summary_json(std::ostream& out, const trace& t) {
  out << "{\"tessera_session_summary\":1,\"dropped_events\":" << t.dropped() << ",\"zones\":[";
  bool first = true;
  for (const auto& z : summarize(t)) {
    out << (first ? "\n" : ",\n") << "{\"name\":";
    first = false;
    detail::write_json_string(out, z.name);
    out << ",\"file\":";
    detail::write_json_string(out, z.file);
    out << ",\"line\":" << z.line << ",\"count\":" << z.count << ",\"total_ns\":" << z.total_ns
        << ",\"self_ns\":" << z.self_ns << ",\"p50_ns\":" << detail::json_number(z.p50_ns)
        << ",\"p99_ns\":" << detail::json_number(z.p99_ns)
        << ",\"max_ns\":" << detail::json_number(z.max_ns) << ",\"samples_ns\":[";
    for (std::size_t i = 0; i < z.samples_ns.size(); ++i)
      out << (i ? "," : "") << detail::json_number(z.samples_ns[i]);
    out << "]}";
  }
  out << "\n]}\n";
}

std::vector<finding> find_bottlenecks(const trace* t, const metrics_snapshot& m,
                                      std::size_t limit) {
  std::vector<finding> out;
  if (t != nullptr) {
    const auto zones = summarize(*t);
    std::int64_t all_self = 0;
    for (const auto& z : zones) all_self += z.self_ns;
    for (std::size_t i = 0; i < zones.size() && i < 3 && all_self > 0; ++i) {
      const auto& z = zones[i];
      const double share = double(z.self_ns) / double(all_self);
      out.push_back(
          {share, "zone " + z.name,
           format("%.1f%% of all zone self time (%.3f ms self over %.0f calls, p99 "
                  "%.1f us)",
                  100 * share, double(z.self_ns) / 1e6, double(z.count), z.p99_ns / 1e3)});
    }
  }
  // Scheduler: the share of each worker's time spent idle, with its steal figures.
  const auto idle = by_label(m, "tessera_sched_idle_seconds_total", "worker");
  const auto busy = by_label(m, "tessera_sched_busy_seconds_total", "worker");
  const auto tasks = by_label(m, "tessera_sched_tasks_total", "worker");
  const auto steals = by_label(m, "tessera_sched_steals_total", "worker");
  const auto failed = by_label(m, "tessera_sched_failed_steals_total", "worker");
  for (const auto& [worker, idle_s] : idle) {
    const auto b = busy.count(worker) ? busy.at(worker) : 0.0;
    if (idle_s + b <= 0) continue;
    const double ratio = idle_s / (idle_s + b);
    const double n_tasks = tasks.count(worker) ? tasks.at(worker) : 0.0;
    const double n_steals = steals.count(worker) ? steals.at(worker) : 0.0;
    const double n_failed = failed.count(worker) ? failed.at(worker) : 0.0;
    std::string fig = format("idle %.1f%% (%.3f s idle, %.3f s busy)", 100 * ratio, idle_s, b);
    if (n_tasks > 0)
      fig += format("; steal ratio %.1f%% of %.0f tasks", 100 * n_steals / n_tasks, n_tasks);
    if (n_steals + n_failed > 0)
      fig += format("; %.1f%% of steal attempts failed", 100 * n_failed / (n_steals + n_failed));
    out.push_back({ratio, "sched worker " + worker, fig});
  }
  // Caches: the lowest hit ratios.
  const auto hits = by_two_labels(m, "tessera_cache_hits_total", "cache", "tier");
  const auto misses = by_two_labels(m, "tessera_cache_misses_total", "cache", "tier");
  std::map<std::string, std::pair<double, double>> lookups;
  for (const auto& [k, v] : hits) lookups[k].first = v;
  for (const auto& [k, v] : misses) lookups[k].second = v;
  for (const auto& [key, hm] : lookups) {
    const double n = hm.first + hm.second;
    if (n <= 0) continue;
    const double ratio = hm.first / n;
    out.push_back(
        {1.0 - ratio, "cache " + key,
         format("hit ratio %.1f%% (%.0f hits, %.0f misses)", 100 * ratio, hm.first, hm.second)});
  }
  // Budgets: pressure events have no natural denominator; 10 events rank like a 50% ratio.
  for (const auto& [key, events] :
       by_two_labels(m, "tessera_budget_pressure_events_total", "budget", "level")) {
    if (events <= 0) continue;
    out.push_back(
        {events / (events + 10.0), "budget " + key, format("%.0f pressure events", events)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const finding& a, const finding& b) { return a.score > b.score; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

void write_bottleneck_report(std::ostream& out, const std::vector<finding>& findings) {
  out << "Bottlenecks (worst first):\n";
  if (findings.empty()) out << "  nothing to report (no zones and no tessera_* metrics)\n";
  int rank = 1;
  for (const auto& f : findings)
    out << "  " << rank++ << ". " << f.subject << ": " << f.figure << '\n';
}

}  // namespace tessera::profile
