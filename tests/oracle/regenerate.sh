#!/bin/sh
# Remakes the golden Hugging Face models and expected outputs with the oracle's transformers
# (tools/setup.sh --oracle) in a temporary folder and compares them with tests/golden/hf/:
# weights and configs byte for byte, expected float64 outputs within 1e-12. Exit 1 on a difference.
#   tests/oracle/regenerate.sh [SOURCE_DIR]      (SOURCE_DIR: the repository root; default: here)
# To update the committed files after a deliberate change, run make_models.py into tests/golden/hf.
set -eu
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
python=${T2G_ORACLE_VENV:-$HOME/.cache/t2g/oracle-venv}/bin/python
if [ ! -x "$python" ]; then
  echo "regenerate.sh: no oracle at $python; make it with tools/setup.sh --oracle" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" "$root/tests/oracle/make_models.py" "$work"
"$python" "$root/tests/oracle/compare_golden.py" "$work" "$root/tests/golden/hf"
