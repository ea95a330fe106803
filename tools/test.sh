#!/usr/bin/env bash
# Builds and runs tessera's whole test suite (the `dev` workflow preset: Debug build, unit tests,
# compile-failure tests, the consumer package tests), installing what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash cmake/install_deps.sh
cmake --workflow --preset dev
