// Uses the compiled part and the headers: proves include paths, link and defines all arrive.
#include <cstdio>
#include <tessera/tessera.hpp>
#include <type_traits>

struct idle_tag {};
struct spin {
  using policy_category = idle_tag;
};
struct park {
  using policy_category = idle_tag;
};

int main() {
  static_assert(std::is_same_v<tessera::select_policy_t<idle_tag, spin, park>, park>);
  const auto info = tessera::build_info();
  std::printf("tessera %s (%s), priority %s\n", info.version.c_str(), info.compiler.c_str(),
              tessera::to_string(tessera::priority::high).data());
  return info.version.empty() ? 1 : 0;
}
