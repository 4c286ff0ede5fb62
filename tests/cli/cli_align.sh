#!/bin/sh
# t2g align: --json is exactly one JSON object with the tokens and spans, the readable view,
# --feedback - from standard input, a response file's final newline kept, invalid UTF-8 as \xHH
# tokens, the scoring switches, --batch with a malformed line and an unparsable critique,
# --ckpt's vocabulary check, and every usage error with its exit code.
#   usage: cli_align.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
have_python=false
command -v python3 >/dev/null 2>&1 && have_python=true
# py CODE: runs python3 on standard input (the JSON) with `d` the parsed object
py() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); $1"; }

dir=$(mktemp -d /tmp/t2g-align-XXXXXX)
trap 'rm -rf "$dir"' EXIT

cat > "$dir/critique.txt" <<'EOF'
Here is my assessment of the response.
```json
{"textual_feedback": "The sum is right but the \"carry\" step is wrong.",
 "good_spans": ["12 + 30 = 42"], "poor_spans": ["carry the one", "Carry The Two", "nowhere at all"]}
```
EOF
response='We add 12 + 30 = 42, then carry the one. Next we carry the two.'

out=$("$t2g" align --help 2>&1); code=$?
check "--help exits 0 and shows the usage" '[ $code = 0 ] && printf "%s" "$out" | grep -q "usage: t2g align"'

json=$("$t2g" align --response "$response" --feedback "$dir/critique.txt" --json 2>"$dir/err"); code=$?
check "--json exits 0, nothing on standard error" '[ $code = 0 ] && [ ! -s "$dir/err" ]'
check "--json is one line beginning with {" '[ "$(printf "%s\n" "$json" | wc -l)" = 1 ] && printf "%s" "$json" | grep -q "^{\"tokens\":\["'
if $have_python; then
  check "--json parses as exactly one JSON object: a token per byte, offsets, scores" 'printf "%s" "$json" | py "
t = d[\"tokens\"]; r = \"$response\"
assert sorted(d) == [\"spans\", \"tokens\"], sorted(d)
assert len(t) == len(r) and all(x[\"start\"] == i and x[\"end\"] == i + 1 and x[\"text\"] == r[i] for i, x in enumerate(t))
assert sorted(t[0]) == [\"end\", \"score\", \"start\", \"text\"]
s = {x[\"start\"]: x[\"score\"] for x in t}
assert s[r.index(\"12\")] == 1 and s[r.index(\" + \")] == 0 and s[r.index(\"carry\")] == -1 and s[0] == 0, s
"'
  check "--json spans: text, kind, match, offsets (-1 unmatched)" 'printf "%s" "$json" | py "
sp = d[\"spans\"]; r = \"$response\"
want = [(\"12 + 30 = 42\", \"good\", \"exact\"), (\"carry the one\", \"poor\", \"exact\"), (\"Carry The Two\", \"poor\", \"normalized\"), (\"nowhere at all\", \"poor\", \"none\")]
assert [(x[\"text\"], x[\"kind\"], x[\"match\"]) for x in sp] == want, sp
assert r[sp[0][\"start\"]:sp[0][\"end\"]] == \"12 + 30 = 42\" and r[sp[2][\"start\"]:sp[2][\"end\"]] == \"carry the two\"
assert sp[3][\"start\"] == -1 and sp[3][\"end\"] == -1
"'
fi

out=$(NO_COLOR=1 "$t2g" align --response "$response" --feedback "$dir/critique.txt" 2>&1); code=$?
check "readable view exits 0" '[ $code = 0 ]'
check "readable view marks scores with brackets off a terminal" 'printf "%s" "$out" | grep -q "add \[+12\] + \[+30\] = \[+42\], then" && printf "%s" "$out" | grep -q "\[-carry\] \[-the\] \[-one\]" && ! printf "%s" "$out" | grep -q "$(printf "\033")"'
check "readable view lists the spans with match and offsets" 'printf "%s" "$out" | grep -q "spans: 3 found of 4" && printf "%s" "$out" | grep -q "poor *normalized *\[49, 62) *\"Carry The Two\" -> \"carry the two\"" && printf "%s" "$out" | grep -q "poor *none *- *\"nowhere at all\""'
check "readable view shows the feedback" 'printf "%s" "$out" | grep -q "feedback: The sum is right but the \"carry\" step is wrong."'
if command -v script >/dev/null 2>&1 && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
  printf '{"good_spans": ["big"], "poor_spans": ["dog"]}' > "$dir/colour.json"
  out=$(env -u NO_COLOR script -qec "'$t2g' align --response 'a big dog' --feedback '$dir/colour.json'" /dev/null </dev/null 2>&1)
  esc=$(printf '\033')
  check "readable view on a terminal: colours, no brackets" 'printf "%s" "$out" | grep -q "a ${esc}\[1;32mbig${esc}\[0m ${esc}\[1;31mdog${esc}\[0m" && ! printf "%s" "$out" | grep -q "\[+big\]"'
fi

json=$(printf '{"good_spans": ["lazy"]}' | "$t2g" align --response 'a lazy dog' --feedback - --json); code=$?
check "--feedback - reads standard input" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"match\":\"exact\",\"start\":2,\"end\":6"'

printf 'first line\nsecond line\n' > "$dir/response.txt"
json=$(printf '{"poor_spans": ["second line"]}' | "$t2g" align --response-file "$dir/response.txt" --feedback - --json); code=$?
check "a response file's final newline is kept as a token" '[ $code = 0 ] && printf "%s" "$json" | grep -q "{\"text\":\"\\\\n\",\"start\":22,\"end\":23,\"score\":0}\]"'

printf 'caf\303\251 \377 ok' > "$dir/utf8.txt"
json=$(printf '{"good_spans": ["caf\303\251"]}' | "$t2g" align --response-file "$dir/utf8.txt" --feedback - --json); code=$?
check "invalid UTF-8 and split characters give \\xHH tokens" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"text\":\"\\\\\\\\xC3\",\"start\":3,\"end\":4,\"score\":1" && printf "%s" "$json" | grep -q "\"text\":\"\\\\\\\\xFF\",\"start\":6,\"end\":7,\"score\":0"'
if $have_python; then
  check "the \\xHH output is valid JSON and UTF-8" 'printf "%s" "$json" | py "assert d[\"tokens\"][3][\"text\"] == \"\\\\xC3\" and d[\"spans\"][0][\"end\"] == 5"'
fi

json=$(printf '{"good_spans": ["big dog"]}' | "$t2g" align --response 'a big dog.' --feedback - --json --unannotated 1 --keep-punctuation)
check "--unannotated 1 and --keep-punctuation" 'printf "%s" "$json" | grep -q "{\"text\":\"a\",\"start\":0,\"end\":1,\"score\":1}" && printf "%s" "$json" | grep -q "{\"text\":\" \",\"start\":5,\"end\":6,\"score\":1}"'
json=$(printf '{"good_spans": ["big dog"]}' | "$t2g" align --response 'a big dog.' --feedback - --json --unannotated 0.1)
check "--unannotated 0.1 is written as 0.1, punctuation 0" 'printf "%s" "$json" | grep -q "{\"text\":\"a\",\"start\":0,\"end\":1,\"score\":0.1}" && printf "%s" "$json" | grep -q "{\"text\":\".\",\"start\":9,\"end\":10,\"score\":0}"'
json=$(printf '{"good_spans": ["definitly big"]}' | "$t2g" align --response 'It is definitely big.' --feedback - --json)
json2=$(printf '{"good_spans": ["definitly big"]}' | "$t2g" align --response 'It is definitely big.' --feedback - --json --threshold 0.99)
check "--threshold: a fuzzy match at 0.7, none at 0.99" 'printf "%s" "$json" | grep -q "\"match\":\"fuzzy\",\"start\":6,\"end\":20" && printf "%s" "$json2" | grep -q "\"match\":\"none\""'

# --batch: a good record, a malformed line, a critique that cannot be parsed, a critique object
cat > "$dir/batch.jsonl" <<'EOF'
{"prompt": "Add 2 and 2.", "response": "2 + 2 = 5", "critique": "{\"textual_feedback\": \"wrong\", \"poor_spans\": [\"= 5\"]}"}
{"prompt": "broken", "response":
{"prompt": "P", "response": "fine answer", "critique": "I liked it, no JSON here."}

{"response": "a good one", "critique": {"textual_feedback": "ok", "good_spans": ["good one", "absent"]}}
EOF
"$t2g" align --batch "$dir/batch.jsonl" > "$dir/out.jsonl" 2> "$dir/err"; code=$?
check "--batch with a malformed line exits 1" '[ $code = 1 ]'
check "--batch names the malformed line" 'grep -q "batch.jsonl:2: not JSON" "$dir/err"'
check "--batch writes the other 3 records" '[ "$(wc -l < "$dir/out.jsonl")" = 3 ]'
check "--batch summary on standard error" 'grep -q "align: 3 records, 1 malformed lines skipped, 1 critiques unparsed; spans found: good 1/2 (exact 1, normalized 0, fuzzy 0), poor 1/1 (exact 1, normalized 0, fuzzy 0), neutral 0/0" "$dir/err"'
if $have_python; then
  check "--batch records: prompt, response, tokens, spans, parse_error" 'python3 -c "
import json
lines = [json.loads(l) for l in open(\"$dir/out.jsonl\")]
a, b, c = lines
assert a[\"prompt\"] == \"Add 2 and 2.\" and a[\"response\"] == \"2 + 2 = 5\" and \"parse_error\" not in a
assert [t[\"score\"] for t in a[\"tokens\"]] == [0, 0, 0, 0, 0, 0, 0, 0, -1], a[\"tokens\"]
assert a[\"spans\"] == [{\"text\": \"= 5\", \"kind\": \"poor\", \"match\": \"exact\", \"start\": 6, \"end\": 9}]
assert \"no JSON object\" in b[\"parse_error\"] and b[\"spans\"] == [] and len(b[\"tokens\"]) == 11
assert c[\"prompt\"] == \"\" and c[\"spans\"][0][\"match\"] == \"exact\" and c[\"spans\"][1][\"match\"] == \"none\"
"'
fi
"$t2g" align --batch "$dir/batch.jsonl" --out "$dir/out2.jsonl" 2>/dev/null
check "--batch --out writes the same file" 'cmp -s "$dir/out.jsonl" "$dir/out2.jsonl"'
head -1 "$dir/batch.jsonl" > "$dir/one.jsonl"
"$t2g" align --batch "$dir/one.jsonl" > /dev/null 2>&1; code=$?
check "--batch without malformed lines exits 0" '[ $code = 0 ]'

# --ckpt: a checkpoint's config must be a byte-level model's
if $have_python; then
  for vocab in 259 300; do
    python3 - "$dir/v$vocab.bin" "$vocab" <<'EOF'
import struct, sys, zlib
config = ('{"model": {"vocab": %s}}' % sys.argv[2]).encode()
body = b"T2GCKPT\0" + struct.pack("<II", 1, 56) + struct.pack("<7Q", 0, 0, 0, 0, 0, 0, len(config)) + config
open(sys.argv[1], "wb").write(body + struct.pack("<I", zlib.crc32(body)))
EOF
  done
  out=$("$t2g" align --ckpt "$dir/v259.bin" --response 'a b' --feedback "$dir/critique.txt" --json 2>&1); code=$?
  check "--ckpt of a byte-level model (vocab 259) is accepted" '[ $code = 0 ]'
  out=$("$t2g" align --ckpt "$dir/v300.bin" --response 'a b' --feedback "$dir/critique.txt" 2>&1); code=$?
  check "--ckpt of another vocabulary exits 2 and says why" '[ $code = 2 ] && printf "%s" "$out" | grep -q "vocabulary of 300 tokens"'
fi
out=$("$t2g" align --ckpt "$dir/missing.bin" --response 'a' --feedback "$dir/critique.txt" 2>&1); code=$?
check "--ckpt of a missing file exits 2 naming it" '[ $code = 2 ] && printf "%s" "$out" | grep -q "missing.bin"'

# usage errors: exit 2 with a message
usage() { # usage LABEL PATTERN ARGS...
  label=$1; pattern=$2; shift 2
  out=$("$t2g" align "$@" 2>&1 </dev/null); code=$?
  check "$label exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q -- "$pattern"'
}
usage "no arguments" "no response"
usage "no --feedback" "no critique" --response x
usage "--response and --response-file" "exclusive" --response x --response-file "$dir/response.txt" --feedback -
usage "a missing critique file" "cannot read the critique $dir/nope.json" --response x --feedback "$dir/nope.json"
usage "a missing response file" "cannot read the response file" --response-file "$dir/nope.txt" --feedback -
usage "a missing batch file" "cannot read" --batch "$dir/nope.jsonl"
usage "an unknown option" "unknown argument '--frobnicate'" --frobnicate
usage "--threshold 0" "expected a similarity in (0, 1]" --threshold 0 --response x --feedback -
usage "--threshold 1.5" "expected a similarity in (0, 1]" --threshold 1.5 --response x --feedback -
usage "--unannotated abc" "--unannotated 'abc'" --unannotated abc --response x --feedback -
usage "--out without --batch" "--out goes with --batch" --out "$dir/x" --response x --feedback -
usage "--batch with --response" "drop --response" --batch "$dir/batch.jsonl" --response x
usage "--feedback without its value" "needs a value" --response x --feedback
printf '{"good_spans": ["a", "b",]}' > "$dir/trailing.json"
usage "a malformed critique" "trailing comma (at line 1, column 25 (byte 24))" --response x --feedback "$dir/trailing.json"
printf '{"word_score_list": [["a", 1], ["b", 2]]}' > "$dir/words.json"
usage "a bad word score" '"word_score_list"\[1\] must be \[word, -1|0|1\]' --response x --feedback "$dir/words.json"
printf '' > "$dir/empty.json"
usage "an empty critique" "the critique is empty" --response x --feedback "$dir/empty.json"

[ $fail = 0 ] && echo "cli_align: all passed"
exit $fail
