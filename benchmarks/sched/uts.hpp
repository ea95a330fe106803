// The Unbalanced Tree Search (UTS) T1 tree: geometric shape, fixed depth profile
// (-t 1 -a 3 -d 10 -b 4 -r 19), 4,130,071 nodes. A node's children are derived from its
// 20-byte state with SHA-1, as in the UTS reference (brg_sha1 RNG), so the tree is the same for
// every traversal order. Shared by bench_sched and its test.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace uts {

// SHA-1 (FIPS 180-4) of short messages: enough for the UTS splittable RNG.
class sha1 {
 public:
  void update(const unsigned char* data, std::size_t len) noexcept {
    for (std::size_t i = 0; i < len; ++i) {
      buffer_[fill_++] = data[i];
      if (fill_ == 64) {
        block();
        fill_ = 0;
      }
    }
    bytes_ += len;
  }
  std::array<unsigned char, 20> finish() noexcept {
    const std::uint64_t bits = bytes_ * 8;
    const unsigned char pad = 0x80;
    update(&pad, 1);
    const unsigned char zero = 0;
    while (fill_ != 56) update(&zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    update(len, 8);
    std::array<unsigned char, 20> out{};
    for (int i = 0; i < 5; ++i) {
      for (int j = 0; j < 4; ++j)
        out[4 * i + j] = static_cast<unsigned char>(h_[i] >> (24 - 8 * j));
    }
    return out;
  }

 private:
  static std::uint32_t rol(std::uint32_t x, int n) noexcept { return (x << n) | (x >> (32 - n)); }
  void block() noexcept {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      w[i] = (std::uint32_t{buffer_[4 * i]} << 24) | (std::uint32_t{buffer_[4 * i + 1]} << 16) |
             (std::uint32_t{buffer_[4 * i + 2]} << 8) | std::uint32_t{buffer_[4 * i + 3]};
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const std::uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
  }

  std::uint32_t h_[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  unsigned char buffer_[64] = {};
  std::size_t fill_ = 0;
  std::uint64_t bytes_ = 0;
};

struct node {
  std::array<unsigned char, 20> state;
  int height;
};

// T1's parameters.
inline constexpr double b0 = 4.0;
inline constexpr int gen_mx = 10;
inline constexpr int root_seed = 19;
inline constexpr std::uint64_t t1_nodes = 4'130'071;
inline constexpr int max_children = 100;

inline node root() noexcept {
  unsigned char gen[20] = {};
  gen[16] = static_cast<unsigned char>(root_seed >> 24);
  gen[17] = static_cast<unsigned char>(root_seed >> 16);
  gen[18] = static_cast<unsigned char>(root_seed >> 8);
  gen[19] = static_cast<unsigned char>(root_seed);
  sha1 h;
  h.update(gen, 20);
  return {h.finish(), 0};
}

inline node child(const node& parent, int i) noexcept {
  unsigned char bytes[4] = {static_cast<unsigned char>(i >> 24),
                            static_cast<unsigned char>(i >> 16), static_cast<unsigned char>(i >> 8),
                            static_cast<unsigned char>(i)};
  sha1 h;
  h.update(parent.state.data(), 20);
  h.update(bytes, 4);
  return {h.finish(), parent.height + 1};
}

// Geometric number of children with the FIXED shape: mean b0 above depth_limit, none below.
// T1 is depth_limit = gen_mx; smaller limits give smaller trees for smoke runs.
inline int num_children(const node& n, int depth_limit = gen_mx) noexcept {
  const double bi = n.height < depth_limit ? b0 : 0.0;
  const double p = 1.0 / (1.0 + bi);
  const std::uint32_t r = ((std::uint32_t{n.state[16]} << 24) | (std::uint32_t{n.state[17]} << 16) |
                           (std::uint32_t{n.state[18]} << 8) | std::uint32_t{n.state[19]}) &
                          0x7fffffffU;
  const double u = static_cast<double>(r) / 2147483648.0;
  int c = static_cast<int>(std::floor(std::log(1.0 - u) / std::log(1.0 - p)));
  return c > max_children ? max_children : c;
}

inline std::uint64_t count_serial(const node& n, int depth_limit = gen_mx) {
  std::uint64_t total = 1;
  const int c = num_children(n, depth_limit);
  for (int i = 0; i < c; ++i) total += count_serial(child(n, i), depth_limit);
  return total;
}

}  // namespace uts
