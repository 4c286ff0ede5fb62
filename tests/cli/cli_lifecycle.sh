#!/bin/sh
# What happens around a run: SIGINT, SIGTERM and SIGHUP stop it with the checkpoint of the last
# completed step and the report, and --resume continues it to the same bits as a run never
# stopped; one process per run folder; temporary files of interrupted writes are removed; lines
# past the checkpoint's step are dropped on resume; a full disk stops the run with exit 1;
# --resume takes only a run folder of its own kind; model.from starts a new run from a model; rl
# --resume refuses a changed rl.start and does not run a stored critic command unasked.
#   usage: cli_lifecycle.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
src=$2
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-lifecycle-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

cat > small.json <<'EOF'
{
  "name": "small",
  "model": {"context": 16, "layers": 1, "heads": 2, "width": 32},
  "data": {"task": "arith", "examples": 200},
  "schedule": {"warmup_steps": 2},
  "train": {"batch_size": 8, "micro_batch": 4, "steps": 120, "log_every": 50},
  "eval": {"examples": 0}
}
EOF
# The step of a checkpoint: the first key of its directory, "step": "<digits>" (format version 4).
ckpt_step() { head -c 4096 "$1" | grep -a -o -m1 '"step":[[:space:]]*"[0-9]*"' | head -n1 | sed 's/.*"\([0-9]*\)"$/\1/'; }
# Lines of metrics.jsonl with a "loss" (one per step) and the highest step.
steps_in() { grep -c '"loss":' "$1"; }
last_step() { tail -n 1 "$1" | sed 's/^{"step":\([0-9]*\),.*/\1/'; }
# Waits (at most about 120 s) until the file has at least $2 lines.
wait_lines() { i=0; while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done; }

# ---- an uninterrupted run: the bits an interrupted and resumed one must reach ----
"$t2g" train --config small.json --out whole --quiet >/dev/null 2>&1
check "an uninterrupted run of 120 steps" '[ "$(ckpt_step whole/checkpoint.bin)" = 120 ]'

# ---- SIGINT: checkpoint of the last completed step, report, exit 130, then --resume ----
"$t2g" train --config small.json --out run >out.txt 2>err.txt &
pid=$!
wait_lines run/metrics.jsonl 3
kill -INT $pid
wait $pid; code=$?
at=$(ckpt_step run/checkpoint.bin 2>/dev/null)
check "SIGINT: exit 130 with a message naming the signal and how to continue" \
  '[ $code = 130 ] && grep -q "stopped by SIGINT after step" err.txt && grep -q "t2g train --resume run" err.txt'
check "SIGINT: the checkpoint is of the last step in metrics.jsonl ($at), before the end" \
  '[ -n "$at" ] && [ "$at" -lt 120 ] && [ "$at" = "$(last_step run/metrics.jsonl)" ] && [ "$(steps_in run/metrics.jsonl)" = "$at" ]'
check "SIGINT: the report is written" '[ -s run/report.html ]'
echo partial > run/checkpoint.bin.tmp.99999
"$t2g" train --resume run >out.txt 2>err.txt; code=$?
check "--resume after SIGINT finishes the run" '[ $code = 0 ] && [ "$(ckpt_step run/checkpoint.bin)" = 120 ]'
check "every step is in metrics.jsonl once" '[ "$(steps_in run/metrics.jsonl)" = 120 ] && [ "$(grep -o "^{\"step\":[0-9]*," run/metrics.jsonl | sort | uniq -d | wc -l)" = 0 ]'
check "the interrupted and resumed run ends bit-identical to the uninterrupted one" 'cmp -s run/checkpoint.bin whole/checkpoint.bin'
check "a stale checkpoint.bin.tmp.* is removed, and said so" '[ ! -e run/checkpoint.bin.tmp.99999 ] && grep -q "checkpoint.bin.tmp.99999" err.txt'

# ---- SIGTERM and SIGHUP: 128 + the signal, checkpoint saved ----
for sig in TERM:15 HUP:1; do
  number=${sig#*:}
  sig=${sig%:*}
  "$t2g" train --config small.json --out "run$sig" >/dev/null 2>err.txt &
  pid=$!
  wait_lines "run$sig/metrics.jsonl" 2
  kill -$sig $pid
  wait $pid; code=$?
  want=$((128 + number))
  check "SIG$sig: exit $want, the checkpoint of the last completed step" \
    '[ $code = $want ] && grep -q "stopped by SIG$sig" err.txt && [ "$(ckpt_step run$sig/checkpoint.bin)" = "$(last_step run$sig/metrics.jsonl)" ]'
done

# ---- a second SIGINT while the first waits for a long evaluation: exit at once ----
"$t2g" train --config small.json --set eval.every=1 --set eval.examples=5000 --out twice >out.txt 2>err.txt &
pid=$!
i=0; while ! grep -q "^step 1/" out.txt 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5; kill -INT $pid; sleep 0.5; kill -INT $pid
wait $pid; code=$?
check "a second SIGINT exits at once (130), saying it saves nothing of that step" \
  '[ $code = 130 ] && grep -q "interrupted again: exiting now" err.txt && ! grep -q "its checkpoint is saved" err.txt'

# ---- one process per run folder ----
"$t2g" train --resume runTERM --set train.steps=100000 >/dev/null 2>&1 &
pid=$!
wait_lines runTERM/metrics.jsonl $(( $(steps_in runTERM/metrics.jsonl) + 2 ))
out=$("$t2g" train --resume runTERM 2>&1); code=$?
check "a second process on a running run is refused, naming the holder" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "in use by another t2g process (pid $pid)"'
kill -INT $pid
wait $pid; code=$?
check "the first process is unharmed and stops on SIGINT" '[ $code = 130 ]'

# ---- lines past an older checkpoint are dropped on resume ----
"$t2g" train --config small.json --set train.steps=3 --out old --quiet >/dev/null 2>&1
cp old/checkpoint.bin step3.bin
"$t2g" train --resume old --set train.steps=6 --quiet >/dev/null 2>&1
cp step3.bin old/checkpoint.bin
"$t2g" train --resume old --set train.steps=6 --quiet >/dev/null 2>err.txt; code=$?
check "resuming from an older checkpoint: steps 4-6 are in metrics.jsonl once each" \
  '[ $code = 0 ] && [ "$(steps_in old/metrics.jsonl)" = 6 ] && grep -q "dropped 3 lines past the checkpoint" err.txt'

# ---- a full disk: exit 1, a clear message, the checkpoint kept ----
if [ -w /dev/full ]; then
  rm old/metrics.jsonl && ln -s /dev/full old/metrics.jsonl
  out=$("$t2g" train --resume old --set train.steps=9 --quiet 2>&1); code=$?
  check "metrics.jsonl on a full disk: exit 1, the file and the cause named" \
    '[ $code = 1 ] && printf "%s" "$out" | grep -q "metrics.jsonl: No space left on device; the run stops"'
  rm old/metrics.jsonl
  out=$("$t2g" train --resume old --set train.steps=9 --quiet 2>&1); code=$?
  check "the run continues once there is room" '[ $code = 0 ] && [ "$(ckpt_step old/checkpoint.bin)" = 9 ]'
fi

# ---- --resume takes a run folder of its own kind; model.from starts from a model ----
out=$("$t2g" train --resume whole/checkpoint.bin 2>&1); code=$?
check "--resume of a checkpoint file is refused, pointing to model.from" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "not a run folder" && printf "%s" "$out" | grep -q "model.from"'
sum=$(cksum < whole/checkpoint.bin)
out=$("$t2g" train --config small.json --set model.from=whole --set train.steps=2 --out from --quiet 2>&1); code=$?
check "model.from (a run folder) starts a new run from that model, leaving it untouched" \
  '[ $code = 0 ] && [ "$(ckpt_step from/checkpoint.bin)" = 2 ] && [ "$(cksum < whole/checkpoint.bin)" = "$sum" ]'
first_from=$(head -n 1 from/metrics.jsonl | sed 's/.*"loss":\([0-9.]*\).*/\1/')
first_init=$(head -n 1 whole/metrics.jsonl | sed 's/.*"loss":\([0-9.]*\).*/\1/')
check "its first loss ($first_from) is the trained model's, below the initialised one's ($first_init)" \
  'awk "BEGIN { exit !($first_from < $first_init - 0.5) }"'
out=$("$t2g" train --config small.json --set model.from=nowhere --out from2 2>&1); code=$?
check "a missing model.from is an error naming the key and the path" '[ $code = 2 ] && printf "%s" "$out" | grep -q "model.from.*nowhere"'

common="--set rl.start=whole --set rl.prompts=4 --set rl.samples_per_prompt=2 --set rl.max_new_tokens=4 \
  --set train.micro_batch=4 --set train.batch_size=8 --set schedule.warmup_steps=0 --set eval.examples=0"
cp -r whole start
"$t2g" rl $common --set rl.start=start --set train.steps=2 --out rl1 --quiet >/dev/null 2>&1
out=$("$t2g" train --resume rl1 2>&1); code=$?
check "train --resume of an rl run is refused, naming both kinds" '[ $code = 2 ] && printf "%s" "$out" | grep -q "made by t2g rl, not t2g train"'
out=$("$t2g" rl --resume whole 2>&1); code=$?
check "rl --resume of a train run is refused, pointing to rl.start" '[ $code = 2 ] && printf "%s" "$out" | grep -q "made by t2g train, not t2g rl" && printf "%s" "$out" | grep -q "rl.start"'
cp from/checkpoint.bin start/checkpoint.bin
out=$("$t2g" rl --resume rl1 --set train.steps=3 2>&1); code=$?
check "rl --resume with a changed rl.start is refused, naming the CRCs" '[ $code = 2 ] && printf "%s" "$out" | grep -q "rl.start start.* is not the checkpoint this run started from"'
cp whole/checkpoint.bin start/checkpoint.bin
out=$("$t2g" rl --resume rl1 --set train.steps=3 2>&1); code=$?
check "with the original back, it continues" '[ $code = 0 ] && grep -q "{\"step\":3," rl1/metrics.jsonl'

if command -v python3 >/dev/null 2>&1; then
  critic="python3 $src/tools/example_critic.py"
  "$t2g" rl $common --set train.steps=1 --set critic.kind=external --set "critic.command=$critic" --out rl2 --quiet >/dev/null 2>&1
  out=$("$t2g" rl --resume rl2 --set train.steps=2 2>&1); code=$?
  check "rl --resume does not run the stored critic command unasked" \
    '[ $code = 2 ] && printf "%s" "$out" | grep -q "example_critic.py" && printf "%s" "$out" | grep -q "trust-critic"'
  out=$("$t2g" rl --resume rl2 --set train.steps=2 --trust-critic 2>&1); code=$?
  check "--trust-critic runs it" '[ $code = 0 ] && grep -q "{\"step\":2," rl2/metrics.jsonl'
  out=$("$t2g" rl --resume rl2 --set train.steps=3 --set "critic.command=$critic" 2>&1); code=$?
  check "--set critic.command=... runs the command given" '[ $code = 0 ] && grep -q "{\"step\":3," rl2/metrics.jsonl'

  # an rl step waiting on a stalled critic is abandoned on SIGINT: nothing of it applied
  "$t2g" rl $common --set train.steps=5 --set critic.kind=external --set "critic.command=sh $src/tests/critics/slow.sh all" \
    --set critic.timeout_ms=60000 --set critic.retries=0 --out rl3 >/dev/null 2>err.txt &
  pid=$!
  wait_lines rl3/run.json 1
  sleep 2
  kill -INT $pid
  wait $pid; code=$?
  check "SIGINT while the critic stalls: exit 130, the abandoned step left out, a checkpoint of step 0" \
    '[ $code = 130 ] && [ "$(ckpt_step rl3/checkpoint.bin)" = 0 ] && [ ! -s rl3/metrics.jsonl ] && grep -q "stopped by SIGINT after step 0" err.txt'
  check "the critic's processes are stopped" '! pgrep -f "slow.sh all" >/dev/null'
fi

exit $fail
