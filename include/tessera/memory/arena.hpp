// tessera::arena: monotonic (bump) allocation for data that dies together - a request, a
// frame, a parse. deallocate() is a no-op; reset() or a nested arena::scope frees at once and
// keeps the chunks for reuse. One thread at a time. As a std::pmr::memory_resource it backs
// pmr containers; for objects freed one by one use object_pool or pool_resource instead.
//
//   tessera::arena a;
//   { tessera::arena::scope s(a); std::pmr::vector<int> tmp{&a}; ... }  // rewound here
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/assert.hpp"
#include "tessera/core/error.hpp"
#include "tessera/memory/detail/asan.hpp"
#include "tessera/memory/policies.hpp"
#include "tessera/profile/hooks.hpp"

namespace tessera {

struct arena_options {
  std::string_view name = "arena";
  std::size_t initial_bytes = 4096;  // first chunk; later chunks double up to 1 MiB
  std::size_t max_bytes = 0;         // bound on bytes held from the upstream; 0: unbounded
  std::pmr::memory_resource* upstream = nullptr;  // with memory::upstream<memory::resource>
  bool publish_metrics = true;
};

// Takes `memory::upstream<...>` and `memory::poison` / `memory::no_poison` (rewound memory is
// filled with 0xDD and, under ASan, poisoned).
template <class... Policies>
class basic_arena final : public std::pmr::memory_resource {
  static_assert(policy_list<memory::upstream_tag, memory::poison_tag>::accepts<Policies...>);
  using upstream = select_policy_t<memory::upstream_tag, memory::default_upstream, Policies...>;
  using source = typename upstream::source;
  static constexpr bool poisons =
      select_policy_t<memory::poison_tag, memory::default_poison, Policies...>::enabled;
  static constexpr std::size_t chunk_align = 64;
  static constexpr std::size_t max_chunk = std::size_t{1} << 20;

  struct chunk {
    std::byte* base;
    std::size_t bytes;
  };

 public:
  // A position in the arena; rewinding to it frees everything allocated after it.
  struct mark {
    std::size_t chunk = 0;
    std::size_t offset = 0;
  };

  // Frees what was allocated in its lifetime when it ends. Scopes nest (last in, first out).
  class scope {
   public:
    explicit scope(basic_arena& a) noexcept : arena_(a), mark_(a.position()) {}
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;
    ~scope() { arena_.rewind(mark_); }

   private:
    basic_arena& arena_;
    mark mark_;
  };

  explicit basic_arena(arena_options opt = {})
      : name_(opt.name),
        source_(memory::detail::make_source<source>(opt.upstream)),
        next_bytes_(std::max<std::size_t>(opt.initial_bytes, 64)),
        max_bytes_(opt.max_bytes) {
    if (opt.publish_metrics) {
      publication_ = profile::publish("memory", [this](profile::metric_sink& s) {
        s.gauge("tessera_memory_upstream_bytes", "bytes held from the upstream",
                static_cast<double>(upstream_bytes_), {{"pool", name_}});
      });
    }
  }
  basic_arena(const basic_arena&) = delete;
  basic_arena& operator=(const basic_arena&) = delete;
  ~basic_arena() override { release(); }

  // Direct (non-virtual) forms of the memory_resource calls, for callers that know the type.
  [[nodiscard]] void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    return do_allocate(bytes, align);
  }
  void deallocate(void*, std::size_t, std::size_t = alignof(std::max_align_t)) noexcept {}

  [[nodiscard]] mark position() const noexcept { return {current_, offset_}; }

  // Frees everything allocated after `m` (which must come from position() on this arena and
  // not be older than a mark already rewound past).
  void rewind(mark m) noexcept {
    TESSERA_ASSERT(
        m.chunk < current_ || (m.chunk == current_ && m.offset <= offset_) || chunks_.empty(),
        "arena::rewind to a mark that is ahead of the arena (scopes must nest)");
    if (chunks_.empty()) return;
    for (std::size_t c = m.chunk; c <= current_ && c < chunks_.size(); ++c) {
      const std::size_t from = c == m.chunk ? m.offset : 0;
      const std::size_t to = c == current_ ? offset_ : chunks_[c].bytes;
      scrub(chunks_[c].base + from, to - from);
    }
    current_ = m.chunk;
    offset_ = m.offset;
  }

  // Frees everything; keeps the chunks for reuse.
  void reset() noexcept { rewind({}); }

  // Frees everything and gives every chunk back to the upstream.
  void release() noexcept {
    for (const auto& c : chunks_) {
      memory::detail::asan_unpoison(c.base, c.bytes);
      source_.deallocate(c.base, c.bytes, chunk_align);
    }
    chunks_.clear();
    current_ = offset_ = 0;
    upstream_bytes_ = 0;
  }

  [[nodiscard]] std::size_t upstream_bytes() const noexcept { return upstream_bytes_; }
  // Bytes handed out since the start (or the last reset), alignment padding included.
  [[nodiscard]] std::size_t used_bytes() const noexcept {
    std::size_t n = offset_;
    for (std::size_t c = 0; c < current_ && c < chunks_.size(); ++c) n += chunks_[c].bytes;
    return n;
  }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 protected:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    if (!chunks_.empty()) {
      if (void* p = bump(chunks_[current_], bytes, align)) return p;
      // Later chunks survive a rewind: reuse one that fits before asking the upstream.
      while (current_ + 1 < chunks_.size()) {
        ++current_;
        offset_ = 0;
        if (void* p = bump(chunks_[current_], bytes, align)) return p;
      }
    }
    add_chunk(bytes, align);
    return bump(chunks_[current_], bytes, align);
  }
  void do_deallocate(void*, std::size_t, std::size_t) override {}
  [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

 private:
  void* bump(const chunk& c, std::size_t bytes, std::size_t align) noexcept {
    const auto base = reinterpret_cast<std::uintptr_t>(c.base);
    const std::uintptr_t at = (base + offset_ + align - 1) & ~(std::uintptr_t{align} - 1);
    const std::size_t start = static_cast<std::size_t>(at - base);
    if (start > c.bytes || c.bytes - start < bytes) return nullptr;
    offset_ = start + bytes;
    memory::detail::asan_unpoison(c.base + start, bytes);
    return c.base + start;
  }

  void add_chunk(std::size_t bytes, std::size_t align) {
    if (bytes > SIZE_MAX / 2 - align) throw out_of_memory(name_, bytes);
    std::size_t size = std::max(next_bytes_, bytes + align);
    if (max_bytes_ != 0 && upstream_bytes_ + size > max_bytes_) {
      size = bytes + align;
      if (upstream_bytes_ + size > max_bytes_) throw out_of_memory(name_, bytes);
    }
    chunks_.reserve(chunks_.size() + 1);
    std::byte* base;
    try {
      base = static_cast<std::byte*>(source_.allocate(size, chunk_align));
    } catch (const std::bad_alloc&) {
      throw out_of_memory(name_, size);
    }
    chunks_.push_back({base, size});
    current_ = chunks_.size() - 1;
    offset_ = 0;
    upstream_bytes_ += size;
    next_bytes_ = std::min(max_chunk, next_bytes_ * 2);
    scrub(base, size);
  }

  void scrub(std::byte* p, std::size_t n) noexcept {
    if constexpr (poisons) {
      memory::detail::asan_unpoison(p, n);
      std::memset(p, 0xDD, n);
      memory::detail::asan_poison(p, n);
    }
  }

  std::string name_;
  [[no_unique_address]] source source_;
  std::vector<chunk> chunks_;
  std::size_t current_ = 0;
  std::size_t offset_ = 0;
  std::size_t next_bytes_;
  std::size_t max_bytes_;
  std::size_t upstream_bytes_ = 0;
  profile::publication publication_;
};

using arena = basic_arena<>;

}  // namespace tessera
