// zstd and lz4 for compressed_tier: the compiled part keeps <zstd.h> and <lz4.h> out of users'
// include paths.
#include "tessera/cache/compression.hpp"

#include <lz4.h>
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "tessera/core/error.hpp"

namespace tessera::caching {

std::string zstd::compress(std::string_view raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 1);
  if (ZSTD_isError(n)) throw error("zstd compression", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::string zstd::decompress(std::string_view packed) {
  const unsigned long long size = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > (std::size_t{1} << 32)) {
    throw error("zstd-compressed record", "is not a zstd frame with a known size");
  }
  std::string out(static_cast<std::size_t>(size), '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != out.size()) {
    throw error("zstd-compressed record", ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
  }
  return out;
}

// LZ4's block format does not record the raw size: a 4-byte little-endian prefix holds it.
std::string lz4::compress(std::string_view raw) {
  if (raw.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) {
    throw error("lz4 compression",
                "input of " + std::to_string(raw.size()) + " bytes is too large");
  }
  const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
  std::string out(4 + static_cast<std::size_t>(bound), '\0');
  const auto size = static_cast<std::uint32_t>(raw.size());
  std::memcpy(out.data(), &size, 4);
  const int n =
      LZ4_compress_default(raw.data(), out.data() + 4, static_cast<int>(raw.size()), bound);
  if (n <= 0 && !raw.empty()) throw error("lz4 compression", "failed");
  out.resize(4 + static_cast<std::size_t>(n));
  return out;
}

std::string lz4::decompress(std::string_view packed) {
  std::uint32_t size = 0;
  if (packed.size() < 4) throw error("lz4-compressed record", "shorter than its size prefix");
  std::memcpy(&size, packed.data(), 4);
  // LZ4 expands at most ~255x: a larger claim is damage, not data (and must not be allocated).
  if (size > static_cast<std::uint32_t>(LZ4_MAX_INPUT_SIZE) ||
      size > 255 * (packed.size() - 4) + 16) {
    throw error("lz4-compressed record", "claims an impossible size");
  }
  std::string out(size, '\0');
  const int n = LZ4_decompress_safe(packed.data() + 4, out.data(),
                                    static_cast<int>(packed.size() - 4), static_cast<int>(size));
  if (n < 0 || static_cast<std::uint32_t>(n) != size) {
    throw error("lz4-compressed record", "is corrupt");
  }
  return out;
}

}  // namespace tessera::caching
