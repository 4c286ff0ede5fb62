#!/bin/sh
# t2g bench tokenize runs on a tiny built-in text and on a given file, prints JSON whose fields
# are there and sane (tokens > 0, bytes equal to the text's size, decode gives the text back),
# and refuses a missing tokenizer or one it cannot load with exit 2, naming the file. It checks
# that the benchmark works, never how fast anything is.
#   usage: bench_tokenize.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
golden=$2/tests/golden/tokenizers
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
field() { printf "%s" "$1" | sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\\([^,]*\\),\\{0,1\\}\$/\\1/p"; }

for style in gpt2 smollm2; do
  json=$("$t2g" bench tokenize --tokenizer "$golden/$style/tokenizer.json" --mb 0.02 --repeat 2 --json \
         --write-text "$work/$style.txt" --write-ids "$work/$style.ids" 2>&1); code=$?
  check "$style: exits 0" '[ $code = 0 ]'
  for name in tokenizer text cpu threads repeat special bytes tokens encode_ms encode_mb_per_s encode_tokens_per_s \
              encode_lines encode_lines_tokens encode_lines_ms encode_lines_mb_per_s decode_ms decode_mb_per_s word_cache_lookups word_cache_hit_rate round_trip; do
    check "$style: field $name" '[ -n "$(field "$json" $name)" ]'
  done
  size=$(wc -c < "$work/$style.txt")
  tokens=$(field "$json" tokens)
  check "$style: bytes ($(field "$json" bytes)) equal the text written ($size), 20000" \
    '[ "$(field "$json" bytes)" = "$size" ] && [ "$size" = 20000 ]'
  check "$style: tokens ($tokens) > 0, 4 bytes each in --write-ids" \
    '[ "$tokens" -gt 0 ] && [ "$(wc -c < "$work/$style.ids")" = $((4 * tokens)) ]'
  check "$style: decode gives the text back, and MB/s are positive" \
    '[ "$(field "$json" round_trip)" = true ] && awk "BEGIN { exit !($(field "$json" encode_mb_per_s) > 0 && $(field "$json" decode_mb_per_s) > 0) }"'
  check "$style: line by line: lines > 0, tokens > 0" \
    '[ "$(field "$json" encode_lines)" -gt 0 ] && [ "$(field "$json" encode_lines_tokens)" -gt 0 ]'
  check "$style: the hit rate is a fraction" 'awk "BEGIN { r = $(field "$json" word_cache_hit_rate); exit !(r >= 0 && r <= 1) }"'
done

json=$("$t2g" bench tokenize --tokenizer "$golden/gpt2/tokenizer.json" --text "$work/gpt2.txt" --repeat 1 --json 2>&1); code=$?
check "--text: the same file gives the same bytes and tokens" \
  '[ $code = 0 ] && [ "$(field "$json" bytes)" = 20000 ] && [ "$(field "$json" text)" = "\"$work/gpt2.txt\"" ]'
table=$("$t2g" bench tokenize --tokenizer "$golden/smollm2/tokenizer.json" --mb 0.01 --repeat 1 --special 2>&1); code=$?
check "the table names the tokenizer and reports MB/s" \
  '[ $code = 0 ] && printf "%s" "$table" | grep -q "smollm2/tokenizer.json" && printf "%s" "$table" | grep -q "^encode: .* MB/s"'

out=$("$t2g" bench tokenize --tokenizer "$work/missing.json" --mb 0.01 2>&1); code=$?
check "a missing tokenizer exits 2 naming the file" '[ $code = 2 ] && printf "%s" "$out" | grep -q "missing.json"'
out=$("$t2g" bench tokenize --tokenizer "$work/gpt2.txt" --mb 0.01 2>&1); code=$?
check "a file that is not a tokenizer exits 2 naming it" '[ $code = 2 ] && printf "%s" "$out" | grep -q "gpt2.txt: not valid JSON"'
out=$("$t2g" bench tokenize --mb 0.01 2>&1); code=$?
check "no --tokenizer exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-tokenizer FILE is required"'
printf 'ok \377 no' > "$work/bad.txt"
out=$("$t2g" bench tokenize --tokenizer "$golden/gpt2/tokenizer.json" --text "$work/bad.txt" 2>&1); code=$?
check "a text that is not UTF-8 exits 2 naming the file and the byte" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "bad.txt: the text is not valid UTF-8 at byte 3"'
out=$("$t2g" bench tokenize --tokenizer "$golden/gpt2/tokenizer.json" --repeat 0 2>&1); code=$?
check "--repeat 0 exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-repeat expects"'
out=$("$t2g" bench tokenize --tokenizer "$golden/qwen2/tokenizer.json" --mb 0.01 --json 2>&1); code=$?
check "qwen2 (NFC) is either benchmarked or refused by name with exit 2, never a crash" \
  '{ [ $code = 0 ] && printf "%s" "$out" | grep -q "\"tokens\":"; } || { [ $code = 2 ] && printf "%s" "$out" | grep -q "qwen2/tokenizer.json: .*NFC"; }'
[ $fail = 0 ] && echo "bench_tokenize: all passed"
exit $fail
