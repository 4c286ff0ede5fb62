#!/bin/sh
# Remakes the golden tokenizers and their expected encodings with the oracle's tokenizers library
# (tools/setup.sh --oracle) in a temporary folder and compares them with tests/golden/tokenizers/
# byte for byte (README.md there is not remade). Exit 1 on a difference, naming the files.
#   tests/oracle/regenerate_tokenizers.sh [SOURCE_DIR]      (SOURCE_DIR: the repository root; default: here)
# To update the committed files after a deliberate change, run make_tokenizers.py into tests/golden/tokenizers.
set -eu
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
oracle_caller=regenerate_tokenizers.sh
. "$root/tests/oracle/oracle_python.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" "$root/tests/oracle/make_tokenizers.py" "$work"
cp "$root/tests/golden/tokenizers/README.md" "$work/README.md"
if ! diff -rq "$work" "$root/tests/golden/tokenizers"; then
  echo "regenerate_tokenizers.sh: the remade files differ from tests/golden/tokenizers/" >&2
  exit 1
fi
echo "regenerate_tokenizers.sh: all files identical"
