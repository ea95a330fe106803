// Chrome trace event JSON writer (export.hpp): what Perfetto and chrome://tracing open.
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <ostream>

#include "tessera/profile/export.hpp"
#include "text.hpp"

namespace tessera::profile {
namespace {

struct record {
  std::uint64_t tid;
  std::int64_t ts;   // ns from session start
  std::int64_t dur;  // X only
  char phase;        // X i C b e
  const event* ev;
};

std::string thread_label(const thread_trace& t, std::uint64_t pid) {
  if (!t.name.empty()) return t.name;
  if (t.tid == pid) return "main";
  return "thread " + std::to_string(t.tid);
}

}  // namespace

void write_chrome_trace(std::ostream& out, const trace& t) {
  const auto pid = static_cast<std::uint64_t>(::getpid());
  const auto origin = t.clock.to_ns(t.start_ticks);
  std::vector<record> records;
  records.reserve(t.event_count() + 16);
  for (const auto& th : t.threads) {
    for (const auto& e : th.events) {
      const auto t0 = t.clock.to_ns(e.t0) - origin;
      const auto t1 = t.clock.to_ns(e.t1) - origin;
      switch (e.where->kind) {
        case site_kind::zone:
        case site_kind::zone_value: records.push_back({th.tid, t0, t1 - t0, 'X', &e}); break;
        case site_kind::instant: records.push_back({th.tid, t0, 0, 'i', &e}); break;
        case site_kind::counter_track: records.push_back({th.tid, t0, 0, 'C', &e}); break;
        case site_kind::async:
          records.push_back({e.arg >> 32, t0, 0, 'b', &e});
          records.push_back({th.tid, t1, 0, 'e', &e});
          break;
      }
    }
  }
  // Per thread by time; an enclosing zone before the zones it contains.
  std::stable_sort(records.begin(), records.end(), [](const record& a, const record& b) {
    if (a.tid != b.tid) return a.tid < b.tid;
    if (a.ts != b.ts) return a.ts < b.ts;
    return a.dur > b.dur;
  });

  out << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped_events\":" << t.dropped()
      << ",\"ns_per_tick\":" << detail::json_number(t.clock.ns_per_tick)
      << "},\n\"traceEvents\":[\n";
  out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << pid
      << ",\"tid\":0,\"args\":{\"name\":";
  detail::write_json_string(out, t.process_name);
  out << "}}";
  for (const auto& th : t.threads) {
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" << pid << ",\"tid\":" << th.tid
        << ",\"args\":{\"name\":";
    detail::write_json_string(out, thread_label(th, pid));
    out << "}}";
    if (th.dropped != 0) {
      // Visible in the trace itself: these events were lost to a full buffer.
      out << ",\n{\"name\":\"dropped events\",\"ph\":\"i\",\"s\":\"t\",\"ts\":"
          << detail::micros(t.clock.to_ns(t.stop_ticks) - origin) << ",\"pid\":" << pid
          << ",\"tid\":" << th.tid << ",\"args\":{\"dropped\":" << th.dropped << "}}";
    }
  }
  for (const auto& r : records) {
    const site& s = *r.ev->where;
    out << ",\n{\"name\":";
    detail::write_json_string(out, s.name);
    out << ",\"ph\":\"" << r.phase << "\",\"ts\":" << detail::micros(r.ts) << ",\"pid\":" << pid
        << ",\"tid\":" << r.tid;
    switch (r.phase) {
      case 'X':
        out << ",\"cat\":\"zone\",\"dur\":" << detail::micros(r.dur) << ",\"args\":{\"file\":";
        detail::write_json_string(out, s.file);
        out << ",\"line\":" << s.line << ",\"function\":";
        detail::write_json_string(out, s.function);
        if (s.kind == site_kind::zone_value)
          out << ",\"value\":" << detail::json_number(std::bit_cast<double>(r.ev->arg));
        out << "}}";
        break;
      case 'i': out << ",\"s\":\"t\"}"; break;
      case 'C':
        out << ",\"args\":{\"value\":" << detail::json_number(std::bit_cast<double>(r.ev->arg))
            << "}}";
        break;
      default:  // b, e
        out << ",\"cat\":\"async\",\"id\":\"0x" << std::hex << r.ev->arg << std::dec << "\"}";
        break;
    }
  }
  out << "\n]}\n";
}

void write_chrome_trace(const std::string& path, const trace& t) {
  auto f = detail::open_for_writing(path);
  write_chrome_trace(f, t);
  detail::finish_writing(f, path);
}

}  // namespace tessera::profile
