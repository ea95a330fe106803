// A program whose TESSERA_ASSERT fails: CTest expects it to abort with the message.
#include <vector>

#include "tessera/core/assert.hpp"

int main() {
  std::vector<int> items{1, 2};
  TESSERA_ASSERT(items.size() == 3, "three items were promised");
  return 0;
}
