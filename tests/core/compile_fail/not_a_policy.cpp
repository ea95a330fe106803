// Must not compile: a type with no policy_category in a policy list.
#include "policies.hpp"

namespace compile_fail {
#if defined(TESSERA_COMPILE_FAIL_CONTROL)
using broken = basic_pretend_scheduler<random_victim>;
#else
using broken = basic_pretend_scheduler<random_victim, plain_struct>;
#endif
inline constexpr std::size_t instantiate = sizeof(broken);
}  // namespace compile_fail
