// tessera-perfdiff BASELINE.json CURRENT.json: exit status 1 when CURRENT is significantly
// slower than BASELINE (see tessera/profile/perfdiff.hpp), 2 on bad input or usage.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "tessera/core/error.hpp"
#include "tessera/profile/perfdiff.hpp"

namespace {

constexpr const char* usage =
    "usage: tessera-perfdiff [options] BASELINE.json CURRENT.json\n"
    "  Compares Google Benchmark JSON (run with --benchmark_repetitions=N, N >= 5 advised) or\n"
    "  tessera session summaries; exit status 1 when a series regressed.\n"
    "options:\n"
    "  --noise-floor=PCT   smallest slowdown of the median that counts, in percent (default 5)\n"
    "  --alpha=A           significance after Benjamini-Hochberg (default 0.01)\n"
    "  --metric=NAME       real_time (default) or cpu_time\n"
    "  --min-samples=N     fewer samples on a side: not tested (default 3)\n";

bool number_option(std::string_view arg, std::string_view name, double& out) {
  if (!arg.starts_with(name)) return false;
  const std::string value(arg.substr(name.size()));
  char* end = nullptr;
  out = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0')
    throw tessera::error("option " + std::string(name), "not a number: '" + value + "'");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  namespace pd = tessera::profile::perfdiff;
  pd::options opts;
  std::string files[2];
  int nfiles = 0;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      double v = 0;
      if (arg == "-h" || arg == "--help") {
        std::cout << usage;
        return 0;
      } else if (number_option(arg, "--noise-floor=", v)) {
        opts.noise_floor = v / 100.0;
      } else if (number_option(arg, "--alpha=", v)) {
        opts.alpha = v;
      } else if (number_option(arg, "--min-samples=", v)) {
        opts.min_samples = static_cast<std::size_t>(v);
      } else if (arg.starts_with("--metric=")) {
        opts.metric = std::string(arg.substr(9));
        if (opts.metric != "real_time" && opts.metric != "cpu_time")
          throw tessera::error("option --metric", "use real_time or cpu_time");
      } else if (arg.starts_with("--") || nfiles == 2) {
        std::cerr << "tessera-perfdiff: unexpected argument '" << arg << "'\n" << usage;
        return 2;
      } else {
        files[nfiles++] = std::string(arg);
      }
    }
    if (nfiles != 2) {
      std::cerr << usage;
      return 2;
    }
    const auto baseline = pd::load_series(files[0], opts);
    const auto current = pd::load_series(files[1], opts);
    const auto report = pd::compare(baseline, current, opts);
    pd::write_table(std::cout, report, opts);
    if (report.regressed()) {
      std::cout << "tessera-perfdiff: REGRESSION detected\n";
      return 1;
    }
    return 0;
  } catch (const tessera::error& e) {
    std::cerr << "tessera-perfdiff: " << e.what() << '\n';
    return 2;
  }
}
