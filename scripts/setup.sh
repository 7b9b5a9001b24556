#!/usr/bin/env bash
# Installs the Debian packages Shifan builds and tests with, only when one is
# missing (idempotent). Run as root on Debian bookworm; other users get sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev libczmq-dev libsodium-dev
  liblmdb-dev lmdb-utils
  libprotobuf-c-dev protobuf-c-compiler
  libjansson-dev libcsv-dev libcmocka-dev
  libxlsxwriter-dev libzip-dev libxml2-dev python3-openpyxl
  jq iproute2 procps python3
  clang libclang-rt-14-dev
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
