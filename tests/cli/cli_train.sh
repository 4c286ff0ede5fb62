#!/bin/sh
# t2g train, --resume, sample and eval from the command line, and their bad input:
# an existing run folder, unknown or ill-typed keys, a malformed JSONL line, a truncated
# checkpoint, a prompt longer than the context. Each error must exit non-zero with a message
# naming the problem, and damage nothing.
#   usage: cli_train.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-train-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

cat > small.json <<'EOF'
{
  "name": "small",
  "model": {"context": 16, "layers": 1, "heads": 2, "width": 32},
  "data": {"task": "arith", "examples": 200},
  "optim": {"lr": 0.003},
  "schedule": {"warmup_steps": 2},
  "train": {"batch_size": 8, "micro_batch": 4, "steps": 6, "log_every": 2},
  "eval": {"every": 3, "examples": 8, "samples": 2, "max_new_tokens": 5},
  "checkpoint": {"every": 3}
}
EOF

out=$("$t2g" train --config small.json --out run1 2>&1); code=$?
check "train exits 0" '[ $code = 0 ]'
check "the run folder holds config, metrics, samples and a checkpoint" '[ -s run1/config.json ] && [ -s run1/metrics.jsonl ] && [ -s run1/samples.jsonl ] && [ -s run1/checkpoint.bin ]'
check "metrics.jsonl has one line per step, with loss, lr, grad norm, tokens/s and ms/step" '[ $(grep -c "\"step\":" run1/metrics.jsonl) = 6 ] && grep -q "\"loss\":.*\"lr\":.*\"grad_norm\":.*\"tokens_per_s\":.*\"ms_per_step\":" run1/metrics.jsonl'
check "evaluations at steps 3 and 6 are in the metrics" '[ $(grep -c "\"eval\":{\"exact_match\"" run1/metrics.jsonl) = 2 ]'
check "the effective config is written" 'grep -q "\"context\":[[:space:]]*16" run1/config.json && grep -q "\"steps\":[[:space:]]*6" run1/config.json'
check "progress is printed as plain lines when not on a terminal" 'printf "%s" "$out" | grep -q "^step 6/6 | loss "'
if command -v python3 >/dev/null 2>&1; then
  check "metrics.jsonl and samples.jsonl are JSON lines" 'python3 -c "import json,sys; [json.loads(l) for f in sys.argv[1:] for l in open(f)]" run1/metrics.jsonl run1/samples.jsonl'
fi

out=$("$t2g" train --config small.json --set train.micro_batch=8 --set train.logit_rows=64 --set train.steps=2 --set checkpoint.every=0 --set eval.every=0 --set eval.examples=0 --out pieces 2>&1); code=$?
check "train.logit_rows=64: the memory line says the 128 rows' logits come in pieces of 64, and the run trains" '[ $code = 0 ] && printf "%s" "$out" | grep -q "^memory: .*(8 x 16 tokens, logits in pieces of 64 rows)" && [ $(grep -c "\"loss\":" pieces/metrics.jsonl) = 2 ]'
out=$("$t2g" train --config small.json --set train.logit_rows=100 --out pieces2 2>&1); code=$?
check "train.logit_rows=100 exits 2 naming the key and a value that works" '[ $code = 2 ] && printf "%s" "$out" | grep -q "train.logit_rows (100) must be 0 (auto) or a multiple of 64: --set train.logit_rows=64" && [ ! -e pieces2 ]'

sum=$(cat run1/metrics.jsonl run1/checkpoint.bin | cksum)
out=$("$t2g" train --config small.json --out run1 2>&1); code=$?
check "an existing run folder is refused (exit 2)" '[ $code = 2 ] && printf "%s" "$out" | grep -q "already exists"'
check "... and left untouched" '[ "$(cat run1/metrics.jsonl run1/checkpoint.bin | cksum)" = "$sum" ]'

out=$("$t2g" train --config small.json --set optim.lrr=0.1 --out run2 2>&1); code=$?
check "an unknown key is an error naming it and the nearest key" '[ $code = 2 ] && printf "%s" "$out" | grep -q "optim.lrr" && printf "%s" "$out" | grep -q "optim.lr"'
out=$("$t2g" train --config small.json --set train.steps=many --out run2 2>&1); code=$?
check "an ill-typed value is an error naming the key" '[ $code = 2 ] && printf "%s" "$out" | grep -q "train.steps"'
printf '{"unknown_key": 1}\n' > typo.json
out=$("$t2g" train --config typo.json --out run2 2>&1); code=$?
check "an unknown key in a config file names the file" '[ $code = 2 ] && printf "%s" "$out" | grep -q "typo.json" && printf "%s" "$out" | grep -q "unknown_key"'
out=$("$t2g" train --config no-such-config --out run2 2>&1); code=$?
check "a missing config lists the built-in ones" '[ $code = 2 ] && printf "%s" "$out" | grep -q "train_arith.json"'
check "no run folder was made by the failed runs" '[ ! -e run2 ]'

printf '{"prompt": "a", "response": "b"}\n{"prompt": "a", "respons": "b"}\n' > bad.jsonl
out=$("$t2g" train --config small.json --set data.task= --set data.path=bad.jsonl --out run3 2>&1); code=$?
check "a malformed JSONL line is an error naming the file and line 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "bad.jsonl:2:"'

out=$("$t2g" train --resume run1 --set train.steps=9 2>&1); code=$?
check "--resume continues the run to step 9" '[ $code = 0 ] && [ $(grep -c "\"loss\":" run1/metrics.jsonl) = 9 ] && grep -q "{\"step\":9," run1/metrics.jsonl'

head -c 1000 run1/checkpoint.bin > truncated.bin
out=$("$t2g" sample --ckpt truncated.bin --prompt "1+2=" 2>&1); code=$?
check "a truncated checkpoint is refused (exit 2) and named" '[ $code = 2 ] && printf "%s" "$out" | grep -q "truncated.bin" && printf "%s" "$out" | grep -qi "truncated"'
out=$("$t2g" train --resume truncated.bin 2>&1); code=$?
check "--resume of a truncated checkpoint is refused" '[ $code = 2 ]'

one=$("$t2g" sample --ckpt run1/checkpoint.bin --prompt "12+3=" --prompt "7+8=" --seed 5 --max-new 4 2>&1); code=$?
two=$("$t2g" sample --ckpt run1/checkpoint.bin --prompt "12+3=" --prompt "7+8=" --seed 5 --max-new 4 2>&1)
check "sample prints one line per prompt" '[ $code = 0 ] && [ $(printf "%s\n" "$one" | grep -c "^12+3=\|^7+8=") = 2 ]'
check "the same seed gives the same samples" '[ "$one" = "$two" ]'
json=$("$t2g" sample --ckpt run1/checkpoint.bin --prompt "1+1=" --temperature 0 --json 2>/dev/null); code=$?
check "sample --json" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"response\":" && printf "%s" "$json" | grep -q "\"ended_with_eos\":"'
out=$("$t2g" sample --ckpt run1/checkpoint.bin --prompt "123456789012345678901234567890" 2>&1); code=$?
check "a prompt longer than the context is an error naming the context" '[ $code = 2 ] && printf "%s" "$out" | grep -q "context"'

out=$("$t2g" eval --ckpt run1/checkpoint.bin --task arith --n 8 2>&1); code=$?
check "eval prints the task's metrics" '[ $code = 0 ] && printf "%s" "$out" | grep -q "exact_match"'
first=$("$t2g" data arith --n 1 --seed 1 | sed 's/^{"prompt":"\([^"]*\)".*/\1/')
out=$("$t2g" eval --ckpt run1/checkpoint.bin --task arith --practised --n 3 2>&1); code=$?
check "eval --practised scores the run's training prompts (the first is the data stream's first)" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "3 practised examples" && printf "%s" "$out" | grep -q "e.g. $first -> "'
out=$("$t2g" eval --ckpt run1/checkpoint.bin --task arith --n 3 2>&1); code=$?
check "without it, eval scores held-out prompts, not the training stream's" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "3 held-out examples" && ! printf "%s" "$out" | grep -q "e.g. $first -> "'
out=$("$t2g" eval --ckpt run1/checkpoint.bin --task nosuch 2>&1); code=$?
check "eval of an unknown task exits 2 naming the tasks" '[ $code = 2 ] && printf "%s" "$out" | grep -q "arith"'

out=$("$t2g" train --help); code=$?
check "train --help lists the config keys" '[ $code = 0 ] && printf "%s" "$out" | grep -q "optim.lr" && printf "%s" "$out" | grep -q "train.micro_batch"'
for command in demo train sample eval data; do
  "$t2g" $command --help >/dev/null 2>&1; code=$?
  check "$command --help exits 0" '[ $code = 0 ]'
done

[ $fail = 0 ] && echo "cli_train: all passed"
exit $fail
