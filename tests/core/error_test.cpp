#include "tessera/core/error.hpp"

#include <catch2/catch.hpp>
#include <new>
#include <string>

TEST_CASE("an error names the input and what is wrong with it") {
  const tessera::error e("trace file 'a.bin'", "truncated record at byte 48");
  CHECK(std::string(e.what()) == "trace file 'a.bin': truncated record at byte 48");
  CHECK(e.input() == "trace file 'a.bin'");
}

TEST_CASE("an error is caught as std::runtime_error") {
  CHECK_THROWS_AS(throw tessera::error("option workers", "must be > 0"), std::runtime_error);
}

TEST_CASE("out_of_memory is a std::bad_alloc that names the source and the amount") {
  try {
    throw tessera::out_of_memory("object_pool<order>", 4096);
  } catch (const std::bad_alloc& e) {
    const std::string what = e.what();
    CHECK(what.find("object_pool<order>") != std::string::npos);
    CHECK(what.find("4096") != std::string::npos);
    const auto& oom = dynamic_cast<const tessera::out_of_memory&>(e);
    CHECK(oom.source() == "object_pool<order>");
    CHECK(oom.requested() == 4096);
    return;
  }
  FAIL("out_of_memory was not caught as std::bad_alloc");
}
