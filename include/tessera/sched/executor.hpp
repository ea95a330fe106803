// What the parallel algorithms run on: any *fork-join executor* - a tessera scheduler, the
// scheduler the calling task already runs on (ambient_executor), or a oneTBB task_arena through
// tessera::tbb_executor (sched/tbb_interop.hpp).
#pragma once

#include <concepts>

#include "tessera/sched/detail/core.hpp"

namespace tessera {

namespace sched::detail {
struct probe_fn {
  void operator()() const noexcept {}
};
}  // namespace sched::detail

// execute(f): run f with the executor's threads and return its result; fork2(a, b): run a and
// b in parallel, both finished on return; should_split(): whether splitting a range further is
// useful now (lazy binary splitting); concurrency(): threads that may work at once.
template <class E>
concept fork_join_executor = requires(E& e, sched::detail::probe_fn f) {
  e.execute(f);
  e.fork2(f, f);
  { e.should_split() } -> std::convertible_to<bool>;
  { e.concurrency() } -> std::convertible_to<unsigned>;
};

// The scheduler the calling task runs on. Only valid on a worker (this_worker != nullptr).
struct ambient_executor {
  template <class F>
  decltype(auto) execute(F&& f) const {
    return f();
  }
  template <class A, class B>
  void fork2(A&& a, B&& b) const {
    sched::detail::fork2(*sched::detail::this_worker, a, b);
  }
  [[nodiscard]] bool should_split() const noexcept {
    sched::detail::worker* w = sched::detail::this_worker;
    return w->deques[to_index(w->current)].looks_empty();
  }
  [[nodiscard]] unsigned concurrency() const noexcept {
    return sched::detail::this_worker->owner->concurrency();
  }
};

}  // namespace tessera
