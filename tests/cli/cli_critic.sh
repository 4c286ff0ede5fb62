#!/bin/sh
# External critics as users meet them (t2g rl): a mistyped critic.command stops the run before
# its folder is made; a critic that debugs on stdout is judged, its lines in RUN/critic.log; a
# block-buffered critic fails the run naming stdout buffering; a prompt file needs no
# "response"; the critic is sent the reference and the prompt row's other fields; `t2g critique`
# asks an external critic for one critique, and refuses the built-in one.
#   usage: cli_critic.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
src=$2
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
if ! command -v python3 >/dev/null 2>&1; then echo "cli_critic: python3 missing, skipped"; exit 0; fi
tmp=$(mktemp -d /tmp/t2g-cli-critic-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# the demo's shipped SFT checkpoint is the start: no training here
common="--set rl.start=$src/assets/demo_sft.ckpt --set rl.prompts=4 --set rl.samples_per_prompt=2 --set rl.max_new_tokens=4 \
  --set train.micro_batch=4 --set train.batch_size=8 --set schedule.warmup_steps=0 --set eval.examples=4 \
  --set rl.samples_kept=8 --set train.steps=1 --set critic.kind=external"

out=$("$t2g" rl $common --set "critic.command=python3 no-such-critic.py" --out run1 2>&1); code=$?
check "a critic script that does not exist: exit 2, naming critic.command and the script" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.command.*no-such-critic.py.*does not exist"'
check "... before the run folder is made and before the first evaluation" '[ ! -e run1 ] && ! printf "%s" "$out" | grep -q "before RL"'
out=$("$t2g" rl $common --set "critic.command=no-such-critic-program --judge" --out run1 2>&1); code=$?
check "a program that is not on PATH: exit 2, naming it" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "no-such-critic-program.*not on PATH" && [ ! -e run1 ]'

out=$("$t2g" rl $common --set "critic.command=python3 $src/tests/critics/chatty.py" --set critic.retries=0 --out run2 2>&1); code=$?
check "a critic that debugs on stdout: exit 0, no critic failure" '[ $code = 0 ] && grep -q "\"critic_failures\":0" run2/metrics.jsonl'
check "its lines are in RUN/critic.log, and the console says so once" \
  'grep -q "^debug: got id 3$" run2/critic.log && grep -q "^chatty critic ready$" run2/critic.log &&
   [ $(printf "%s" "$out" | grep -c "not replies; they are in run2/critic.log") = 1 ]'

out=$("$t2g" rl $common --set "critic.command=python3 $src/tests/critics/buffered.py" --set critic.workers=1 \
      --set critic.timeout_ms=300 --set critic.retries=0 --out run3 2>&1); code=$?
check "a block-buffered critic: exit 1, every critique timed out, naming stdout buffering and the fix" \
  '[ $code = 1 ] && printf "%s" "$out" | grep -q "every one of the 8 critiques timed out.*block-buffered.*python3 -u"'

printf '{"prompt": "12+30=", "level": 2}\n{"prompt": "7+5=", "answer": "12"}\n' > prompts.jsonl
out=$("$t2g" rl $common --set data.task= --set data.path=prompts.jsonl --set eval.examples=0 \
      --set "critic.command=python3 $src/tests/critics/context.py" --out run4 2>&1); code=$?
check "a prompt file without responses: exit 0" '[ $code = 0 ]'
check "the critic gets each row's other keys, and no reference" \
  'python3 -c "
import json, sys
said = {json.loads(l)[\"prompt\"]: json.loads(l)[\"critique\"] for l in open(\"run4/samples.jsonl\")}
assert said[\"12+30=\"] == \"reference=- fields={\\\"level\\\":2}\", said
assert said[\"7+5=\"] == \"reference=- fields={\\\"answer\\\":\\\"12\\\"}\", said"'
out=$("$t2g" rl $common --set "critic.command=python3 $src/tests/critics/context.py" --out run5 2>&1); code=$?
check "a built-in task: the critic gets its reference answer and fields" \
  '[ $code = 0 ] && python3 -c "
import json
for l in open(\"run5/samples.jsonl\"):
    s = json.loads(l)
    if s[\"kind\"] != \"rollout\": continue
    a, b = s[\"prompt\"].rstrip(\"=\").split(\"+\")
    want = \"reference=%d fields=\" % (int(a) + int(b)) + json.dumps({\"a\": a, \"b\": b, \"sum\": str(int(a) + int(b))}, separators=(\",\", \":\"))
    assert s[\"critique\"] == want, (s[\"critique\"], want)"'

out=$("$t2g" critique --set critic.kind=external --set "critic.command=python3 $src/tools/example_critic.py" \
      --prompt "347+589=" --response "The answer is 946" --reference 936 2>&1); code=$?
check "t2g critique with an external critic: exit 0, its critique and the span found" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "^critic external: " && printf "%s" "$out" | grep -q "poor .*exact .*\"The answer is 946\"" &&
   printf "%s" "$out" | grep -q "^feedback: .*The sum is 936."'
out=$("$t2g" critique --prompt "1+1=" --response "2" 2>&1); code=$?
check "t2g critique with the built-in critic: exit 2, saying which kinds it takes" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "set critic.kind to http, model or external"'

[ $fail = 0 ] && echo "cli_critic: all passed"
exit $fail
