// tessera profile_pipeline: parse -> transform -> aggregate on a tessera::scheduler, profiled
// end to end. Items flow in batches: while the calling thread aggregates batch k, the workers
// parse and transform batch k+1 (a task group), each stage a parallel_for over the batch.
// Writes trace.json (open it in https://ui.perfetto.dev), metrics.prom (Prometheus text, with
// the scheduler's per-worker metrics) and report.txt (summary table + bottleneck report).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <tessera/profile/profile.hpp>
#include <tessera/sched/sched.hpp>

namespace tp = tessera::profile;

namespace {

struct record {
  int id = 0;
  std::string text;
  std::vector<double> values;
  std::chrono::steady_clock::time_point born;
  tp::async_span in_flight;  // from the source to the sink, across threads
};

std::string make_line(int id) {
  std::string s;
  for (int i = 0; i < 64; ++i) s += std::to_string((id * 31 + i * 7) % 1000) + ",";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  const int items = 20000;
  const int batch = 500;

  auto& processed = tp::metrics().counter("pipeline_items_total", "Items that left a stage.",
                                          {{"stage", "parse"}});
  auto& transformed = tp::metrics().counter("pipeline_items_total", "Items that left a stage.",
                                            {{"stage", "transform"}});
  auto& latency =
      tp::metrics().histogram("pipeline_item_latency_seconds", "Time from the source to the sink.");

  tessera::scheduler sched{{.thread_name = "stage", .name = "pipeline"}};
  tp::session session{{.buffer_events = 1 << 18, .process_name = "profile_pipeline"}};
  session.start();
  tp::process_sampler sampler{{.period = std::chrono::milliseconds(5)}};

  // Stages 1 and 2 for one batch, each a parallel loop over its items.
  auto produce = [&](std::vector<record>& out, int first) {
    const int n = std::min(batch, items - first);
    out.assign(static_cast<std::size_t>(n), record{});
    tessera::parallel_for(sched, 0, n, [&](int i) {  // stage 1: parse text into numbers
      record& r = out[static_cast<std::size_t>(i)];
      r.id = first + i;
      r.text = make_line(r.id);
      r.born = std::chrono::steady_clock::now();
      TESSERA_ASYNC_BEGIN(span, "item");
      r.in_flight = span;
      TESSERA_ZONE("parse");
      std::istringstream in(r.text);
      std::string field;
      while (std::getline(in, field, ',')) r.values.push_back(std::stod(field));
      processed.add();
    });
    tessera::parallel_for(sched, 0, n, [&](int i) {  // stage 2: the expensive one
      record& r = out[static_cast<std::size_t>(i)];
      TESSERA_ZONE_VALUE("transform", r.values.size());
      for (auto& v : r.values) v = std::sqrt(v) * std::log1p(v);
      std::sort(r.values.begin(), r.values.end());
      transformed.add();
    });
  };

  double total = 0;
  std::vector<record> ready, next;
  sched.execute([&] { produce(ready, 0); });
  for (int first = batch; !ready.empty(); first += batch) {
    tessera::task_group producer(sched);
    if (first < items) producer.run([&, first] { produce(next, first); });
    {
      TESSERA_ZONE("aggregate");  // stage 3, on this thread, overlapping the next batch
      for (auto& r : ready) {
        for (double v : r.values) total += v;
        TESSERA_ASYNC_END(r.in_flight);
        latency.record(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - r.born).count());
      }
      TESSERA_PLOT("aggregate total", total);
    }
    {
      TESSERA_ZONE("aggregate: wait for the next batch");
      producer.wait();
    }
    ready.swap(next);
    next.clear();
  }
  const auto& trace = session.stop();

  tp::write_chrome_trace(dir + "/trace.json", trace);
  tp::write_prometheus(dir + "/metrics.prom", tp::metrics().snapshot());
  std::ostringstream report;
  report << "profile_pipeline: " << items << " items, checksum " << static_cast<long long>(total)
         << ", " << trace.event_count() << " events captured, " << trace.dropped()
         << " dropped\n\n";
  tp::write_summary_table(report, trace);
  report << '\n';
  tp::write_bottleneck_report(report, tp::find_bottlenecks(&trace, tp::metrics().snapshot()));
  std::ofstream(dir + "/report.txt") << report.str();
  std::cout << report.str() << "wrote " << dir << "/trace.json, " << dir << "/metrics.prom, " << dir
            << "/report.txt\n";
  return 0;
}
