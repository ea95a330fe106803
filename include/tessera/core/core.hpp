// tessera/core: the vocabulary every module shares. Includes nothing else of tessera.
#pragma once

#include "tessera/core/assert.hpp"
#include "tessera/core/build_info.hpp"
#include "tessera/core/cache_line.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/policy.hpp"
#include "tessera/core/priority.hpp"
#include "tessera/core/version.hpp"
