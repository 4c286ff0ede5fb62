#!/bin/sh
# A second CPU driver for portability and speed checks: lavapipe of Mesa 25.0.7 (Vulkan 1.4) from
# Debian's bookworm-backports, unpacked into t2g's cache folder beside the system's lavapipe (never
# installed; apt reads the suite through a private sources list, the system's stay untouched). An
# explicit set-up step: the build and the tests never run it. Idempotent. Prints the lines to use:
#   tools/mesa_backports.sh            # then run t2g with the two variables it prints
# The package's other dependencies are Debian 12's own: the script checks with ldd -r that every
# symbol of libvulkan_lvp.so resolves against the system's libraries (libLLVM-15 included).
set -eu
version=25.0.7-2~bpo12+1
suite="deb http://deb.debian.org/debian bookworm-backports main"

die() { echo "mesa_backports.sh: $*" >&2; exit 1; }

# The cache folder as src/core/cache_dir.c finds it.
if [ -n "${T2G_CACHE_DIR:-}" ]; then cache=$T2G_CACHE_DIR
elif [ -n "${XDG_CACHE_HOME:-}" ]; then cache=$XDG_CACHE_HOME/t2g
elif [ -n "${HOME:-}" ]; then cache=$HOME/.cache/t2g
else die "no cache folder: set T2G_CACHE_DIR, XDG_CACHE_HOME or HOME"; fi
dest=$cache/mesa-25.0.7
icd=$dest/lvp_icd.json

if [ "$(cat "$dest/VERSION" 2>/dev/null)" != "$version" ] || [ ! -f "$icd" ]; then
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
        die "needs apt-get and dpkg-deb (Debian 12)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/deb"
    echo "$suite" > "$work/sources.list"
    apt_private() {
        "$@" -q -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=- \
            -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" \
            -o APT::Sandbox::User="$(id -un)"
    }
    apt_private apt-get update >"$work/log" 2>&1 || { cat "$work/log" >&2; die "apt-get update of '$suite' failed"; }
    grep -q '^[WE]:' "$work/log" && { cat "$work/log" >&2; die "apt-get could not read '$suite'"; }
    (cd "$work/deb" && apt_private apt-get download "mesa-vulkan-drivers=$version") >"$work/log" 2>&1 ||
        { cat "$work/log" >&2; die "could not download mesa-vulkan-drivers=$version from '$suite'"; }
    deb=$(ls "$work"/deb/mesa-vulkan-drivers_*.deb)
    [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || die "$deb is not version $version"

    rm -rf "$dest.partial" "$dest"
    mkdir -p "$dest.partial"
    dpkg-deb -x "$deb" "$dest.partial"
    lib=$(find "$dest.partial" -name libvulkan_lvp.so | head -n 1)
    [ -n "$lib" ] || die "$deb holds no libvulkan_lvp.so"
    missing=$(ldd -r "$lib" 2>&1 | grep -E 'not found|undefined symbol' || true)
    [ -z "$missing" ] || die "libvulkan_lvp.so needs what Debian 12 lacks:
$missing"
    mv "$dest.partial" "$dest"
    lib=$dest${lib#"$dest.partial"}
    printf '{\n    "ICD": {\n        "api_version": "%s",\n        "library_path": "%s"\n    },\n    "file_format_version": "1.0.0"\n}\n' \
        "$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$dest/usr/share/vulkan/icd.d/lvp_icd.json")" \
        "$lib" > "$icd"
    echo "$version" > "$dest/VERSION"
fi

echo "export VK_DRIVER_FILES=$icd"
echo "export VK_ICD_FILENAMES=$icd"
