// tessera profile_pipeline: parse -> transform -> aggregate, each stage on its own threads,
// profiled end to end. Writes trace.json (open it in https://ui.perfetto.dev), metrics.prom
// (Prometheus text) and report.txt (summary table + bottleneck report), and prints the report.
#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <tessera/profile/profile.hpp>

namespace tp = tessera::profile;

namespace {

// A bounded blocking queue between two stages. (When tessera::scheduler lands, the stages
// become tasks on it and this queue goes away.)
template <class T>
class channel {
 public:
  explicit channel(std::size_t capacity) : capacity_(capacity) {}
  void push(T v) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(std::move(v));
    not_empty_.notify_one();
  }
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  std::size_t capacity_;
  bool closed_ = false;
};

struct record {
  int id;
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

  auto& processed = tp::metrics().counter("pipeline_items_total", "Items that left a stage.",
                                          {{"stage", "parse"}});
  auto& transformed = tp::metrics().counter("pipeline_items_total", "Items that left a stage.",
                                            {{"stage", "transform"}});
  auto& latency =
      tp::metrics().histogram("pipeline_item_latency_seconds", "Time from the source to the sink.");

  tp::session session{{.buffer_events = 1 << 18, .process_name = "profile_pipeline"}};
  session.start();
  tp::process_sampler sampler{{.period = std::chrono::milliseconds(5)}};

  channel<record> parsed(256), done(256);
  double total = 0;
  {
    std::vector<std::jthread> threads;
    threads.emplace_back([&] {  // stage 1: parse text into numbers
      tp::set_thread_name("parse");
      for (int id = 0; id < items; ++id) {
        record r{id, make_line(id), {}, std::chrono::steady_clock::now(), {}};
        TESSERA_ASYNC_BEGIN(span, "item");
        r.in_flight = span;
        {
          TESSERA_ZONE("parse");
          std::istringstream in(r.text);
          std::string field;
          while (std::getline(in, field, ',')) r.values.push_back(std::stod(field));
        }
        processed.add();
        TESSERA_ZONE("parse: wait for transform");  // time blocked on a full queue
        parsed.push(std::move(r));
      }
      parsed.close();
    });
    std::mutex done_mutex;
    int transformers_left = 2;
    for (int w = 0; w < 2; ++w) {
      threads.emplace_back([&, w] {  // stage 2: the expensive one, two threads
        tp::set_thread_name("transform " + std::to_string(w));
        while (auto r = parsed.pop()) {
          {
            TESSERA_ZONE_VALUE("transform", r->values.size());
            for (auto& v : r->values) v = std::sqrt(v) * std::log1p(v);
            std::sort(r->values.begin(), r->values.end());
          }
          transformed.add();
          TESSERA_ZONE("transform: wait for aggregate");
          done.push(std::move(*r));
        }
        std::lock_guard lock(done_mutex);
        if (--transformers_left == 0) done.close();
      });
    }
    threads.emplace_back([&] {  // stage 3: aggregate
      tp::set_thread_name("aggregate");
      while (auto r = done.pop()) {
        TESSERA_ZONE("aggregate");
        for (double v : r->values) total += v;
        TESSERA_ASYNC_END(r->in_flight);
        latency.record(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - r->born).count());
        if (r->id % 1000 == 0) TESSERA_PLOT("aggregate total", total);
      }
    });
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
