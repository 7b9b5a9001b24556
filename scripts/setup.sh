#!/usr/bin/env bash
# Installs the Debian packages Shifan builds and tests with, only when one is
# missing (idempotent). Run as root on Debian bookworm (no sudo needed);
# another user needs sudo for apt-get.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  dpkg-dev # dpkg-shlibdeps: the .deb's Depends (cpack -G DEB, tests/e2e/test_deb.sh)
  libzmq3-dev libczmq-dev libsodium-dev
  liblmdb-dev lmdb-utils
  libprotobuf-c-dev protobuf-c-compiler
  libjansson-dev libcsv-dev libcmocka-dev
  libxlsxwriter-dev libzip-dev libxml2-dev python3-openpyxl
  jq iproute2 procps python3 curl
  clang libclang-rt-14-dev
  libmicrohttpd-dev
  chromium nodejs fonts-noto-cjk
)
# The browser tests (tests/browser) drive Debian's chromium with playwright-core
# from npm. A nodejs that ships its own npm (NodeSource's) conflicts with
# Debian's npm package, so npm is asked for only when the command is missing.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$pkg")
done

# playwright-core, pinned by tests/browser/package-lock.json (no browser download).
browser_modules() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
  [ -d "$dir/node_modules" ] && return 0
  echo "setup: npm ci in tests/browser"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  browser_modules
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
        { echo "setup: missing ${missing[*]}; run this as root (no sudo here)" >&2; exit 1; }
    sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
browser_modules
