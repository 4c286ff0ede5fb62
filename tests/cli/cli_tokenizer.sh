#!/bin/sh
# A model with a byte-level BPE tokenizer and a chat template, through every command: t2g
# tokenize (ids and byte offsets, --chat, --jsonl, bad input), train from its Hugging Face folder
# (the chat template wraps the prompts; the checkpoint carries the tokenizer), sample, eval, RL,
# and export (the tokenizer files written back as they were). The folder is a tiny t2g model
# exported with vocab 1500 whose tokenizer.json is the golden SmolLM2-style BPE.
#   usage: cli_tokenizer.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
golden=$2/tests/golden/tokenizers
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-tokenizer-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
small="--set model.vocab=1500 --set model.context=48 --set model.width=32 --set model.heads=2 --set data.examples=16 \
  --set eval.examples=0 --set train.steps=1 --set train.batch_size=4 --set train.micro_batch=4 --set schedule.warmup_steps=0"

# ---- the model: a t2g model exported, given the golden SmolLM2-style tokenizer ----
"$t2g" train $small --out base >/dev/null 2>&1 && "$t2g" export base --out smol >/dev/null 2>&1
cp "$golden/smollm2/tokenizer.json" smol/tokenizer.json
cat > smol/tokenizer_config.json <<'EOF'
{"bos_token": null, "eos_token": "<|im_end|>", "pad_token": "<|im_end|>", "add_bos_token": false,
 "chat_template": "{% for m in messages %}{% if loop.first and m['role'] != 'system' %}{{ '<|im_start|>system\nYou are a small test model<|im_end|>\n' }}{% endif %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"}
EOF
check "the test model is made" '[ -s smol/model.safetensors ]'

# ---- t2g tokenize ----
out=$("$t2g" tokenize --model smol --text "Hello world 123" --json 2>&1); code=$?
ref=$("$t2g" tokenize --tokenizer "$golden/smollm2/tokenizer.json" --text "Hello world 123" --json 2>&1)
check "tokenize --model DIR and --tokenizer FILE agree" '[ $code = 0 ] && [ "$out" = "$ref" ]'
check "digits are single tokens and the offsets tile the 15 bytes" \
  'printf "%s" "$out" | grep -q "\[12,13\],\[13,14\],\[14,15\]\]}$" && printf "%s" "$out" | grep -q "\"offsets\":\[\[0,"'
out=$("$t2g" tokenize --model smol --text "caf$(printf '\303\251') ok" 2>&1); code=$?
check "the table shows id, start, end and the token text" '[ $code = 0 ] && printf "%s" "$out" | head -1 | grep -q "id.*start.*end.*text"'
out=$("$t2g" tokenize --model smol --chat --text "Hi" --json 2>&1); code=$?
check "--chat: the chatml rendering with the template's default system prompt, its text printed" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "\"ids\":\[1," && printf "%s" "$out" | grep -q "You are a small test model" && printf "%s" "$out" | grep -q "chat template chatml"'
out=$("$t2g" tokenize --model smol --chat --system-prompt "Be brief." --text "Hi" --json 2>/dev/null)
check "--system-prompt replaces the default" 'printf "%s" "$out" | grep -q "Be brief." && ! printf "%s" "$out" | grep -q "small test model"'
out=$("$t2g" tokenize --model smol --text "<|im_end|>" --json 2>/dev/null)
special=$("$t2g" tokenize --model smol --text "<|im_end|>" --special --json 2>/dev/null)
check "special-token text is plain text unless --special" \
  '[ "$special" = "{\"ids\":[2],\"offsets\":[[0,10]]}" ] && [ "$out" != "$special" ]'
printf '{"text": "one"}\n\n{"text": "two 22"}\n' > in.jsonl
out=$("$t2g" tokenize --model smol --jsonl in.jsonl 2>&1); code=$?
check "--jsonl: one line out per line in, blank lines skipped" '[ $code = 0 ] && [ $(printf "%s\n" "$out" | wc -l) = 2 ]'
printf '{"prompt": "2+2=", "response": "4"}\n' > chat.jsonl
out=$("$t2g" tokenize --model smol --jsonl chat.jsonl --chat 2>/dev/null); code=$?
check "--jsonl --chat renders prompt and response, the response closed by <|im_end|> (id 2)" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q ",2\],\"offsets\"" && printf "%s" "$out" | grep -q "assistant\\\\n4<|im_end|>"'
out=$("$t2g" tokenize --model base --text "$(printf 'a\303\251')" --add-special --json 2>&1); code=$?
check "t2g's byte models: one token a byte, BOS 256 with --add-special" \
  '[ $code = 0 ] && [ "$out" = "{\"ids\":[256,97,195,169],\"offsets\":[[0,0],[0,1],[1,2],[2,3]]}" ]'

# ---- bad input: exit 2, named ----
out=$("$t2g" tokenize --model smol --text "$(printf 'ab\377')" 2>&1); code=$?
check "text that is not UTF-8: exit 2 with the byte offset" '[ $code = 2 ] && printf "%s" "$out" | grep -q "not valid UTF-8 at byte 2"'
printf '{"text": 5}\n' > bad.jsonl
out=$("$t2g" tokenize --model smol --jsonl bad.jsonl 2>&1); code=$?
check "a JSONL line without a string text: exit 2 naming file:line" '[ $code = 2 ] && printf "%s" "$out" | grep -q "bad.jsonl:1: expected"'
sed 's/"type": *"BPE"/"type": "WordPiece"/' "$golden/smollm2/tokenizer.json" > wordpiece.json
out=$("$t2g" tokenize --tokenizer wordpiece.json --text x 2>&1); code=$?
check "a WordPiece tokenizer.json: exit 2 naming the type" '[ $code = 2 ] && printf "%s" "$out" | grep -q "WordPiece"'
sed 's/"merges":\["t h"/"merges":["t zq"/' "$golden/gpt2/tokenizer.json" > unknown.json
out=$("$t2g" tokenize --tokenizer unknown.json --text x 2>&1); code=$?
check "a merge naming an unknown token: exit 2 naming the merge" '[ $code = 2 ] && printf "%s" "$out" | grep -q "unknown.json.*merges.*zq"'
sed 's/"!":0,/"!":0,"dup":1,/' "$golden/gpt2/tokenizer.json" > duplicate.json
out=$("$t2g" tokenize --tokenizer duplicate.json --text x 2>&1); code=$?
check "two vocab entries with one id: exit 2 naming the id" '[ $code = 2 ] && printf "%s" "$out" | grep -q "duplicate.json.*id 1"'
out=$("$t2g" tokenize --model smol --chat-template vicuna --text x 2>&1); code=$?
check "an unknown chat template: exit 2 naming the choices" '[ $code = 2 ] && printf "%s" "$out" | grep -q "chatml"'
out=$("$t2g" tokenize --model smol 2>&1); code=$?
check "no text: exit 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "one of --text, --file or --jsonl"'

# ---- training, sampling, evaluation, RL, export ----
printf '{"prompt": "2+2=", "response": "4"}\n{"prompt": "Say hi", "response": "hi there"}\n' > sft.jsonl
out=$("$t2g" train --set model.from=smol --set data.task= --set data.path=sft.jsonl --set train.steps=2 \
  --set train.batch_size=2 --set train.micro_batch=2 --set eval.examples=0 --set schedule.warmup_steps=0 --out run 2>&1); code=$?
check "train from the folder: the chat template is named on the console" \
  '[ $code = 0 ] && [ -s run/checkpoint.bin ] && printf "%s" "$out" | grep -q "note: chat template chatml"'
a=$("$t2g" tokenize --model run --text "Hello world" --json 2>/dev/null)
b=$("$t2g" tokenize --model smol --text "Hello world" --json 2>/dev/null)
check "the run's checkpoint carries the tokenizer" '[ -n "$a" ] && [ "$a" = "$b" ]'
out=$("$t2g" sample --model run --prompt "2+2=" --max-new 6 --temperature 0 --json 2>&1); code=$?
check "sample from the run" '[ $code = 0 ] && printf "%s" "$out" | grep -q "\"prompt\":"'
p="caf$(printf '\303\251')"
one=$("$t2g" sample --model run --prompt "$p" --max-new 24 --temperature 0 --no-eos-stop 2>/dev/null)
two=$("$t2g" sample --model run --prompt "$p" --prompt "$p" --max-new 24 --temperature 0 --no-eos-stop 2>/dev/null)
check "one prompt streamed as generated prints what the batch prints" '[ -n "$one" ] && [ "$two" = "$(printf "%s\n%s" "$one" "$one")" ]'
out=$("$t2g" eval --model run --data sft.jsonl --json 2>&1); code=$?
check "eval --data on the run: a loss" '[ $code = 0 ] && printf "%s" "$out" | grep -q "\"loss\""'

# ---- sample and eval with --chat-template and --system-prompt ----
# the prompt's token count sample reports, and the ids tokenize gives for the same text
prompt_tokens() { "$t2g" sample --model smol --prompt "2+2=" --max-new 2 --temperature 0 --json "$@" 2>/dev/null |
  sed -n 's/.*"prompt_tokens":[[:space:]]*\([0-9]*\).*/\1/p'; }
id_count() { "$t2g" tokenize --model smol --text "2+2=" --json "$@" 2>/dev/null | sed 's/.*"ids":\[\([^]]*\)\].*/\1/' | tr ',' '\n' | wc -l; }
own=$(prompt_tokens); none=$(prompt_tokens --chat-template none); brief=$(prompt_tokens --system-prompt "Be brief.")
check "sample: the model's own template (chatml, its default system prompt) wraps the prompt, as tokenize --chat" \
  '[ -n "$own" ] && [ "$own" = $(id_count --chat) ]'
check "sample --chat-template none: the prompt's ids alone, as tokenize without --chat" \
  '[ -n "$none" ] && [ "$none" = $(id_count) ] && [ "$none" -lt "$own" ]'
check "sample --system-prompt: the ids of tokenize --chat --system-prompt, not the default's" \
  '[ -n "$brief" ] && [ "$brief" = $(id_count --chat --system-prompt "Be brief.") ] && [ "$brief" != "$own" ]'
out=$("$t2g" sample --model smol --prompt "2+2=" --max-new 2 --chat-template none 2>&1 >/dev/null)
check "sample --chat-template none: the note names the template" 'printf "%s" "$out" | grep -q "note: chat template none"'
out=$("$t2g" sample --model smol --prompt "2+2=" --chat-template vicuna 2>&1); code=$?
check "sample: an unknown chat template: exit 2 naming the option, the value and the choices" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "sample: --chat-template: .*\"vicuna\".*auto, chatml, llama3, none"'
out=$("$t2g" sample --model smol --prompt "2+2=" --chat-template llama3 2>&1); code=$?
check "sample: a template whose tokens the tokenizer lacks: exit 2 naming them" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "chat-template llama3: .*<|eot_id|>"'
out=$("$t2g" sample --model smol --prompt "2+2=" --chat-template none --system-prompt x 2>&1); code=$?
check "sample: --system-prompt with --chat-template none: exit 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "no system turn"'
out=$("$t2g" sample --model base --prompt "2+2=" --max-new 2 --chat-template chatml 2>&1); code=$?
check "sample: a byte model with --chat-template chatml: exit 2 naming the byte tokenizer" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "chatml.*byte tokenizer"'
out=$("$t2g" sample --model base --prompt "2+2=" --max-new 2 --chat-template none --json 2>&1); code=$?
check "sample: a byte model with --chat-template none: BOS and the 4 bytes" '[ $code = 0 ] && printf "%s" "$out" | grep -q "\"prompt_tokens\":[[:space:]]*5,"'
loss() { "$t2g" eval --model smol --data sft.jsonl --max-new 2 --json "$@" 2>/dev/null | tr -d ' \t\n' | sed -n 's/.*"loss":\([^,}]*\).*/\1/p'; }
own=$(loss); none=$(loss --chat-template none); brief=$(loss --system-prompt "Be brief.")
check "eval --data: --chat-template none and --system-prompt each change the responses' loss" \
  '[ -n "$own" ] && [ -n "$none" ] && [ -n "$brief" ] && [ "$none" != "$own" ] && [ "$brief" != "$own" ] && [ "$none" != "$brief" ]'
check "eval --data: the same flags give the same loss" '[ "$(loss --chat-template none)" = "$none" ]'
out=$("$t2g" eval --model smol --data sft.jsonl --chat-template vicuna 2>&1); code=$?
check "eval: an unknown chat template: exit 2 naming the option, the value and the choices" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "eval: --chat-template: .*\"vicuna\".*auto, chatml, llama3, none"'
out=$("$t2g" eval --model base --task arith --n 2 --max-new 2 --system-prompt x 2>&1); code=$?
check "eval: a byte model with --system-prompt: exit 2 naming the byte tokenizer" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "system-prompt.*byte tokenizer"'
out=$("$t2g" rl --set rl.start=smol --set data.task=arith --set rl.prompts=2 --set rl.samples_per_prompt=2 \
  --set rl.max_new_tokens=4 --set train.micro_batch=4 --set train.steps=1 --set eval.examples=0 --set schedule.warmup_steps=0 \
  --out rl 2>&1); code=$?
check "t2g rl from the folder, the built-in critic aligning spans on BPE tokens" '[ $code = 0 ] && [ -s rl/checkpoint.bin ]'
out=$("$t2g" export run --out run-hf 2>&1); code=$?
check "export writes the tokenizer files back as they were" \
  '[ $code = 0 ] && cmp -s run-hf/tokenizer.json smol/tokenizer.json && cmp -s run-hf/tokenizer_config.json smol/tokenizer_config.json'
check "config.json names the tokenizer's ids" 'tr -d " \t\n" < run-hf/config.json | grep -q "\"eos_token_id\":2,\"pad_token_id\":2"'
exit $fail
