#!/bin/sh
# t2g report from the command line: the report every run writes at its end, one run and two
# overlaid, --out, --help, the exit codes of bad input (no run, not a run folder, a missing
# folder, malformed lines, unknown options), and the browser check (tools/check_report.sh:
# headless chromium, skipped when it is not installed).
#   usage: cli_report.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
src=$(cd "$2" && pwd) || exit 1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-report-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

small="--set model.context=16 --set model.layers=1 --set model.heads=2 --set model.width=32 --set data.examples=200"
out=$("$t2g" train $small --set train.steps=4 --set schedule.warmup_steps=1 --set eval.examples=4 --set eval.every=2 \
      --out sft --quiet 2>&1); code=$?
check "a tiny train run" '[ $code = 0 ] && [ -s sft/checkpoint.bin ]'
check "t2g train writes the run's report at the end and says where" \
  '[ -s sft/report.html ] && printf "%s" "$out" | grep -q "^report: sft/report.html$"'
out=$("$t2g" rl --set rl.start=sft/checkpoint.bin $small --set rl.prompts=2 --set rl.samples_per_prompt=2 \
      --set rl.max_new_tokens=4 --set train.micro_batch=4 --set train.batch_size=4 --set schedule.warmup_steps=0 \
      --set train.steps=2 --set eval.examples=4 --set eval.every=1 --set rl.samples_kept=2 --out rl --quiet 2>&1); code=$?
check "a tiny RL run writes its report too" '[ $code = 0 ] && [ -s rl/report.html ] && printf "%s" "$out" | grep -q "^report: rl/report.html$"'
check "the RL run's report has the RL charts and its rollouts" \
  'grep -q "critic score" rl/report.html && grep -q "rollouts at step 1 " rl/report.html && grep -q "class=\"tok " rl/report.html'

rm sft/report.html
mkdir -p sft/report.html/blocked
out=$("$t2g" train --resume sft --set train.steps=5 --quiet 2>&1); code=$?
check "a report that cannot be written is a warning: the run still exits 0" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "warning: the run report: cannot write sft/report.html"'
rm -rf sft/report.html
out=$("$t2g" report sft 2>&1); code=$?
check "t2g report RUN writes RUN/report.html, exit 0" '[ $code = 0 ] && [ -s sft/report.html ] && [ "$out" = "report: sft/report.html" ]'
check "a train run's report has the loss and no RL charts" 'grep -q "<b>loss</b>" sft/report.html && ! grep -q "critic score" sft/report.html'
out=$("$t2g" report sft/ rl --out both.html 2>&1); code=$?
check "two runs overlaid with --out, exit 0" '[ $code = 0 ] && [ -s both.html ] && [ "$out" = "report: both.html" ]'
check "the overlay's evaluation chart has one legend naming both runs" \
  'sed -n "/<b>exact_match<\/b>/,/<\/figure>/p" both.html | tr ">" "\n" | grep -c "^sft</span\|^rl</span" | grep -q "^2$"'
check "the overlay marks the config keys that differ" 'grep -q "class=\"diff\"" both.html'
check "no temporary file left" '[ -z "$(ls | grep tmp)" ] && [ -z "$(ls sft rl | grep tmp)" ]'

out=$("$t2g" report --help 2>&1); code=$?
check "--help exits 0 with the usage and an example" '[ $code = 0 ] && printf "%s" "$out" | grep -q "usage: t2g report RUN_DIR" && printf "%s" "$out" | grep -q "example: t2g report"'
out=$("$t2g" report 2>&1); code=$?
check "no run folder: exit 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "at least one run folder"'
out=$("$t2g" report sft --bogus 2>&1); code=$?
check "an unknown option: exit 2, named" '[ $code = 2 ] && printf "%s" "$out" | grep -q "unknown argument .--bogus."'
out=$("$t2g" report sft --out 2>&1); code=$?
check "--out without a value: exit 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "needs a value"'
out=$("$t2g" report no-such-run --out x.html 2>&1); code=$?
check "a missing folder: exit 2, named, nothing written" '[ $code = 2 ] && printf "%s" "$out" | grep -q "no-such-run" && [ ! -e x.html ]'
mkdir empty
out=$("$t2g" report sft empty --out x.html 2>&1); code=$?
check "a folder that is not a run: exit 2, named" '[ $code = 2 ] && printf "%s" "$out" | grep -q "empty is not a run folder" && [ ! -e x.html ]'
out=$("$t2g" report sft --out no-such-dir/x.html 2>&1); code=$?
check "an --out that cannot be written: exit 2, named" '[ $code = 2 ] && printf "%s" "$out" | grep -q "cannot write no-such-dir/x.html"'
cp -r sft bad
lines=$(wc -l < bad/metrics.jsonl)
echo '{"step": 99, "loss": ' >> bad/metrics.jsonl
out=$("$t2g" report bad 2>&1); code=$?
check "a malformed metrics line: exit 2, the file and line named, the report still written" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "bad/metrics.jsonl line $((lines + 1)): not a JSON object" && printf "%s" "$out" | grep -q "^report: bad/report.html" && grep -q "line $((lines + 1))" bad/report.html'
rm sft/run.json
out=$("$t2g" report sft --out norun.html 2>&1); code=$?
check "a run without run.json (older runs): exit 0" '[ $code = 0 ] && grep -q "guessed: no run.json" norun.html'

out=$(sh "$src/tools/check_report.sh" both.html "$tmp/both.png" 2>&1); code=$?
printf '%s\n' "$out" | sed 's/^/  check_report: /'
if printf '%s' "$out" | grep -q "^skipped: chromium not installed"; then
  echo "skipped: chromium not installed (the browser check; tools/setup.sh --chromium)"
else
  check "the browser check (tools/check_report.sh) passes on the overlay" '[ $code = 0 ] && [ -s "$tmp/both.png" ]'
  out=$(sh "$src/tools/check_report.sh" rl/report.html 2>&1); code=$?
  check "the browser check passes on the RL run's own report" '[ $code = 0 ]'
  out=$(sh "$src/tools/report_excerpt.sh" rl/report.html "$tmp/excerpt.png" 900 2>&1); code=$?
  check "the README's excerpt of a report (tools/report_excerpt.sh) is a PNG" \
    '[ $code = 0 ] && [ "$(head -c 4 "$tmp/excerpt.png" | tail -c 3)" = "PNG" ]'
  out=$(sh "$src/tools/report_excerpt.sh" rl/config.json "$tmp/not.png" 2>&1); code=$?
  check "the excerpt of a file that is not a report is refused" '[ $code != 0 ] && printf "%s" "$out" | grep -q "not a t2g report"'
fi

[ $fail = 0 ] && echo "cli_report: all passed"
exit $fail
