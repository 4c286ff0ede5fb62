#!/bin/sh
# Remakes the golden Hugging Face models and expected outputs with the oracle's transformers
# (tools/setup.sh --oracle) in a temporary folder and compares them with tests/golden/hf/:
# weights and configs byte for byte, expected float64 outputs within 1e-12. Exit 1 on a difference.
#   tests/oracle/regenerate.sh [SOURCE_DIR]      (SOURCE_DIR: the repository root; default: here)
# To update the committed files after a deliberate change, run make_models.py into tests/golden/hf.
set -eu
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
oracle_caller=regenerate.sh
. "$root/tests/oracle/oracle_python.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" "$root/tests/oracle/make_models.py" "$work"
"$python" "$root/tests/oracle/compare_golden.py" "$work" "$root/tests/golden/hf"
