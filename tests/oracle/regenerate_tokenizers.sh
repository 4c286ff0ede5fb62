#!/bin/sh
# Remakes the golden tokenizers and their expected encodings with the oracle's tokenizers library
# (tools/setup.sh --oracle) and compares them with tests/golden/tokenizers/ byte for byte.
#   tests/oracle/regenerate_tokenizers.sh [SOURCE_DIR]      (SOURCE_DIR: the repository root; default: here)
# To update the committed files after a deliberate change, run make_tokenizers.py into tests/golden/tokenizers.
exec sh "$(dirname "$0")/regenerate_golden.sh" make_tokenizers.py tokenizers "$@"
