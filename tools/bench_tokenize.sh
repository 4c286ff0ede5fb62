#!/bin/sh
# t2g's BPE tokenizer beside Hugging Face tokenizers (single thread) on the same tokenizer.json
# and text, in one run: prints one JSON object with both figures, the ratios, and whether the ids
# are identical (exit 1 when not). Needs the oracle's venv (tools/setup.sh --oracle).
#   tools/bench_tokenize.sh --tokenizer FILE [--text FILE | --mb N] [--repeat N] [--special] [--t2g PATH]
# --t2g defaults to build/t2g of this repository. See tools/bench_tokenize.py.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
oracle_caller=bench_tokenize.sh
. "$root/tests/oracle/oracle_python.sh"
for arg in "$@"; do [ "$arg" = --t2g ] && exec "$python" "$root/tools/bench_tokenize.py" "$@"; done
exec "$python" "$root/tools/bench_tokenize.py" --t2g "$root/build/t2g" "$@"
