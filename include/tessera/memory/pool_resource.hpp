// tessera::pool_resource: a std::pmr::memory_resource of size-class pools, for containers and
// code that allocate many small blocks of varied sizes. Requests up to `max_block` bytes come
// from per-class pools (thread-caching by default); larger ones go to the upstream (those up to
// 4 KiB rounded up to their class's size, as they take the same path as pooled ones).
//
//   tessera::pool_resource pool{{.name = "book"}};
//   std::pmr::map<int, order> orders{&pool};
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string_view>
#include <vector>

#include "tessera/memory/object_pool.hpp"

namespace tessera {

struct pool_resource_options {
  std::string_view name = "pool_resource";
  std::size_t max_block = 4096;  // largest pooled request (rounded up to a class; <= 65536)
  std::size_t max_bytes = 0;     // bound on bytes held from the upstream; 0: unbounded
  std::uint32_t batch = 0;       // blocks per refill/drain; 0: chosen per class
  std::pmr::memory_resource* upstream = nullptr;  // with memory::upstream<memory::resource>
  bool publish_metrics = true;
};

namespace memory::detail {

// Classes: 16..128 in steps of 16, then four per power of two (160, 192, 224, 256, 320, ...).
[[nodiscard]] constexpr std::uint32_t size_class(std::size_t n) noexcept {
  if (n <= 128) return n == 0 ? 0 : static_cast<std::uint32_t>((n - 1) / 16);
  const auto lg = static_cast<std::uint32_t>(std::bit_width(n - 1));  // n in (2^(lg-1), 2^lg]
  const std::size_t sub = (n - 1 - (std::size_t{1} << (lg - 1))) >> (lg - 3);
  return 8 + 4 * (lg - 8) + static_cast<std::uint32_t>(sub);
}

[[nodiscard]] constexpr std::size_t class_size(std::uint32_t c) noexcept {
  if (c < 8) return (c + 1) * 16;
  const std::uint32_t lg = (c - 8) / 4 + 8;
  return (std::size_t{1} << (lg - 1)) + ((c - 8) % 4 + 1) * (std::size_t{1} << (lg - 3));
}

inline constexpr std::size_t max_pooled_block = 65536;

// size_class() for requests up to 4 KiB in one table load (class sizes are multiples of 16,
// so the class only changes at multiples of 16): no branches on the size to mispredict.
inline constexpr std::size_t class_table_max = 4096;
inline constexpr auto class_table = [] {
  std::array<std::uint8_t, class_table_max / 16 + 1> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(size_class(i * 16));
  return t;
}();

[[nodiscard]] constexpr std::uint32_t fast_size_class(std::size_t n) noexcept {
  return n <= class_table_max ? class_table[(n + 15) >> 4] : size_class(n);
}

}  // namespace memory::detail

template <class... Policies>
class basic_pool_resource final : public std::pmr::memory_resource {
  static_assert(memory::pool_policies::accepts<Policies...>);
  using selection = memory::detail::pool_selection<Policies...>;
  using threading = typename selection::threading;
  using source = typename selection::source;
  using core_type = typename selection::template core_for<
      memory::detail::size_class(memory::detail::max_pooled_block) + 1>;
  static constexpr std::size_t chunk_align = 64;

 public:
  explicit basic_pool_resource(pool_resource_options opt = {})
      : max_block_(clamp_max(opt.max_block)),
        core_(config(opt, max_block_), memory::detail::make_source<source>(opt.upstream)) {
    if (opt.publish_metrics) publication_ = memory::detail::publish_core(core_, "memory");
  }

  basic_pool_resource(const basic_pool_resource&) = delete;
  basic_pool_resource& operator=(const basic_pool_resource&) = delete;

  // The same as through std::pmr::memory_resource, but direct: no virtual call when the
  // caller knows the type (stl_allocator<T, pool_resource>, code holding a pool_resource&).
  [[nodiscard]] void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    if (bytes <= memory::detail::class_table_max && align <= 16) [[likely]]
      return core_.allocate(memory::detail::class_table[(bytes + 15) >> 4]);
    return allocate_other(bytes, align);
  }
  void deallocate(void* p, std::size_t bytes,
                  std::size_t align = alignof(std::max_align_t)) noexcept {
    if (bytes <= memory::detail::class_table_max && align <= 16) [[likely]]
      return core_.deallocate(p, memory::detail::class_table[(bytes + 15) >> 4]);
    deallocate_other(p, bytes, align);
  }

  [[nodiscard]] std::size_t max_block() const noexcept { return max_block_; }
  [[nodiscard]] pool_stats stats() const { return core_.stats(); }
  std::size_t trim() noexcept { return core_.trim(); }
  [[nodiscard]] const std::string& name() const noexcept { return core_.name(); }

 protected:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    return allocate(bytes, align);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    deallocate(p, bytes, align);
  }
  [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

 private:
  static constexpr std::uint32_t no_class = UINT32_MAX;

  // Kept out of line so allocate/deallocate stay small enough to inline into callers.
  [[gnu::noinline]] void* allocate_other(std::size_t bytes, std::size_t align) {
    const std::uint32_t c = pick(bytes, align);
    if (c == no_class) return core_.allocate_large(bytes, align);
    return core_.allocate(c);
  }
  [[gnu::noinline]] void deallocate_other(void* p, std::size_t bytes, std::size_t align) noexcept {
    const std::uint32_t c = pick(bytes, align);
    if (c == no_class) return core_.deallocate_large(p, bytes, align);
    core_.deallocate(p, c);
  }

  static std::size_t clamp_max(std::size_t m) noexcept {
    if (m < 16) return 16;
    if (m > memory::detail::max_pooled_block) return memory::detail::max_pooled_block;
    return memory::detail::class_size(memory::detail::size_class(m));
  }
  // Classes up to `max` are pooled; those above it up to the table's end pass through to the
  // upstream, so the fast paths need not compare a request with `max`.
  static memory::detail::core_config config(const pool_resource_options& opt, std::size_t max) {
    const std::uint32_t pooled = memory::detail::size_class(max) + 1;
    const std::uint32_t named =
        std::max(pooled, memory::detail::size_class(memory::detail::class_table_max) + 1);
    memory::detail::core_config cfg{.name = std::string(opt.name),
                                    .sizes = {},
                                    .pooled = pooled,
                                    .align = chunk_align,
                                    .max_blocks = 0,
                                    .max_bytes = opt.max_bytes,
                                    .batch = opt.batch,
                                    .batch_bytes = 8192};
    for (std::uint32_t c = 0; c < named; ++c) {
      cfg.sizes.push_back(static_cast<std::uint32_t>(memory::detail::class_size(c)));
    }
    return cfg;
  }

  // The class serving (bytes, align), or no_class for the upstream. Chunks are 64-aligned and
  // a class's blocks sit at multiples of its size, so an over-aligned request fits a class
  // whose size is a multiple of the alignment.
  std::uint32_t pick(std::size_t bytes, std::size_t align) const noexcept {
    if (bytes > max_block_) return no_class;
    std::uint32_t c = memory::detail::fast_size_class(bytes);
    if (align <= 16) [[likely]]
      return c;
    if (align > chunk_align) return no_class;
    for (; memory::detail::class_size(c) <= max_block_; ++c) {
      if (memory::detail::class_size(c) % align == 0) return c;
    }
    return no_class;
  }

  std::size_t max_block_;
  core_type core_;
  profile::publication publication_;
};

// The common case: thread-caching size classes up to 4 KiB on the default upstream.
using pool_resource = basic_pool_resource<>;

}  // namespace tessera
