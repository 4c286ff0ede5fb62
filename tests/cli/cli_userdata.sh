#!/bin/sh
# Users' own data and settings: coupled settings clamped with a note, examples cut by the
# context counted (and a run that would train on nothing refused), held-out evaluation of a
# JSONL file (eval.path, t2g eval --data), a failed evaluation that keeps the run, and an RL
# run that takes its start's model.
#   usage: cli_userdata.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-userdata-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
small="--set model.context=16 --set model.layers=1 --set model.heads=2 --set model.width=32 --set data.examples=64"

"$t2g" data arith --n 12 --seed 7 > held.jsonl
fit="--set train.batch_size=4 --set train.micro_batch=4 --set schedule.warmup_steps=1"
"$t2g" train $small $fit --set train.steps=2 --set eval.examples=0 --out sft >/dev/null 2>&1
check "a small SFT checkpoint to start from" '[ -s sft/checkpoint.bin ]'

out=$("$t2g" train $small --set train.steps=2 --set train.batch_size=4 --set eval.examples=0 --out notes 2>&1); code=$?
check "train.steps=2 against 20 warm-up steps runs, with a note" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "note: schedule.warmup_steps (20) is longer than the run (train.steps = 2)"'
check "train.micro_batch=32 against a batch of 4 runs, with a note" \
  'printf "%s" "$out" | grep -q "note: train.micro_batch (32) is larger than the batch (train.batch_size = 4)"'

out=$("$t2g" train $small $fit --set train.steps=2 --set eval.examples=6 --set eval.samples=2 --set eval.path=held.jsonl \
      --out evalpath 2>&1); code=$?
check "eval.path: loss, exact match, BLEU-4 and ROUGE-L of the file's rows in metrics.jsonl" \
  '[ $code = 0 ] && grep -q "\"eval\":{\"loss\":[0-9.]*,\"exact_match\":[0-9.]*,\"bleu4\":[0-9.]*,\"rougeL\":" evalpath/metrics.jsonl'
check "eval.path: its samples, with their references, in samples.jsonl" \
  '[ "$(grep -c "\"kind\":\"eval\".*\"reference\"" evalpath/samples.jsonl)" = 2 ]'

out=$("$t2g" train --set data.task=facts --set data.examples=64 --set model.layers=1 --set model.width=32 --set model.heads=2 \
      $fit --set train.steps=1 --set eval.examples=0 --out facts 2>&1); code=$?
check "facts at the default context: the cut examples counted, with the --set that keeps them" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "warning: [0-9]* of 64 training examples are cut at model.context = 64.*--set model.context=[0-9]* keeps every example whole"'
printf '{"prompt": "a prompt far longer than sixteen bytes", "response": "yes"}\n' > long.jsonl
out=$("$t2g" train $small $fit --set data.task= --set data.path=long.jsonl --set train.steps=1 --out nothing 2>&1); code=$?
check "every response cut away: refused, with the context that keeps them" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "train on nothing.*--set model.context=42" && [ ! -e nothing/checkpoint.bin ]'

out=$("$t2g" train $small $fit --set train.steps=2 --set eval.examples=2 --set eval.path=long.jsonl --out evalfails 2>&1); code=$?
check "a failed evaluation: a warning, the checkpoint and report written, eval_error in metrics, exit 3" \
  '[ $code = 3 ] && printf "%s" "$out" | grep -q "warning: evaluating at step 2 failed" && [ -s evalfails/checkpoint.bin ] && [ -s evalfails/report.html ] && grep -q "\"step\":2,.*\"eval_error\":" evalfails/metrics.jsonl'

out=$("$t2g" eval --ckpt sft --data held.jsonl --json 2>&1); code=$?
check "t2g eval --data: the file's loss and metrics, a run folder as --ckpt" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "\"data\":.*\"held.jsonl\"" && printf "%s" "$out" | grep -q "\"loss\":" && printf "%s" "$out" | grep -q "\"rougeL\":"'
out=$("$t2g" eval --ckpt sft/checkpoint.bin --n 4 2>&1); code=$?
check "t2g eval without --task uses the checkpoint's data.task" '[ $code = 0 ] && printf "%s" "$out" | grep -q "on arith, 4 held-out"'
printf '{"prompt": "1+1=", "response": "2"}\n{"prompt": "2+2=", "response": "4"}\n' > own.jsonl
out=$("$t2g" train $small $fit --set data.task= --set data.path=own.jsonl --set train.steps=1 --set train.batch_size=2 \
      --set train.micro_batch=2 --out own 2>&1)
check "a data file and no eval.path: a note that nothing is evaluated, and how to" \
  'printf "%s" "$out" | grep -q "note: no evaluation.*eval.path=FILE"'
out=$("$t2g" eval --ckpt own 2>&1); code=$?
check "a checkpoint of a data file without --data or --task: an error saying which to give" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-data"'

rl="--set rl.start=sft/checkpoint.bin --set rl.prompts=2 --set rl.samples_per_prompt=2 --set rl.max_new_tokens=3 --set train.steps=1 \
  --set rl.samples_kept=1 --set schedule.warmup_steps=0"
out=$("$t2g" rl $rl --set train.micro_batch=4 --set eval.examples=0 --out rl1 2>&1); code=$?
check "rl: config.json records the start's model, not the defaults" \
  '[ $code = 0 ] && tr -d " \t\n" < rl1/config.json | grep -q "\"model\":{\"arch\":\"gpt2\",\"vocab\":259,\"context\":16,\"layers\":1,\"heads\":2,\"width\":32,\"kv_heads\":0,\"ffn_width\":0,\"rope_theta\":10000,\"norm_eps\":1e-05,\"qkv_bias\":0,\"tied_head\":1,\"from\":\"\",\"chat_template\":\"auto\",\"system_prompt\":\"\"}"'
out=$("$t2g" rl $rl --set rl.start=sft --set eval.examples=0 --out rl0 2>&1); code=$?
check "rl: a run folder as rl.start, micro-batch 32 against 4 responses clamped with a note" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "note: train.micro_batch (32) is larger than the batch (rl.prompts x rl.samples_per_prompt = 4)"'
out=$("$t2g" rl $rl --set train.micro_batch=4 --set eval.examples=4 --set eval.path=held.jsonl --out rl2 2>&1); code=$?
check "rl: eval.path evaluated before RL and at the end" '[ $code = 0 ] && [ "$(grep -c "\"eval\":{\"loss\"" rl2/metrics.jsonl)" = 2 ]'
cat > critic.sh <<'CRITIC'
exec sed -u 's/^{"id":[ ]*\([0-9]*\).*/{"id": \1, "textual_feedback": "fine", "good_spans": [], "poor_spans": [], "score": 0.5}/'
CRITIC
out=$("$t2g" rl $rl --set train.micro_batch=4 --set eval.examples=4 --set eval.path=held.jsonl --set critic.kind=external \
      --set "critic.command=sh critic.sh" --set eval.every=0 --out rl3 2>&1); code=$?
check "rl with an external critic: its mean score of the eval.path responses" \
  '[ $code = 0 ] && [ "$(grep -c "\"eval\":{\"loss\".*\"critic_score\":0.5" rl3/metrics.jsonl)" = 2 ]'
out=$("$t2g" rl $rl --set train.micro_batch=3 --set train.batch_size=6 --out rl4 2>&1); code=$?
check "rl: a micro-batch that does not divide the responses: the --set that fixes it" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "train.micro_batch (3): --set train.micro_batch=2"'
out=$("$t2g" train $small --set train.batch_size=12 --set train.micro_batch=5 --out divide 2>&1); code=$?
check "train: a micro-batch that does not divide the batch: the --set that fixes it" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "must divide train.batch_size (12): --set train.micro_batch=4"'
out=$("$t2g" rl $rl --set train.micro_batch=4 --set model.layers=4 --out rl5 2>&1); code=$?
check "rl: a model key against the start's: an error naming the key and both values" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "model.layers: the run starts from rl.start (sft/checkpoint.bin), whose model.layers is 1; the config gives 4"'

exit $fail
