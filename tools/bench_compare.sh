#!/bin/sh
# t2g beside PyTorch on the same device in one run: `t2g bench train` (and `bench rollout` with
# --rollout) then tools/bench_torch.py with the same options; prints one JSON object with both
# results and the ratios t2g / PyTorch (exit 1 when the models differ in shape). Needs the
# oracle's venv (tools/setup.sh --oracle).
#   tools/bench_compare.sh [--preset P] [--batch B] [--context N] [--steps N] [--warmup N]
#                          [--rollout [--prompts N] [--new N] [--prompt-tokens N]] [--dtype f32|bf16]
#                          [--torch-threads N]
#                          [--t2g PATH]
# --t2g defaults to build/t2g of this repository. See tools/bench_compare.py.
set -eu
oracle_caller=bench_compare.sh
. "$(dirname "$0")/../tests/oracle/oracle_python.sh"
exec "$python" "$(dirname "$0")/bench_compare.py" "$@"
