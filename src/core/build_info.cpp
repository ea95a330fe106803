// The compiled record of how this tessera library was configured.
#include "tessera/core/build_info.hpp"

#include <string>

#include "tessera/core/assert.hpp"
#include "tessera/core/version.hpp"

namespace tessera {

build_info_t build_info() {
  build_info_t info;
  info.version = std::to_string(TESSERA_VERSION_MAJOR) + "." +
                 std::to_string(TESSERA_VERSION_MINOR) + "." +
                 std::to_string(TESSERA_VERSION_PATCH);
#if defined(__clang__)
  info.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  info.compiler = "g++ " __VERSION__;
#else
  info.compiler = "unknown";
#endif
#if defined(TESSERA_HAS_MIMALLOC)
  info.mimalloc = true;
#endif
#if defined(TESSERA_HAS_TBB)
  info.tbb = true;
#endif
  info.assertions = TESSERA_ASSERTIONS_ENABLED != 0;
  return info;
}

}  // namespace tessera
