#!/bin/sh
# t2g rl from the command line: a short run with the built-in critic and one with the example
# external critic (tools/example_critic.py), the run folder's contents, --resume, and bad input.
#   usage: cli_rl.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
src=$2
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-rl-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

"$t2g" train --set model.context=16 --set model.layers=1 --set model.heads=2 --set model.width=32 \
  --set data.examples=500 --set train.steps=10 --set schedule.warmup_steps=2 --set eval.examples=0 --out sft --quiet >/dev/null 2>&1
check "a small SFT checkpoint to start from" '[ -s sft/checkpoint.bin ]'
common="--set rl.start=sft/checkpoint.bin --set rl.prompts=4 --set rl.samples_per_prompt=2 --set rl.max_new_tokens=4 \
  --set train.micro_batch=4 --set train.batch_size=8 --set schedule.warmup_steps=0 --set eval.examples=4 --set rl.samples_kept=2"

out=$("$t2g" rl $common --set train.steps=2 --out rl1 2>&1); code=$?
check "rl with the built-in critic exits 0" '[ $code = 0 ]'
check "it evaluates before RL and at the end" 'printf "%s" "$out" | grep -q "before RL" && printf "%s" "$out" | grep -q "eval at step 2"'
check "metrics.jsonl: one line per step with score, reward, kl, beta, clip fraction, approx kl, value loss, entropy, span match rate, tokens/s" \
  '[ $(grep -c "\"score\":" rl1/metrics.jsonl) = 2 ] && grep -q "\"reward\":.*\"kl\":.*\"beta\":.*\"policy_loss\":.*\"value_loss\":.*\"clip_fraction\":.*\"approx_kl\":.*\"entropy\":.*\"span_match_rate\":.*\"rollout_tokens_per_s\":.*\"train_tokens_per_s\":" rl1/metrics.jsonl'
check "samples.jsonl keeps responses with their critiques, token scores and spans" \
  'grep -q "\"kind\":\"rollout\".*\"critique\":.*\"tokens\":\[{\"text\":.*\"score\":.*\"spans\":" rl1/samples.jsonl'
if command -v python3 >/dev/null 2>&1; then
  check "metrics and samples are JSON lines" 'python3 -c "import json,sys; [json.loads(l) for f in sys.argv[1:] for l in open(f)]" rl1/metrics.jsonl rl1/samples.jsonl'
  out=$("$t2g" rl $common --set train.steps=1 --set critic.kind=external --set "critic.command=python3 $src/tools/example_critic.py" \
        --set critic.workers=2 --out rl2 2>&1); code=$?
  check "each step's span counts come from its 8 critiques, each counted once" \
    'python3 -c "import json,sys; assert all(json.loads(l)[\"spans\"][\"critiques\"] == 8 for l in open(sys.argv[1]) if \"score\" in l)" rl1/metrics.jsonl'
  check "rl with the example external critic exits 0, no critic failures" '[ $code = 0 ] && grep -q "\"critic_failures\":0" rl2/metrics.jsonl'
fi

if command -v python3 >/dev/null 2>&1; then
  printf '{"prompt": "12+30=", "response": ""}\n{"prompt": "7+5=", "response": ""}\n' > prompts.jsonl
  # the replies to odd ids have an id that is not a number: garbage, blamed on their samples
  cat > garbage.sh <<'EOF'
while IFS= read -r line; do
  id=${line#\{\"id\":}; id=${id%%,*}
  if [ $((id % 2)) = 1 ]; then echo '{"id": "x"}'; else printf '{"id":%s,"textual_feedback":"ok","score":0}\n' "$id"; fi
done
EOF
  out=$("$t2g" rl $common --set train.steps=1 --set data.task= --set data.path=prompts.jsonl --set critic.kind=external \
        --set "critic.command=python3 $src/tools/example_critic.py" --set eval.examples=0 --out rl4 2>&1); code=$?
  check "rl on the prompts of a JSONL file" '[ $code = 0 ] && grep -q "\"prompt\":\"12+30=\"\|\"prompt\":\"7+5=\"" rl4/samples.jsonl'
  out=$("$t2g" rl $common --set train.steps=1 --set critic.kind=external --set "critic.command=sh garbage.sh" \
        --set critic.workers=1 --set critic.retries=0 --set critic.timeout_ms=20000 --out rl5 2>&1); code=$?
  check "a critic that writes garbage: the run goes on, each skipped response counted, with a warning naming one" \
    '[ $code = 0 ] && grep -q "\"critic_failures\":4" rl5/metrics.jsonl && printf "%s" "$out" | grep -q "warning: step 1: 4 responses had no usable critique.*response 1"'
fi

out=$("$t2g" rl --resume rl1 --set train.steps=3 2>&1); code=$?
check "--resume continues the run to step 3" '[ $code = 0 ] && grep -q "{\"step\":3," rl1/metrics.jsonl'
out=$("$t2g" rl --resume sft 2>&1); code=$?
check "--resume of an SFT checkpoint is refused (no rl.start, no value head)" '[ $code = 2 ] && printf "%s" "$out" | grep -q "rl.start\|value head"'

out=$("$t2g" rl $common --set rl.start= --out rl3 2>&1); code=$?
check "no rl.start is an error naming it" '[ $code = 2 ] && printf "%s" "$out" | grep -q "rl.start"'
out=$("$t2g" rl $common --set rl.start=missing.bin --out rl3 2>&1); code=$?
check "a missing rl.start names the file" '[ $code = 2 ] && printf "%s" "$out" | grep -q "missing.bin"'
out=$("$t2g" rl $common --set rl.reward_granularity=tokens --out rl3 2>&1); code=$?
check "an unknown granularity is an error naming the key and the choices" '[ $code = 2 ] && printf "%s" "$out" | grep -q "rl.reward_granularity" && printf "%s" "$out" | grep -q "scalar"'
out=$("$t2g" rl $common --set train.micro_batch=3 --out rl3 2>&1); code=$?
check "responses per step not a multiple of the micro-batch: an error naming both" '[ $code = 2 ] && printf "%s" "$out" | grep -q "train.micro_batch"'
out=$("$t2g" rl $common --set critic.kind=external --out rl3 2>&1); code=$?
check "an external critic without a command is an error" '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.command"'
"$t2g" rl --help >/dev/null 2>&1; code=$?
check "rl --help exits 0" '[ $code = 0 ]'

[ $fail = 0 ] && echo "cli_rl: all passed"
exit $fail
