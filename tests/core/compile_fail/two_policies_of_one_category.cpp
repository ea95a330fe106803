// Must not compile: two idle policies in one list. The diagnostic names idle_policy_tag.
#include "policies.hpp"

namespace compile_fail {
#if defined(TESSERA_COMPILE_FAIL_CONTROL)
using broken = basic_pretend_scheduler<park_immediately, random_victim>;
#else
using broken = basic_pretend_scheduler<spin_then_park, park_immediately>;
#endif
inline constexpr std::size_t instantiate = sizeof(broken);
}  // namespace compile_fail
