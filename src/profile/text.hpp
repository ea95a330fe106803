// Private helpers of the exporters: JSON string escaping, number formatting, opening files.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>

#include "tessera/core/error.hpp"

namespace tessera::profile::detail {

inline void write_json_string(std::ostream& out, std::string_view s) {
  out << '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\r': out << "\\r"; break;
      case '\t': out << "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out << buf;
        } else {
          out << ch;
        }
    }
  }
  out << '"';
}

// Text that reads back as the same finite double: integers without a fraction, the rest %.17g.
inline std::string finite_number(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

// JSON has no NaN/Inf, so those are null.
inline std::string json_number(double v) {
  return std::isfinite(v) ? finite_number(v) : "null";
}

// Nanoseconds as microseconds with exactly three decimals (exact, so nesting survives).
inline std::string micros(std::int64_t ns) {
  char buf[32];
  const bool negative = ns < 0;
  const auto a = negative ? -static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  std::snprintf(buf, sizeof buf, "%s%llu.%03llu", negative ? "-" : "",
                static_cast<unsigned long long>(a / 1000),
                static_cast<unsigned long long>(a % 1000));
  return buf;
}

inline std::ofstream open_for_writing(const std::string& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw error("file '" + path + "'", "cannot be opened for writing");
  return f;
}

inline void finish_writing(std::ofstream& f, const std::string& path) {
  f.flush();
  if (!f) throw error("file '" + path + "'", "write failed");
}

}  // namespace tessera::profile::detail
