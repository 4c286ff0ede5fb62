#!/bin/sh
# Installs what t2g needs to build, test and run on Debian 12 (bookworm), from Debian's own
# packages only (python3 runs the example external critic, tools/example_critic.py). Idempotent: when everything is there it changes nothing (and needs no root).
#   tools/setup.sh             build, test and run dependencies
#   tools/setup.sh --chromium  also the headless browser that renders run reports
#   tools/setup.sh --ci        also clang with its sanitizer and libFuzzer runtimes, for the
#                              sanitizer build and the fuzzers that .ci/run adds
set -eu

packages="cmake build-essential pkg-config python3
  libvulkan-dev libvulkan-volk-dev
  glslc glslang-tools spirv-tools libshaderc-dev
  libcjson-dev
  mesa-vulkan-drivers vulkan-validationlayers vulkan-tools"

case "${1:-}" in
  "") ;;
  --chromium) packages="$packages chromium" ;;
  --ci) packages="$packages clang libclang-rt-dev" ;;
  *) echo "setup.sh: unknown option '$1' (the options are --chromium and --ci)" >&2; exit 2 ;;
esac

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "setup.sh: every package is installed"
  exit 0
fi

as_root=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
  else
    echo "setup.sh: these packages are missing:$missing" >&2
    echo "setup.sh: run as root (or install sudo) so that they can be installed" >&2
    exit 1
  fi
fi
echo "setup.sh: installing:$missing"
$as_root apt-get update
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
