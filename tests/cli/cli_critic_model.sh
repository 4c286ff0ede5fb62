#!/bin/sh
# The in-process critic (critic.kind=model) as users meet it, with a tiny byte-level model trained
# here for one step: it writes noise, so only the constraint stands between it and garbage.
# Under critic.constrain=json every critique parses, whatever the model would say, even when the
# token budget (critic.max_tokens) is just enough to close the JSON; under "substrings" every
# quoted span is found verbatim in its response; under "none" the noise does not parse and is
# counted, never turned into a critique. t2g rl judged by it counts its memory. Bad settings are
# refused naming the key.
#   usage: cli_critic_model.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
if ! command -v python3 >/dev/null 2>&1; then echo "cli_critic_model: python3 missing (tools/setup.sh installs it)"; exit 1; fi
tmp=$(mktemp -d /tmp/t2g-cli-critic-model-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

"$t2g" train --set data.task=arith --set model.context=400 --set model.layers=1 --set model.width=32 --set model.heads=2 \
  --set train.steps=1 --set train.batch_size=4 --set train.micro_batch=4 --set eval.every=0 --set eval.examples=4 \
  --set checkpoint.every=0 --out critic --quiet >train.log 2>&1 || { cat train.log; echo "FAIL: training the critic"; exit 1; }
printf '{{response}}\n' > prompt.txt
python3 - <<'EOF'
import json
rows = [("1+1=", "2"), ("2+2=", "the answer is \"4\"\nor \\ 5"), ("3+4=", "7 caf\u00e9 7"), ("9+9=", "")]
with open("rows.jsonl", "w") as f:
    for p, r in rows * 2:
        f.write(json.dumps({"prompt": p, "response": r}) + "\n")
with open("mixed.jsonl", "w") as f:  # a response too long for critic.context among ones that fit
    for p, r in rows[:2] + [("5+5=", "10 " * 170)] + rows[2:] + rows * 3:
        f.write(json.dumps({"prompt": p, "response": r}) + "\n")
EOF
critic="--set critic.kind=model --set critic.model_path=critic --set critic.prompt_file=prompt.txt --set critic.context=160"

for temperature in 0 1.5; do
  "$t2g" critique --batch rows.jsonl --out json.out $critic --set critic.workers=3 --set critic.max_tokens=120 \
    --set critic.temperature=$temperature 2>json.err; code=$?
  check "constrain=json, temperature $temperature: 8 critiques of noise, every one parses" '[ $code = 0 ] && python3 -c "
import json
rows = [json.loads(l) for l in open(\"json.out\")]
assert len(rows) == 8 and all(r[\"ok\"] for r in rows), rows
assert all(-1 <= r[\"score\"] <= 1 for r in rows)" && grep -q "8 judged, 0 without a critique (0 answers unparsed)" json.err'
done

# the shortest critique: {"textual_feedback":"","good_spans":[],"poor_spans":[],"score":0} is 65 bytes
"$t2g" critique --batch rows.jsonl --out tight.out $critic --set critic.workers=8 --set critic.max_tokens=65 \
  --set critic.temperature=1 2>tight.err; code=$?
check "a budget of 65 tokens, just the shortest critique: all 8 still parse" \
  '[ $code = 0 ] && grep -q "8 judged, 0 without a critique" tight.err'
out=$("$t2g" critique --batch rows.jsonl $critic --set critic.max_tokens=64 2>&1); code=$?
check "a budget of 64 tokens: refused before anything is asked, exit 2, naming critic.max_tokens and 65" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.max_tokens 64 is below the 65 tokens"'

# the noise fills the feedback until it happens to close it: a budget that leaves room for spans
"$t2g" critique --batch mixed.jsonl --out sub.out $critic --set critic.context=400 --set critic.workers=17 \
  --set critic.max_tokens=380 --set critic.temperature=1.2 --set critic.constrain=substrings 2>sub.err; code=$?
check "constrain=substrings: every span is a non-empty piece of its own response, found exactly; the row too long for critic.context fails alone, saying so" '[ $code = 0 ] && python3 -c "
import json
rows = [json.loads(l) for l in open(\"sub.out\")]
assert len(rows) == 17 and not rows[2][\"ok\"] and \"over critic.context 400\" in rows[2][\"error\"], rows[2]
rows = rows[:2] + rows[3:]
assert all(r[\"ok\"] for r in rows)
spans = 0
for r in rows:
    for s in r[\"spans\"]:
        spans += 1
        # a substring of the response, found; exactly where it is the first quote of its text (the
        # aligner gives a repeated quote the next unclaimed occurrence, which may be a looser match)
        first = s[\"text\"] not in [q[\"text\"] for q in r[\"spans\"][:r[\"spans\"].index(s)]]
        assert s[\"text\"] and s[\"text\"] in r[\"response\"] and s[\"match\"] != \"none\", (s, r[\"response\"])
        assert s[\"match\"] == \"exact\" or not first, (s, r[\"response\"])
assert spans > 0, \"no span was quoted: nothing of the constraint on spans was exercised\"
print(\"spans quoted:\", spans)"'

"$t2g" critique --batch rows.jsonl --out none.out $critic --set critic.max_tokens=40 --set critic.temperature=1 \
  --set critic.constrain=none --set critic.retries=0 2>none.err; code=$?
check "constrain=none: the noise is counted as unparsed, no critique made up (exit 1: none at all)" \
  '[ $code = 1 ] && grep -q "0 judged, 8 without a critique (8 answers unparsed)" none.err'
check "... each row keeps the answer that did not parse" 'python3 -c "
import json
rows = [json.loads(l) for l in open(\"none.out\")]
assert len(rows) == 8 and all(not r[\"ok\"] and \"answer\" in r for r in rows), rows"'

# RL judged by the model critic (the same tiny model as the policy): the run's memory line counts
# the generator (its KV cache) and the critic's model and generator beside the policy
out=$("$t2g" rl --set rl.start=critic --set rl.prompts=2 --set rl.samples_per_prompt=2 \
  --set rl.max_new_tokens=4 --set train.micro_batch=4 --set train.batch_size=4 --set train.steps=1 --set eval.examples=0 \
  $critic --set critic.max_tokens=70 --set critic.temperature=1 --out rl 2>&1); code=$?
check "t2g rl with critic.kind=model: exit 0; the memory line counts the generation (KV cache of 4 sequences) and the critic model" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "generation [0-9.]* MiB (KV cache of 4 sequences), critic model [0-9.]* MiB: "'

out=$("$t2g" critique --prompt p --response r --set critic.kind=model --set critic.model_path=no-such-model 2>&1); code=$?
check "a model path that does not exist: exit 2, naming critic.model_path" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.model_path no-such-model"'
out=$("$t2g" critique --prompt p --response r --set critic.kind=model 2>&1); code=$?
check "critic.kind=model without critic.model_path: exit 2, naming it" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.model_path is empty"'
printf '{{prompt}} {{answer}}\n' > bad_prompt.txt
out=$("$t2g" critique --prompt p --response r $critic --set critic.prompt_file=bad_prompt.txt 2>&1); code=$?
check "a template with an unknown placeholder: exit 2, naming the file and line" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.prompt_file bad_prompt.txt, line 1: unknown placeholder {{answer}}"'
printf '{"prompt": "x"}\n' > bad_rows.jsonl
out=$("$t2g" critique --batch bad_rows.jsonl $critic 2>&1); code=$?
check "a --batch line without a response: exit 2, naming the line" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "bad_rows.jsonl:1: no string \"response\""'
exit $fail
