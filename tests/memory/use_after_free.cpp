// Reads an object after destroying it in a `poison` pool: an ASan build must stop here with a
// use-after-poison report (run by tests/expect_abort.cmake).
#include <cstdio>

#include "tessera/memory/object_pool.hpp"

struct order {
  long id = 7;
  long qty = 3;
  long price = 100;
};

int main() {
  tessera::basic_object_pool<order, tessera::memory::poison> pool;
  order* o = pool.create();
  order* keep = pool.create();
  pool.destroy(o);
  volatile long leaked = o->price;  // use after free
  std::printf("read %ld after free: ASan did not catch it\n", static_cast<long>(leaked));
  pool.destroy(keep);
  return 0;
}
