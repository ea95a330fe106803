#include "tessera/core/build_info.hpp"

#include <catch2/catch.hpp>

#include "tessera/core/assert.hpp"
#include "tessera/core/version.hpp"

TEST_CASE("build_info reports the version of the headers it was built with") {
  const auto info = tessera::build_info();
  CHECK(info.version == std::to_string(TESSERA_VERSION_MAJOR) + "." +
                            std::to_string(TESSERA_VERSION_MINOR) + "." +
                            std::to_string(TESSERA_VERSION_PATCH));
  CHECK_FALSE(info.compiler.empty());
}

TEST_CASE("build_info says mimalloc and oneTBB are on in the test build") {
  // Tests require both (cmake/TesseraDependencies.cmake), so the compiled part must know.
  const auto info = tessera::build_info();
  CHECK(info.mimalloc);
  CHECK(info.tbb);
}

TEST_CASE("build_info's assertion flag agrees with the headers") {
  CHECK(tessera::build_info().assertions == (TESSERA_ASSERTIONS_ENABLED != 0));
}
