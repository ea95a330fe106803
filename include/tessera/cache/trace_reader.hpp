// Reads cache request traces (object ids in request order) for simulation: libCacheSim's
// oracleGeneral binary format, text with one id per line, and CSV. Used by the cachesim tool;
// use it to replay your own traces through tessera::cache. Bad input throws tessera::error
// naming the file and the byte offset of the problem.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::caching {

enum class trace_format { oracle_general, txt, csv };

[[nodiscard]] inline trace_format parse_trace_format(std::string_view s) {
  if (s == "oracle_general" || s == "oracleGeneral") return trace_format::oracle_general;
  if (s == "txt") return trace_format::txt;
  if (s == "csv") return trace_format::csv;
  throw error("option --format '" + std::string(s) + "'",
              "unknown trace format (use oracle_general, txt or csv)");
}

namespace detail {

inline std::string trace_name(const std::string& path) {
  return "trace file '" + path + "'";
}

[[noreturn]] inline void bad_trace(const std::string& path, std::size_t offset,
                                   std::string_view what) {
  throw error(trace_name(path), "byte offset " + std::to_string(offset) + ": " + std::string(what));
}

// Parses a decimal unsigned id in [b, e); false when the field is not one.
inline bool parse_id(const char* b, const char* e, std::uint64_t& out) {
  while (b < e && (*b == ' ' || *b == '\t' || *b == '\r')) ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) --e;
  if (b == e) return false;
  std::uint64_t v = 0;
  for (const char* p = b; p < e; ++p) {
    if (*p < '0' || *p > '9') return false;
    const auto d = static_cast<std::uint64_t>(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

}  // namespace detail

// The object ids of every request in the trace, in order.
//   oracle_general: packed little-endian 24-byte records {u32 time, u64 id, u32 size, i64 next}
//   txt: one decimal id per line (blank lines skipped)
//   csv: comma-separated; a header line naming a column obj_id, id or key selects it,
//        otherwise the first column holds the id
[[nodiscard]] inline std::vector<std::uint64_t> read_trace(const std::string& path,
                                                           trace_format format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(detail::trace_name(path), "cannot be opened");
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::uint64_t> ids;
  if (format == trace_format::oracle_general) {
    constexpr std::size_t kRecord = 24;
    if (data.size() % kRecord != 0) {
      detail::bad_trace(path, data.size() - data.size() % kRecord,
                        "truncated oracleGeneral record (file size " + std::to_string(data.size()) +
                            " is not a multiple of 24)");
    }
    ids.reserve(data.size() / kRecord);
    for (std::size_t off = 0; off < data.size(); off += kRecord) {
      std::uint64_t id = 0;
      std::memcpy(&id, data.data() + off + 4, sizeof id);  // x86-64 and AArch64: little-endian
      std::uint32_t size = 0;
      std::memcpy(&size, data.data() + off + 12, sizeof size);
      std::int64_t next = 0;
      std::memcpy(&next, data.data() + off + 16, sizeof next);
      if (next < -1) detail::bad_trace(path, off + 16, "next_access_vtime below -1");
      ids.push_back(id);
    }
    return ids;
  }
  std::size_t column = 0;
  bool first_line = true;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    const char* b = data.data() + pos;
    const char* e = data.data() + end;
    const std::size_t line_start = pos;
    pos = end + 1;
    if (b == e || (e - b == 1 && *b == '\r')) continue;
    std::uint64_t id = 0;
    if (format == trace_format::txt) {
      if (!detail::parse_id(b, e, id)) detail::bad_trace(path, line_start, "not an object id");
      ids.push_back(id);
      continue;
    }
    // csv: split the line, pick `column`.
    std::vector<std::string_view> fields;
    for (const char* f = b;;) {
      const char* comma =
          static_cast<const char*>(std::memchr(f, ',', static_cast<std::size_t>(e - f)));
      fields.emplace_back(f, static_cast<std::size_t>((comma ? comma : e) - f));
      if (!comma) break;
      f = comma + 1;
    }
    if (first_line) {
      first_line = false;
      bool header = false;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        std::string_view f = fields[i];
        while (!f.empty() && (f.front() == ' ' || f.front() == '"')) f.remove_prefix(1);
        while (!f.empty() && (f.back() == ' ' || f.back() == '"' || f.back() == '\r'))
          f.remove_suffix(1);
        if (f == "obj_id" || f == "id" || f == "key") {
          column = i;
          header = true;
        }
      }
      std::uint64_t probe = 0;
      if (header ||
          !detail::parse_id(fields[0].data(), fields[0].data() + fields[0].size(), probe)) {
        if (!header)
          detail::bad_trace(path, line_start, "CSV header names no obj_id, id or key column");
        continue;
      }
    }
    if (column >= fields.size())
      detail::bad_trace(path, line_start, "CSV line has too few columns");
    const auto& f = fields[column];
    if (!detail::parse_id(f.data(), f.data() + f.size(), id)) {
      detail::bad_trace(path, line_start + static_cast<std::size_t>(f.data() - b),
                        "not an object id");
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace tessera::caching
