// Helpers shared by the memory tests: a capturing debug handler and sanitizer-aware sizes.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

#include "sanitizers.hpp"
#include "tessera/memory/debug.hpp"

namespace tessera_test {

#if TESSERA_TEST_SANITIZED
inline constexpr int scale = 1;
#else
inline constexpr int scale = 8;
#endif

struct captured {
  tessera::memory::debug_event event;
  std::string pool;
  std::size_t objects;
  std::size_t bytes;
  const void* address;
};

inline std::mutex captured_mutex;
inline std::vector<captured> captured_reports;

inline void capture(const tessera::memory::debug_report& r) noexcept {
  std::lock_guard lock(captured_mutex);
  captured_reports.push_back({r.event, std::string(r.pool), r.objects, r.bytes, r.address});
}

// Installs the capturing handler for its lifetime; reports() are those seen since.
class capture_reports {
 public:
  capture_reports() {
    std::lock_guard lock(captured_mutex);
    captured_reports.clear();
    previous_ = tessera::memory::set_debug_handler(&capture);
  }
  ~capture_reports() { tessera::memory::set_debug_handler(previous_); }
  std::vector<captured> reports() const {
    std::lock_guard lock(captured_mutex);
    return captured_reports;
  }

 private:
  tessera::memory::debug_handler previous_;
};

}  // namespace tessera_test
