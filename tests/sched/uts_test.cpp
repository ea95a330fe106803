// The UTS T1 tree bench_sched traverses: its SHA-1 must be the standard one, or the tree (and the
// 4,130,071-node check in the benchmark) would be some other tree.
#include "../../benchmarks/sched/uts.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

namespace {
std::string hex(const std::array<unsigned char, 20>& d) {
  std::string s;
  char buf[3];
  for (unsigned char c : d) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    s += buf;
  }
  return s;
}
std::string sha1_of(const std::string& msg) {
  uts::sha1 h;
  h.update(reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
  return hex(h.finish());
}
}  // namespace

TEST_CASE("the UTS SHA-1 matches the FIPS 180 test vectors") {
  CHECK(sha1_of("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(sha1_of("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(sha1_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST_CASE("the UTS T1 root has the reference's first children") {
  const uts::node root = uts::root();
  CHECK(root.height == 0);
  CHECK(uts::num_children(root) == 5);
  // Depth 10 is the last level of T1's fixed shape: nodes there have no children.
  uts::node deep = root;
  deep.height = uts::gen_mx;
  CHECK(uts::num_children(deep) == 0);
}
