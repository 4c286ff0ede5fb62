#!/bin/sh
# t2g demo, shortened: from a folder holding a demo.json that is not the demo's, it starts from
# the shipped SFT checkpoint, runs Text2Grad with the built-in critic, evaluates before and
# after, and writes a run folder whose report has every section and coloured rollouts;
# --from-scratch trains that SFT start first (here a few steps of it); bad options exit 2.
#   usage: cli_demo.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
src=$(cd "$2" && pwd) || exit 1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-cli-demo-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

short="--set train.steps=2 --set rl.prompts=2 --set rl.samples_per_prompt=2 --set train.micro_batch=4 --set train.batch_size=4 --set eval.examples=4 --set eval.every=0"
printf '{"name": "not-the-demo", "train": {"steps": 1}}\n' > demo.json  # a file of that name is not the demo's config
out=$("$t2g" demo $short --out demo-run 2>&1); code=$?
demo_out=$out
check "a shortened demo exits 0" '[ $code = 0 ]'
check "it says what it does, evaluates before and after, and names the report" \
  'printf "%s" "$out" | grep -q "Text2Grad on addition" && printf "%s" "$out" | grep -q "^before RL: exact_match" &&
   printf "%s" "$out" | grep -q "^eval at step 2: exact_match" && printf "%s" "$out" | grep -q "^report: demo-run/report.html$" &&
   printf "%s" "$out" | grep -q "^  the 64 sums it practised (.*): [0-9.]* -> [0-9.]*$" &&
   printf "%s" "$out" | grep -q "^  4 held-out sums it never saw: *[0-9.]* -> [0-9.]*$" &&
   [ "$(printf "%s" "$out" | tail -n 1)" = "the curves, the critiques and the token rewards: demo-run/report.html" ]'
check "it starts from the shipped SFT checkpoint" 'cmp -s demo-run/start.ckpt "$src/assets/demo_sft.ckpt"'
check "its config is the embedded one, not the demo.json in the current folder, and RL starts from start.ckpt" \
  'grep -q "\"name\":[[:space:]]*\"demo\"" demo-run/config.json && grep -q "\"start\":[[:space:]]*\"demo-run/start.ckpt\"" demo-run/config.json'
check "run.json says it was a demo" 'grep -q "\"kind\":[[:space:]]*\"demo\"" demo-run/run.json'
check "the run folder has the RL checkpoint, metrics and samples" \
  '[ -s demo-run/checkpoint.bin ] && [ -s demo-run/metrics.jsonl ] && grep -q "\"kind\":\"rollout\"" demo-run/samples.jsonl'
for section in 'id="config"' 'id="curves"' 'id="samples"' 'id="reproduce"' '<header' '<footer' 'critic score' 'rollouts at step 1 ' 'class="tok '; do
  check "the demo's report has $section" 'grep -q "$section" demo-run/report.html'
done

out=$("$t2g" demo --from-scratch --sft-set train.steps=3 --sft-set schedule.warmup_steps=1 --sft-set eval.examples=4 \
      --sft-set eval.every=0 $short --out scratch --quiet 2>&1); code=$?
check "--from-scratch trains the SFT start in the run folder first, then runs RL from it" \
  '[ $code = 0 ] && [ -s scratch/sft/checkpoint.bin ] && [ -s scratch/sft/report.html ] && [ -s scratch/checkpoint.bin ] &&
   [ ! -e scratch/start.ckpt ] && grep -q "\"start\":[[:space:]]*\"scratch/sft/checkpoint.bin\"" scratch/config.json &&
   grep -q "\"kind\":[[:space:]]*\"demo-sft\"" scratch/sft/run.json && grep -q "\"steps\":[[:space:]]*3" scratch/sft/config.json'

out=$("$t2g" demo --sft-set train.steps=3 --out nope 2>&1); code=$?
check "--sft-set without --from-scratch exits 2 and says why" '[ $code = 2 ] && printf "%s" "$out" | grep -q "from-scratch" && [ ! -e nope ]'
out=$("$t2g" demo --from-scratch --sft-set train.stepz=3 --out nope 2>&1); code=$?
check "a misspelled --sft-set key exits 2 naming it" '[ $code = 2 ] && printf "%s" "$out" | grep -q "train.stepz"'
out=$("$t2g" demo --set rl.promts=2 --out nope 2>&1); code=$?
check "a misspelled --set key exits 2 naming it" '[ $code = 2 ] && printf "%s" "$out" | grep -q "rl.promts" && [ ! -e nope ]'
practised=$("$t2g" eval --ckpt "$src/assets/demo_sft.ckpt" --task arith --practised --n 64 | sed -n 's/^  exact_match *//p')
check "the practised sums' before figure is the shipped start's own (t2g eval --practised: $practised)" \
  'printf "%s" "$demo_out" | grep -q "practised (.*): $(printf "%.3f" "$practised") -> "'
out=$("$t2g" demo --set data.task=facts --out nope 2>&1); code=$?
check "the demo is on arith: another task exits 2 pointing to t2g rl" '[ $code = 2 ] && printf "%s" "$out" | grep -q "t2g rl" && [ ! -e nope ]'
out=$("$t2g" demo $short --out demo-run 2>&1); code=$?
check "an existing run folder is refused, and left as it was" '[ $code != 0 ] && cmp -s demo-run/start.ckpt "$src/assets/demo_sft.ckpt" && [ -s demo-run/report.html ]'

[ $fail = 0 ] && echo "cli_demo: all passed"
exit $fail
