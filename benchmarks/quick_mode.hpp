// The main job's quick mode (TESSERA_QUICK=1, what CI runs): benchmarks shrink their inputs so
// the whole job is a smoke run. Any other value, or none, is the full run.
#pragma once

#include <cstdlib>
#include <cstring>

namespace tessera_bench {

inline bool quick_mode() noexcept {
  const char* v = std::getenv("TESSERA_QUICK");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace tessera_bench
