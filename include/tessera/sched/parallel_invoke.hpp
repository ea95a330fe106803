// tessera::parallel_invoke(f1, f2, ...): run callables in parallel and return when all are done;
// the building block of recursive fork-join (fib, quicksort). Costs no allocation: each forked
// callable waits in the worker's deque as a frame on the caller's stack. If several throw, one
// exception is rethrown (the others ran in parallel and are dropped, as in oneTBB).
#pragma once

#include <concepts>
#include <utility>

#include "tessera/sched/detail/core.hpp"
#include "tessera/sched/executor.hpp"
#include "tessera/sched/scheduler.hpp"

namespace tessera {

namespace sched::detail {

template <class Ex, class F0, class... Rest>
void invoke_all(Ex& ex, F0& f0, Rest&... rest) {
  if constexpr (sizeof...(Rest) == 0) {
    f0();
  } else {
    auto tail = [&] { invoke_all(ex, rest...); };
    ex.fork2(f0, tail);
  }
}

}  // namespace sched::detail

// On an explicit executor (a scheduler, tbb_executor, ...).
template <fork_join_executor Ex, class... Fs>
requires(sizeof...(Fs) >= 1 && (std::invocable<Fs&> && ...)) void parallel_invoke(Ex& ex,
                                                                                  Fs&&... fs) {
  ex.execute([&] { sched::detail::invoke_all(ex, fs...); });
}

// On the scheduler the caller runs on, or default_scheduler() from outside.
template <class F0, class F1, class... Fs>
requires(std::invocable<F0&>&& std::invocable<F1&> &&
         (std::invocable<Fs&> && ...)) void parallel_invoke(F0&& f0, F1&& f1, Fs&&... fs) {
  if (sched::detail::worker* w = sched::detail::this_worker) {
    if constexpr (sizeof...(Fs) == 0) {
      sched::detail::fork2(*w, f0, f1);  // the fib path: no executor indirection
    } else {
      ambient_executor here;
      sched::detail::invoke_all(here, f0, f1, fs...);
    }
  } else {
    default_scheduler().execute([&] {
      ambient_executor here;
      sched::detail::invoke_all(here, f0, f1, fs...);
    });
  }
}

}  // namespace tessera
