// disk_store: segment files, record checksums, crash recovery (see disk_store.hpp).
#include "tessera/cache/disk_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::caching {

namespace {

constexpr std::uint32_t kMagic = 0x31525354;  // "TSR1"
constexpr std::uint32_t kTombstone = 1;
constexpr std::size_t kHeader = 28;  // magic, flags, key_len, value_len, hash(8), crc
constexpr std::uint32_t kMaxField = 1U << 30;

// CRC-32C (Castagnoli), table driven.
const std::array<std::uint32_t, 256>& crc_table() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78U : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}
std::uint32_t crc32c(std::uint32_t crc, const char* p, std::size_t n) {
  const auto& t = crc_table();
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i)
    crc = t[(crc ^ static_cast<unsigned char>(p[i])) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

template <class T>
void put_le(char* p, T v) {
  std::memcpy(p, &v, sizeof v);  // x86-64 and AArch64 are little-endian
}
template <class T>
T get_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

struct header {
  std::uint32_t flags, key_len, value_len;
  std::uint64_t hash;
  std::uint32_t crc;
};

std::uint32_t record_crc(const char* hdr, std::string_view key, std::string_view value) {
  std::uint32_t c = crc32c(0, hdr + 4, 20);  // flags .. hash
  c = crc32c(c, key.data(), key.size());
  return crc32c(c, value.data(), value.size());
}

// Parses the header at `p` (at least kHeader bytes); false when it is not one.
bool parse_header(const char* p, header& h) {
  if (get_le<std::uint32_t>(p) != kMagic) return false;
  h.flags = get_le<std::uint32_t>(p + 4);
  h.key_len = get_le<std::uint32_t>(p + 8);
  h.value_len = get_le<std::uint32_t>(p + 12);
  h.hash = get_le<std::uint64_t>(p + 16);
  h.crc = get_le<std::uint32_t>(p + 24);
  return h.flags <= kTombstone && h.key_len <= kMaxField && h.value_len <= kMaxField;
}

std::string segment_name(std::uint32_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "segment-%08u.tsc", id);
  return buf;
}

[[noreturn]] void fail(const std::filesystem::path& p, const std::string& what) {
  throw error("cache directory '" + p.string() + "'",
              what + (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
}

}  // namespace

struct disk_store::impl {
  struct location {
    std::uint32_t segment;
    std::uint64_t offset;
    std::uint32_t length;
  };
  struct segment {
    int fd = -1;
    std::uint64_t size = 0;
  };

  disk_options opts;
  int dir_fd = -1;
  mutable std::shared_mutex mu;
  std::map<std::uint32_t, segment> segments;  // by id, oldest first
  std::unordered_map<std::uint64_t, location> index;
  std::uint64_t total = 0;
  std::atomic<std::uint64_t> hits{0}, misses{0}, corrupt{0}, writes{0}, erased{0}, read_ns{0},
      write_ns{0};

  std::filesystem::path path_of(std::uint32_t id) const {
    return opts.directory / segment_name(id);
  }

  int open_segment(std::uint32_t id, bool create) {
    const int fd = ::open(path_of(id).c_str(),
                          O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (fd < 0) fail(opts.directory, "cannot open " + segment_name(id));
    return fd;
  }

  // Rebuilds the index from one segment; a bad record ends the segment there (the last one is
  // truncated so that appends continue after the last good record).
  void recover(std::uint32_t id, bool last) {
    segment seg;
    seg.fd = open_segment(id, false);
    struct stat st {};
    if (::fstat(seg.fd, &st) != 0) fail(opts.directory, "cannot stat " + segment_name(id));
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < data.size()) {
      const auto n = ::pread(seg.fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    data.resize(got);
    std::size_t off = 0;
    while (off + kHeader <= data.size()) {
      header h{};
      if (!parse_header(data.data() + off, h)) break;
      const std::size_t len = kHeader + h.key_len + h.value_len;
      if (off + len > data.size()) break;
      const std::string_view key(data.data() + off + kHeader, h.key_len);
      const std::string_view value(data.data() + off + kHeader + h.key_len, h.value_len);
      if (record_crc(data.data() + off, key, value) != h.crc) {
        // Damaged inside: skip it when its length still leads to a record boundary (the next
        // magic or the end), otherwise the length itself may be damaged: stop here.
        const std::size_t next = off + len;
        if (next == data.size() || (next + kHeader <= data.size() &&
                                    get_le<std::uint32_t>(data.data() + next) == kMagic)) {
          corrupt.fetch_add(1, std::memory_order_relaxed);
          index.erase(h.hash);
          off = next;
          continue;
        }
        break;
      }
      if (h.flags & kTombstone) {
        index.erase(h.hash);
      } else {
        index[h.hash] = {id, off, static_cast<std::uint32_t>(len)};
      }
      off += len;
    }
    if (off < data.size()) {
      corrupt.fetch_add(1, std::memory_order_relaxed);
      if (last && ::ftruncate(seg.fd, static_cast<off_t>(off)) != 0) {
        fail(opts.directory, "cannot truncate the torn tail of " + segment_name(id));
      }
    }
    seg.size = last ? off : data.size();
    total += seg.size;
    segments.emplace(id, seg);
  }

  void open() {
    std::error_code ec;
    if (!std::filesystem::exists(opts.directory, ec)) {
      std::filesystem::create_directories(opts.directory, ec);
      if (ec) fail(opts.directory, "cannot be created (" + ec.message() + ")");
      std::filesystem::permissions(opts.directory, std::filesystem::perms::owner_all, ec);
    }
    dir_fd = ::open(opts.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) fail(opts.directory, "cannot be opened");
    if (::flock(dir_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(dir_fd);
      dir_fd = -1;
      fail(opts.directory, "is in use by another disk_store");
    }
    std::vector<std::uint32_t> ids;
    for (const auto& e : std::filesystem::directory_iterator(opts.directory, ec)) {
      const std::string name = e.path().filename().string();
      unsigned id = 0;
      char tail[8] = {};
      if (std::sscanf(name.c_str(), "segment-%8u.%3s", &id, tail) == 2 &&
          std::string_view(tail) == "tsc" && name == segment_name(id)) {
        ids.push_back(id);
      }
    }
    if (ec) fail(opts.directory, "cannot be listed (" + ec.message() + ")");
    std::sort(ids.begin(), ids.end());
    for (std::size_t i = 0; i < ids.size(); ++i) recover(ids[i], i + 1 == ids.size());
    if (segments.empty()) add_segment(1);
  }

  void add_segment(std::uint32_t id) { segments.emplace(id, segment{open_segment(id, true), 0}); }

  void drop_oldest() {
    auto it = segments.begin();
    const std::uint32_t id = it->first;
    std::erase_if(index, [id](const auto& kv) { return kv.second.segment == id; });
    ::close(it->second.fd);
    ::unlink(path_of(id).c_str());
    total -= it->second.size;
    segments.erase(it);
    erased.fetch_add(1, std::memory_order_relaxed);
  }

  // Under the exclusive lock.
  void append(std::uint64_t hash, std::string_view key, std::string_view value,
              std::uint32_t flags) {
    if (key.size() > kMaxField || value.size() > kMaxField) {
      throw error("disk cache record", "key or value larger than 1 GiB");
    }
    std::string rec(kHeader + key.size() + value.size(), '\0');
    put_le<std::uint32_t>(rec.data(), kMagic);
    put_le<std::uint32_t>(rec.data() + 4, flags);
    put_le<std::uint32_t>(rec.data() + 8, static_cast<std::uint32_t>(key.size()));
    put_le<std::uint32_t>(rec.data() + 12, static_cast<std::uint32_t>(value.size()));
    put_le<std::uint64_t>(rec.data() + 16, hash);
    // (An empty string_view may hold a null pointer, which memcpy must not see.)
    if (!key.empty()) std::memcpy(rec.data() + kHeader, key.data(), key.size());
    if (!value.empty()) std::memcpy(rec.data() + kHeader + key.size(), value.data(), value.size());
    put_le<std::uint32_t>(rec.data() + 24, record_crc(rec.data(), key, value));

    auto active = std::prev(segments.end());
    if (active->second.size != 0 && active->second.size + rec.size() > opts.segment_bytes) {
      add_segment(active->first + 1);
      active = std::prev(segments.end());
    }
    segment& seg = active->second;
    std::size_t done = 0;
    while (done < rec.size()) {
      const auto n = ::write(seg.fd, rec.data() + done, rec.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // Cut the partial record off so that the next append starts on a record boundary.
        if (::ftruncate(seg.fd, static_cast<off_t>(seg.size)) != 0) {
          // Recovery will stop at the torn record; nothing else to do here.
        }
        fail(opts.directory, "cannot append to " + segment_name(active->first));
      }
      done += static_cast<std::size_t>(n);
    }
    if (opts.fsync) ::fdatasync(seg.fd);
    if (flags & kTombstone) {
      index.erase(hash);
    } else {
      index[hash] = {active->first, seg.size, static_cast<std::uint32_t>(rec.size())};
    }
    seg.size += rec.size();
    total += rec.size();
    while (total > opts.capacity_bytes && segments.size() > 1) drop_oldest();
  }
};

disk_store::disk_store(disk_options opts) : p_(std::make_unique<impl>()) {
  p_->opts = std::move(opts);
  if (p_->opts.segment_bytes == 0 || p_->opts.capacity_bytes == 0) {
    throw error("disk_options", "segment_bytes and capacity_bytes must be positive");
  }
  try {
    p_->open();
  } catch (...) {
    for (auto& [id, seg] : p_->segments) ::close(seg.fd);
    if (p_->dir_fd >= 0) ::close(p_->dir_fd);
    throw;
  }
}

disk_store::~disk_store() {
  for (auto& [id, seg] : p_->segments) ::close(seg.fd);
  if (p_->dir_fd >= 0) ::close(p_->dir_fd);  // releases the flock
}

void disk_store::put(std::uint64_t hash, std::string_view key, std::string_view value) {
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::unique_lock lock(p_->mu);
    p_->append(hash, key, value, 0);
  }
  p_->writes.fetch_add(1, std::memory_order_relaxed);
  p_->write_ns.fetch_add(
      static_cast<std::uint64_t>((std::chrono::steady_clock::now() - t0).count()),
      std::memory_order_relaxed);
}

std::optional<std::string> disk_store::get(std::uint64_t hash, std::string_view key) {
  const auto t0 = std::chrono::steady_clock::now();
  auto done = [&](bool hit) {
    (hit ? p_->hits : p_->misses).fetch_add(1, std::memory_order_relaxed);
    p_->read_ns.fetch_add(
        static_cast<std::uint64_t>((std::chrono::steady_clock::now() - t0).count()),
        std::memory_order_relaxed);
  };
  impl::location loc{};
  std::string rec;
  bool ok = false;
  {
    std::shared_lock lock(p_->mu);
    auto it = p_->index.find(hash);
    if (it == p_->index.end()) {
      lock.unlock();
      done(false);
      return std::nullopt;
    }
    loc = it->second;
    rec.resize(loc.length);
    const int fd = p_->segments.at(loc.segment).fd;
    std::size_t got = 0;
    while (got < rec.size()) {
      const auto n =
          ::pread(fd, rec.data() + got, rec.size() - got, static_cast<off_t>(loc.offset + got));
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    header h{};
    if (got == rec.size() && parse_header(rec.data(), h) && h.hash == hash &&
        kHeader + h.key_len + h.value_len == rec.size()) {
      const std::string_view k(rec.data() + kHeader, h.key_len);
      const std::string_view v(rec.data() + kHeader + h.key_len, h.value_len);
      if (record_crc(rec.data(), k, v) == h.crc) {
        if (k != key) {  // another key with the same 64-bit hash: a plain miss
          lock.unlock();
          done(false);
          return std::nullopt;
        }
        ok = true;
      }
    }
  }
  if (!ok) {
    // Corrupt or truncated on disk: count it, forget it, report a miss.
    p_->corrupt.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock lock(p_->mu);
    auto it = p_->index.find(hash);
    if (it != p_->index.end() && it->second.segment == loc.segment &&
        it->second.offset == loc.offset) {
      p_->index.erase(it);
    }
    lock.unlock();
    done(false);
    return std::nullopt;
  }
  rec.erase(0, kHeader + key.size());
  done(true);
  return rec;
}

bool disk_store::erase(std::uint64_t hash, std::string_view key) {
  std::unique_lock lock(p_->mu);
  if (p_->index.find(hash) == p_->index.end()) return false;
  p_->append(hash, key, {}, kTombstone);
  return true;
}

void disk_store::clear() {
  std::unique_lock lock(p_->mu);
  const std::uint32_t next = std::prev(p_->segments.end())->first + 1;
  while (!p_->segments.empty()) p_->drop_oldest();
  p_->index.clear();
  p_->total = 0;
  p_->add_segment(next);
}

disk_stats disk_store::stats() const {
  disk_stats s;
  s.hits = p_->hits.load(std::memory_order_relaxed);
  s.misses = p_->misses.load(std::memory_order_relaxed);
  s.corrupt = p_->corrupt.load(std::memory_order_relaxed);
  s.writes = p_->writes.load(std::memory_order_relaxed);
  s.erased_segments = p_->erased.load(std::memory_order_relaxed);
  s.read_ns = p_->read_ns.load(std::memory_order_relaxed);
  s.write_ns = p_->write_ns.load(std::memory_order_relaxed);
  std::shared_lock lock(p_->mu);
  s.records = p_->index.size();
  s.bytes = p_->total;
  s.segments = p_->segments.size();
  return s;
}

const disk_options& disk_store::options() const noexcept {
  return p_->opts;
}

}  // namespace tessera::caching
