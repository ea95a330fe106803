// The process-wide trace registry: per-thread event buffers (owned here so that they outlive
// their threads until harvested), the active session, and session start/stop.
#include <unistd.h>

#include <algorithm>
#include <list>
#include <mutex>

#include "tessera/core/assert.hpp"
#include "tessera/core/error.hpp"
#include "tessera/profile/session.hpp"

namespace tessera::profile {
namespace detail {
namespace {

struct buffer_record {
  thread_buffer buf;
  std::mutex mutex;  // reset, flush and harvest of `storage`, `name`
  std::vector<event> storage;
  std::uint64_t tid = 0;
  std::string name;
  bool exited = false;  // guarded by the registry's mutex
};

struct flushed_chunk {
  std::uint64_t tid;
  std::vector<event> events;
};

struct active_session {
  std::uint32_t generation = 0;
  std::uint32_t capacity = 0;
  full_policy when_full = full_policy::drop_newest;
  std::vector<flushed_chunk> flushed;  // guarded by the registry's mutex
};

struct trace_registry {
  std::mutex mutex;  // taken before any buffer_record's mutex
  std::list<std::unique_ptr<buffer_record>> buffers;
  active_session* active = nullptr;
  std::uint32_t last_generation = 0;
};

// Never destroyed: threads may exit (and record) after static destruction has begun.
trace_registry& registry() {
  static auto* r = new trace_registry;
  return *r;
}

constinit thread_local bool tl_exiting = false;
constinit thread_local std::uint32_t tl_tid = 0;

std::uint32_t current_tid() noexcept {
  if (tl_tid == 0) tl_tid = static_cast<std::uint32_t>(::gettid());
  return tl_tid;
}

struct thread_guard {
  buffer_record* rec = nullptr;
  ~thread_guard() {
    tl_exiting = true;
    tl_buffer = nullptr;
    if (rec != nullptr) {
      std::lock_guard lock(registry().mutex);
      rec->exited = true;
    }
  }
};
thread_local thread_guard tl_guard;

// The calling thread's record, created on first use. Registry mutex held.
buffer_record& own_record(trace_registry& r) {
  if (tl_guard.rec == nullptr) {
    auto rec = std::make_unique<buffer_record>();
    rec->tid = current_tid();
    tl_guard.rec = rec.get();
    tl_buffer = &rec->buf;
    r.buffers.push_back(std::move(rec));
  }
  return *tl_guard.rec;
}

// Deletes records of exited threads; their events were harvested or belong to no session.
void erase_exited(trace_registry& r) {
  r.buffers.remove_if([](const std::unique_ptr<buffer_record>& rec) { return rec->exited; });
}

}  // namespace

void record_slow(const site* where, std::uint32_t generation, std::uint64_t t0, std::uint64_t t1,
                 std::uint64_t arg) noexcept {
  if (tl_exiting) return;
  // A full buffer under drop_newest: counted without a lock, as cheaply as a record.
  if (thread_buffer* b = tl_buffer; b != nullptr && b->generation == generation &&
                                    b->drop_when_full &&
                                    b->size.load(std::memory_order_relaxed) == b->capacity) {
    b->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (r.active == nullptr || r.active->generation != generation) return;  // zone spanned stop()
  auto& rec = own_record(r);
  std::lock_guard buffer_lock(rec.mutex);
  auto& b = rec.buf;
  if (b.generation != generation) {
    rec.storage.assign(r.active->capacity, event{});
    b.events = rec.storage.data();
    b.capacity = r.active->capacity;
    b.size.store(0, std::memory_order_relaxed);
    b.dropped.store(0, std::memory_order_relaxed);
    b.drop_when_full = r.active->when_full == full_policy::drop_newest;
    b.generation = generation;
  }
  auto n = b.size.load(std::memory_order_relaxed);
  if (n == b.capacity) {
    if (r.active->when_full == full_policy::drop_newest) {
      b.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    r.active->flushed.push_back({rec.tid, std::vector<event>(b.events, b.events + n)});
    n = 0;
  }
  b.events[n] = event{where, t0, t1, arg};
  b.size.store(n + 1, std::memory_order_release);
}

std::uint64_t next_async_id() noexcept {
  static std::atomic<std::uint32_t> sequence{0};
  return (std::uint64_t{current_tid()} << 32) | sequence.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace detail

void set_thread_name(std::string_view name) {
  auto& r = detail::registry();
  std::lock_guard lock(r.mutex);
  auto& rec = detail::own_record(r);
  std::lock_guard buffer_lock(rec.mutex);
  rec.name = std::string(name);
}

std::uint64_t trace::dropped() const noexcept {
  std::uint64_t n = 0;
  for (const auto& t : threads) n += t.dropped;
  return n;
}

std::size_t trace::event_count() const noexcept {
  std::size_t n = 0;
  for (const auto& t : threads) n += t.events.size();
  return n;
}

struct session::impl {
  session_options options;
  detail::active_session state;
  trace captured;
  bool running = false;
};

session::session(session_options options) : impl_(std::make_unique<impl>()) {
  TESSERA_ASSERT(options.buffer_events > 0, "a session needs room for at least one event");
  impl_->options = std::move(options);
}

session::~session() {
  if (impl_->running) stop();
}

void session::start() {
  init_clock();
  auto& r = detail::registry();
  std::lock_guard lock(r.mutex);
  if (impl_->running) return;
  if (r.active != nullptr)
    throw error("profile session", "another session is already capturing; stop it first");
  detail::erase_exited(r);
  if (++r.last_generation == 0) ++r.last_generation;
  impl_->state = detail::active_session{};
  impl_->state.generation = r.last_generation;
  impl_->state.capacity = impl_->options.buffer_events;
  impl_->state.when_full = impl_->options.when_full;
  r.active = &impl_->state;
  impl_->captured = trace{};
  impl_->captured.process_name = impl_->options.process_name;
  impl_->running = true;
  impl_->captured.start_ticks = now_ticks();
  detail::hot.generation.store(impl_->state.generation, std::memory_order_release);
}

const trace& session::stop() {
  auto& r = detail::registry();
  {
    std::lock_guard lock(r.mutex);
    if (!impl_->running) return impl_->captured;
    detail::hot.generation.store(0, std::memory_order_release);
    auto& out = impl_->captured;
    out.stop_ticks = now_ticks();
    const auto gen = impl_->state.generation;
    for (auto& rec : r.buffers) {
      std::lock_guard buffer_lock(rec->mutex);
      thread_trace t;
      t.tid = rec->tid;
      t.name = rec->name;
      for (auto& chunk : impl_->state.flushed) {  // in flush order, before the buffer's rest
        if (chunk.tid == rec->tid)
          t.events.insert(t.events.end(), chunk.events.begin(), chunk.events.end());
      }
      if (rec->buf.generation == gen) {
        const auto n = rec->buf.size.load(std::memory_order_acquire);
        t.events.insert(t.events.end(), rec->buf.events, rec->buf.events + n);
        t.dropped = rec->buf.dropped.load(std::memory_order_relaxed);
      }
      if (!t.events.empty() || t.dropped != 0) out.threads.push_back(std::move(t));
    }
    impl_->state.flushed.clear();
    detail::erase_exited(r);
    r.active = nullptr;
    impl_->running = false;
  }
  impl_->captured.clock = calibration();
  std::sort(impl_->captured.threads.begin(), impl_->captured.threads.end(),
            [](const thread_trace& a, const thread_trace& b) { return a.tid < b.tid; });
  return impl_->captured;
}

bool session::running() const noexcept {
  return impl_->running;
}
const trace& session::captured() const noexcept {
  return impl_->captured;
}
const session_options& session::options() const noexcept {
  return impl_->options;
}

}  // namespace tessera::profile
