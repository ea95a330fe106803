// Zones, instants, counter tracks and async spans: the macros that put events into the running
// session's per-thread buffers. Cheap enough to leave in production code: while no session
// runs a zone costs one relaxed load and a branch; with TESSERA_PROFILE=0 the macros vanish.
//
//   void parse(std::span<const char> in) {
//     TESSERA_ZONE("parse");                 // scoped: from here to the end of the block
//     TESSERA_ZONE_VALUE("chunk", in.size());  // a zone with a numeric argument
//     TESSERA_INSTANT("checkpoint");
//   }
//   TESSERA_ASYNC_BEGIN(span, "request");   // declares `span`; it may end on another thread:
//   TESSERA_ASYNC_END(span);
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <string_view>

#include "tessera/profile/clock.hpp"

#ifndef TESSERA_PROFILE  // as in hooks.hpp, without that header's includes
#define TESSERA_PROFILE 1
#endif

namespace tessera::profile {

enum class site_kind : std::uint8_t { zone, zone_value, instant, counter_track, async };

// One static record per call site; events point at it, so the hot path stores no strings.
struct site {
  const char* name;
  const char* file;
  const char* function;
  std::uint32_t line;
  site_kind kind;
};

// One captured event (32 bytes). zone/zone_value: [t0, t1]; instant, counter_track: t0 == t1;
// async: t0 on the beginning thread, t1 on the ending one. `arg`: the value's double bits
// (zone_value, counter_track) or the async id (beginning thread's tid << 32 | sequence).
struct event {
  const site* where;
  std::uint64_t t0;
  std::uint64_t t1;
  std::uint64_t arg;
};

// What a full per-thread buffer does: drop the newest events (counted), or hand its events to
// the session (a lock, taken once per buffer-full, not per event).
enum class full_policy : std::uint8_t { drop_newest, flush };

namespace detail {

// A thread's event buffer. Owned by the process-wide trace registry (src/profile/trace.cpp),
// which outlives the thread; only the owning thread writes `events`, `size` and `generation`.
struct thread_buffer {
  event* events = nullptr;
  std::uint32_t capacity = 0;
  std::uint32_t generation = 0;  // the session these events belong to
  bool drop_when_full = true;
  std::atomic<std::uint32_t> size{0};
  std::atomic<std::uint64_t> dropped{0};
};

inline constinit thread_local thread_buffer* tl_buffer = nullptr;

// Buffer missing, of an older session, or full; or the session changed: see trace.cpp.
void record_slow(const site* where, std::uint32_t generation, std::uint64_t t0, std::uint64_t t1,
                 std::uint64_t arg) noexcept;

[[gnu::always_inline]] inline void record(const site* where, std::uint32_t generation,
                                          std::uint64_t t0, std::uint64_t t1,
                                          std::uint64_t arg) noexcept {
  thread_buffer* b = tl_buffer;
  if (b != nullptr && b->generation == generation) [[likely]] {
    const std::uint32_t n = b->size.load(std::memory_order_relaxed);
    if (n < b->capacity) [[likely]] {
      b->events[n] = event{where, t0, t1, arg};
      b->size.store(n + 1, std::memory_order_release);
      return;
    }
  }
  record_slow(where, generation, t0, t1, arg);
}

[[nodiscard]] inline std::uint32_t capturing() noexcept {
  return hot.generation.load(std::memory_order_relaxed);
}

std::uint64_t next_async_id() noexcept;  // this thread's tid << 32 | a process-wide sequence

}  // namespace detail

// A zone from construction to destruction on one thread (what TESSERA_ZONE declares).
class scoped_zone {
 public:
  explicit scoped_zone(const site* where) noexcept : generation_(detail::capturing()) {
    if (generation_ != 0) {
      where_ = where;
      t0_ = now_ticks();
    }
  }
  scoped_zone(const site* where, double value) noexcept : generation_(detail::capturing()) {
    if (generation_ != 0) {
      where_ = where;
      arg_ = std::bit_cast<std::uint64_t>(value);
      t0_ = now_ticks();
    }
  }
  scoped_zone(const scoped_zone&) = delete;
  scoped_zone& operator=(const scoped_zone&) = delete;
  ~scoped_zone() {
    if (generation_ != 0) detail::record(where_, generation_, t0_, now_ticks(), arg_);
  }

 private:
  std::uint32_t generation_;
  const site* where_;
  std::uint64_t t0_;
  std::uint64_t arg_ = 0;
};

// An instant event, or a sample of a counter track (Chrome "C" record) named by the site.
inline void instant(const site* where) noexcept {
  if (const auto g = detail::capturing(); g != 0) {
    const auto t = now_ticks();
    detail::record(where, g, t, t, 0);
  }
}
inline void counter_sample(const site* where, double value) noexcept {
  if (const auto g = detail::capturing(); g != 0) {
    const auto t = now_ticks();
    detail::record(where, g, t, t, std::bit_cast<std::uint64_t>(value));
  }
}

// A span that may begin on one thread and end on another (an async task, a request). end()
// records it on the calling thread; a span never ended records nothing.
class async_span {
 public:
  async_span() = default;
  explicit async_span(const site* where) noexcept : generation_(detail::capturing()) {
    if (generation_ != 0) {
      where_ = where;
      id_ = detail::next_async_id();
      t0_ = now_ticks();
    }
  }
  void end() noexcept {
    if (generation_ != 0) {
      detail::record(where_, generation_, t0_, now_ticks(), id_);
      generation_ = 0;
    }
  }
  [[nodiscard]] bool open() const noexcept { return generation_ != 0; }

 private:
  std::uint32_t generation_ = 0;
  const site* where_ = nullptr;
  std::uint64_t t0_ = 0;
  std::uint64_t id_ = 0;
};

// Names the calling thread in traces ("worker 3"); call it once per thread, any time.
void set_thread_name(std::string_view name);

}  // namespace tessera::profile

#define TESSERA_DETAIL_CAT2(a, b) a##b
#define TESSERA_DETAIL_CAT(a, b) TESSERA_DETAIL_CAT2(a, b)
#define TESSERA_DETAIL_SITE(id, name, kind)                                               \
  static constinit const ::tessera::profile::site TESSERA_DETAIL_CAT(tessera_site_, id) { \
    name, __FILE__, __func__, __LINE__, ::tessera::profile::site_kind::kind               \
  }

#if TESSERA_PROFILE
#define TESSERA_DETAIL_ZONE(id, name)                                           \
  TESSERA_DETAIL_SITE(id, name, zone);                                          \
  const ::tessera::profile::scoped_zone TESSERA_DETAIL_CAT(tessera_zone_, id) { \
    &TESSERA_DETAIL_CAT(tessera_site_, id)                                      \
  }
#define TESSERA_DETAIL_ZONE_VALUE(id, name, value)                              \
  TESSERA_DETAIL_SITE(id, name, zone_value);                                    \
  const ::tessera::profile::scoped_zone TESSERA_DETAIL_CAT(tessera_zone_, id) { \
    &TESSERA_DETAIL_CAT(tessera_site_, id), static_cast<double>(value)          \
  }
// A scoped zone named `name` (a string literal) from here to the end of the block.
#define TESSERA_ZONE(name) TESSERA_DETAIL_ZONE(__COUNTER__, name)
// A scoped zone with a numeric argument (shown in the trace's args.value).
#define TESSERA_ZONE_VALUE(name, value) TESSERA_DETAIL_ZONE_VALUE(__COUNTER__, name, value)
#define TESSERA_DETAIL_INSTANT(id, name)                                 \
  do {                                                                   \
    TESSERA_DETAIL_SITE(id, name, instant);                              \
    ::tessera::profile::instant(&TESSERA_DETAIL_CAT(tessera_site_, id)); \
  } while (false)
#define TESSERA_INSTANT(name) TESSERA_DETAIL_INSTANT(__COUNTER__, name)
#define TESSERA_DETAIL_PLOT(id, name, value)                                   \
  do {                                                                         \
    TESSERA_DETAIL_SITE(id, name, counter_track);                              \
    ::tessera::profile::counter_sample(&TESSERA_DETAIL_CAT(tessera_site_, id), \
                                       static_cast<double>(value));            \
  } while (false)
// A sample of the counter track `name` (a Chrome "C" record; Perfetto draws it as a graph).
#define TESSERA_PLOT(name, value) TESSERA_DETAIL_PLOT(__COUNTER__, name, value)
#define TESSERA_DETAIL_ASYNC_BEGIN(id, var, name) \
  TESSERA_DETAIL_SITE(id, name, async);           \
  ::tessera::profile::async_span var {            \
    &TESSERA_DETAIL_CAT(tessera_site_, id)        \
  }
// Declares `var`, an async_span that TESSERA_ASYNC_END(var) ends, on this or another thread
// (copy it there).
#define TESSERA_ASYNC_BEGIN(var, name) TESSERA_DETAIL_ASYNC_BEGIN(__COUNTER__, var, name)
#define TESSERA_ASYNC_END(span) (span).end()
#else
#define TESSERA_ZONE(name) static_cast<void>(0)
// The value stays unevaluated (sizeof) but referenced, so variables used only here do not warn.
#define TESSERA_ZONE_VALUE(name, value) static_cast<void>(sizeof(static_cast<double>(value)))
#define TESSERA_INSTANT(name) static_cast<void>(0)
#define TESSERA_PLOT(name, value) static_cast<void>(sizeof(static_cast<double>(value)))
#define TESSERA_ASYNC_BEGIN(var, name) ::tessera::profile::async_span var
#define TESSERA_ASYNC_END(span) static_cast<void>(0)
#endif
