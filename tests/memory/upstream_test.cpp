// Tests for tessera/memory/upstream.hpp: every upstream source feeds a pool, and the run-time
// resource is the one the options name.
#include "tessera/memory/upstream.hpp"

#include <catch2/catch.hpp>
#include <memory_resource>

#include "tessera/memory/object_pool.hpp"
#include "tessera/memory/pool_resource.hpp"

namespace {
namespace mem = tessera::memory;

class counting_resource final : public std::pmr::memory_resource {
 public:
  std::size_t live = 0, calls = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    live += bytes;
    ++calls;
    return std::pmr::new_delete_resource()->allocate(bytes, align);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    live -= bytes;
    std::pmr::new_delete_resource()->deallocate(p, bytes, align);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
    return this == &o;
  }
};
}  // namespace

TEMPLATE_TEST_CASE("every upstream source feeds an object_pool", "[memory][upstream]",
                   mem::new_delete, mem::malloc_free, mem::mimalloc) {
  tessera::basic_object_pool<double, mem::upstream<TestType>> pool;
  std::vector<tessera::pool_ptr<double>> v;
  for (int i = 0; i < 3000; ++i) v.push_back(pool.make(i * 1.5));
  CHECK(*v[2000] == 3000.0);
  CHECK(pool.stats().upstream_bytes >= 3000 * 16);
}

TEST_CASE("a run-time memory_resource upstream is the one given", "[memory][upstream]") {
  counting_resource counter;
  {
    tessera::basic_pool_resource<mem::upstream<mem::resource>> pool{{.upstream = &counter}};
    void* small = pool.allocate(64, 8);
    void* big = pool.allocate(1 << 16, 8);
    CHECK(counter.calls >= 2);
    CHECK(counter.live == pool.stats().upstream_bytes);
    pool.deallocate(big, 1 << 16, 8);
    pool.deallocate(small, 64, 8);
  }
  CHECK(counter.live == 0);  // the pool gave everything back when it died
}

TEST_CASE("the resource source falls back to the default resource", "[memory][upstream]") {
  mem::resource r;
  CHECK(r.get() == std::pmr::get_default_resource());
}
