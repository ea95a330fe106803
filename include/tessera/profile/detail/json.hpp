// A small JSON reader for tessera-perfdiff and the profiler's tests (Google Benchmark output,
// session summaries, Chrome traces). Not a general-purpose library: values are copied into a
// tree; parse errors throw tessera::error naming the input and the byte offset.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tessera::profile::detail {

class json {
 public:
  using array = std::vector<json>;
  using object = std::vector<std::pair<std::string, json>>;  // in document order

  json() = default;
  explicit json(std::nullptr_t) {}
  explicit json(bool b) : v_(b) {}
  explicit json(double d) : v_(d) {}
  explicit json(std::string s) : v_(std::move(s)) {}
  explicit json(array a) : v_(std::make_shared<array>(std::move(a))) {}
  explicit json(object o) : v_(std::make_shared<object>(std::move(o))) {}

  [[nodiscard]] bool is_null() const noexcept { return v_.index() == 0; }
  [[nodiscard]] bool is_bool() const noexcept { return v_.index() == 1; }
  [[nodiscard]] bool is_number() const noexcept { return v_.index() == 2; }
  [[nodiscard]] bool is_string() const noexcept { return v_.index() == 3; }
  [[nodiscard]] bool is_array() const noexcept { return v_.index() == 4; }
  [[nodiscard]] bool is_object() const noexcept { return v_.index() == 5; }

  [[nodiscard]] bool as_bool() const { return std::get<bool>(v_); }
  [[nodiscard]] double as_number() const { return std::get<double>(v_); }
  [[nodiscard]] const std::string& as_string() const { return std::get<std::string>(v_); }
  [[nodiscard]] const array& as_array() const { return *std::get<std::shared_ptr<array>>(v_); }
  [[nodiscard]] const object& as_object() const { return *std::get<std::shared_ptr<object>>(v_); }

  // The member `key` of an object, or nullptr (also when this is not an object).
  [[nodiscard]] const json* find(std::string_view key) const noexcept;

 private:
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>,
               std::shared_ptr<object>>
      v_;
};

// Parses `text`; `input` names it in errors ("file 'base.json'").
[[nodiscard]] json parse_json(std::string_view text, std::string_view input);
// Reads and parses a file; errors name the file.
[[nodiscard]] json read_json_file(const std::string& path);

}  // namespace tessera::profile::detail
