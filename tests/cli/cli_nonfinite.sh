#!/bin/sh
# NaN and Inf in t2g train and t2g rl (train.on_nonfinite): "stop" exits 1 naming the step and
# what went non-finite, writes that step's metrics line, and leaves checkpoint.bin as the last
# good one (byte for byte); "skip" skips the update and finishes. NaN comes from a real
# divergence (optim.lr=10, optim.weight_decay=10 on resume) and from the library's test-only
# hook T2G_TEST_POISON_STEP=N (a NaN loss weight or token score at step N).
#   usage: cli_nonfinite.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-nonfinite-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
small="--set model.context=16 --set model.layers=1 --set model.heads=2 --set model.width=32 --set data.examples=200 \
  --set schedule.warmup_steps=0 --set eval.examples=0 --set train.batch_size=8 --set train.micro_batch=8"

# train: a good run of 2 steps, then resumes that go non-finite
"$t2g" train $small --set train.steps=2 --out t --quiet >/dev/null 2>&1
check "a good 2-step run to resume" '[ -s t/checkpoint.bin ]'
cp t/checkpoint.bin good.bin
out=$("$t2g" train --resume t --set train.steps=40 --set optim.lr=10 --set optim.weight_decay=10 --quiet 2>&1); code=$?
check "train diverging (lr 10, weight decay 10) stops with exit 1" '[ $code = 1 ]'
check "the message names the step and what went non-finite" \
  'printf "%s" "$out" | grep -q "error: step [0-9]*: loss, grad_norm not finite (NaN or Inf); the update was skipped"'
check "checkpoint.bin is still the last good one, byte for byte" 'cmp -s good.bin t/checkpoint.bin'
check "the step's metrics line says what went non-finite and that its update was skipped" \
  'tail -n 1 t/metrics.jsonl | grep -q "\"loss\":null,.*\"nonfinite\":\"loss, grad_norm\",\"update_skipped\":true"'
check "no step after it" '[ $(grep -c "nonfinite" t/metrics.jsonl) = 1 ]'

cp good.bin t/checkpoint.bin
out=$(T2G_TEST_POISON_STEP=4 "$t2g" train --resume t --set train.steps=6 --set checkpoint.every=1 --quiet 2>&1); code=$?
check "a poisoned step 4 with checkpoint.every=1: exit 1 naming step 4" \
  '[ $code = 1 ] && printf "%s" "$out" | grep -q "error: step 4: loss, grad_norm not finite"'
check "the checkpoint is the one of step 3 (the last good), not of step 4" \
  '"$t2g" train --resume t --set train.steps=4 --quiet >/dev/null 2>&1 && grep -q "\"step\":4,.*\"loss\":[0-9]" t/metrics.jsonl'

out=$(T2G_TEST_POISON_STEP=2 "$t2g" train $small --set train.steps=4 --set train.on_nonfinite=skip --out s --quiet 2>&1); code=$?
check "train.on_nonfinite=skip goes on past the poisoned step 2 and finishes with exit 0" \
  '[ $code = 0 ] && [ $(grep -c "\"step\":" s/metrics.jsonl) = 4 ] && [ -s s/checkpoint.bin ]'
check "skip: a warning for step 2, the count at the end, one skipped step in metrics" \
  'printf "%s" "$out" | grep -q "warning: step 2: loss, grad_norm not finite.*train.on_nonfinite=skip" &&
   printf "%s" "$out" | grep -q "1 steps had NaN or Inf" && [ $(grep -c "\"update_skipped\":true" s/metrics.jsonl) = 1 ]'
out=$("$t2g" train $small --set train.on_nonfinite=ignore --out bad 2>&1); code=$?
check "an unknown train.on_nonfinite names the key and the choices" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "train.on_nonfinite: expected \"stop\" or \"skip\", got \"ignore\""'

# rl from a small SFT checkpoint
"$t2g" train $small --set train.steps=4 --out sft --quiet >/dev/null 2>&1
rl="--set rl.start=sft/checkpoint.bin --set rl.prompts=4 --set rl.samples_per_prompt=2 --set rl.max_new_tokens=4 \
  --set train.micro_batch=4 --set train.batch_size=8 --set eval.examples=0 --set rl.samples_kept=1 --set schedule.warmup_steps=0"
"$t2g" rl $rl --set train.steps=1 --out r --quiet >/dev/null 2>&1
cp r/checkpoint.bin rgood.bin
out=$(T2G_TEST_POISON_STEP=2 "$t2g" rl --resume r --set train.steps=3 --quiet 2>&1); code=$?
check "rl: a NaN reward at step 2 stops with exit 1 naming the step and what" \
  '[ $code = 1 ] && printf "%s" "$out" | grep -q "error: step 2: reward, token_score not finite (NaN or Inf); the update was skipped"'
check "rl: checkpoint.bin is still the one of step 1, byte for byte" 'cmp -s rgood.bin r/checkpoint.bin'
check "rl: the metrics line of step 2 says what went non-finite" \
  'tail -n 1 r/metrics.jsonl | grep -q "\"step\":2,.*\"policy_loss\":null,.*\"nonfinite\":\"reward, token_score\",\"update_skipped\":true"'
out=$(T2G_TEST_POISON_STEP=2 "$t2g" rl $rl --set train.steps=3 --set train.on_nonfinite=skip --out rs --quiet 2>&1); code=$?
check "rl: train.on_nonfinite=skip finishes all 3 steps with exit 0" \
  '[ $code = 0 ] && [ $(grep -c "\"score\":" rs/metrics.jsonl) = 3 ] && [ $(grep -c "\"update_skipped\":true" rs/metrics.jsonl) = 1 ]'
check "rl skip: beta stays finite after the NaN step" '! grep -q "\"beta\":null" rs/metrics.jsonl'

exit $fail
