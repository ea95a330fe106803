// cachesim: replays a request trace through tessera::cache (the real class, one shard so the
// policy sees the whole trace) and prints the miss ratio of each policy. Use it to pick a
// policy for a workload or to compare tessera's policies with libCacheSim's numbers.
//
//   cachesim --trace FILE --format {oracle_general,txt,csv} --policy NAME|default|all
//            --capacity N[,N...] [--json]
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/cache/concurrent_cache.hpp"
#include "tessera/cache/trace_reader.hpp"
#include "tessera/core/error.hpp"

namespace {

namespace caching = tessera::caching;

struct result {
  std::string_view policy;
  std::size_t capacity;
  std::uint64_t requests, misses;
};

template <class Policy>
result replay(const std::vector<std::uint64_t>& trace, std::size_t capacity) {
  tessera::cache<std::uint64_t, std::uint32_t, Policy, caching::shards<1>, caching::no_stats> c{
      {.capacity = capacity}};
  std::uint64_t misses = 0;
  for (const auto id : trace) {
    if (!c.get(id)) {
      ++misses;
      c.put(id, 0);
    }
  }
  return {Policy::name, capacity, trace.size(), misses};
}

template <class... P>
bool run_named(caching::eviction_list<P...>, std::string_view name,
               const std::vector<std::uint64_t>& trace, std::size_t capacity,
               std::vector<result>& out) {
  bool found = false;
  ((name == "all" || name == P::name ? (out.push_back(replay<P>(trace, capacity)), found = true)
                                     : false),
   ...);
  return found;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(ch));
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

void print(const result& r, const std::string& trace, bool json) {
  const double ratio =
      r.requests == 0 ? 0.0 : static_cast<double>(r.misses) / static_cast<double>(r.requests);
  if (json) {
    std::printf(
        "{\"trace\": \"%s\", \"policy\": \"%.*s\", \"capacity\": %zu, \"requests\": %llu, "
        "\"misses\": %llu, \"miss_ratio\": %.6f}\n",
        json_escape(trace).c_str(), static_cast<int>(r.policy.size()), r.policy.data(), r.capacity,
        static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.misses),
        ratio);
  } else {
    std::printf("%-10.*s capacity %-8zu requests %-9llu misses %-9llu miss ratio %.4f\n",
                static_cast<int>(r.policy.size()), r.policy.data(), r.capacity,
                static_cast<unsigned long long>(r.requests),
                static_cast<unsigned long long>(r.misses), ratio);
  }
}

int usage(const char* why) {
  std::fprintf(stderr,
               "cachesim: %s\nusage: cachesim --trace FILE --format {oracle_general,txt,csv} "
               "--policy NAME|default|all --capacity N[,N...] [--json]\n"
               "policies: lru fifo clock sieve s3fifo s3fifo_sieve w_tinylfu arc (default: %.*s)\n",
               why, static_cast<int>(caching::default_eviction::name.size()),
               caching::default_eviction::name.data());
  return 2;
}

std::vector<std::size_t> parse_capacities(const std::string& s) {
  std::vector<std::size_t> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const auto comma = s.find(',', pos);
    const std::string part =
        s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    const unsigned long long v = std::strtoull(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v == 0) {
      throw tessera::error("option --capacity '" + s + "'", "expects positive entry counts");
    }
    out.push_back(static_cast<std::size_t>(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string trace, format = "txt", policy = "default", capacity;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--json") {
      json = true;
    } else if (a == "--trace" && (v = value())) {
      trace = v;
    } else if (a == "--format" && (v = value())) {
      format = v;
    } else if (a == "--policy" && (v = value())) {
      policy = v;
    } else if (a == "--capacity" && (v = value())) {
      capacity = v;
    } else if (a == "--help" || a == "-h") {
      usage("replays a cache trace");
      return 0;
    } else {
      return usage(("unknown or incomplete option '" + std::string(a) + "'").c_str());
    }
  }
  if (trace.empty() || capacity.empty()) return usage("--trace and --capacity are required");
  try {
    const auto fmt = caching::parse_trace_format(format);
    const auto caps = parse_capacities(capacity);
    const auto ids = caching::read_trace(trace, fmt);
    const std::string name =
        policy == "default" ? std::string(caching::default_eviction::name) : policy;
    for (const auto cap : caps) {
      std::vector<result> results;
      if (!run_named(caching::all_evictions{}, name, ids, cap, results)) {
        return usage(("unknown policy '" + policy + "'").c_str());
      }
      for (const auto& r : results) print(r, trace, json);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cachesim: %s\n", e.what());
    return 1;
  }
  return 0;
}
