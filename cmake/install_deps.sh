#!/usr/bin/env bash
# Installs what tessera needs from Debian's packages, and nothing when all is there.
# Non-interactive and idempotent; prints only when it installs something.
#   cmake/install_deps.sh            build, test and benchmark dependencies
#   cmake/install_deps.sh --ci       also what CI needs (clang's sanitizer runtime, promtool)
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache pkgconf
  libboost-dev xtl-dev libxsimd-dev libmimalloc-dev libtbb-dev
  catch2 libbenchmark-dev libomp-dev
  libzstd-dev liblz4-dev
  python3 python3-matplotlib
)
if [[ "${1:-}" == "--ci" ]]; then
  packages+=(clang-14 clang-format libclang-rt-14-dev prometheus)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "tessera: installing missing packages: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists once if they are missing or a day old.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]]; then
  $sudo apt-get update -qq >/dev/null
fi
log=$(mktemp)
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "tessera: apt-get install failed for: ${missing[*]}" >&2
  exit 1
fi
rm -f "$log"
echo "tessera: installed ${#missing[@]} package(s)"
