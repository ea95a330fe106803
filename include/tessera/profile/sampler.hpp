// The process sampler: CPU time, resident memory, page faults, context switches and, where the
// powercap/RAPL counters are readable, energy. A process_sampler records them as counter
// tracks into the running session on its own thread and publishes them as tessera_process_*
// metrics; sample_process() takes one reading.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

namespace tessera::profile {

struct process_sample {
  double user_cpu_seconds = 0;
  double system_cpu_seconds = 0;
  double resident_bytes = 0;
  double minor_faults = 0;
  double major_faults = 0;
  double voluntary_switches = 0;
  double involuntary_switches = 0;
  // Sum of the RAPL package counters (wraps at their range); absent when none is readable
  // (no powercap, or not permitted: recent kernels make energy_uj root-only).
  std::optional<double> energy_joules;
};

// getrusage(RUSAGE_SELF), /proc/self/statm and /sys/class/powercap/intel-rapl:*.
[[nodiscard]] process_sample sample_process();

struct sampler_options {
  std::chrono::milliseconds period{10};
  bool publish_metrics = true;  // tessera_process_* through hooks.hpp while the sampler lives
};

class process_sampler {
 public:
  explicit process_sampler(sampler_options options = {});
  ~process_sampler();  // stops the sampling thread
  process_sampler(const process_sampler&) = delete;
  process_sampler& operator=(const process_sampler&) = delete;

  // Readings taken so far by the sampling thread.
  [[nodiscard]] std::uint64_t samples() const noexcept;
  // Joules since the sampler started, with counter wrap-around handled; absent without RAPL.
  [[nodiscard]] std::optional<double> energy_joules() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tessera::profile
