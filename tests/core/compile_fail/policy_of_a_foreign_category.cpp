// Must not compile: a cache eviction policy given to the (pretend) scheduler.
#include "policies.hpp"

namespace compile_fail {
#if defined(TESSERA_COMPILE_FAIL_CONTROL)
using broken = basic_pretend_scheduler<park_immediately>;
#else
using broken = basic_pretend_scheduler<park_immediately, lru_eviction>;
#endif
inline constexpr std::size_t instantiate = sizeof(broken);
}  // namespace compile_fail
