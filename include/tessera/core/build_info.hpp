// What the compiled part of tessera was built with: for logs and bug reports.
// Needs the tessera::tessera target (not the header-only tessera::headers).
#pragma once

#include <string>

namespace tessera {

struct build_info_t {
  std::string version;    // "0.1.0"
  std::string compiler;   // "g++ 12.2.0", "clang 14.0.6"
  bool mimalloc = false;  // upstream<mimalloc> available
  bool tbb = false;       // the oneTBB interop adapter available
  bool assertions = false;
};

[[nodiscard]] build_info_t build_info();

}  // namespace tessera
