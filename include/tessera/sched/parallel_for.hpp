// tessera::parallel_for / parallel_for_each: loops over index or random-access iterator ranges.
// The grain is automatic by default: the caller runs the loop alone for one heartbeat (a couple
// of microseconds), then the rest is shared by lazy binary splitting (a range is split only
// while the worker has nothing queued for thieves), so tiny loops cost what the serial loop
// costs and skewed loops balance;
// for_options{.grain = n} splits eagerly down to n elements instead.
//
//   tessera::parallel_for(sched, 0, n, [&](std::size_t i) { y[i] += x[i]; });
//   tessera::parallel_for(sched, 0, n, [&](std::size_t b, std::size_t e) { kernel(b, e); });
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <type_traits>

#include "tessera/core/assert.hpp"
#include "tessera/sched/executor.hpp"
#include "tessera/sched/scheduler.hpp"

namespace tessera {

struct for_options {
  std::size_t grain = 0;  // elements per leaf; 0: automatic (lazy binary splitting)
};

// An index (integer) or a random-access iterator: what the loops step over.
template <class T>
concept loop_position = std::integral<T> || std::random_access_iterator<T>;

namespace sched::detail {

template <class T>
std::size_t range_size(T b, T e) noexcept {
  return static_cast<std::size_t>(e - b);
}

template <class T>
T range_advance(T b, std::size_t n) noexcept {
  return b + static_cast<std::iter_difference_t<T>>(n);
}
template <std::integral T>
T range_advance(T b, std::size_t n) noexcept {
  return static_cast<T>(b + static_cast<T>(n));
}

// A per-index body runs in blocks of run_block indices, a trip count the compiler knows: GCC's
// -O2 vectoriser ("very cheap" cost model) only vectorises a loop whose count is a known
// multiple of the vector width, so `for (i = b; i != e; ++i) body(i)` stays scalar while these
// blocks of a simple body (y[i] += x[i]) become SIMD. The remainder runs one index at a time.
inline constexpr std::size_t run_block = 16;

template <class T, class Body>
void run_chunk(Body& body, T b, T e) {
  if constexpr (std::invocable<Body&, T, T>) {
    body(b, e);
  } else {
    for (; range_size(b, e) >= run_block; b = range_advance(b, run_block)) {
      for (std::size_t j = 0; j < run_block; ++j) body(range_advance(b, j));
    }
    for (; b != e; ++b) body(b);
  }
}

// Automatic leaf size: small enough for 32 leaves per thread (skewed loops balance; lazy
// splitting keeps the cost of small leaves low), capped so that huge loops still split.
inline std::size_t auto_chunk(std::size_t n, unsigned threads) noexcept {
  const std::size_t leaves = (std::size_t{threads} + 1) * 32;  // + 1: the calling thread
  return std::max<std::size_t>(1, std::min<std::size_t>(n / leaves, 4096));
}

template <class Ex, class T, class Body>
void for_lazy(Ex& ex, T b, T e, Body& body, std::size_t chunk) {
  for (;;) {
    const std::size_t n = range_size(b, e);
    if (n <= chunk) {
      run_chunk(body, b, e);
      return;
    }
    if (ex.should_split()) {
      const T mid = range_advance(b, n / 2);
      auto right = [&] { for_lazy(ex, mid, e, body, chunk); };
      auto left = [&] { for_lazy(ex, b, mid, body, chunk); };
      ex.fork2(right, left);
      return;
    }
    const T next = range_advance(b, chunk);
    run_chunk(body, b, next);
    b = next;
  }
}

// Heartbeat splitting (after Acar et al., "Heartbeat Scheduling", PLDI 2018): the calling
// thread runs a loop alone, in chunks that double in size, until it has run for one heartbeat;
// only then does the rest become available to other workers by lazy binary splitting. A loop
// shorter than a heartbeat (a few hundred ns of work: about what waking or handing work to
// another worker costs) never pays for parallelism it cannot use, and a long loop starts
// sharing at most ~2 heartbeats (a few microseconds) later than it otherwise would.
inline constexpr std::uint64_t heartbeat_ticks = 4096;

template <class Ex, class T, class Body>
void for_heartbeat(Ex& ex, T b, T e, Body& body, std::size_t chunk) {
  const std::uint64_t start = tick_now();
  for (std::size_t step = chunk;; step *= 2) {
    const std::size_t n = range_size(b, e);
    if (n <= step) {
      run_chunk(body, b, e);
      return;
    }
    const T next = range_advance(b, step);
    run_chunk(body, b, next);
    b = next;
    if (tick_now() - start >= heartbeat_ticks) break;
  }
  for_lazy(ex, b, e, body, chunk);
}

template <class Ex, class T, class Body>
void for_eager(Ex& ex, T b, T e, Body& body, std::size_t grain) {
  const std::size_t n = range_size(b, e);
  if (n <= grain) {
    run_chunk(body, b, e);
    return;
  }
  const T mid = range_advance(b, n / 2);
  auto right = [&] { for_eager(ex, mid, e, body, grain); };
  auto left = [&] { for_eager(ex, b, mid, body, grain); };
  ex.fork2(right, left);
}

}  // namespace sched::detail

// body(i) for each i in [first, last), or body(b, e) for sub-ranges covering it.
template <fork_join_executor Ex, loop_position T, class Body>
requires std::invocable<Body&, T> || std::invocable<Body&, T, T>
void parallel_for(Ex& ex, T first, T last, Body&& body, for_options options = {}) {
  TESSERA_ASSERT(!(last < first), "parallel_for: last must not come before first");
  const std::size_t n = sched::detail::range_size(first, last);
  if (n == 0) return;
  ex.execute([&] {
    if (options.grain != 0) {
      sched::detail::for_eager(ex, first, last, body, options.grain);
    } else {
      sched::detail::for_heartbeat(ex, first, last, body,
                                   sched::detail::auto_chunk(n, ex.concurrency()));
    }
  });
}

// f(*it) for each element of [first, last).
template <fork_join_executor Ex, std::random_access_iterator It, class F>
requires std::invocable<F&, std::iter_reference_t<It>>
void parallel_for_each(Ex& ex, It first, It last, F&& f, for_options options = {}) {
  parallel_for(
      ex, first, last,
      [&f](It b, It e) {
        for (; b != e; ++b) f(*b);
      },
      options);
}

// The same, on the scheduler the caller runs on, or default_scheduler() from outside.
template <loop_position T, class Body>
requires std::invocable<Body&, T> || std::invocable<Body&, T, T>
void parallel_for(T first, T last, Body&& body, for_options options = {}) {
  if (sched::detail::this_worker != nullptr) {
    ambient_executor here;
    parallel_for(here, first, last, body, options);
  } else {
    parallel_for(default_scheduler(), first, last, body, options);
  }
}

template <std::random_access_iterator It, class F>
requires std::invocable<F&, std::iter_reference_t<It>>
void parallel_for_each(It first, It last, F&& f, for_options options = {}) {
  if (sched::detail::this_worker != nullptr) {
    ambient_executor here;
    parallel_for_each(here, first, last, f, options);
  } else {
    parallel_for_each(default_scheduler(), first, last, f, options);
  }
}

}  // namespace tessera
