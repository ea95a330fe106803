// tessera::profile::session: starts and stops capturing zones into bounded per-thread buffers
// and hands back the captured trace, which the exporters (export.hpp) write out. One session
// captures at a time, process-wide.
//
//   tessera::profile::session s{{.buffer_events = 1 << 16}};
//   s.start();
//   run();                                   // TESSERA_ZONE(...) anywhere, any thread
//   const auto& t = s.stop();
//   tessera::profile::write_chrome_trace("trace.json", t);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessera/profile/clock.hpp"
#include "tessera/profile/zone.hpp"

namespace tessera::profile {

struct session_options {
  std::uint32_t buffer_events = 1u << 16;  // per thread; 32 bytes each
  full_policy when_full = full_policy::drop_newest;
  std::string process_name = "tessera";  // the process's name in the trace
};

// The events of one thread, in the order they were recorded (a zone when it ended).
struct thread_trace {
  std::uint64_t tid = 0;
  std::string name;
  std::vector<event> events;
  std::uint64_t dropped = 0;  // events lost to a full buffer (drop_newest)
};

// What a session captured; ticks convert to nanoseconds with `clock`.
struct trace {
  std::string process_name;
  clock_calibration clock;
  std::uint64_t start_ticks = 0;
  std::uint64_t stop_ticks = 0;
  std::vector<thread_trace> threads;

  [[nodiscard]] std::uint64_t dropped() const noexcept;
  [[nodiscard]] std::size_t event_count() const noexcept;
};

class session {
 public:
  explicit session(session_options options = {});
  ~session();  // stops a running capture
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Throws tessera::error when another session is capturing.
  void start();
  // Ends the capture and returns what was captured (also captured() afterwards). Zones still
  // open at stop() are not in the trace.
  const trace& stop();
  [[nodiscard]] bool running() const noexcept;
  [[nodiscard]] const trace& captured() const noexcept;
  [[nodiscard]] const session_options& options() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tessera::profile
