// Uses only the header-only subset: must link without the compiled library.
#include <tessera/core/core.hpp>

int main() {
  return tessera::more_important(tessera::priority::critical, tessera::priority::low) ? 0 : 1;
}
