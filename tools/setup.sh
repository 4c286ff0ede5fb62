#!/bin/sh
# Installs what t2g needs to build, test and run on Debian 12 (bookworm), from Debian's own
# packages only (python3 runs the example external critic, tools/example_critic.py). Idempotent: when everything is there it changes nothing (and needs no root).
#   tools/setup.sh             build, test and run dependencies
#   tools/setup.sh --chromium  also the headless browser that renders run reports
#   tools/setup.sh --ci        also clang with its sanitizer and libFuzzer runtimes, for the
#                              sanitizer build and the fuzzers that .ci/run adds
#   tools/setup.sh --oracle    also the oracle: a Python virtual environment at
#                              ${T2G_ORACLE_VENV:-$HOME/.cache/t2g/oracle-venv} with PyTorch (CPU
#                              build), transformers and safetensors at the versions pinned in
#                              tools/oracle-requirements.txt, from PyPI (torch from a local wheel in
#                              ${T2G_WHEELS:-/opt/wheels} if there is one, else PyTorch's CPU index).
#                              The tests labelled oracle run where it exists (tests/oracle/).
#   tools/setup.sh --llama-cpp also llama.cpp, to check t2g's GGUF exports against: a venv at
#                              ${T2G_LLAMA_CPP_VENV:-$HOME/.cache/t2g/llama-cpp-venv} with
#                              llama-cpp-python built from source (tools/llama-cpp-requirements.txt;
#                              about 10 minutes on 2 cores). Test model_llama_cpp runs where it exists.
#   tools/setup.sh --coopmat   also a glslangValidator that compiles GL_KHR_cooperative_matrix
#                              (Debian 12's glslang 12 cannot): glslang 15 built from Debian 13's
#                              source package (about 4 minutes on 2 cores) into
#                              ${T2G_GLSLANG_PREFIX:-$HOME/.cache/t2g/glslang15}. CMake finds it
#                              there and then builds the cooperative-matrix shaders (README.md).
# The options combine: tools/setup.sh --ci --oracle --llama-cpp --coopmat.
set -eu

packages="cmake build-essential pkg-config python3
  libvulkan-dev libvulkan-volk-dev
  glslc glslang-tools spirv-tools libshaderc-dev
  libcjson-dev libpcre2-dev libutf8proc-dev libcurl4-openssl-dev ca-certificates
  mesa-vulkan-drivers vulkan-validationlayers vulkan-tools"

oracle=""
llama_cpp=""
coopmat=""
for option in "$@"; do
  case "$option" in
    --chromium) packages="$packages chromium" ;;
    --ci) packages="$packages clang libclang-rt-dev" ;;
    --oracle) packages="$packages python3-venv"; oracle=yes ;;
    --llama-cpp) packages="$packages python3-venv"; llama_cpp=yes ;;
    --coopmat) packages="$packages debian-archive-keyring"; coopmat=yes ;;
    *) echo "setup.sh: unknown option '$option' (the options are --chromium, --ci, --oracle, --llama-cpp and --coopmat)" >&2
       exit 2 ;;
  esac
done

install_packages() {
  missing=""
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -z "$missing" ]; then
    echo "setup.sh: every package is installed"
    return
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
}

# The venv keeps a copy of the requirements it was made from: when it matches, nothing is done.
install_oracle() {
  venv=${T2G_ORACLE_VENV:-$HOME/.cache/t2g/oracle-venv}
  requirements=$(dirname "$0")/oracle-requirements.txt
  if cmp -s "$requirements" "$venv/t2g-oracle-requirements.txt"; then
    echo "setup.sh: the oracle is installed in $venv"
    return
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  torch=$(sed -n 's/^torch==//p' "$requirements")
  wheels=${T2G_WHEELS:-/opt/wheels}
  if ls "$wheels/torch-$torch-"*.whl >/dev/null 2>&1; then
    torch_source="--find-links $wheels"
  else
    torch_source="--extra-index-url https://download.pytorch.org/whl/cpu"
  fi
  echo "setup.sh: installing the oracle's packages into $venv"
  "$venv/bin/pip" install --quiet $torch_source -r "$requirements"
  cp "$requirements" "$venv/t2g-oracle-requirements.txt"
  echo "setup.sh: the oracle is installed in $venv"
}

# llama.cpp's Python binding, built from its source package with the CPU features every x86-64
# machine of the last decade has (not -march=native: a venv may move between machines).
install_llama_cpp() {
  venv=${T2G_LLAMA_CPP_VENV:-$HOME/.cache/t2g/llama-cpp-venv}
  requirements=$(dirname "$0")/llama-cpp-requirements.txt
  if cmp -s "$requirements" "$venv/t2g-llama-cpp-requirements.txt"; then
    echo "setup.sh: llama.cpp is installed in $venv"
    return
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  echo "setup.sh: building llama-cpp-python into $venv (about 10 minutes on 2 cores)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$venv/bin/pip" install --quiet -r "$requirements"
  cp "$requirements" "$venv/t2g-llama-cpp-requirements.txt"
  echo "setup.sh: llama.cpp is installed in $venv"
}

# glslang from the source package of Debian 13 (trixie), fetched with apt through a source list
# of its own (the system's lists are untouched), built without its optimizer, HLSL front end
# and tests, and installed into the prefix. The prefix keeps the name of the source it was built
# from: when that is there, nothing is done.
install_glslang() {
  prefix=${T2G_GLSLANG_PREFIX:-$HOME/.cache/t2g/glslang15}
  if [ -x "$prefix/bin/glslangValidator" ] && [ -f "$prefix/t2g-glslang-source" ]; then
    echo "setup.sh: glslang $(cat "$prefix/t2g-glslang-source") is installed in $prefix"
    return
  fi
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/lists/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    >"$scratch/sources.list"
  apt_options="-oDir::Etc::SourceList=$scratch/sources.list -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists=$scratch/lists"
  echo "setup.sh: fetching glslang's source from Debian 13 (trixie)"
  apt-get $apt_options update >"$scratch/apt.log" 2>&1 || { cat "$scratch/apt.log" >&2; exit 1; }
  (cd "$scratch" && apt-get $apt_options source --download-only glslang) >"$scratch/apt.log" 2>&1 ||
    { cat "$scratch/apt.log" >&2; exit 1; }
  tarball=$(ls "$scratch"/glslang_*.orig.tar.* | head -n 1)
  mkdir "$scratch/source"
  tar -C "$scratch/source" --strip-components=1 -xf "$tarball"
  echo "setup.sh: building $(basename "$tarball") into $prefix (about 4 minutes on 2 cores)"
  cmake -S "$scratch/source" -B "$scratch/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DENABLE_OPT=OFF -DENABLE_HLSL=OFF -DGLSLANG_TESTS=OFF -DBUILD_EXTERNAL=OFF >"$scratch/build.log" 2>&1 &&
    cmake --build "$scratch/build" -j"$(nproc)" >>"$scratch/build.log" 2>&1 &&
    cmake --install "$scratch/build" >>"$scratch/build.log" 2>&1 ||
    { tail -n 40 "$scratch/build.log" >&2; exit 1; }
  basename "$tarball" >"$prefix/t2g-glslang-source"
  rm -rf "$scratch"
  trap - EXIT
  echo "setup.sh: glslang is installed in $prefix ($("$prefix/bin/glslangValidator" --version | head -n 1))"
}

install_packages
[ -z "$oracle" ] || install_oracle
[ -z "$llama_cpp" ] || install_llama_cpp
[ -z "$coopmat" ] || install_glslang
