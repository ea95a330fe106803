// tessera::stl_allocator<T, Resource>: lets std::vector, std::unordered_map and node
// containers allocate from any tessera resource (pool_resource, arena) or any
// std::pmr::memory_resource, without the pmr container aliases. With a final resource type
// (tessera's are) the calls are direct, not virtual.
//
//   tessera::pool_resource pool;
//   std::vector<int, tessera::stl_allocator<int, tessera::pool_resource>> v{&pool};
#pragma once

#include <cstddef>
#include <memory_resource>
#include <new>

#include "tessera/core/assert.hpp"

namespace tessera {

// What stl_allocator needs from a resource: std::pmr::memory_resource's allocate/deallocate.
template <class R>
concept byte_resource = requires(R& r, void* p, std::size_t n) {
  { r.allocate(n, n) } -> std::same_as<void*>;
  r.deallocate(p, n, n);
};

template <class T, byte_resource Resource = std::pmr::memory_resource>
class stl_allocator {
 public:
  using value_type = T;
  using resource_type = Resource;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;

  // Implicit, so a container can be built from `&resource`.
  stl_allocator(Resource* r) noexcept : r_(r) {  // NOLINT(google-explicit-constructor)
    TESSERA_ASSERT(r != nullptr, "stl_allocator needs a resource");
  }
  template <class U>
  stl_allocator(const stl_allocator<U, Resource>& other) noexcept : r_(other.resource()) {}

  // Throws std::bad_array_new_length when n objects of T do not fit in a size_t.
  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(r_->allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { r_->deallocate(p, n * sizeof(T), alignof(T)); }

  [[nodiscard]] Resource* resource() const noexcept { return r_; }

  template <class U>
  friend bool operator==(const stl_allocator& a, const stl_allocator<U, Resource>& b) noexcept {
    return a.resource() == b.resource();
  }

 private:
  Resource* r_;
};

}  // namespace tessera
