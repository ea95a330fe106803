// Policy lists: how every configurable tessera type (`basic_scheduler<Policies...>`,
// `cache<K, V, Policies...>`, ...) picks its compile-time choices out of an unordered list.
//
// A policy is a type that declares its category:
//
//   struct park_immediately { using policy_category = tessera::sched::idle_policy_tag; ... };
//
// A configurable type names the categories it takes and selects one policy per category:
//
//   template <class... Policies>
//   class basic_widget {
//     static_assert(tessera::policy_list<locking_tag, growth_tag>::accepts<Policies...>);
//     using locking = tessera::select_policy_t<locking_tag, mutex_locking, Policies...>;
//   };
//
// Mistakes fail to compile with a message that says the fix: two policies of one category
// (the diagnostic names the category), a type that is no policy, or a policy of a category the
// type does not take.
#pragma once

#include <cstddef>
#include <type_traits>

namespace tessera {

// A policy declares `using policy_category = SomeTag;`.
template <class P>
concept policy = requires {
  typename P::policy_category;
};

template <class P, class Category>
concept policy_of = policy<P> && std::is_same_v<typename P::policy_category, Category>;

namespace detail {

template <class P, class Category>
inline constexpr bool policy_in_category = [] {
  if constexpr (policy<P>) {
    return std::is_same_v<typename P::policy_category, Category>;
  } else {
    return false;
  }
}();

// Each check is a class template of its own so that the compiler's "in instantiation of"
// note names the offending type or category next to the static_assert message.
template <class NotAPolicy>
struct is_a_policy_check {
  static_assert(policy<NotAPolicy>,
                "tessera: a type in this policy list is not a policy (it declares no "
                "`policy_category`): remove it, or add `using policy_category = <category tag>;` "
                "to it (NotAPolicy names the type)");
  static constexpr bool value = policy<NotAPolicy>;
};

template <class Category, std::size_t Count>
struct one_policy_per_category_check {
  static_assert(Count <= 1,
                "tessera: two policies of one category in this policy list: keep only one policy "
                "of this category (Category names it)");
  static constexpr bool value = Count <= 1;
};

template <class Policy, bool Accepted>
struct category_accepted_check {
  static_assert(Accepted,
                "tessera: a policy of a category this type does not take: remove it from the list, "
                "or pass it to the type it is meant for (Policy names it)");
  static constexpr bool value = Accepted;
};

template <class Category, class... Policies>
inline constexpr std::size_t count_of_category =
    (std::size_t{0} + ... + std::size_t{policy_in_category<Policies, Category>});

template <class Category, class Default, class... Policies>
struct first_of_category {
  using type = Default;
};

template <class Category, class Default, class P, class... Rest>
struct first_of_category<Category, Default, P, Rest...>
    : std::conditional_t<policy_in_category<P, Category>, std::type_identity<P>,
                         first_of_category<Category, Default, Rest...>> {};

}  // namespace detail

// The policy of `Category` in `Policies...`, or `Default` when none is given.
template <class Category, class Default, class... Policies>
struct select_policy {
  static_assert((... && detail::is_a_policy_check<Policies>::value));
  static_assert(detail::one_policy_per_category_check<
                Category, detail::count_of_category<Category, Policies...>>::value);
  using type = typename detail::first_of_category<Category, Default, Policies...>::type;
};

template <class Category, class Default, class... Policies>
using select_policy_t = typename select_policy<Category, Default, Policies...>::type;

// True when `Policy` itself appears in the list: for flag-like policies (debug checks).
template <class Policy, class... Policies>
inline constexpr bool has_policy_v = (... || std::is_same_v<Policy, Policies>);

// The set of categories a configurable type takes; `accepts<Policies...>` is true or fails to
// compile with a message naming the policy that does not fit.
template <class... Categories>
struct policy_list {
  template <class P>
  static constexpr bool takes = (... || detail::policy_in_category<P, Categories>);

  template <class... Policies>
  static constexpr bool accepts =
      (true && ... && detail::is_a_policy_check<Policies>::value) &&
      (true && ... && detail::category_accepted_check<Policies, takes<Policies>>::value) &&
      (true && ... &&
       detail::one_policy_per_category_check<
           Categories, detail::count_of_category<Categories, Policies...>>::value);
};

}  // namespace tessera
