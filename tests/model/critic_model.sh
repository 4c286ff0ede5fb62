#!/bin/sh
# The in-process critic (critic.kind=model) with a real model (ctest label `model`):
# SmolLM2-135M-Instruct (tools/get_model.sh) writes 16 critiques of sums, half of them wrong,
# under constrained decoding (critic.constrain=json): every one parses, none is retried, every
# critique has a score in [-1, 1]; the same 16 under "substrings" quote spans, each found
# verbatim in its response. A second identical --batch with the same critic.cache asks nothing
# (16 cache hits, no generation), and gives the same critiques.
#   usage: critic_model.sh T2G MODEL_FILE
set -u
t2g=$1
model=$2
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/t2g-critic-model-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

python3 - <<'EOF'
import json, random
rng = random.Random(7)
with open("rows.jsonl", "w") as f:
    for i in range(24):
        a, b = rng.randrange(10, 99), rng.randrange(10, 99)
        s = a + b if i % 2 == 0 else a + b + rng.choice([-10, -1, 1, 10])
        f.write(json.dumps({"prompt": "What is %d + %d?" % (a, b), "response": "%d + %d = %d." % (a, b, s),
                            "reference": str(a + b)}) + "\n")
EOF
head -16 rows.jsonl > json16.jsonl
# a short template (the built-in one is about 230 tokens, and each prompt token is a sampler step:
# tools/bench_critic.sh times that one); the constraint is what is under test here
printf '%s\n' 'Review the answer to "{{prompt}}"{{#reference}} (correct: {{reference}}){{/reference}}. Answer: {{response}}' \
  'Reply with JSON: textual_feedback, good_spans and poor_spans (phrases copied from the answer), score from -1 to 1.' \
  >prompt.txt
critic="--set critic.kind=model --set critic.model_path=$model --set critic.context=768 --set critic.max_tokens=96 \
  --set critic.prompt_file=prompt.txt"

start=$(date +%s)
"$t2g" critique --batch json16.jsonl --out json16.out $critic --set critic.workers=16 --set critic.cache=cache.jsonl \
  2>json16.err; code=$?
cat json16.err
check "16 critiques under critic.constrain=json: exit 0 ($(( $(date +%s) - start )) s)" '[ $code = 0 ]'
check "... every one parses at the first attempt, a score in [-1, 1]" 'python3 -c "
import json
rows = [json.loads(l) for l in open(\"json16.out\")]
assert len(rows) == 16, len(rows)
for r in rows:
    assert r[\"ok\"] and r[\"attempts\"] == 1, r
    assert -1 <= r[\"score\"] <= 1, r
print(\"spans per critique:\", sum(len(r[\"spans\"]) for r in rows) / 16)"'
check "... the counts say 16 judged, none unparsed, 16 requests" \
  'grep -q "16 judged, 0 without a critique (0 answers unparsed)" json16.err && grep -q "; 16 requests" json16.err'

"$t2g" critique --batch json16.jsonl --out again.out $critic --set critic.workers=16 --set critic.cache=cache.jsonl \
  2>again.err; code=$?
check "the same batch again with the same cache: exit 0, 16 cache hits, no request" \
  '[ $code = 0 ] && grep -q "; 0 requests, 0 retries, 16 cache hits" again.err'
check "... and the same critiques" 'python3 -c "
import json
a = [json.loads(l) for l in open(\"json16.out\")]
b = [json.loads(l) for l in open(\"again.out\")]
for x, y in zip(a, b):
    x.pop(\"attempts\"), y.pop(\"attempts\")
assert a == b"'

"$t2g" critique --batch json16.jsonl --out sub8.out $critic --set critic.workers=16 --set critic.constrain=substrings \
  2>sub8.err; code=$?
cat sub8.err
check "the 16 again under critic.constrain=substrings: exit 0, spans quoted, every one found exactly in its response" '[ $code = 0 ] && python3 -c "
import json
rows = [json.loads(l) for l in open(\"sub8.out\")]
assert len(rows) == 16
spans = 0
for r in rows:
    assert r[\"ok\"], r
    for s in r[\"spans\"]:
        spans += 1
        # a substring of the response, found; exactly where it is the first quote of its text (the
        # aligner gives a repeated quote the next unclaimed occurrence, which may be a looser match)
        first = s[\"text\"] not in [q[\"text\"] for q in r[\"spans\"][:r[\"spans\"].index(s)]]
        assert s[\"text\"] and s[\"text\"] in r[\"response\"] and s[\"match\"] != \"none\", (s, r[\"response\"])
        assert s[\"match\"] == \"exact\" or not first, (s, r[\"response\"])
assert spans > 0, \"no span was quoted\"
print(\"spans quoted:\", spans)"'
exit $fail
