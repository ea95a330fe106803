// The process sampler (sampler.hpp): getrusage, /proc/self/statm, powercap RAPL.
#include "tessera/profile/sampler.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <dirent.h>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tessera/profile/hooks.hpp"
#include "tessera/profile/zone.hpp"

namespace tessera::profile {
namespace {

double seconds(const timeval& tv) {
  return double(tv.tv_sec) + double(tv.tv_usec) * 1e-6;
}

bool read_number(const std::string& path, double& out) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return false;
  double v = 0;
  const bool ok = std::fscanf(f, "%lf", &v) == 1;
  std::fclose(f);
  if (ok) out = v;
  return ok;
}

struct rapl_zone {
  std::string energy_path;
  double range_uj = 0;
};

// Package-level RAPL zones (intel-rapl:N, not the sub-zones intel-rapl:N:M) we may read.
std::vector<rapl_zone> rapl_zones() {
  std::vector<rapl_zone> out;
  const char* base = "/sys/class/powercap";
  DIR* d = opendir(base);
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("intel-rapl:", 0) != 0 || name.find(':', 11) != std::string::npos) continue;
    rapl_zone z;
    z.energy_path = std::string(base) + "/" + name + "/energy_uj";
    double probe = 0;
    if (!read_number(z.energy_path, probe)) continue;
    read_number(std::string(base) + "/" + name + "/max_energy_range_uj", z.range_uj);
    out.push_back(z);
  }
  closedir(d);
  return out;
}

const std::vector<rapl_zone>& readable_rapl() {
  static const auto zones = rapl_zones();
  return zones;
}

}  // namespace

process_sample sample_process() {
  process_sample s;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    s.user_cpu_seconds = seconds(ru.ru_utime);
    s.system_cpu_seconds = seconds(ru.ru_stime);
    s.minor_faults = double(ru.ru_minflt);
    s.major_faults = double(ru.ru_majflt);
    s.voluntary_switches = double(ru.ru_nvcsw);
    s.involuntary_switches = double(ru.ru_nivcsw);
  }
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long size = 0, resident = 0;
    if (std::fscanf(f, "%llu %llu", &size, &resident) == 2)
      s.resident_bytes = double(resident) * double(sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  const auto& zones = readable_rapl();
  if (!zones.empty()) {
    double uj = 0;
    for (const auto& z : zones) {
      double v = 0;
      if (read_number(z.energy_path, v)) uj += v;
    }
    s.energy_joules = uj * 1e-6;
  }
  return s;
}

struct process_sampler::impl {
  sampler_options options;
  mutable std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::uint64_t samples = 0;     // guarded by mutex
  std::optional<double> energy;  // joules since start, guarded by mutex
  std::vector<double> last_uj;   // per RAPL zone, sampling thread only
  publication published;
  std::thread thread;

  void take() {
    static constinit const site cpu{"process cpu seconds", __FILE__, "process_sampler", __LINE__,
                                    site_kind::counter_track};
    static constinit const site rss{"process resident bytes", __FILE__, "process_sampler", __LINE__,
                                    site_kind::counter_track};
    static constinit const site faults{"process page faults", __FILE__, "process_sampler", __LINE__,
                                       site_kind::counter_track};
    static constinit const site switches{"process context switches", __FILE__, "process_sampler",
                                         __LINE__, site_kind::counter_track};
    static constinit const site joules{"process energy joules", __FILE__, "process_sampler",
                                       __LINE__, site_kind::counter_track};
    const auto s = sample_process();
    counter_sample(&cpu, s.user_cpu_seconds + s.system_cpu_seconds);
    counter_sample(&rss, s.resident_bytes);
    counter_sample(&faults, s.minor_faults + s.major_faults);
    counter_sample(&switches, s.voluntary_switches + s.involuntary_switches);
    const auto& zones = readable_rapl();
    std::optional<double> e;
    if (!zones.empty()) {
      // Per-zone deltas, so a counter wrapping at max_energy_range_uj keeps the total monotone.
      if (last_uj.size() != zones.size()) last_uj.assign(zones.size(), -1);
      double add = 0;
      for (std::size_t i = 0; i < zones.size(); ++i) {
        double v = 0;
        if (!read_number(zones[i].energy_path, v)) continue;
        if (last_uj[i] >= 0)
          add += v >= last_uj[i] ? v - last_uj[i] : v + zones[i].range_uj - last_uj[i];
        last_uj[i] = v;
      }
      std::lock_guard lock(mutex);
      energy = energy.value_or(0) + add * 1e-6;
      e = energy;
    }
    if (e) counter_sample(&joules, *e);
    std::lock_guard lock(mutex);
    ++samples;
  }

  void run() {
    set_thread_name("tessera process sampler");
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      take();
      lock.lock();
      wake.wait_for(lock, options.period, [this] { return stopping; });
    }
  }
};

process_sampler::process_sampler(sampler_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = options;
  if (options.publish_metrics) {
    impl_->published = publish("process", [](metric_sink& sink) {
      const auto s = sample_process();
      sink.counter("tessera_process_cpu_seconds_total", "CPU time used by the process.",
                   s.user_cpu_seconds, {{"mode", "user"}});
      sink.counter("tessera_process_cpu_seconds_total", "CPU time used by the process.",
                   s.system_cpu_seconds, {{"mode", "system"}});
      sink.gauge("tessera_process_resident_memory_bytes", "Resident set size.", s.resident_bytes);
      sink.counter("tessera_process_page_faults_total", "Page faults.", s.minor_faults,
                   {{"kind", "minor"}});
      sink.counter("tessera_process_page_faults_total", "Page faults.", s.major_faults,
                   {{"kind", "major"}});
      sink.counter("tessera_process_context_switches_total", "Context switches.",
                   s.voluntary_switches, {{"kind", "voluntary"}});
      sink.counter("tessera_process_context_switches_total", "Context switches.",
                   s.involuntary_switches, {{"kind", "involuntary"}});
      if (s.energy_joules)
        sink.counter("tessera_process_energy_joules_total",
                     "RAPL package energy (whole machine, not only this process).",
                     *s.energy_joules);
    });
  }
  impl_->thread = std::thread([this] { impl_->run(); });
}

process_sampler::~process_sampler() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
  impl_->published.reset();
}

std::uint64_t process_sampler::samples() const noexcept {
  std::lock_guard lock(impl_->mutex);
  return impl_->samples;
}

std::optional<double> process_sampler::energy_joules() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->energy;
}

}  // namespace tessera::profile
