// The compression codecs of compressed_tier: caching::zstd and caching::lz4 (compiled part of
// tessera, linked against libzstd and liblz4). Use them directly to compress a blob; bad
// compressed input throws tessera::error.
#pragma once

#include <string>
#include <string_view>

#include "tessera/cache/policies.hpp"

namespace tessera::caching {

struct compression_tag {};

// zstd at a fast level: about 3x on text, decompresses at GB/s.
struct zstd {
  using policy_category = compression_tag;
  static constexpr std::string_view name = "zstd";
  static std::string compress(std::string_view raw);
  static std::string decompress(std::string_view packed);
};

// LZ4: less compression than zstd, faster in both directions.
struct lz4 {
  using policy_category = compression_tag;
  static constexpr std::string_view name = "lz4";
  static std::string compress(std::string_view raw);
  static std::string decompress(std::string_view packed);
};

}  // namespace tessera::caching
