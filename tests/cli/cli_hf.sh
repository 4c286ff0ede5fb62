#!/bin/sh
# Hugging Face folders in the command line: model.from, rl.start and --model read them (the
# golden tiny models of tests/golden/hf/), t2g export writes one that t2g reads back to the same
# text, and bad folders, GGUF files and misused options are refused (exit 2) by name.
#   usage: cli_hf.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
golden=$2/tests/golden/hf
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-hf-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
run="--set data.examples=16 --set eval.examples=0 --set train.steps=2 --set train.batch_size=4 --set train.micro_batch=4 \
  --set schedule.warmup_steps=1"
model_of() { tr -d ' \t\n' < "$1/config.json" | grep -o '"model":{[^}]*}'; }

# ---- model.from ----
out=$("$t2g" train $run --set model.from="$golden/llama" --out llama 2>&1); code=$?
check "train from the golden llama folder (kv heads < heads, untied head), with the byte-tokenizer note" \
  '[ $code = 0 ] && [ -s llama/checkpoint.bin ] && printf "%s" "$out" | grep -q "note: model.from .*/llama has no tokenizer.json: its text is read with t2g.s byte tokenizer"'
check "the run takes the folder's model: llama, width 36, 6 heads, 2 kv heads, context 64, untied" \
  'model_of llama | grep -q "\"arch\":\"llama\",\"vocab\":259,\"context\":64,\"layers\":2,\"heads\":6,\"width\":36,\"kv_heads\":2,\"ffn_width\":45,.*\"qkv_bias\":0,\"tied_head\":0"'
check "fine-tuning a Hugging Face folder at the default learning rate: a note says what fine-tuning takes" \
  'printf "%s" "$out" | grep -q "note: optim.lr is 0.001, the default for training from scratch; fine-tuning a pretrained model usually takes 1e-5 to 1e-4"'
out=$("$t2g" train $run --set model.from="$golden/qwen2" --set optim.lr=3e-5 --out qwen2 2>&1); code=$?
check "a learning rate given: no note" '[ $code = 0 ] && ! printf "%s" "$out" | grep -q "note: optim.lr"'
check "train from the golden qwen2 folder (q/k/v biases, tied head)" \
  '[ $code = 0 ] && model_of qwen2 | grep -q "\"qkv_bias\":1,\"tied_head\":1"'
out=$("$t2g" train $run --set model.from="$golden/gpt2-sharded" --out gpt2 2>&1); code=$?
check "train from the golden gpt2 folder in two shards" '[ $code = 0 ] && model_of gpt2 | grep -q "\"arch\":\"gpt2\""'
out=$("$t2g" train $run --set model.from="$golden/gpt2" --set model.context=32 --out short 2>&1); code=$?
check "model.context shorter than the folder's: the run's context" '[ $code = 0 ] && model_of short | grep -q "\"context\":32,"'
out=$("$t2g" train $run --set model.from="$golden/llama" --set model.context=128 --out long 2>&1); code=$?
check "model.context longer than the folder's: refused, naming both" '[ $code = 2 ] && printf "%s" "$out" | grep -q "model.context.*context 64.*128"'
out=$("$t2g" train --resume llama --set train.steps=3 2>&1); code=$?
check "a run from a Hugging Face folder resumes" '[ $code = 0 ] && grep -q "{\"step\":3," llama/metrics.jsonl'
out=$("$t2g" train --resume short --set train.steps=3 2>&1); code=$?
check "a run with a shorter context than its folder's resumes at the run's context" \
  '[ $code = 0 ] && grep -q "{\"step\":3," short/metrics.jsonl && model_of short | grep -q "\"context\":32,"'

# ---- --model ----
out=$("$t2g" sample --model "$golden/llama" --prompt "12+7=" --temperature 0 --max-new 8 2>&1); code=$?
check "t2g sample --model reads a Hugging Face folder" '[ $code = 0 ] && printf "%s" "$out" | grep -q "^12+7="'
out=$("$t2g" sample --model llama --prompt "12+7=" --temperature 0 --max-new 8 2>&1); code=$?
check "--model takes a run folder too" '[ $code = 0 ] && printf "%s" "$out" | grep -q "^12+7="'

# ---- t2g export ----
out=$("$t2g" export llama --format hf --out llama-hf 2>&1); code=$?
check "t2g export writes the five files and says so" \
  '[ $code = 0 ] && for f in config.json model.safetensors generation_config.json tokenizer.json tokenizer_config.json; do [ -s llama-hf/$f ] && printf "%s" "$out" | grep -q "llama-hf/$f" || exit 1; done'
"$t2g" export qwen2 --out qwen2-hf >/dev/null 2>&1
same() { # same MODEL_A MODEL_B OPTIONS...: t2g sample gives the same text for both
  a=$1; b=$2; shift 2
  "$t2g" sample $a --prompt "12+7=" --prompt "hello" --max-new 24 --no-eos-stop "$@" > a.txt 2>/dev/null &&
  "$t2g" sample $b --prompt "12+7=" --prompt "hello" --max-new 24 --no-eos-stop "$@" > b.txt 2>/dev/null &&
  [ -s a.txt ] && cmp -s a.txt b.txt
}
check "llama: sample --model EXPORTED is sample --ckpt RUN, greedy" 'same "--ckpt llama" "--model llama-hf" --temperature 0'
check "llama: the same with seeded sampling" 'same "--ckpt llama" "--model llama-hf" --temperature 0.9 --top-k 40 --top-p 0.95 --seed 5'
check "qwen2: greedy and seeded" \
  'same "--ckpt qwen2" "--model qwen2-hf" --temperature 0 && same "--ckpt qwen2" "--model qwen2-hf" --temperature 1 --seed 9'
"$t2g" data arith --n 6 --seed 3 > rows.jsonl
loss_of() { "$t2g" eval "$@" --data rows.jsonl --json 2>/dev/null | grep '"loss"'; }
check "eval --model EXPORTED --data gives the run's loss" '[ -n "$(loss_of --ckpt llama)" ] && [ "$(loss_of --ckpt llama)" = "$(loss_of --model llama-hf)" ]'
out=$("$t2g" eval --model llama-hf 2>&1); code=$?
check "eval --model of a Hugging Face folder without --task or --data: exit 2, saying which to give" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "names no task or data.*give --task or --data"'
out=$("$t2g" sample --model llama-hf --prompt a --max-new 2 2>&1)
check "an exported folder (t2g's tokenizer.json) is read without the note" '! printf "%s" "$out" | grep -q "note:"'
out=$("$t2g" export llama --format hf --out llama-hf 2>&1); code=$?
check "export to a non-empty folder: refused, nothing overwritten" '[ $code = 2 ] && printf "%s" "$out" | grep -q "llama-hf is not empty"'
out=$("$t2g" export llama --format ggml --out x 2>&1); code=$?
check "export --format ggml: refused, listing the formats" '[ $code = 2 ] && printf "%s" "$out" | grep -q "the formats are hf .* and gguf" && [ ! -e x ]'

# ---- rl.start ----
cp -r "$golden/llama" start
rl="--set data.task=arith --set rl.prompts=2 --set rl.samples_per_prompt=2 --set rl.max_new_tokens=3 --set train.micro_batch=4 \
  --set rl.samples_kept=1 --set schedule.warmup_steps=0 --set eval.examples=0"
out=$("$t2g" rl $rl --set rl.start=start --set train.steps=1 --out rl 2>&1); code=$?
check "t2g rl from a Hugging Face folder (rl.start), with the note" \
  '[ $code = 0 ] && [ -s rl/checkpoint.bin ] && printf "%s" "$out" | grep -q "note: rl.start start has no tokenizer.json"'
out=$("$t2g" export rl --out rl-hf 2>&1); code=$?
check "exporting an RL run says its value head is left out" '[ $code = 0 ] && printf "%s" "$out" | grep -q "value head .* is not part of the export"'
printf ' ' >> start/config.json
out=$("$t2g" rl --resume rl --set train.steps=2 2>&1); code=$?
check "rl --resume with a changed Hugging Face start (config.json) is refused by its CRC" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "rl.start start is not the checkpoint this run started from (its CRC-32"'
cp "$golden/llama/config.json" start/config.json
out=$("$t2g" rl --resume rl --set train.steps=2 2>&1); code=$?
check "with the original back, it continues" '[ $code = 0 ] && grep -q "{\"step\":2," rl/metrics.jsonl'

# ---- refusals ----
bad() { rm -rf "$1" && cp -r "$golden/llama" "$1"; }
bad unknown; sed 's/"model_type": "llama"/"model_type": "mamba"/' "$golden/llama/config.json" > unknown/config.json
out=$("$t2g" sample --model unknown --prompt a 2>&1); code=$?
check "a config.json with an unknown model_type: exit 2, naming the file and the field" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "config.json.*model_type.*mamba"'
bad truncated; head -c 20000 "$golden/llama/model.safetensors" > truncated/model.safetensors
out=$("$t2g" sample --model truncated --prompt a 2>&1); code=$?
check "a truncated model.safetensors: exit 2, naming the file" '[ $code = 2 ] && printf "%s" "$out" | grep -q "truncated/model.safetensors"'
rm -rf missing && cp -r "$golden/qwen2" missing
sed 's/"tie_word_embeddings": true/"tie_word_embeddings": false/' "$golden/qwen2/config.json" > missing/config.json
out=$("$t2g" train $run --set model.from=missing --out missing-run 2>&1); code=$?
check "a missing tensor (the untied head a config promises): exit 2, naming it" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "lm_head.weight"'
bad foreign; printf '{"version": "1.0", "model": {"type": "WordPiece", "vocab": {"a": 0, "b": 1}}}\n' > foreign/tokenizer.json
out=$("$t2g" sample --model foreign --prompt a 2>&1); code=$?
check "a tokenizer.json that is not a byte-level BPE: exit 2, naming the file and its type" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "foreign: tokenizer.json: model type \"WordPiece\" is not supported (only BPE)"'
printf 'GGUF' > model.gguf
out=$("$t2g" sample --model model.gguf --prompt a 2>&1); code=$?
check "a .gguf file of 4 bytes: exit 2, naming it and what is missing" '[ $code = 2 ] && printf "%s" "$out" | grep -q "model.gguf: truncated: the version at byte 4"'
out=$("$t2g" train $run --set model.from=model.gguf --out gguf-run 2>&1); code=$?
check "model.from a .gguf file: the same" '[ $code = 2 ] && printf "%s" "$out" | grep -q "model.gguf: truncated"'
mkdir empty
out=$("$t2g" eval --model empty --data rows.jsonl 2>&1); code=$?
check "a folder that is no model: exit 2, naming it and what was looked for" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "empty: a folder with neither checkpoint.bin nor config.json"'
out=$("$t2g" sample --ckpt llama --model llama-hf --prompt a 2>&1); code=$?
check "--ckpt and --model together: exit 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "give --ckpt or --model, not both"'
out=$("$t2g" eval --ckpt "$golden/llama" --data rows.jsonl 2>&1); code=$?
check "--ckpt with a Hugging Face folder: exit 2, pointing to --model" '[ $code = 2 ] && printf "%s" "$out" | grep -q "use --model"'

[ $fail = 0 ] && echo "cli_hf: all passed"
exit $fail
