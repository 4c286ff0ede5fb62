#!/bin/sh
# Remakes the golden GGUF files with the oracle's `gguf` package (tools/setup.sh --oracle) and
# compares them with tests/golden/gguf/ byte for byte.
#   tests/oracle/regenerate_gguf.sh [SOURCE_DIR]      (SOURCE_DIR: the repository root; default: here)
# To update the committed files after a deliberate change, run make_gguf_golden.py into tests/golden/gguf.
exec sh "$(dirname "$0")/regenerate_golden.sh" make_gguf_golden.py gguf "$@"
