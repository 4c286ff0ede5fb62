#!/bin/sh
# How often a small in-process critic writes a critique that parses, with and without the JSON
# constraint (critic.constrain none / json / substrings), over the same sums (half of them wrong),
# and what each costs: one `t2g critique --batch` per mode, JSON on stdout.
#   tools/bench_critic.sh MODEL [ROWS] [MAX_TOKENS]   (ROWS default 32, MAX_TOKENS default 128)
# MODEL: the critic (critic.model_path), e.g. the GGUF of tools/get_model.sh smollm2-135m-instruct.
# T2G (default build/t2g) is the binary; T2G_DEVICE picks the device as usual.
set -eu
[ $# -ge 1 ] || { echo "usage: tools/bench_critic.sh MODEL [ROWS] [MAX_TOKENS]" >&2; exit 2; }
model=$1
rows=${2:-32}
max_tokens=${3:-128}
t2g=${T2G:-build/t2g}
tmp=$(mktemp -d /tmp/t2g-bench-critic-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

python3 - "$rows" "$tmp/rows.jsonl" <<'EOF'
import json, random, sys
rng = random.Random(11)
with open(sys.argv[2], "w") as f:
    for i in range(int(sys.argv[1])):
        a, b = rng.randrange(10, 999), rng.randrange(10, 999)
        s = a + b if i % 2 == 0 else a + b + rng.choice([-100, -10, -1, 1, 10, 100])
        f.write(json.dumps({"prompt": "What is %d + %d?" % (a, b), "response": "%d + %d = %d." % (a, b, s),
                            "reference": str(a + b)}) + "\n")
EOF
for mode in none json substrings; do
  start=$(date +%s.%N)
  "$t2g" critique --batch "$tmp/rows.jsonl" --out "$tmp/$mode.jsonl" --set critic.kind=model --set "critic.model_path=$model" \
    --set critic.context=1024 --set "critic.max_tokens=$max_tokens" --set critic.workers=16 --set critic.retries=0 \
    --set "critic.constrain=$mode" 2>"$tmp/$mode.err" || true
  end=$(date +%s.%N)
  echo "$start $end" >"$tmp/$mode.time"
done
python3 - "$tmp" "$model" "$rows" "$max_tokens" <<'EOF'
import json, os, sys
tmp, model, rows, max_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = {"model": os.path.basename(model), "rows": rows, "max_tokens": max_tokens}
for mode in ("none", "json", "substrings"):
    path = os.path.join(tmp, mode + ".jsonl")
    results = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
    start, end = map(float, open(os.path.join(tmp, mode + ".time")).read().split())
    parsed = [r for r in results if r["ok"]]
    spans = [s for r in parsed for s in r["spans"]]
    out[mode] = {"parsed": len(parsed), "parse_rate": len(parsed) / rows if rows else 0,
                 "spans": len(spans), "spans_found": sum(s["match"] != "none" for s in spans),
                 "seconds": round(end - start, 1), "counts": open(os.path.join(tmp, mode + ".err")).read().strip()}
print(json.dumps(out, indent=1))
EOF
