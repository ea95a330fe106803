// Policies for the compile-fail tests: two categories of a pretend scheduler.
#pragma once

#include "tessera/core/policy.hpp"

namespace compile_fail {

struct idle_policy_tag {};
struct victim_policy_tag {};
struct eviction_policy_tag {};

struct spin_then_park {
  using policy_category = idle_policy_tag;
};
struct park_immediately {
  using policy_category = idle_policy_tag;
};
struct random_victim {
  using policy_category = victim_policy_tag;
};
struct lru_eviction {
  using policy_category = eviction_policy_tag;
};
struct plain_struct {};

template <class... Policies>
struct basic_pretend_scheduler {
  static_assert(tessera::policy_list<idle_policy_tag, victim_policy_tag>::accepts<Policies...>);
  using idle = tessera::select_policy_t<idle_policy_tag, spin_then_park, Policies...>;
  using victim = tessera::select_policy_t<victim_policy_tag, random_victim, Policies...>;
};

}  // namespace compile_fail
