#!/bin/sh
# t2g export against transformers: three short runs (from the golden llama and qwen2 folders,
# and a gpt2 model t2g initialised) are exported, and transformers, loading each export in
# float64, must give the loss `t2g eval --data` gives for the run on the same rows
# (check_export_loss.py: within 1e-4 relative), its tokenizer t2g's ids.
#   usage: export_runs.sh T2G SOURCE_DIR      (T2G_ORACLE_VENV: the oracle's venv)
set -u
t2g=$1
root=$2
oracle_caller=export_runs.sh
. "$root/tests/oracle/oracle_python.sh"
fail=0
tmp=$(mktemp -d /tmp/t2g-oracle-export-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
"$t2g" data arith --n 6 --seed 11 > rows.jsonl
run="--set data.examples=16 --set eval.examples=0 --set train.steps=2 --set train.batch_size=4 --set train.micro_batch=4 --set schedule.warmup_steps=1"
"$t2g" train $run --set model.from="$root/tests/golden/hf/llama" --out llama >/dev/null 2>&1 || { echo "FAIL: training from llama"; exit 1; }
"$t2g" train $run --set model.from="$root/tests/golden/hf/qwen2" --out qwen2 >/dev/null 2>&1 || { echo "FAIL: training from qwen2"; exit 1; }
"$t2g" train $run --set model.arch=gpt2 --set model.context=32 --set model.layers=2 --set model.heads=2 --set model.width=16 \
  --out gpt2 >/dev/null 2>&1 || { echo "FAIL: training a gpt2"; exit 1; }
for name in llama qwen2 gpt2; do
  "$t2g" export $name --format hf --out $name-hf >/dev/null || { echo "FAIL: exporting $name"; fail=1; continue; }
  loss=$("$t2g" eval --ckpt $name --data rows.jsonl --json | "$python" -c 'import json,sys; print(repr(json.load(sys.stdin)["metrics"]["loss"]))')
  if "$python" "$root/tests/oracle/check_export_loss.py" $name-hf rows.jsonl "$loss"; then echo "ok: $name"
  else echo "FAIL: $name"; fail=1; fi
done
[ $fail = 0 ] && echo "export_runs: all passed"
exit $fail
