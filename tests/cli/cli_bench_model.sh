#!/bin/sh
# t2g bench train --model and t2g bench rollout --model: a tiny llama run, its GGUF export and its
# Hugging Face export timed from their own weights (the JSON names the model, its kind and its
# shape), --context shortening them, a BPE model's prompts drawn from all but its special tokens,
# and --context past the model's or --model with --preset refused. It checks that the benchmarks
# work, never how fast anything is.
#   usage: cli_bench_model.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
golden=$2/tests/golden/tokenizers
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-bench-model-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
flat() { printf "%s" "$1" | tr -d ' \t\n'; }

"$t2g" train --set data.examples=16 --set eval.examples=0 --set train.steps=1 --set train.batch_size=4 \
  --set train.micro_batch=4 --set schedule.warmup_steps=0 --set model.context=32 --set model.width=64 \
  --set model.heads=4 --set model.layers=1 --set model.arch=llama --set model.kv_heads=2 --set model.ffn_width=96 \
  --out run --quiet >/dev/null 2>&1
"$t2g" export run --format gguf --out run.gguf >/dev/null 2>&1
"$t2g" export run --out hf >/dev/null 2>&1
check "the test model and its exports are made" '[ -s run/checkpoint.bin ] && [ -s run.gguf ] && [ -s hf/model.safetensors ]'
shape='"arch":"llama","vocab":259,"context":CONTEXT,"layers":1,"heads":4,"kv_heads":2,"width":64,"ffn_width":96'
has_shape() { flat "$1" | grep -q "$(printf "%s" "$shape" | sed "s/CONTEXT/$2/")"; }

# ---- bench train ----
json=$("$t2g" bench train --model run --batch 2 --steps 1 --warmup 0 --json 2>&1); code=$?
check "bench train --model RUN: exit 0, the run folder named with its kind" \
  '[ $code = 0 ] && flat "$json" | grep -q "\"model\":{\"path\":\"run\",\"kind\":\"t2grunfolder\"}"'
check "... the model's shape, its context the sequence, no preset" \
  'has_shape "$json" 32 && flat "$json" | grep -q "\"sequence_length\":32,\"warmup_steps\":0," && ! flat "$json" | grep -q "\"preset\""'
check "... the model's parameters, a step timed" \
  'flat "$json" | grep -q "\"parameters\":47488," && flat "$json" | grep -q "\"ms_per_step\":[0-9]"'
json=$("$t2g" bench train --model run --context 8 --batch 1 --steps 2 --json 2>&1); code=$?
check "bench train --model RUN --context 8: steps of 8 tokens, the checkpoint's context kept, 2 warm-up steps" \
  '[ $code = 0 ] && has_shape "$json" 32 && flat "$json" | grep -q "\"sequence_length\":8,\"warmup_steps\":2,"'
json=$("$t2g" bench train --model run.gguf --context 16 --batch 1 --steps 1 --warmup 0 --json 2>&1); code=$?
check "bench train --model FILE.gguf --context 16: a GGUF file, its context 16" \
  '[ $code = 0 ] && flat "$json" | grep -q "\"kind\":\"GGUFfile\"" && has_shape "$json" 16'
out=$("$t2g" bench train --model run --context 64 2>&1); code=$?
check "--context past the model's context exits 2 naming --context and the model's context" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-context 64 .*context 32"'
out=$("$t2g" bench train --model run.gguf --context 33 2>&1); code=$?
check "... a GGUF file's too" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-context 33 .*context 32"'
out=$("$t2g" bench train --model run --preset small 2>&1); code=$?
check "--model with --preset exits 2 naming both" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-model" && printf "%s" "$out" | grep -q "\-\-preset"'
out=$("$t2g" bench train --model nosuch 2>&1); code=$?
check "--model naming no model exits 2 naming it" '[ $code = 2 ] && printf "%s" "$out" | grep -q "nosuch"'
out=$("$t2g" bench train --preset small --context 65 2>&1); code=$?
check "--context past a preset's exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "context 64"'
json=$("$t2g" bench train --preset small --context 16 --batch 1 --steps 1 --warmup 0 --json 2>&1); code=$?
check "bench train --preset small --context 16: the preset's context 16" \
  '[ $code = 0 ] && flat "$json" | grep -q "\"preset\":\"small\",\"arch\":\"gpt2\",\"vocab\":259,\"context\":16,"'
out=$("$t2g" bench train --preset small --warmup x 2>&1); code=$?
check "--warmup x exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-warmup"'

# ---- bench rollout ----
json=$("$t2g" bench rollout --model run --prompts 2 --new 4 --json 2>&1); code=$?
check "bench rollout --model RUN: exit 0, the model and its shape, 2 prompts of 28 tokens, 4 new each" \
  '[ $code = 0 ] && flat "$json" | grep -q "\"model\":{\"path\":\"run\"" && has_shape "$json" 32 &&
   flat "$json" | grep -q "\"prompts\":2,\"prompt_tokens\":28,\"prompt_vocab\":256,\"new_tokens_each\":4,\"parameters\":47488"'
check "... new tokens/s" 'flat "$json" | grep -q "\"new_tokens_per_s\":[0-9]"'
"$t2g" train --set data.examples=16 --set eval.examples=0 --set train.steps=1 --set train.batch_size=4 \
  --set train.micro_batch=4 --set schedule.warmup_steps=0 --set model.context=32 --set model.width=64 \
  --set model.heads=4 --set model.layers=1 --set model.vocab=1500 --out base --quiet >/dev/null 2>&1 &&
  "$t2g" export base --out smol >/dev/null 2>&1 && cp "$golden/smollm2/tokenizer.json" smol/ && rm smol/tokenizer_config.json
json=$("$t2g" bench rollout --model smol --prompts 2 --new 4 --json 2>&1); code=$?
check "a model with the SmolLM2-style BPE: prompts drawn from its 1500 ids but its 3 special tokens" \
  '[ $code = 0 ] && flat "$json" | grep -q "\"vocab\":1500,.*\"prompt_vocab\":1497,"'
json=$("$t2g" bench rollout --model hf --context 12 --prompts 2 --new 4 --json 2>&1); code=$?
check "bench rollout --model HF --context 12: a Hugging Face folder, context 12, prompts of 8 tokens" \
  '[ $code = 0 ] && flat "$json" | grep -q "\"kind\":\"HuggingFacefolder\"" && has_shape "$json" 12 &&
   flat "$json" | grep -q "\"prompt_tokens\":8,"'
out=$("$t2g" bench rollout --model run --context 8 --new 8 2>&1); code=$?
check "--new filling the context exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "no room for a prompt"'
out=$("$t2g" bench rollout --model run --preset small 2>&1); code=$?
check "bench rollout --model with --preset exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-preset"'
out=$("$t2g" bench rollout --warmup 1 2>&1); code=$?
check "bench rollout has no --warmup" '[ $code = 2 ]'
[ $fail = 0 ] && echo "cli_bench_model: all passed"
exit $fail
