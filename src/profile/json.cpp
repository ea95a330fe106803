// The small JSON reader of tessera/profile/detail/json.hpp.
#include "tessera/profile/detail/json.hpp"

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "tessera/core/error.hpp"

namespace tessera::profile::detail {

const json* json::find(std::string_view key) const noexcept {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

namespace {

class parser {
 public:
  parser(std::string_view text, std::string_view input) : s_(text), input_(input) {}

  json document() {
    json v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw error(input_, "invalid JSON at byte " + std::to_string(pos_) + ": " + what);
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  json value(int depth) {
    if (depth > 256) fail("nested too deeply");
    skip_ws();
    if (pos_ >= s_.size()) fail("unexpected end of input");
    const char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return json(string());
    if (consume("true")) return json(true);
    if (consume("false")) return json(false);
    if (consume("null")) return json(nullptr);
    // Google Benchmark writes NaN and Infinity for some statistics: accept them.
    if (consume("NaN")) return json(std::numeric_limits<double>::quiet_NaN());
    if (consume("Infinity")) return json(std::numeric_limits<double>::infinity());
    if (consume("-Infinity")) return json(-std::numeric_limits<double>::infinity());
    return number();
  }
  json number() {
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() &&
           ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.' || s_[pos_] == 'e' ||
            s_[pos_] == 'E' || s_[pos_] == '+' || s_[pos_] == '-'))
      ++pos_;
    if (pos_ == start) fail(std::string("unexpected character '") + s_[pos_] + "'");
    const std::string text(s_.substr(start, pos_ - start));
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) {
      pos_ = start;
      fail("malformed number '" + text + "'");
    }
    return json(d);
  }
  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  unsigned hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= unsigned(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= unsigned(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= unsigned(h - 'A' + 10);
      else
        fail("bad \\u escape");
    }
    return v;
  }
  std::string string() {
    ++pos_;  // "
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated string");
      switch (s_[pos_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && consume("\\u")) {
            const unsigned lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: --pos_; fail("bad escape in string");
      }
    }
  }
  json array(int depth) {
    ++pos_;
    json::array out;
    skip_ws();
    if (consume("]")) return json(std::move(out));
    while (true) {
      out.push_back(value(depth + 1));
      skip_ws();
      if (consume("]")) return json(std::move(out));
      if (!consume(",")) fail("expected ',' or ']' in array");
    }
  }
  json object(int depth) {
    ++pos_;
    json::object out;
    skip_ws();
    if (consume("}")) return json(std::move(out));
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a member name");
      std::string key = string();
      skip_ws();
      if (!consume(":")) fail("expected ':' after a member name");
      out.emplace_back(std::move(key), value(depth + 1));
      skip_ws();
      if (consume("}")) return json(std::move(out));
      if (!consume(",")) fail("expected ',' or '}' in object");
    }
  }

  std::string_view s_;
  std::string_view input_;
  std::size_t pos_ = 0;
};

}  // namespace

json parse_json(std::string_view text, std::string_view input) {
  return parser(text, input).document();
}

json read_json_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  const std::string input = "file '" + path + "'";
  if (!f) throw error(input, "cannot be opened for reading");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_json(ss.str(), input);
}

}  // namespace tessera::profile::detail
