// Upstream policies: where tessera's pools and arenas get their chunks. Pick one with
// `memory::upstream<Source>` in a pool's policy list; the default is mimalloc when tessera was
// built with it, otherwise the global operator new.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory_resource>
#include <new>

#include "tessera/core/assert.hpp"
#include "tessera/core/policy.hpp"

#if defined(TESSERA_HAS_MIMALLOC)
#include <mimalloc.h>
#endif

namespace tessera::memory {

struct upstream_tag {};

// Global operator new/delete (aligned overloads), so a replaced operator new is honoured.
struct new_delete {
  static void* allocate(std::size_t bytes, std::size_t align) {
    return ::operator new(bytes, std::align_val_t(align));
  }
  static void deallocate(void* p, std::size_t bytes, std::size_t align) noexcept {
    (void)bytes;  // sized delete needs -fsized-deallocation under clang
    ::operator delete(p, std::align_val_t(align));
  }
};

// std::malloc/std::free (std::aligned_alloc beyond max_align_t). Whatever malloc the process
// links: with Debian's libmimalloc.so linked, that is mimalloc too.
struct malloc_free {
  static void* allocate(std::size_t bytes, std::size_t align) {
    void* p = align <= alignof(std::max_align_t)
                  ? std::malloc(bytes)
                  : std::aligned_alloc(align, (bytes + align - 1) / align * align);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  static void deallocate(void* p, std::size_t, std::size_t) noexcept { std::free(p); }
};

#if defined(TESSERA_HAS_MIMALLOC)
// mimalloc's own entry points (mi_malloc_aligned / mi_free), whatever `malloc` resolves to.
struct mimalloc {
  static void* allocate(std::size_t bytes, std::size_t align) {
    void* p = mi_malloc_aligned(bytes, align);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  static void deallocate(void* p, std::size_t, std::size_t) noexcept { mi_free(p); }
};
#endif

// Any std::pmr::memory_resource chosen at run time: the pool's options carry the pointer
// (`.upstream = &my_resource`; std::pmr::get_default_resource() when left null).
class resource {
 public:
  explicit resource(std::pmr::memory_resource* r = nullptr) noexcept
      : r_(r != nullptr ? r : std::pmr::get_default_resource()) {}
  void* allocate(std::size_t bytes, std::size_t align) { return r_->allocate(bytes, align); }
  void deallocate(void* p, std::size_t bytes, std::size_t align) noexcept {
    r_->deallocate(p, bytes, align);
  }
  [[nodiscard]] std::pmr::memory_resource* get() const noexcept { return r_; }

 private:
  std::pmr::memory_resource* r_;
};

// An upstream source: allocate(bytes, align) that throws std::bad_alloc on failure, and a
// noexcept deallocate(p, bytes, align) given the same bytes and align.
template <class S>
concept upstream_source = requires(S s, void* p, std::size_t n) {
  { s.allocate(n, n) } -> std::same_as<void*>;
  s.deallocate(p, n, n);
};

template <upstream_source Source>
struct upstream {
  using policy_category = upstream_tag;
  using source = Source;
};

#if defined(TESSERA_HAS_MIMALLOC)
using default_upstream = upstream<mimalloc>;
#else
using default_upstream = upstream<new_delete>;
#endif

namespace detail {

// Builds a source: the run-time `resource` takes the options' pointer, the others ignore it.
template <class Source>
Source make_source(std::pmr::memory_resource* r) {
  if constexpr (std::is_constructible_v<Source, std::pmr::memory_resource*>) {
    return Source(r);
  } else {
    TESSERA_ASSERT(r == nullptr,
                   "options.upstream is only read with memory::upstream<memory::resource>; add "
                   "that policy or leave the option null");
    return Source();
  }
}

}  // namespace detail
}  // namespace tessera::memory
