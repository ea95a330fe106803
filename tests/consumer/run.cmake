# Drives tests/consumer three ways. Run by CTest:
#   cmake -DSOURCE_DIR=<tessera> -DWORK_DIR=<scratch> -DGENERATOR=<gen> -DCXX_COMPILER=<c++> -P run.cmake
cmake_minimum_required(VERSION 3.25)

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: ${what} failed (${rc})\n${out}\n${err}")
  endif()
  message(STATUS "consumer: ${what}: ok")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(common -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release)
if(DEFINED ENV{CMAKE_CXX_COMPILER_LAUNCHER})
  list(APPEND common -DCMAKE_CXX_COMPILER_LAUNCHER=$ENV{CMAKE_CXX_COMPILER_LAUNCHER})
endif()
set(consumer_src "${SOURCE_DIR}/tests/consumer")

# 1. Install, then move the prefix elsewhere: the package must be relocatable.
step("configure tessera for install"
  ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/tessera-build ${common}
  -DTESSERA_BUILD_TESTS=OFF -DTESSERA_BUILD_BENCHMARKS=OFF -DTESSERA_BUILD_EXAMPLES=OFF
  -DTESSERA_INSTALL=ON -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
step("build and install tessera" ${CMAKE_COMMAND} --build ${WORK_DIR}/tessera-build --target install)
file(RENAME ${WORK_DIR}/prefix ${WORK_DIR}/relocated)

step("configure consumer with find_package"
  ${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/find ${common}
  -DTESSERA_CONSUME=find_package -DCMAKE_PREFIX_PATH=${WORK_DIR}/relocated)
step("build consumer with find_package" ${CMAKE_COMMAND} --build ${WORK_DIR}/find)
step("run consumer with find_package" ${WORK_DIR}/find/consumer)
step("run header-only consumer with find_package" ${WORK_DIR}/find/consumer_headers_only)

# SameMajorVersion: asking for another major version must be refused.
execute_process(COMMAND ${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/wrong-version ${common}
  -DTESSERA_CONSUME=find_package -DTESSERA_REQUIRE_VERSION=99.0 -DCMAKE_PREFIX_PATH=${WORK_DIR}/relocated
  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "tessera")
  message(FATAL_ERROR "consumer: find_package(tessera 99.0) was not refused:\n${err}")
endif()
message(STATUS "consumer: find_package(tessera 99.0) refused: ok")

# pkg-config from the relocated prefix.
find_program(PKG_CONFIG pkg-config pkgconf)
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} "${WORK_DIR}/relocated/lib/pkgconfig")
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs tessera RESULT_VARIABLE rc OUTPUT_VARIABLE flags
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: pkg-config tessera failed")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  step("build consumer with pkg-config"
    ${CXX_COMPILER} ${consumer_src}/main.cpp -o ${WORK_DIR}/pc-consumer ${flags})
  step("run consumer built with pkg-config"
    ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${WORK_DIR}/relocated/lib ${WORK_DIR}/pc-consumer)
endif()

# 2. add_subdirectory.
step("configure consumer with add_subdirectory"
  ${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/subdir ${common}
  -DTESSERA_CONSUME=subdirectory -DTESSERA_SOURCE_DIR=${SOURCE_DIR})
step("build consumer with add_subdirectory" ${CMAKE_COMMAND} --build ${WORK_DIR}/subdir)
step("run consumer with add_subdirectory" ${WORK_DIR}/subdir/consumer)

# 3. FetchContent.
step("configure consumer with FetchContent"
  ${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/fetch ${common}
  -DTESSERA_CONSUME=fetchcontent -DTESSERA_SOURCE_DIR=${SOURCE_DIR})
step("build consumer with FetchContent" ${CMAKE_COMMAND} --build ${WORK_DIR}/fetch)
step("run consumer with FetchContent" ${WORK_DIR}/fetch/consumer)
