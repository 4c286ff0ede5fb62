#!/bin/sh
# t2g data: exactly N lines of JSONL with the right keys, the same for the same seed, --out
# through a temporary file, and the usage errors (exit 2, naming what was wrong).
#   usage: cli_data.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
expect() { # expect CODE PATTERN -- command...
  code=$1; pattern=$2; shift 3
  out=$("$@" 2>&1); got=$?
  if [ "$got" != "$code" ]; then echo "FAIL: '$*' exited $got, expected $code"; echo "$out"; fail=1; return; fi
  if ! printf '%s' "$out" | grep -q -- "$pattern"; then echo "FAIL: '$*' printed no '$pattern':"; echo "$out"; fail=1; return; fi
  echo "ok: $* (exit $code, '$pattern')"
}
tmp=$(mktemp -d /tmp/t2g-cli-data-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for task in arith facts; do
  "$t2g" data $task --n 37 --seed 5 > "$tmp/$task.a"; code=$?
  check "data $task --n 37 exits 0" '[ $code = 0 ]'
  check "data $task --n 37 writes exactly 37 lines" '[ "$(wc -l < "$tmp/$task.a")" -eq 37 ]'
  check "data $task: every line has prompt, response, answer and fields" \
    '[ "$(grep -c "^{\"prompt\":\".*\",\"response\":\".*\",\"answer\":\".*\",\"fields\":{\".*}}\$" "$tmp/$task.a")" -eq 37 ]'
  "$t2g" data $task --seed 5 --n 37 > "$tmp/$task.b"
  check "data $task: the same seed gives the same lines (options in any order)" 'cmp -s "$tmp/$task.a" "$tmp/$task.b"'
  "$t2g" data $task --n 37 --seed 6 > "$tmp/$task.c"
  check "data $task: another seed gives other lines" '! cmp -s "$tmp/$task.a" "$tmp/$task.c"'
  "$t2g" data $task --n 10 --seed 5 > "$tmp/$task.d"
  check "data $task: the first 10 of 37 are the 10 of --n 10" 'head -n 10 "$tmp/$task.a" | cmp -s - "$tmp/$task.d"'
  if command -v python3 >/dev/null 2>&1; then
    check "data $task: every line parses as JSON, response == answer, string fields" \
      'python3 -c "
import json, sys
n = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert set(d) == {\"prompt\", \"response\", \"answer\", \"fields\"}, d
    assert d[\"response\"] == d[\"answer\"] and d[\"prompt\"], d
    assert all(isinstance(v, str) for v in d[\"fields\"].values()), d
    if sys.argv[2] == \"arith\":
        f = d[\"fields\"]
        assert d[\"prompt\"] == f[\"a\"] + \"+\" + f[\"b\"] + \"=\" and int(d[\"answer\"]) == int(f[\"a\"]) + int(f[\"b\"]), d
    else:
        assert 3 <= len(d[\"fields\"]) <= 5 and all(v in d[\"answer\"] for v in d[\"fields\"].values()), d
    n += 1
assert n == 37
" "$tmp/$task.a" $task'
  fi
done

"$t2g" data arith --n 1 --seed 18446744073709551615 > "$tmp/big"; code=$?
check "--seed 2^64-1 is accepted, --n 1 writes one line" '[ $code = 0 ] && [ "$(wc -l < "$tmp/big")" -eq 1 ]'
"$t2g" data facts --n 3 > "$tmp/default"; code=$?
"$t2g" data facts --n 3 --seed 1 > "$tmp/seed1"
check "--seed defaults to 1" '[ $code = 0 ] && cmp -s "$tmp/default" "$tmp/seed1"'

# --out: the file holds what standard output would; no temporary file is left behind.
out=$("$t2g" data facts --n 37 --seed 5 --out "$tmp/out.jsonl" 2>&1); code=$?
check "--out exits 0 and prints nothing" '[ $code = 0 ] && [ -z "$out" ]'
check "--out writes the same lines as standard output" 'cmp -s "$tmp/out.jsonl" "$tmp/facts.a"'
check "--out leaves no temporary file" '[ "$(ls "$tmp" | grep -c "out.jsonl.tmp")" -eq 0 ]'
: > "$tmp/touched"
check "--out gives the file the mode of any new file (not mkstemp's 0600)" \
  '[ "$(ls -l "$tmp/out.jsonl" | cut -c1-10)" = "$(ls -l "$tmp/touched" | cut -c1-10)" ]'
echo old > "$tmp/old.jsonl"
"$t2g" data arith --n 4 --out "$tmp/old.jsonl"
check "--out replaces an existing file" '[ "$(wc -l < "$tmp/old.jsonl")" -eq 4 ] && ! grep -q old "$tmp/old.jsonl"'
expect 1 "cannot create a temporary file beside /nonexistent-t2g-dir/x.jsonl" -- "$t2g" data arith --n 3 --out /nonexistent-t2g-dir/x.jsonl
if [ -w /dev/full ]; then
  expect 1 "cannot write standard output" -- sh -c "\"$t2g\" data facts --n 2000 > /dev/full"
fi

expect 0 "usage: t2g data TASK" -- "$t2g" data --help
expect 0 "example: t2g data" -- "$t2g" data arith --n 3 --help
expect 0 "facts" -- "$t2g" data --help
expect 2 "unknown task 'nope'; the tasks are:" -- "$t2g" data nope --n 3
expect 2 "arith" -- "$t2g" data nope --n 3
expect 2 "no task named; expected one of" -- "$t2g" data --n 3
expect 2 "needs a value" -- "$t2g" data arith --n
expect 2 "--n N is needed" -- "$t2g" data arith
expect 2 "--n '0': expected a whole number of examples from 1 to 100000000" -- "$t2g" data arith --n 0
expect 2 "--n '-3': expected a whole number" -- "$t2g" data arith --n -3
expect 2 "--n '12x': expected a whole number" -- "$t2g" data arith --n 12x
expect 2 "--n '1e3': expected a whole number" -- "$t2g" data arith --n 1e3
expect 2 "--n '100000001': expected" -- "$t2g" data arith --n 100000001
expect 2 "--seed 'abc': expected a whole number from 0 to 18446744073709551615" -- "$t2g" data arith --n 3 --seed abc
expect 2 "--seed '-1': expected a whole number" -- "$t2g" data arith --n 3 --seed -1
expect 2 "--seed '18446744073709551616': expected" -- "$t2g" data arith --n 3 --seed 18446744073709551616
expect 2 "--seed '': expected" -- "$t2g" data arith --n 3 --seed ""
expect 2 "unknown argument '--count'" -- "$t2g" data arith --count 3
expect 2 "unknown argument 'facts'" -- "$t2g" data arith facts --n 3

[ $fail = 0 ] && echo "cli_data: all passed"
exit $fail
