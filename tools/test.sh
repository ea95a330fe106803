#!/usr/bin/env bash
# Builds and runs tessera's whole test suite (the `dev` workflow preset: Debug build, unit tests,
# compile-failure tests, the consumer package tests), installing what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: hash paths relative to the checkout, so a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
bash cmake/install_deps.sh
cmake --workflow --preset dev
