// read_trace: the shared traces parse, and malformed traces are rejected with the file name and
// the byte offset of the problem.
#include "tessera/cache/trace_reader.hpp"

#include <unistd.h>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"

namespace caching = tessera::caching;

namespace {

std::string write_temp(const std::string& name, const std::string& bytes) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("tessera_trace_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

std::string error_of(const std::string& path, caching::trace_format f) {
  try {
    (void)caching::read_trace(path, f);
  } catch (const tessera::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the shared traces parse in all three formats with the same ids") {
  const std::string dir = TESSERA_TRACES_DIR;
  if (!std::filesystem::exists(dir + "/cloudPhysicsIO.oracleGeneral.bin")) {
    WARN("skipped: the shared traces are not at " << dir << " (a checkout without ../shared)");
    return;
  }
  const auto bin = caching::read_trace(dir + "/cloudPhysicsIO.oracleGeneral.bin",
                                       caching::trace_format::oracle_general);
  const auto txt = caching::read_trace(dir + "/cloudPhysicsIO.txt", caching::trace_format::txt);
  CHECK(bin.size() == 113'872);
  REQUIRE(txt.size() >= 113'871);
  CHECK(std::equal(txt.begin(), txt.end(), bin.begin()));
}

TEST_CASE("csv traces pick the id column from the header or take the first column") {
  const auto with_header =
      write_temp("h.csv", "time,obj_id,size\n1,42,100\n2,43,100\r\n\n3,42,100\n");
  CHECK(caching::read_trace(with_header, caching::trace_format::csv) ==
        std::vector<std::uint64_t>{42, 43, 42});
  const auto plain = write_temp("p.csv", "7,1\n8,1\n");
  CHECK(caching::read_trace(plain, caching::trace_format::csv) == std::vector<std::uint64_t>{7, 8});
  std::filesystem::remove(with_header);
  std::filesystem::remove(plain);
}

TEST_CASE("a malformed trace names the file and the byte offset") {
  const auto txt = write_temp("bad.txt", "1\n2\nthree\n4\n");
  const auto msg = error_of(txt, caching::trace_format::txt);
  CHECK_THAT(msg, Catch::Contains(txt) && Catch::Contains("byte offset 4"));

  const auto csv = write_temp("bad.csv", "obj_id,size\n1,2\nx,3\n");
  CHECK_THAT(error_of(csv, caching::trace_format::csv),
             Catch::Contains(csv) && Catch::Contains("byte offset 16"));

  std::string record(24, '\0');
  const auto bin = write_temp("bad.bin", record + record + std::string(10, '\1'));
  CHECK_THAT(
      error_of(bin, caching::trace_format::oracle_general),
      Catch::Contains(bin) && Catch::Contains("byte offset 48") && Catch::Contains("truncated"));

  CHECK_THAT(error_of("/nonexistent/trace", caching::trace_format::txt),
             Catch::Contains("/nonexistent/trace") && Catch::Contains("cannot be opened"));
  CHECK_THROWS_AS(caching::parse_trace_format("vscsi"), tessera::error);
  for (const auto& p : {txt, csv, bin}) std::filesystem::remove(p);
}
