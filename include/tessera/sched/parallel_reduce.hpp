// tessera::parallel_reduce / parallel_deterministic_reduce / parallel_transform_reduce.
//  - parallel_reduce: fastest; the combination order follows the run-time splitting, so a
//    floating-point result may differ in the last bits from run to run.
//  - parallel_deterministic_reduce: splits at fixed points (for_options-like grain), so the
//    result depends only on the input and the grain, never on scheduling.
//  - parallel_transform_reduce: reduce(init, transform(x)...) over a range; for contiguous
//    arithmetic ranges with std::plus and a transform that also accepts xsimd batches (a
//    generic lambda: [](auto x) { return x * x; }) the leaves are vectorised with xsimd.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

#include "tessera/sched/executor.hpp"
#include "tessera/sched/parallel_for.hpp"

namespace tessera {

struct reduce_options {
  std::size_t grain = 0;  // elements per leaf; 0: automatic (deterministic variant: 4096)
};

// Returns its argument: the default transform of parallel_transform_reduce. Accepts batches.
struct identity_transform {
  template <class T>
  constexpr T&& operator()(T&& x) const noexcept {
    return std::forward<T>(x);
  }
};

namespace sched::detail {

template <class Ex, class T, class V, class Leaf, class Combine>
V reduce_lazy(Ex& ex, T b, T e, V acc, const V& identity, Leaf& leaf, Combine& combine,
              std::size_t chunk) {
  for (;;) {
    const std::size_t n = range_size(b, e);
    if (n <= chunk) return leaf(b, e, std::move(acc));
    if (ex.should_split()) {
      const T mid = range_advance(b, n / 2);
      std::optional<V> right;
      auto r = [&] {
        right.emplace(reduce_lazy(ex, mid, e, identity, identity, leaf, combine, chunk));
      };
      auto l = [&] {
        acc = reduce_lazy(ex, b, mid, std::move(acc), identity, leaf, combine, chunk);
      };
      ex.fork2(r, l);
      return combine(std::move(acc), std::move(*right));
    }
    const T next = range_advance(b, chunk);
    acc = leaf(b, next, std::move(acc));
    b = next;
  }
}

template <class Ex, class T, class V, class Leaf, class Combine>
V reduce_fixed(Ex& ex, T b, T e, const V& identity, Leaf& leaf, Combine& combine,
               std::size_t grain) {
  const std::size_t n = range_size(b, e);
  if (n <= grain) return leaf(b, e, V(identity));
  const T mid = range_advance(b, n / 2);
  std::optional<V> left;
  std::optional<V> right;
  auto r = [&] { right.emplace(reduce_fixed(ex, mid, e, identity, leaf, combine, grain)); };
  auto l = [&] { left.emplace(reduce_fixed(ex, b, mid, identity, leaf, combine, grain)); };
  ex.fork2(r, l);
  return combine(std::move(*left), std::move(*right));
}

template <class Reduce, class V>
inline constexpr bool is_plus =
    std::is_same_v<Reduce, std::plus<>> || std::is_same_v<Reduce, std::plus<V>>;

// A leaf that sums transform(x) over a contiguous arithmetic range with xsimd batches; four
// accumulators hide the add latency. The lane order is fixed, so it is deterministic too.
template <class E, class Transform>
struct simd_sum_leaf {
  using batch = xsimd::batch<E>;
  const E* base;
  Transform* transform;

  template <class V>
  V operator()(std::size_t b, std::size_t e, V acc) const {
    constexpr std::size_t w = batch::size;
    const E* p = base + b;
    const std::size_t n = e - b;
    std::size_t i = 0;
    if (n >= 4 * w) {
      batch s0(E(0)), s1(E(0)), s2(E(0)), s3(E(0));
      for (; i + 4 * w <= n; i += 4 * w) {
        s0 += (*transform)(batch::load_unaligned(p + i));
        s1 += (*transform)(batch::load_unaligned(p + i + w));
        s2 += (*transform)(batch::load_unaligned(p + i + 2 * w));
        s3 += (*transform)(batch::load_unaligned(p + i + 3 * w));
      }
      acc = acc + static_cast<V>(xsimd::hadd((s0 + s1) + (s2 + s3)));
    }
    for (; i < n; ++i) acc = acc + static_cast<V>((*transform)(p[i]));
    return acc;
  }
};

template <class It, class V, class Reduce, class Transform>
constexpr bool vectorisable() {
  if constexpr (std::contiguous_iterator<It>) {
    using E = std::remove_cv_t<std::iter_value_t<It>>;
    if constexpr (std::is_arithmetic_v<E> && std::is_arithmetic_v<V> && is_plus<Reduce, V> &&
                  !std::is_same_v<E, bool> && !std::is_same_v<E, long double>) {
      return std::is_invocable_r_v<xsimd::batch<E>, Transform&, xsimd::batch<E>>;
    }
  }
  return false;
}

}  // namespace sched::detail

// leaf(b, e, acc) folds the sub-range [b, e) into acc and returns it; combine(x, y) joins two
// partial results (associative; identity is its neutral element).
template <fork_join_executor Ex, loop_position T, class V, class Leaf, class Combine>
requires std::invocable<Leaf&, T, T, V> && std::invocable<Combine&, V, V> V
parallel_reduce(Ex& ex, T first, T last, V identity, Leaf&& leaf, Combine&& combine,
                reduce_options options = {}) {
  const std::size_t n = sched::detail::range_size(first, last);
  if (n == 0) return identity;
  return ex.execute([&]() -> V {
    const std::size_t chunk =
        options.grain != 0 ? options.grain : sched::detail::auto_chunk(n, ex.concurrency());
    return sched::detail::reduce_lazy(ex, first, last, V(identity), identity, leaf, combine, chunk);
  });
}

template <fork_join_executor Ex, loop_position T, class V, class Leaf, class Combine>
requires std::invocable<Leaf&, T, T, V> && std::invocable<Combine&, V, V> V
parallel_deterministic_reduce(Ex& ex, T first, T last, V identity, Leaf&& leaf, Combine&& combine,
                              reduce_options options = {}) {
  const std::size_t n = sched::detail::range_size(first, last);
  if (n == 0) return identity;
  const std::size_t grain = options.grain != 0 ? options.grain : 4096;
  return ex.execute([&]() -> V {
    return sched::detail::reduce_fixed(ex, first, last, identity, leaf, combine, grain);
  });
}

// reduce(...reduce(init, transform(*first))..., transform(*(last - 1))) in some association.
template <fork_join_executor Ex, std::random_access_iterator It, class V, class Reduce,
          class Transform = identity_transform>
V parallel_transform_reduce(Ex& ex, It first, It last, V init, Reduce reduce,
                            Transform transform = {}, reduce_options options = {}) {
  const std::size_t n = static_cast<std::size_t>(last - first);
  if constexpr (sched::detail::vectorisable<It, V, Reduce, Transform>()) {
    using E = std::remove_cv_t<std::iter_value_t<It>>;
    sched::detail::simd_sum_leaf<E, Transform> leaf{std::to_address(first), &transform};
    auto plus = [](V a, V b) { return a + b; };
    return init + parallel_reduce(ex, std::size_t{0}, n, V{}, leaf, plus, options);
  } else {
    auto leaf = [&](std::size_t b, std::size_t e, std::optional<V> acc) {
      for (std::size_t i = b; i < e; ++i) {
        V x = transform(first[static_cast<std::iter_difference_t<It>>(i)]);
        acc = acc ? V(reduce(std::move(*acc), std::move(x))) : std::move(x);
      }
      return acc;
    };
    auto join = [&](std::optional<V> a, std::optional<V> b) -> std::optional<V> {
      if (!a) return b;
      if (!b) return a;
      return V(reduce(std::move(*a), std::move(*b)));
    };
    std::optional<V> r =
        parallel_reduce(ex, std::size_t{0}, n, std::optional<V>{}, leaf, join, options);
    return r ? V(reduce(std::move(init), std::move(*r))) : init;
  }
}

// Sum of a range (vectorised for contiguous arithmetic ranges).
template <fork_join_executor Ex, std::random_access_iterator It, class V>
V parallel_reduce(Ex& ex, It first, It last, V init, reduce_options options = {}) {
  return parallel_transform_reduce(ex, first, last, std::move(init), std::plus<>{},
                                   identity_transform{}, options);
}

}  // namespace tessera
