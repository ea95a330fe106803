// Built with TESSERA_PROFILE=0: the zone macros must vanish (arguments not even evaluated) and
// a running session must capture nothing from this translation unit. Exit status 0 = pass.
#include <cstdio>

#include "tessera/profile/session.hpp"
#include "tessera/profile/zone.hpp"

#if TESSERA_PROFILE
#error "this test must be compiled with TESSERA_PROFILE=0"
#endif

// External linkage: with the macros compiled out, touch() is only named in unevaluated operands.
namespace compiled_out_test {
int evaluated = 0;
int touch();
int touch() {
  return ++evaluated;
}
}  // namespace compiled_out_test
using compiled_out_test::evaluated;
using compiled_out_test::touch;

int main() {
  tessera::profile::session s;
  s.start();
  {
    TESSERA_ZONE("gone");
    TESSERA_ZONE_VALUE("gone too", touch());
    TESSERA_INSTANT("no instant");
    TESSERA_PLOT("no track", touch());
    TESSERA_ASYNC_BEGIN(span, "no span");
    TESSERA_ASYNC_END(span);
    if (span.open()) return 3;
  }
  const auto& t = s.stop();
  if (t.event_count() != 0) {
    std::fprintf(stderr, "captured %zu events with TESSERA_PROFILE=0\n", t.event_count());
    return 1;
  }
  if (evaluated != 0) {
    std::fprintf(stderr, "macro arguments were evaluated with TESSERA_PROFILE=0\n");
    return 2;
  }
  return 0;
}
