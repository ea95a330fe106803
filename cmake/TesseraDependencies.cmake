# Finds tessera's dependencies (Debian packages; cmake/install_deps.sh installs them).
# Required for the library: Threads, Boost (headers), xsimd.
# Optional for the library, required for tests and benchmarks: mimalloc, oneTBB.

find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED CONFIG)
# Debian's xsimd target links a target named `xtl` without finding it: find xtl first.
find_package(xtl CONFIG REQUIRED)
find_package(xsimd 8 REQUIRED CONFIG)

set(TESSERA_HAS_MIMALLOC OFF)
if(TESSERA_USE_MIMALLOC)
  find_package(mimalloc 2 CONFIG QUIET)
  if(mimalloc_FOUND)
    set(TESSERA_HAS_MIMALLOC ON)
    message(STATUS "tessera: mimalloc ${mimalloc_VERSION} found: upstream<mimalloc> is on and is the default pool upstream")
  else()
    message(STATUS "tessera: mimalloc not found: upstream<mimalloc> is OFF; pools default to upstream<new_delete> "
                   "(install it with cmake/install_deps.sh)")
  endif()
else()
  message(STATUS "tessera: TESSERA_USE_MIMALLOC=OFF: upstream<mimalloc> is OFF")
endif()

set(TESSERA_HAS_TBB OFF)
if(TESSERA_USE_TBB)
  find_package(TBB 2021 CONFIG QUIET)
  if(TBB_FOUND)
    set(TESSERA_HAS_TBB ON)
    message(STATUS "tessera: oneTBB ${TBB_VERSION} found: the tessera::tbb_interop target (task_arena adapter) is on")
  else()
    message(STATUS "tessera: oneTBB not found: the tessera::tbb_interop target (task_arena adapter) is OFF "
                   "(install it with cmake/install_deps.sh)")
  endif()
endif()

if(TESSERA_BUILD_TESTS OR TESSERA_BUILD_BENCHMARKS)
  if(NOT TESSERA_HAS_MIMALLOC OR NOT TESSERA_HAS_TBB)
    message(FATAL_ERROR "tessera: tests and benchmarks need mimalloc and oneTBB (their peers). "
                        "Run cmake/install_deps.sh, or configure with -DTESSERA_BUILD_TESTS=OFF -DTESSERA_BUILD_BENCHMARKS=OFF.")
  endif()
endif()
if(TESSERA_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED CONFIG)
  include(Catch)
endif()
if(TESSERA_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED CONFIG)
  find_package(OpenMP QUIET)
endif()
