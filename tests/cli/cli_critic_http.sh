#!/bin/sh
# The HTTP critic as users meet it, against the OpenAI-compatible test server of
# tests/critics/openai_server.py on 127.0.0.1: `t2g critique` prints a critique with its spans;
# `t2g rl` with critic.kind=http judges every response, puts the critic's counts in metrics.jsonl
# and the report, and never writes the API key anywhere in its run folder; a second run sharing
# critic.cache makes no request at all; a server that answers 500 and garbage leaves the samples
# without critiques, counted, the run going on. Bad settings are refused naming the key.
#   usage: cli_critic_http.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
src=$2
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
if ! command -v python3 >/dev/null 2>&1; then echo "cli_critic_http: python3 missing (tools/setup.sh installs it)"; exit 1; fi
tmp=$(mktemp -d /tmp/t2g-cli-critic-http-XXXXXX)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

export T2G_TEST_KEY="sk-t2g-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
python3 "$src/tests/critics/openai_server.py" --port 0 --key-env T2G_TEST_KEY --log requests.jsonl --lifetime 300 >port.txt &
server=$!
for i in $(seq 50); do grep -q "^PORT " port.txt 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^PORT //p' port.txt)
[ -n "$port" ] || { echo "FAIL: the test server did not start"; exit 1; }
url="http://127.0.0.1:$port/v1"
http="--set critic.kind=http --set critic.url=$url --set critic.api_key_env=T2G_TEST_KEY --set critic.model=test-model"
requests() { [ -f requests.jsonl ] && wc -l <requests.jsonl | tr -d ' ' || echo 0; }

out=$("$t2g" critique $http --prompt "What is 2 + 2?" --response "2 + 2 = 4. MODE:good" --reference 4 --show-prompt 2>&1); code=$?
check "t2g critique against the server: exit 0, the prompt sent, the critique and its span found" \
  '[ $code = 0 ] && printf "%s" "$out" | grep -q "Reference answer" && printf "%s" "$out" | grep -q "critic http: .* 1 request" &&
   printf "%s" "$out" | grep -q "good .*exact .*\"MODE:good\"" && printf "%s" "$out" | grep -q "feedback: The response is fine."'
out=$("$t2g" critique $http --prompt p --response "r MODE:500" --json 2>&1); code=$?
check "a server that answers 500 twice: retried, the critique on the third request (--json)" \
  '[ $code = 0 ] && printf "%s" "$out" | python3 -c "import json, sys; o = json.load(sys.stdin); assert o[\"critic\"][\"requests\"] == 3 and o[\"critic\"][\"retries\"] == 2, o"'
out=$("$t2g" critique $http --set critic.retries=1 --prompt p --response "r MODE:garbage" 2>&1); code=$?
check "an answer with no critique in it, twice: exit 1, saying so and showing the answer" \
  '[ $code = 1 ] && printf "%s" "$out" | grep -q "no critique after 2 attempts: .*no critique in the answer" &&
   printf "%s" "$out" | grep -A1 "^its last answer:" | grep -q "nothing to add"'
out=$(T2G_TEST_KEY=wrong "$t2g" critique $http --prompt p --response "r MODE:good" 2>&1); code=$?
check "a wrong key: exit 1, HTTP 401 named" '[ $code = 1 ] && printf "%s" "$out" | grep -q "401"'
out=$(env -u T2G_TEST_KEY "$t2g" critique $http --prompt p --response r 2>&1); code=$?
check "the key's variable unset: exit 2, naming critic.api_key_env and the variable" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.api_key_env" && printf "%s" "$out" | grep -q "T2G_TEST_KEY"'
out=$("$t2g" critique --set critic.kind=http --set critic.url=ftp://example/v1 --prompt p --response r 2>&1); code=$?
check "an ftp:// URL: exit 2, naming critic.url" '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.url"'
out=$("$t2g" critique --set critic.kind=http --prompt p --response r 2>&1); code=$?
check "critic.kind=http without critic.url: exit 2, naming it" '[ $code = 2 ] && printf "%s" "$out" | grep -q "critic.url is empty"'

# HTTPS: a self-signed certificate is refused (the peer is verified against the system's CA bundle)
if command -v openssl >/dev/null 2>&1 &&
   openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1; then
  python3 "$src/tests/critics/openai_server.py" --port 0 --lifetime 60 --tls tls.crt tls.key >tls_port.txt &
  tls_server=$!
  for i in $(seq 50); do grep -q "^PORT " tls_port.txt 2>/dev/null && break; sleep 0.1; done
  tls_port=$(sed -n 's/^PORT //p' tls_port.txt)
  out=$("$t2g" critique --set critic.kind=http --set "critic.url=https://127.0.0.1:$tls_port/v1" --set critic.retries=0 \
        --prompt p --response "r MODE:good" 2>&1); code=$?
  kill $tls_server 2>/dev/null
  check "an HTTPS server with a self-signed certificate: refused, exit 1, naming the certificate" \
    '[ $code = 1 ] && printf "%s" "$out" | grep -q -i "certificate"'
else
  echo "FAIL: openssl (which ca-certificates brings, tools/setup.sh) cannot make a certificate"; fail=1
fi

# rl: the demo's shipped SFT checkpoint is the policy; the template quotes the response for the server
printf 'Judge this. MODE:quote\nRESPONSE:{{response}}\n' > prompt.txt
common="--set rl.start=$src/assets/demo_sft.ckpt --set rl.prompts=4 --set rl.samples_per_prompt=2 --set rl.max_new_tokens=4 \
  --set train.micro_batch=4 --set train.batch_size=8 --set schedule.warmup_steps=0 --set eval.examples=4 \
  --set train.steps=2 --set seed=11 $http --set critic.prompt_file=prompt.txt --set critic.cache=$tmp/shared.jsonl"
before=$(requests)
out=$("$t2g" rl $common --out run1 2>&1); code=$?
[ $code = 0 ] || printf "%s\n" "$out" | tail -20
after=$(requests)
check "t2g rl with the http critic: exit 0, 16 critiques asked for" '[ $code = 0 ] && [ $((after - before)) = 16 ]'
check "... metrics.jsonl has the critic's counts each step: 8 judged, 8 requests, 8 cache misses, tokens, spans found" \
  'python3 -c "
import json
steps = [json.loads(l) for l in open(\"run1/metrics.jsonl\") if \"critic\" in l]
steps = [s for s in steps if \"critic\" in s]
assert len(steps) == 2, steps
for s in steps:
    c = s[\"critic\"]
    assert c[\"judged\"] == 8 and c[\"requests\"] == 8 and c[\"cache_misses\"] == 8 and c[\"cache_hits\"] == 0, c
    assert c[\"prompt_tokens\"] == 88 and c[\"completion_tokens\"] == 56 and c[\"unparsed\"] == 0, c
    assert 0 < c[\"spans_per_critique\"] <= 1 and c[\"spans_found\"] == 1 and c[\"ms\"] > 0, c"'
check "... the key appears in no file of the run folder, nor in the shared cache" \
  '! grep -r -q -F "$T2G_TEST_KEY" run1 shared.jsonl'
check "... the raw answers are in RUN/critic.log, the critiques in the shared cache" \
  '[ $(grep -c "\"status\":200" run1/critic.log) = 16 ] && [ $(wc -l <shared.jsonl) = 16 ]'
"$t2g" report run1 >/dev/null 2>&1
check "... the report shows the critic's charts" 'grep -q "critic latency" run1/report.html'

before=$(requests)
out=$("$t2g" rl $common --out run2 2>&1); code=$?
after=$(requests)
check "the same run again with the same cache and seed: exit 0, no request at all, 16 cache hits" \
  '[ $code = 0 ] && [ $after = $before ] && python3 -c "
import json
hits = sum(json.loads(l)[\"critic\"][\"cache_hits\"] for l in open(\"run2/metrics.jsonl\") if \"\\\"critic\\\"\" in l)
assert hits == 16, hits"'
check "... and the same critiques" 'python3 -c "
import json
def said(run): return [(s[\"response\"], s[\"critique\"]) for s in map(json.loads, open(run + \"/samples.jsonl\")) if s[\"kind\"] == \"rollout\"]
assert said(\"run1\") == said(\"run2\")"'

printf 'MODE:500always {{response}}\n' > down.txt
out=$("$t2g" rl $common --set train.steps=1 --set critic.prompt_file=down.txt --set critic.retries=1 --set critic.cache=none \
      --out run3 2>&1); code=$?
check "a server that always answers 500: the step has no critique, the run stops with exit 1 saying why" \
  '[ $code = 1 ] && printf "%s" "$out" | grep -q "HTTP 500"'
exit $fail
