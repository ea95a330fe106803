// tessera::tbb_executor: runs tessera's parallel algorithms inside a oneTBB task_arena, for
// applications that already own their threads through TBB. Needs tessera::tbb_interop.
//
//   tbb::task_arena arena(4);
//   tessera::tbb_executor ex{arena};
//   tessera::parallel_for(ex, 0, n, body);
#pragma once

#if !defined(TESSERA_HAS_TBB)
#error "tessera/sched/tbb_interop.hpp needs oneTBB: link the tessera::tbb_interop target"
#endif

#include <oneapi/tbb/parallel_invoke.h>
#include <oneapi/tbb/task_arena.h>

#include "tessera/sched/executor.hpp"

namespace tessera {

class tbb_executor {
 public:
  explicit tbb_executor(tbb::task_arena& arena) noexcept : arena_(&arena) {}

  template <class F>
  decltype(auto) execute(F&& f) const {
    return arena_->execute(std::forward<F>(f));
  }
  template <class A, class B>
  void fork2(A&& a, B&& b) const {
    tbb::parallel_invoke(a, b);  // called inside execute(): runs in this arena
  }
  // TBB balances by itself once tasks exist; the algorithms split down to their chunk size.
  [[nodiscard]] bool should_split() const noexcept { return true; }
  [[nodiscard]] unsigned concurrency() const noexcept {
    return static_cast<unsigned>(arena_->max_concurrency());
  }
  [[nodiscard]] tbb::task_arena& arena() const noexcept { return *arena_; }

 private:
  tbb::task_arena* arena_;
};

static_assert(fork_join_executor<tbb_executor>);

}  // namespace tessera
