// disk_store: records survive reopening; corrupt bytes and truncated files are counted misses,
// never returned; a process killed with SIGKILL while writing loses at most its torn record.
#include "tessera/cache/disk_store.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"

namespace fs = std::filesystem;
using tessera::caching::disk_options;
using tessera::caching::disk_store;

namespace {

struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& tag)
      : path(fs::temp_directory_path() /
             ("tessera_disk_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string value_of(int i) {
  return "value-" + std::to_string(i) + std::string(40, 'x');
}
std::uint64_t hash_of(int i) {
  return 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(i + 1);
}

}  // namespace

TEST_CASE("records survive reopening and erased keys stay erased") {
  temp_dir d("reopen");
  {
    disk_store s({.directory = d.path});
    for (int i = 0; i < 100; ++i) s.put(hash_of(i), "k" + std::to_string(i), value_of(i));
    s.put(hash_of(5), "k5", "replaced");
    CHECK(s.erase(hash_of(7), "k7"));
    CHECK(s.get(hash_of(3), "k3") == value_of(3));
  }
  disk_store s({.directory = d.path});
  CHECK(s.get(hash_of(3), "k3") == value_of(3));
  CHECK(s.get(hash_of(5), "k5") == std::string("replaced"));
  CHECK_FALSE(s.get(hash_of(7), "k7"));
  CHECK_FALSE(s.get(hash_of(3), "another key with k3's hash"));
  CHECK(s.stats().records == 99);
  CHECK(s.stats().corrupt == 0);
}

TEST_CASE("segment files are created 0600, named by number, never by key") {
  temp_dir d("perm");
  disk_store s({.directory = d.path});
  s.put(1, "../../etc/passwd", "v");
  for (const auto& p : segments(d.path)) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(p.filename().string().rfind("segment-", 0) == 0);
  }
  CHECK_FALSE(fs::exists(d.path / ".." / ".." / "etc" / "passwd.tsc"));
}

TEST_CASE("a corrupted record is a counted miss and the others stay readable") {
  temp_dir d("corrupt");
  {
    disk_store s({.directory = d.path});
    for (int i = 0; i < 10; ++i) s.put(hash_of(i), "k" + std::to_string(i), value_of(i));
  }
  const auto seg = segments(d.path).front();
  // Flip one byte in the value of the fourth record (records are equally long).
  const auto size = fs::file_size(seg);
  const auto rec = size / 10;
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(3 * rec + rec - 5));
    f.put('#');
  }
  disk_store s({.directory = d.path});
  CHECK(s.stats().corrupt == 1);
  CHECK_FALSE(s.get(hash_of(3), "k3"));
  for (int i : {0, 1, 2, 4, 9}) CHECK(s.get(hash_of(i), "k" + std::to_string(i)) == value_of(i));

  // Damage under an open store: the read notices, counts and forgets the record.
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(6 * rec + rec - 5));
    f.put('#');
  }
  const auto before = s.stats().corrupt;
  CHECK_FALSE(s.get(hash_of(6), "k6"));
  CHECK(s.stats().corrupt == before + 1);
  CHECK_FALSE(s.get(hash_of(6), "k6"));
  CHECK(s.stats().corrupt == before + 1);
}

TEST_CASE("a truncated segment loses only the cut records and accepts new ones") {
  temp_dir d("trunc");
  {
    disk_store s({.directory = d.path});
    for (int i = 0; i < 10; ++i) s.put(hash_of(i), "k" + std::to_string(i), value_of(i));
  }
  const auto seg = segments(d.path).front();
  const auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 7);  // cuts into the last record
  {
    disk_store s({.directory = d.path});
    CHECK(s.stats().corrupt == 1);
    CHECK_FALSE(s.get(hash_of(9), "k9"));
    CHECK(s.get(hash_of(8), "k8") == value_of(8));
    s.put(hash_of(42), "k42", "after the cut");
  }
  disk_store s({.directory = d.path});
  CHECK(s.stats().corrupt == 0);  // the torn tail was cut off on the previous open
  CHECK(s.get(hash_of(42), "k42") == std::string("after the cut"));
  CHECK(s.get(hash_of(8), "k8") == value_of(8));
}

TEST_CASE("reopening after kill -9 during writes keeps every record written before") {
  temp_dir d("kill");
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    disk_store s({.directory = d.path, .segment_bytes = 1 << 16});
    for (int i = 0;; ++i) {
      s.put(hash_of(i), "k" + std::to_string(i), value_of(i));
      // Tell the parent how many records are complete; keep writing until killed.
      if (::write(pipefd[1], &i, sizeof i) != sizeof i) ::_exit(1);
    }
  }
  ::close(pipefd[1]);
  int last = -1, got = 0;
  while (got < 2000 && ::read(pipefd[0], &last, sizeof last) == sizeof last) ++got;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // Drain what the child reported before it died.
  while (::read(pipefd[0], &last, sizeof last) == sizeof last) {
  }
  ::close(pipefd[0]);
  REQUIRE(last >= 1999);
  disk_store s({.directory = d.path, .segment_bytes = 1 << 16});
  for (int i = 0; i <= last; ++i) {
    INFO("record " << i);
    REQUIRE(s.get(hash_of(i), "k" + std::to_string(i)) == value_of(i));
  }
  CHECK(s.stats().corrupt <= 1);  // at most the record being written
}

TEST_CASE("the store stays within its capacity by dropping the oldest segment") {
  temp_dir d("cap");
  disk_store s({.directory = d.path, .capacity_bytes = 64 << 10, .segment_bytes = 8 << 10});
  for (int i = 0; i < 2000; ++i) s.put(hash_of(i), "k" + std::to_string(i), value_of(i));
  CHECK(s.stats().bytes <= 64 << 10);
  CHECK_FALSE(s.get(hash_of(0), "k0"));
  CHECK(s.get(hash_of(1999), "k1999") == value_of(1999));
  CHECK(s.stats().erased_segments > 0);
}

TEST_CASE("a directory that cannot be used is an error naming it") {
  temp_dir d("bad");
  { std::ofstream(d.path) << "a file, not a directory"; }
  try {
    disk_store s({.directory = d.path});
    FAIL("no error");
  } catch (const tessera::error& e) {
    CHECK_THAT(e.what(), Catch::Contains(d.path.string()));
  }
  fs::remove(d.path);
  disk_store a({.directory = d.path});
  CHECK_THROWS_WITH(disk_store({.directory = d.path}), Catch::Contains("in use"));
}
