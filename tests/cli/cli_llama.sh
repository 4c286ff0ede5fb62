#!/bin/sh
# A Llama-family model (model.arch=llama with grouped-query attention, an untied head and q/k/v
# biases) through every subcommand that takes a model: train, resume, sample, eval, rl, report.
# Numbers are checked by the check tests (hf_golden, train_overfit_llama, resume_llama); this
# checks that the commands carry the architecture through their files.
#   usage: cli_llama.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-llama-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
llama="--set model.arch=llama --set model.kv_heads=2 --set model.qkv_bias=1 --set model.tied_head=0 --set model.ffn_width=40 \
  --set model.context=24 --set model.layers=1 --set model.heads=4 --set model.width=32 --set data.examples=200 \
  --set schedule.warmup_steps=0 --set eval.examples=4 --set eval.max_new_tokens=4 --set train.batch_size=4 --set train.micro_batch=4"

out=$("$t2g" train $llama --set train.steps=2 --out sft --quiet 2>&1); code=$?
check "train a llama model: exit 0, a checkpoint" '[ $code = 0 ] && [ -s sft/checkpoint.bin ]'
check "its config.json records the architecture" \
  'tr -d " \t\n" < sft/config.json | grep -q "\"arch\":\"llama\".*\"kv_heads\":2,\"ffn_width\":40,.*\"qkv_bias\":1,\"tied_head\":0"'
out=$("$t2g" train --resume sft --set train.steps=3 --quiet 2>&1); code=$?
check "resume it" '[ $code = 0 ] && [ $(grep -c "\"step\"" sft/metrics.jsonl) = 3 ]'
out=$("$t2g" sample --ckpt sft --prompt "1+2=" --max-new 3 --temperature 0 2>&1); code=$?
check "sample from it" '[ $code = 0 ] && printf "%s" "$out" | grep -q "1+2="'
out=$("$t2g" eval --ckpt sft --n 4 --max-new 4 2>&1); code=$?
check "evaluate it" '[ $code = 0 ] && printf "%s" "$out" | grep -q "exact_match"'
out=$("$t2g" rl --config rl_arith --set rl.start=sft --set train.steps=1 --set rl.prompts=2 --set rl.samples_per_prompt=2 \
  --set rl.max_new_tokens=3 --set train.micro_batch=4 --set eval.examples=2 --set eval.max_new_tokens=3 --out rl --quiet 2>&1); code=$?
check "Text2Grad RL from it" '[ $code = 0 ] && [ -s rl/checkpoint.bin ] && tr -d " \t\n" < rl/config.json | grep -q "\"arch\":\"llama\""'
out=$("$t2g" train $llama --set model.from=sft --set model.kv_heads=4 --set train.steps=1 --out other --quiet 2>&1); code=$?
check "model.from with another kv_heads: an error naming the key and both values" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "model.kv_heads: the run starts from model.from (sft), whose model.kv_heads is 2; the config gives 4"'
out=$("$t2g" report sft rl --out r.html 2>&1); code=$?
check "a report of both" '[ $code = 0 ] && [ -s r.html ]'
exit $fail
