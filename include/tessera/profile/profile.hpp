// tessera/profile: zones, counter tracks and async spans captured by sessions into bounded
// per-thread buffers; counters, gauges and histograms in one registry; exporters to Chrome
// trace JSON, Prometheus text, summary tables and a bottleneck report; a process sampler.
// Modules that only publish metrics include tessera/profile/hooks.hpp instead.
#pragma once

#include "tessera/profile/clock.hpp"
#include "tessera/profile/export.hpp"
#include "tessera/profile/hooks.hpp"
#include "tessera/profile/metrics.hpp"
#include "tessera/profile/sampler.hpp"
#include "tessera/profile/session.hpp"
#include "tessera/profile/zone.hpp"
