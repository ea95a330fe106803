// tessera's exceptions. `error` is for bad input from outside the program (a file, a config
// value, a corrupt disk record): its message names the input and what is wrong with it.
// `out_of_memory` is for a pool or budget account that cannot satisfy a request: it derives from
// std::bad_alloc, so code that already handles allocation failure handles it too, and it says
// which pool or account ran out and how much was asked.
#pragma once

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tessera {

class error : public std::runtime_error {
 public:
  // `input` names what was bad ("trace file 'x.bin'", "option workers"); `problem` says why.
  error(std::string_view input, std::string_view problem)
      : std::runtime_error(std::string(input) + ": " + std::string(problem)), input_(input) {}

  [[nodiscard]] const std::string& input() const noexcept { return input_; }

 private:
  std::string input_;
};

class out_of_memory : public std::bad_alloc {
 public:
  out_of_memory(std::string_view source, std::size_t requested)
      : source_(source),
        requested_(requested),
        message_("tessera: '" + source_ + "' cannot provide " + std::to_string(requested) +
                 " bytes") {}

  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }
  // The pool or account that ran out.
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  [[nodiscard]] std::size_t requested() const noexcept { return requested_; }

 private:
  std::string source_;
  std::size_t requested_;
  std::string message_;
};

}  // namespace tessera
