// The byte store under disk_tier: a directory of append-only segment files, each record
// {header, key, value} with a CRC-32C, and an in-memory index from the key's 64-bit hash to the
// newest record. File names are segment numbers (keys are hashed, never used as paths); files
// are created 0600; the oldest segment is deleted when the store outgrows its capacity.
// A corrupt, truncated or mismatched record is a miss and is counted, never returned. Reopening
// after a crash (kill -9 while writing) rebuilds the index and loses at most the records that
// were being written. One process at a time: the directory is locked with flock().
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::caching {

struct disk_options {
  std::filesystem::path directory;  // created (0700) when missing
  std::uint64_t capacity_bytes = std::uint64_t{1} << 30;
  std::uint64_t segment_bytes = std::uint64_t{64} << 20;
  bool fsync = false;  // fsync each append: survives power loss, not only process death
};

struct disk_stats {
  std::uint64_t hits = 0, misses = 0;
  std::uint64_t corrupt = 0;  // records that failed their checksum or were cut short
  std::uint64_t writes = 0, erased_segments = 0;
  std::uint64_t records = 0, bytes = 0, segments = 0;  // now
  std::uint64_t read_ns = 0, write_ns = 0;             // total time in get() / put()
};

class disk_store {
 public:
  // Opens (recovering the index from the segments) or creates the store. Throws tessera::error
  // naming the directory when it cannot be created, read or locked.
  explicit disk_store(disk_options opts);
  ~disk_store();
  disk_store(const disk_store&) = delete;
  disk_store& operator=(const disk_store&) = delete;

  void put(std::uint64_t hash, std::string_view key, std::string_view value);
  [[nodiscard]] std::optional<std::string> get(std::uint64_t hash, std::string_view key);
  bool erase(std::uint64_t hash, std::string_view key);
  void clear();

  [[nodiscard]] disk_stats stats() const;
  [[nodiscard]] const disk_options& options() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace tessera::caching
