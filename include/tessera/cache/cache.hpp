// tessera/cache: concurrent caches with pluggable eviction (lru, fifo, clock, sieve, s3fifo,
// s3fifo_sieve (default), w_tinylfu, arc), single-flight loading, expiry, tags, budget accounting,
// tiers (memory, compressed, disk) and memoize. Include this face header; start with
// concurrent_cache.hpp. The compressed and disk tiers need the compiled library (tessera::tessera).
#pragma once

#include "tessera/cache/codec.hpp"
#include "tessera/cache/compression.hpp"
#include "tessera/cache/concurrent_cache.hpp"
#include "tessera/cache/disk_store.hpp"
#include "tessera/cache/eviction.hpp"
#include "tessera/cache/memoize.hpp"
#include "tessera/cache/options.hpp"
#include "tessera/cache/policies.hpp"
#include "tessera/cache/tiered_cache.hpp"
#include "tessera/cache/trace_reader.hpp"
