// Prometheus text exposition format 0.0.4 (export.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "tessera/profile/export.hpp"
#include "text.hpp"

namespace tessera::profile {
namespace {

std::string prom_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return detail::finite_number(v);
}

void write_escaped(std::ostream& out, std::string_view s, bool quote) {
  for (const char c : s) {
    if (c == '\\')
      out << "\\\\";
    else if (c == '\n')
      out << "\\n";
    else if (quote && c == '"')
      out << "\\\"";
    else
      out << c;
  }
}

using label_list = std::vector<std::pair<std::string, std::string>>;

void write_labels(std::ostream& out, const label_list& labels, const char* le = nullptr) {
  if (labels.empty() && le == nullptr) return;
  out << '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out << ',';
    first = false;
    out << k << "=\"";
    write_escaped(out, v, true);
    out << '"';
  }
  if (le != nullptr) out << (first ? "" : ",") << "le=\"" << le << '"';
  out << '}';
}

void write_histogram(std::ostream& out, const std::string& name, const series_snapshot& s) {
  const auto& h = s.histogram;
  const auto& b = h.buckets();
  // Cumulative counts at each power of two between the lowest and highest occupied octave.
  int lo = -1, hi = -1;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (b[i] == 0) continue;
    const int octave = static_cast<int>(i) / histogram_layout::sub_buckets;
    if (lo < 0) lo = octave;
    hi = octave;
  }
  std::uint64_t cumulative = 0;
  if (lo >= 0) {
    for (int octave = lo; octave <= hi; ++octave) {
      for (int j = 0; j < histogram_layout::sub_buckets; ++j)
        cumulative += b[static_cast<std::size_t>(octave * histogram_layout::sub_buckets + j)];
      const auto le = prom_number(std::ldexp(1.0, histogram_layout::min_exponent + octave + 1));
      out << name << "_bucket";
      write_labels(out, s.labels, le.c_str());
      out << ' ' << cumulative << '\n';
    }
  }
  out << name << "_bucket";
  write_labels(out, s.labels, "+Inf");
  out << ' ' << h.count() << '\n';
  out << name << "_sum";
  write_labels(out, s.labels);
  out << ' ' << prom_number(h.sum()) << '\n';
  out << name << "_count";
  write_labels(out, s.labels);
  out << ' ' << h.count() << '\n';
}

}  // namespace

void write_prometheus(std::ostream& out, const metrics_snapshot& m) {
  for (const auto& f : m.families) {
    if (f.series.empty()) continue;
    out << "# HELP " << f.name << ' ';
    write_escaped(out, f.help.empty() ? std::string_view("(no help given)") : f.help, false);
    out << "\n# TYPE " << f.name << ' '
        << (f.kind == metric_kind::counter ? "counter"
            : f.kind == metric_kind::gauge ? "gauge"
                                           : "histogram")
        << '\n';
    // One line per label set: two collectors reporting one series are added up (counters) or
    // the last one wins (gauges), since a duplicate series is invalid exposition.
    std::vector<series_snapshot> merged;
    for (const auto& s : f.series) {
      auto it = std::find_if(merged.begin(), merged.end(),
                             [&](const series_snapshot& x) { return x.labels == s.labels; });
      if (it == merged.end()) {
        merged.push_back(s);
      } else if (f.kind == metric_kind::counter) {
        it->value += s.value;
      } else if (f.kind == metric_kind::gauge) {
        it->value = s.value;
      } else {
        it->histogram.merge(s.histogram);
      }
    }
    for (const auto& s : merged) {
      if (f.kind == metric_kind::histogram) {
        write_histogram(out, f.name, s);
        continue;
      }
      out << f.name;
      write_labels(out, s.labels);
      out << ' ' << prom_number(s.value) << '\n';
    }
  }
}

void write_prometheus(const std::string& path, const metrics_snapshot& m) {
  auto f = detail::open_for_writing(path);
  write_prometheus(f, m);
  detail::finish_writing(f, path);
}

std::string prometheus_text() {
  std::ostringstream out;
  write_prometheus(out, metrics().snapshot());
  return out.str();
}

}  // namespace tessera::profile
