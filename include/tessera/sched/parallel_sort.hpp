// tessera::parallel_sort: an unstable parallel quicksort (ninther pivot; the top levels partition
// in parallel; keys equal to the pivot split off after a lopsided split so runs of equal keys
// cost little; std::sort below the grain). Random-access ranges only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <utility>

#include "tessera/sched/executor.hpp"
#include "tessera/sched/parallel_for.hpp"

namespace tessera {

struct sort_options {
  std::size_t grain = 0;  // below this many elements std::sort runs; 0: automatic
};

namespace sched::detail {

template <class It, class Compare>
It median3(It a, It b, It c, Compare& comp) {
  if (comp(*a, *b)) {
    if (comp(*b, *c)) return b;
    return comp(*a, *c) ? c : a;
  }
  if (comp(*a, *c)) return a;
  return comp(*b, *c) ? c : b;
}

// std::partition on pieces of at least `piece` elements in parallel: each half is partitioned
// on its own, then the misplaced middle blocks are swapped (order inside a side is free, so a
// swap of min(x, y) elements does what a rotate would). Returns the partition point.
template <class Ex, class It, class Pred>
It parallel_partition(Ex& ex, It b, It e, Pred& pred, std::size_t piece) {
  const auto n = static_cast<std::size_t>(e - b);
  if (n < 2 * piece) return std::partition(b, e, pred);
  const It m = b + static_cast<std::iter_difference_t<It>>(n / 2);
  It left_end = b, right_end = m;
  auto right = [&] { right_end = parallel_partition(ex, m, e, pred, piece); };
  auto left = [&] { left_end = parallel_partition(ex, b, m, pred, piece); };
  ex.fork2(right, left);
  // [b, left_end) true, [left_end, m) false, [m, right_end) true, [right_end, e) false.
  const auto falses = m - left_end, trues = right_end - m;
  const auto k = std::min(falses, trues);
  std::swap_ranges(left_end, left_end + k, right_end - k);
  return left_end + trues;
}

// Ranges of at least `wide` elements (the top of the recursion, where fewer ranges than threads
// exist) are partitioned in parallel; below, each range is partitioned by the thread sorting it.
template <class Ex, class It, class Compare>
void quicksort(Ex& ex, It b, It e, Compare& comp, std::size_t grain, std::size_t wide) {
  const auto n = static_cast<std::size_t>(e - b);
  if (n <= grain) {
    std::sort(b, e, comp);
    return;
  }
  const auto step = static_cast<std::iter_difference_t<It>>(n / 8);
  It m = b + static_cast<std::iter_difference_t<It>>(n / 2);
  It pivot_it =
      median3(median3(b, b + step, b + 2 * step, comp), median3(m - step, m, m + step, comp),
              median3(e - 1 - 2 * step, e - 1 - step, e - 1, comp), comp);
  auto pivot = *pivot_it;
  auto less = [&](const auto& x) { return comp(x, pivot); };
  It lt_end = n >= wide ? parallel_partition(ex, b, e, less, std::max(grain, wide / 4))
                        : std::partition(b, e, less);
  // Keys equal to the pivot are split off by a second pass only when the split was lopsided,
  // which is when they can be numerous (as in pdqsort): a good split pays for one pass only.
  It eq_end = lt_end;
  if (static_cast<std::size_t>(lt_end - b) < n / 16) {
    eq_end = std::partition(lt_end, e, [&](const auto& x) { return !comp(pivot, x); });
  }
  auto right = [&] { quicksort(ex, eq_end, e, comp, grain, wide); };
  auto left = [&] { quicksort(ex, b, lt_end, comp, grain, wide); };
  ex.fork2(right, left);
}

}  // namespace sched::detail

template <fork_join_executor Ex, std::random_access_iterator It, class Compare = std::less<>>
void parallel_sort(Ex& ex, It first, It last, Compare comp = {}, sort_options options = {}) {
  const auto n = static_cast<std::size_t>(last - first);
  if (n < 2) return;
  const std::size_t grain =
      options.grain != 0 ? options.grain
                         : std::max<std::size_t>(2048, n / (std::size_t{ex.concurrency()} * 64));
  // Partition in parallel while a range holds at least half the input (the top level, and a
  // lopsided child of it), and only when that is many leaves' worth of work.
  const std::size_t wide = std::max(n / 2, grain * 16);
  ex.execute([&] { sched::detail::quicksort(ex, first, last, comp, grain, wide); });
}

template <std::random_access_iterator It, class Compare = std::less<>>
void parallel_sort(It first, It last, Compare comp = {}, sort_options options = {}) {
  if (sched::detail::this_worker != nullptr) {
    ambient_executor here;
    parallel_sort(here, first, last, comp, options);
  } else {
    parallel_sort(default_scheduler(), first, last, comp, options);
  }
}

}  // namespace tessera
