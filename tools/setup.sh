#!/bin/sh
# Installs everything t2g needs to build and run on Debian 12 (bookworm), from Debian's own
# packages only. Idempotent: run it again and it changes nothing. Needs root (or sudo).
#   tools/setup.sh            build + run dependencies
#   tools/setup.sh --chromium also the headless browser used by the report check
set -eu

packages="cmake build-essential pkg-config
  libvulkan-dev libvulkan-volk-dev
  glslc glslang-tools spirv-tools libshaderc-dev
  libcjson-dev
  mesa-vulkan-drivers vulkan-validationlayers vulkan-tools"

if [ "${1:-}" = "--chromium" ]; then
  packages="$packages chromium"
fi

as_root=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then as_root="sudo"; else
    echo "setup.sh: run as root (or install sudo): it installs Debian packages" >&2
    exit 1
  fi
fi

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "setup.sh: all packages already installed"
  exit 0
fi
echo "setup.sh: installing:$missing"
$as_root apt-get update
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y --no-install-recommends $missing
