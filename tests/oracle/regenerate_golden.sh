#!/bin/sh
# Remakes one folder of golden files with one of the oracle's scripts (tools/setup.sh --oracle) in a
# temporary folder and compares it with tests/golden/FOLDER/ byte for byte (README.md there is not
# remade). Exit 1 on a difference, naming the files.
#   tests/oracle/regenerate_golden.sh SCRIPT FOLDER [SOURCE_DIR]
#   (SCRIPT: a make_*.py of tests/oracle taking the output folder; SOURCE_DIR: the repository root)
# To update the committed files after a deliberate change, run SCRIPT into tests/golden/FOLDER.
set -eu
script=$1
folder=$2
root=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
oracle_caller="regenerate_golden.sh $folder"
. "$root/tests/oracle/oracle_python.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" "$root/tests/oracle/$script" "$work"
cp "$root/tests/golden/$folder/README.md" "$work/README.md"
if ! diff -rq "$work" "$root/tests/golden/$folder"; then
  echo "regenerate_golden.sh: the remade files differ from tests/golden/$folder/" >&2
  exit 1
fi
echo "regenerate_golden.sh: tests/golden/$folder: all files identical"
