#!/bin/sh
# t2g export --format gguf: tiny gpt2 and llama runs written as GGUF files at every dtype and read
# back by t2g (f32: the same greedy text as the run; f16, bf16, q8_0: they load and sample), the
# byte tokenizer and the golden SmolLM2-style, GPT-2 and Qwen2 BPEs read back to the same ids (their
# tokenizer.ggml.pre smollm, gpt-2, qwen2), and bad input refused (exit 2,
# named, nothing written). Weights bit-identical at f32: the gguf_export check; transformers on
# the file: tests/oracle/check_gguf_export.py.
#   usage: cli_gguf_export.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
golden=$2/tests/golden/tokenizers
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-gguf-export-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
run="--set data.examples=16 --set eval.examples=0 --set train.steps=2 --set train.batch_size=4 --set train.micro_batch=4 \
  --set schedule.warmup_steps=0 --set model.context=32 --set model.width=64 --set model.heads=4 --quiet"
llama="--set model.arch=llama --set model.kv_heads=2 --set model.tied_head=0 --set model.ffn_width=96 --set model.layers=1"
greedy() { "$t2g" sample "$@" --prompt "12+7=" --temperature 0 --max-new 12 2>/dev/null; }
text=$(printf 'Hello world 123, caf\303\251 \342\202\254 \360\237\230\200!\n\ttabs  and   spaces')

"$t2g" train $run --out gpt2 >/dev/null 2>&1
"$t2g" train $run $llama --out llama >/dev/null 2>&1
check "the test runs are made" '[ -s gpt2/checkpoint.bin ] && [ -s llama/checkpoint.bin ]'

# ---- every dtype, both architectures ----
for arch in gpt2 llama; do
  ref=$(greedy --ckpt $arch)
  for dtype in f32 f16 bf16 q8_0; do
    out=$("$t2g" export $arch --format gguf --dtype $dtype --out $arch-$dtype.gguf 2>&1); code=$?
    check "$arch --dtype $dtype: exit 0, the file and its size and tensor types printed" \
      '[ $code = 0 ] && [ -s $arch-$dtype.gguf ] && printf "%s" "$out" | grep -q "$arch-$dtype.gguf .* bytes, .* tensors"'
    got=$(greedy --model $arch-$dtype.gguf); code=$?
    check "$arch --dtype $dtype: t2g sample --model FILE runs" '[ $code = 0 ] && printf "%s" "$got" | grep -q "^12+7="'
  done
  check "$arch f32: the same greedy text as the run" '[ -n "$ref" ] && [ "$(greedy --model $arch-f32.gguf)" = "$ref" ]'
done
out=$("$t2g" export gpt2 --format gguf --dtype q8_0 --out q8.gguf 2>&1)
check "q8_0: matrices Q8_0, 1-D tensors F32" 'printf "%s" "$out" | grep -q "Q8_0 .* tensors" && printf "%s" "$out" | grep -q "F32 .* tensors"'
out=$("$t2g" export gpt2 --format gguf --out default.gguf 2>&1)
check "the default dtype is f32" 'cmp -s default.gguf gpt2-f32.gguf'

# ---- tokenizers ----
a=$("$t2g" tokenize --model gpt2 --text "$text" --json 2>&1)
b=$("$t2g" tokenize --model gpt2-f32.gguf --text "$text" --json 2>&1)
check "the byte tokenizer read back from the file: the same ids and offsets on UTF-8 text" '[ -n "$a" ] && [ "$a" = "$b" ]'
a=$("$t2g" tokenize --model gpt2 --text "$text" --add-special --json 2>&1)
b=$("$t2g" tokenize --model gpt2-f32.gguf --text "$text" --add-special --json 2>&1)
check "... and the same BOS added" '[ "$a" = "$b" ] && printf "%s" "$b" | grep -q "\"ids\":\[256,"'

"$t2g" train $run --set model.vocab=1500 --set train.steps=1 --out base >/dev/null 2>&1 && "$t2g" export base --out smol >/dev/null 2>&1
cp "$golden/smollm2/tokenizer.json" smol/tokenizer.json
cat > smol/tokenizer_config.json <<'JSON'
{"bos_token": null, "eos_token": "<|im_end|>", "pad_token": "<|im_end|>", "add_bos_token": false,
 "chat_template": "{% for m in messages %}{% if loop.first and m['role'] != 'system' %}{{ '<|im_start|>system\nYou are a small test model<|im_end|>\n' }}{% endif %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"}
JSON
out=$("$t2g" export smol --format gguf --dtype q8_0 --out smol.gguf 2>&1); code=$?
check "a model with the SmolLM2-style BPE exports" '[ $code = 0 ] && [ -s smol.gguf ]'
for flags in "" "--special" "--chat" "--add-special"; do
  a=$("$t2g" tokenize --model smol --text "$text<|im_end|>" $flags --json 2>&1)
  b=$("$t2g" tokenize --model smol.gguf --text "$text<|im_end|>" $flags --json 2>&1)
  check "the BPE read back from the file: the same ids and offsets (tokenize $flags)" '[ -n "$a" ] && [ "$a" = "$b" ]'
done
for tok in gpt2:gpt-2 qwen2:qwen2; do
  name=${tok%%:*} pre=${tok#*:}
  mkdir tok-$name && cp smol/* tok-$name/ && cp "$golden/$name/tokenizer.json" tok-$name/tokenizer.json
  [ $name = gpt2 ] && printf '{"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": true}' \
    > tok-$name/tokenizer_config.json
  "$t2g" export tok-$name --format gguf --out tok-$name.gguf >/dev/null 2>&1
  a=$("$t2g" tokenize --model tok-$name --text "$text" --json 2>&1)
  b=$("$t2g" tokenize --model tok-$name.gguf --text "$text" --json 2>&1)
  check "the golden $name BPE: tokenizer.ggml.pre \"$pre\", the same ids and offsets read back" \
    '[ -n "$a" ] && [ "$a" = "$b" ] && grep -aq "tokenizer.ggml.pre.*$pre" tok-$name.gguf'
done
out=$("$t2g" sample --model smol.gguf --prompt "Hi" --max-new 2 --temperature 0 2>&1); code=$?
check "its chat template is in the file" '[ $code = 0 ] && printf "%s" "$out" | grep -q "chat template chatml"'

# ---- bad input: exit 2, named, nothing written ----
out=$("$t2g" export gpt2 --format hf --dtype f16 --out hf 2>&1); code=$?
check "--dtype with --format hf: exit 2 naming --dtype" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-dtype f16 is for --format gguf" && [ ! -e hf ]'
out=$("$t2g" export gpt2 --format gguf --dtype q4_0 --out q4.gguf 2>&1); code=$?
check "an unknown dtype: exit 2 naming it and the known ones" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-dtype q4_0: the GGUF dtypes are f32, f16, bf16 and q8_0" && [ ! -e q4.gguf ]'
cp gpt2-f16.gguf kept.gguf
out=$("$t2g" export gpt2 --format gguf --out kept.gguf 2>&1); code=$?
check "--out an existing file: exit 2 naming it, the file kept" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-out kept.gguf exists" && cmp -s kept.gguf gpt2-f16.gguf'
out=$("$t2g" export gpt2 --format ggml --out x.ggml 2>&1); code=$?
check "an unknown format: exit 2 naming the formats" '[ $code = 2 ] && printf "%s" "$out" | grep -q "hf .* and gguf"'
mkdir odd && cp smol/* odd/ && sed 's/"use_regex": *true/"use_regex": false/' smol/tokenizer.json > odd/tokenizer.json
out=$("$t2g" export odd --format gguf --out odd.gguf 2>&1); code=$?
check "a pre-tokenizer without a GGUF name: exit 2 naming it, nothing written" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "pre_tokenizer .*Digits.* has no GGUF name" && [ ! -e odd.gguf ]'
exit $fail
