#!/bin/sh
# A real HTTP critic (ctest label `model`): llama.cpp's OpenAI-compatible server
# (llama-cpp-python's `python -m llama_cpp.server`, from tools/setup.sh --llama-cpp) serving
# SmolLM2-135M-Instruct's GGUF on 127.0.0.1, judging a short `t2g rl` run (the demo's SFT policy
# on addition, 2 steps of 4 responses) through critic.kind=http with JSON mode: every response
# gets a critique, the counts are in metrics.jsonl, the raw answers in critic.log; then
# `t2g critique` of one response prints its critique. The model is small: what it says is not
# checked, only that it arrives and is read.
#   usage: llama_server_critic.sh LLAMA_CPP_PYTHON T2G MODEL_FILE SOURCE_DIR
set -u
python=$1
t2g=$2
model=$3
src=$4
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
if ! "$python" -c "import uvicorn, fastapi, sse_starlette, starlette_context, pydantic_settings" 2>/dev/null; then
  echo "FAIL: llama.cpp's server needs its packages in $python's venv: run tools/setup.sh --llama-cpp"
  exit 1
fi
tmp=$(mktemp -d /tmp/t2g-llama-server-XXXXXX)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
port=$("$python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$python" -m llama_cpp.server --model "$model" --host 127.0.0.1 --port "$port" --n_ctx 2048 --chat_format chatml \
  >server.log 2>&1 &
server=$!
for i in $(seq 120); do grep -q "Uvicorn running" server.log && break; sleep 0.5; done
grep -q "Uvicorn running" server.log || { cat server.log; echo "FAIL: llama.cpp's server did not start"; exit 1; }
http="--set critic.kind=http --set critic.url=http://127.0.0.1:$port/v1 --set critic.model=smollm2 --set critic.workers=1 \
  --set critic.max_tokens=160 --set critic.timeout_ms=120000"

start=$(date +%s)
out=$("$t2g" rl --set rl.start="$src/assets/demo_sft.ckpt" --set rl.prompts=2 --set rl.samples_per_prompt=2 \
      --set rl.max_new_tokens=4 --set train.micro_batch=4 --set train.batch_size=4 --set schedule.warmup_steps=0 \
      --set eval.examples=4 --set train.steps=2 $http --out run 2>&1); code=$?
seconds=$(( $(date +%s) - start ))
[ $code = 0 ] || printf "%s\n" "$out" | tail -20
check "t2g rl judged by llama.cpp's server: exit 0 ($seconds s for 2 steps of 4 critiques)" '[ $code = 0 ]'
check "... every response has a critique; requests, tokens and latency in metrics.jsonl" 'python3 -c "
import json
steps = [json.loads(l) for l in open(\"run/metrics.jsonl\")]
steps = [s for s in steps if \"critic\" in s]
assert len(steps) == 2, steps
for s in steps:
    c = s[\"critic\"]
    assert c[\"judged\"] == 4 and c[\"failed\"] == 0 and c[\"requests\"] >= 4, c
    assert c[\"prompt_tokens\"] > 0 and c[\"completion_tokens\"] > 0 and c[\"latency_ms\"] > 0, c
    print(\"step\", s[\"step\"], \"critic ms\", round(c[\"ms\"]), \"requests\", c[\"requests\"], \"tokens\", c[\"prompt_tokens\"], \"+\", c[\"completion_tokens\"])"'
check "... the server's raw answers are in run/critic.log" '[ $(grep -c "\"status\":200" run/critic.log) -ge 8 ]'

out=$("$t2g" critique $http --prompt "What is 17 + 25?" --response "17 + 25 = 43." --reference 42 2>&1); code=$?
printf "%s\n" "$out"
check "t2g critique against llama.cpp's server: exit 0, a critique read" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "^critic http: .* 1 request" && printf "%s" "$out" | grep -q "^feedback: "'
exit $fail
