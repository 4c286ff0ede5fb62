#!/bin/sh
# tools/experiment_table.py on small synthetic runs: the means, standard deviations, per-seed
# values and steps to 95% that it must print, valid SVG charts, and its errors.
#   usage: experiment_table.sh T2G SOURCE_DIR BUILD_DIR
set -u
src=$2
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
if ! command -v python3 >/dev/null 2>&1; then echo "skipped: python3 not installed"; exit 0; fi
tmp=$(mktemp -d /tmp/t2g-exp-table-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# arith, seeds 1 and 2: start 0.10 for all; scalar ends 0.20 and 0.30, span 0.40 and 0.50;
# span seed 1 reaches 95% of its best (0.40) at step 20 of 30 (0.38 >= 0.38).
mk() { # mk FOLDER "step value ..." (the eval curve; steps of 10)
  mkdir -p "$tmp/runs/$1"
  for pair in $2; do
    step=${pair%%:*}; value=${pair#*:}
    [ "$step" != 0 ] && echo "{\"step\":$step,\"score\":0,\"ms_per_step\":1000,\"eval\":{\"exact_match\":$value,\"seconds\":1}}"
    [ "$step" = 0 ] && echo "{\"step\":0,\"eval\":{\"exact_match\":$value}}"
  done > "$tmp/runs/$1/metrics.jsonl"
}
mk arith-scalar-1 "0:0.10 10:0.15 20:0.18 30:0.20"
mk arith-scalar-2 "0:0.10 10:0.30 20:0.25 30:0.30"
mk arith-span-1 "0:0.10 10:0.20 20:0.38 30:0.40"
mk arith-span-2 "0:0.10 10:0.50 20:0.45 30:0.50"
printf 'arith RL\t600\nfacts SFT\t1200\narith RL\t3000\n' > "$tmp/runs/wall.tsv"
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" --device "Test GPU" \
      --jobs 2 2>&1); code=$?
md="$tmp/docs/RESULTS.md"
check "the table maker exits 0 and writes RESULTS.md" '[ $code = 0 ] && [ -s "$md" ]'
check "sft arm: the start, 0.100 ± 0.000" 'grep -q "^| sft | 0.100 ± 0.000 | 0.100, 0.100 |" "$md"'
check "scalar arm: 0.250 ± 0.071 (sd of 0.2, 0.3)" 'grep -q "^| scalar | 0.250 ± 0.071 | 0.200, 0.300 |" "$md"'
check "span arm: 0.450 ± 0.071" 'grep -q "^| span | 0.450 ± 0.071 | 0.400, 0.500 |" "$md"'
# 95% of scalar seed 1's best (0.20) is 0.19, first reached at step 30 (0.18 at step 20 is short)
check "steps to 95% of the best: scalar 30 and 10 (mean 20, 67% of 30 steps), span 20 and 10 (15, 50%)" \
  'grep -q "^| scalar | 20.0 | 67% | 30, 10 | +0.150 (+0.100, +0.200) |" "$md" && grep -q "^| span | 15.0 | 50% | 20, 10 | +0.350 (+0.300, +0.400) |" "$md"'
check "span minus scalar: +0.200 (+80.0%)" 'grep -q "+0.200 (+80.0% of scalar" "$md"'
check "the paper's claims and the device are stated" 'grep -q "+25.3% BLEU" "$md" && grep -q "Test GPU" "$md"'
check "the wall time, from wall.tsv (the last line of a phase wins), with its phases and the runs at a time" \
  'grep -q "Wall time: 70.0 minutes in all, with the RL runs 2 at a time (arith RL 50.0, facts SFT 20.0)" "$md"'
check "a chart is written and linked" '[ -s "$tmp/docs/results_arith_exact_match.svg" ] && grep -q "(results_arith_exact_match.svg)" "$md"'
check "the chart is well-formed SVG" 'python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$tmp/docs/results_arith_exact_match.svg"'

check "without practised.json files there is no practised table" '! grep -q "prompts the RL arms practised" "$md"'
practised() { mkdir -p "$tmp/runs/$1"; echo "{\"prompts\":\"practised\",\"metrics\":{\"exact_match\":$2}}" > "$tmp/runs/$1/practised.json"; }
practised arith-sft 0.5; practised arith-scalar-1 0.6; practised arith-scalar-2 0.7; practised arith-span-1 0.8; practised arith-span-2 1.0
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" 2>&1); code=$?
check "with them, the practised table: sft 0.500, scalar 0.650 ± 0.071, span 0.900 ± 0.141" \
  '[ $code = 0 ] && grep -q "prompts the RL arms practised" "$md" && grep -q "^| sft | 0.500 ± 0.000 | 0.500, 0.500 |" "$md" &&
   grep -q "^| scalar | 0.650 ± 0.071 | 0.600, 0.700 |" "$md" && grep -q "^| span | 0.900 ± 0.141 | 0.800, 1.000 |" "$md"'
echo "[1,2]" > "$tmp/runs/arith-span-1/practised.json"
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" 2>&1); code=$?
check "a practised.json that is not t2g eval's output is an error naming it" '[ $code != 0 ] && printf "%s" "$out" | grep -q "arith-span-1/practised.json"'
rm -f "$tmp/runs"/*/practised.json

# a run whose start is its best: 95% of its best during RL (0.45) first at step 20; 0.45 - 0.50 below the start
mk arith-scalar-2 "0:0.50 10:0.30 20:0.45 30:0.40"
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" 2>&1); code=$?
check "a run that never beats its start: steps to 95% counted after the start (20), and the gain is negative (-0.050)" \
  '[ $code = 0 ] && grep -q "^| scalar | 25.0 | 83% | 30, 20 | +0.025 (+0.100, -0.050) |" "$md"'
mk arith-scalar-2 "0:0.10 10:0.30 20:0.25 30:0.30"

printf 'arith RL 600\n' > "$tmp/runs/wall.tsv"
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" 2>&1); code=$?
check "a wall.tsv line without a tab is an error naming the file and line" '[ $code != 0 ] && printf "%s" "$out" | grep -q "wall.tsv:1: expected PHASE<TAB>SECONDS"'
rm -f "$tmp/runs/wall.tsv"
printf '## What the runs show\n\nA reading.\n' > "$tmp/notes.md"
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" --notes "$tmp/notes.md" 2>&1); code=$?
check "--notes puts a person's reading after the tables" '[ $code = 0 ] && [ "$(tail -n 3 "$md")" = "$(printf "## What the runs show\n\nA reading.")" ]'
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" --notes "$tmp/none.md" 2>&1); code=$?
check "a missing --notes file is an error naming it" '[ $code != 0 ] && printf "%s" "$out" | grep -q "none.md"'

rm -rf "$tmp/runs/arith-span-2"
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" 2>&1); code=$?
check "a missing run is an error naming it" '[ $code != 0 ] && printf "%s" "$out" | grep -q "arith-span-2/metrics.jsonl is missing"'
mk arith-span-2 "0:0.10 10:0.50"
echo "{not json" >> "$tmp/runs/arith-span-2/metrics.jsonl"
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks arith --seeds "1 2" --docs "$tmp/docs" 2>&1); code=$?
check "a malformed metrics line is an error naming the file and line" '[ $code != 0 ] && printf "%s" "$out" | grep -q "arith-span-2/metrics.jsonl:3: not JSON"'
out=$(python3 "$src/tools/experiment_table.py" --runs "$tmp/runs" --tasks chess --seeds "1" --docs "$tmp/docs" 2>&1); code=$?
check "an unknown task is an error" '[ $code != 0 ] && printf "%s" "$out" | grep -q "chess"'

[ $fail = 0 ] && echo "experiment_table: all passed"
exit $fail
