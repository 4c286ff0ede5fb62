#!/bin/sh
# Bounded inputs: a config that is /dev/zero, a FIFO or too large is refused at once, naming
# the file (a FIFO used to block for ever, /dev/zero to fill memory; `timeout` turns a hang
# into a failure); t2g align refuses a critique over critic.max_spans or critic.max_bytes and a
# --batch line over data.max_line_bytes, saying which cap and how to raise it.
#   usage: cli_inputs.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
dir=$(mktemp -d /tmp/t2g-inputs-XXXXXX)
trap 'rm -rf "$dir"' EXIT
# run ARGS...: $out (standard error and output) and $code; 124 when it did not end in 60 s
run() { out=$(timeout 60 "$t2g" "$@" 2>&1 </dev/null); code=$?; }

run train --config /dev/zero
check "--config /dev/zero exits 2 naming the file and what it is" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "/dev/zero: it is a character device, not a regular file"'
mkfifo "$dir/config.fifo"
run train --config "$dir/config.fifo"
check "--config FIFO exits 2 at once, naming it" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "config.fifo: it is a FIFO"'
head -c 1048577 /dev/zero | tr '\0' ' ' > "$dir/big.json"
run train --config "$dir/big.json"
check "a config over 1 MiB exits 2 with its size and the cap" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "big.json is 1048577 bytes, more than the 1048576 bytes allowed"'

# a critique of 300 spans: over critic.max_spans (256) unless raised
spans=$(i=0; while [ $i -lt 300 ]; do printf '"cat",'; i=$((i + 1)); done)
printf '{"textual_feedback": "x", "poor_spans": [%s"cat"]}' "$spans" > "$dir/many.json"
run align --response "the cat sat" --feedback "$dir/many.json"
check "align: 301 spans exit 2, naming critic.max_spans and how to raise it" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "more than critic.max_spans = 256" && printf "%s" "$out" | grep -q -- "--set critic.max_spans=N"'
run align --response "the cat sat" --feedback "$dir/many.json" --set critic.max_spans=301 --json
check "align: --set critic.max_spans=301 reads it" '[ $code = 0 ] && printf "%s" "$out" | grep -q "\"match\":\"exact\""'
run align --response "the cat sat" --feedback "$dir/many.json" --set critic.max_spans=400 --set critic.max_bytes=100
check "align: a critique file over critic.max_bytes exits 2, naming the file and the key" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "many.json is [0-9]* bytes, more than the 100 bytes allowed (critic.max_bytes"'
out=$(head -c 200 /dev/zero | tr '\0' ' ' | timeout 60 "$t2g" align --response x --feedback - --set critic.max_bytes=100 2>&1); code=$?
check "align: standard input over critic.max_bytes exits 2" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "standard input is over 100 bytes"'
mkfifo "$dir/critique.fifo"
run align --response x --feedback "$dir/critique.fifo"
check "align: a FIFO critique exits 2 at once" '[ $code = 2 ] && printf "%s" "$out" | grep -q "critique.fifo: it is a FIFO"'
run align --response x --feedback "$dir/many.json" --set model.width=8
check "align: --set of another key exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "takes only"'

printf '{"response": "a", "critique": "{}"}\n{"response": "%s", "critique": "{}"}\n' "$(head -c 100 /dev/zero | tr '\0' a)" > "$dir/batch.jsonl"
run align --batch "$dir/batch.jsonl" --set data.max_line_bytes=64
check "align --batch: a line over data.max_line_bytes exits 2 naming the file and line" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "batch.jsonl:2: the line is longer than the 64 bytes allowed (data.max_line_bytes"'
exit $fail
