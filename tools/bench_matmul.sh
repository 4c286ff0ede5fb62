#!/bin/sh
# t2g's f32 matmul beside numpy's float32 a @ b (OpenBLAS, all cores) at square N^3 sizes, in one
# run: prints one JSON object with both GFLOP/s and the ratio t2g / OpenBLAS per size. Needs the
# oracle's venv (tools/setup.sh --oracle).
#   tools/bench_matmul.sh [--sizes 512,1024,2048] [--repeat N] [--tiles auto,NAME...] [--t2g PATH]
# --t2g defaults to build/t2g of this repository. See tools/bench_matmul.py.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
oracle_caller=bench_matmul.sh
. "$root/tests/oracle/oracle_python.sh"
for arg in "$@"; do [ "$arg" = --t2g ] && exec "$python" "$root/tools/bench_matmul.py" "$@"; done
exec "$python" "$root/tools/bench_matmul.py" --t2g "$root/build/t2g" "$@"
