#!/bin/sh
# t2g bench kernels runs, prints JSON with a result per requested kernel, and refuses bad
# options. It checks that the benchmark works, never how fast anything is.
#   usage: cli_bench.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

json=$("$t2g" bench kernels --only gelu_forward,matmul_square,attention_backward --repeat 2 --json 2>&1); code=$?
check "bench kernels --json exits 0" '[ $code = 0 ]'
for kernel in gelu_forward matmul_square attention_backward; do
  check "a result for $kernel" 'printf "%s" "$json" | grep -q "\"kernel\":.*\"$kernel\""'
done
check "three timed results with rates" '[ $(printf "%s" "$json" | grep -c "\"median_ms\":") = 3 ] && printf "%s" "$json" | grep -q "\"gflops\":" && printf "%s" "$json" | grep -q "\"gbps\":"'
check "no kernel skipped" '! printf "%s" "$json" | grep -q "\"skipped\""'
if command -v python3 >/dev/null 2>&1; then
  check "the output parses as JSON" 'printf "%s" "$json" | python3 -c "import json,sys; r=json.load(sys.stdin)[\"results\"]; assert len(r)==3 and all(x[\"median_ms\"]>0 for x in r)"'
fi
table=$("$t2g" bench kernels --only residual_forward --repeat 1 2>/dev/null); code=$?
check "the table names the device and the kernel" '[ $code = 0 ] && printf "%s" "$table" | grep -q "^bench kernels on " && printf "%s" "$table" | grep -q "^residual_forward"'

json=$("$t2g" bench kernels --only matmul_square --matmul 24,40 --tiles auto,gpu_small --repeat 1 --json 2>&1); code=$?
check "bench kernels --matmul 24,40 --tiles auto,gpu_small times four squares" '[ $code = 0 ] && [ $(printf "%s" "$json" | grep -c "\"median_ms\":") = 4 ] && printf "%s" "$json" | grep -q "\"shape\":[[:space:]]*\"40^3\""'
check "each square names its tiles, the automatic ones marked" '[ $(printf "%s" "$json" | grep -c "\"tiles\":[[:space:]]*\"gpu_small\"") -ge 2 ] && [ $(printf "%s" "$json" | grep -c "\"auto_tiles\":[[:space:]]*true") = 2 ]'
json=$("$t2g" bench kernels --only matmul_square --matmul 24 --matmul-type bf16,f32_f16,bf16_f16 --repeat 1 --json 2>&1); code=$?
check "bench kernels --matmul-type times 16-bit operands and skips a pair without a variant, naming it" '[ $code = 0 ] && [ $(printf "%s" "$json" | grep -c "\"median_ms\":") = 2 ] && printf "%s" "$json" | grep -q "matmul_\(gemm\|gemm_cpu\|panels_cpu\)@bf16_f16"'
out=$("$t2g" bench kernels --matmul-type f8 2>&1); code=$?
check "bench kernels --matmul-type f8 exits 2" '[ $code = 2 ]'
out=$("$t2g" bench kernels --matmul 512,0 2>&1); code=$?
check "--matmul 512,0 exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-matmul expects"'
out=$("$t2g" bench kernels --tiles auto,nosuch 2>&1); code=$?
check "--tiles naming no configuration exits 2 listing them" '[ $code = 2 ] && printf "%s" "$out" | grep -q "cpu_large"'
out=$("$t2g" bench kernels --size huge 2>&1); code=$?
check "--size huge exits 2 naming the sizes" '[ $code = 2 ] && printf "%s" "$out" | grep -q "small, medium or large"'
out=$("$t2g" bench kernels --only nosuch 2>&1); code=$?
check "--only naming no kernel exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "names no kernel"'
out=$("$t2g" bench kernels --repeat 0 2>&1); code=$?
check "--repeat 0 exits 2" '[ $code = 2 ]'
json=$("$t2g" bench train --preset small --batch 2 --steps 1 --json 2>&1); code=$?
check "bench train --json reports ms/step, tokens/s, device memory and its estimate" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"ms_per_step\":" && printf "%s" "$json" | grep -q "\"tokens_per_s\":" && printf "%s" "$json" | grep -q "\"device_memory_mib\":" && printf "%s" "$json" | grep -q "\"memory_estimate_mib\":"'
json=$("$t2g" bench train --preset small --batch 2 --steps 1 --warmup 0 --logit-rows 64 --json 2>&1); code=$?
check "bench train --logit-rows 64 holds the 128 rows' logits in pieces of 64 (logit_rows in the JSON)" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"logit_rows\":[[:space:]]*64"'
json=$("$t2g" bench train --preset small --batch 2 --steps 1 --warmup 0 --json 2>&1); code=$?
check "bench train's default holds the small preset's logits whole (logit_rows 128)" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"logit_rows\":[[:space:]]*128"'
out=$("$t2g" bench train --preset small --logit-rows 100 2>&1); code=$?
check "--logit-rows 100 exits 2: a multiple of 64" '[ $code = 2 ] && printf "%s" "$out" | grep -q "\-\-logit-rows .100.: expected 0 or a multiple of 64"'
out=$("$t2g" bench train --preset smollm2-135m --batch 60000 --steps 1 2>&1); code=$?
check "bench train of a model no device holds exits 2 with the sizes and advice, allocating nothing" '[ $code = 2 ] && printf "%s" "$out" | grep -q "smollm2-135m, batch 60000" && printf "%s" "$out" | grep -q "iB" && printf "%s" "$out" | grep -q "batch size helps\|micro_batch"'
out=$("$t2g" bench train --preset small --batch 2 --steps 1 --profile 2>&1); code=$?
check "bench train --profile lists the kernels of a step" '[ $code = 0 ] && printf "%s" "$out" | grep -q "matmul_forward" && printf "%s" "$out" | grep -q "adamw"'
json=$("$t2g" bench train --preset small --batch 2 --steps 1 --profile --json 2>/dev/null); code=$?
check "bench train --profile --json splits the step into kernels and overhead" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"overhead_ms\":" && printf "%s" "$json" | grep -q "\"kernel_ms\":" && printf "%s" "$json" | grep -q "\"kernel\":[[:space:]]*\"adamw\""'
if command -v python3 >/dev/null 2>&1; then
  check "bench train --profile --json parses, kernels largest first" 'printf "%s" "$json" | python3 -c "import json,sys; p=json.load(sys.stdin)[\"profile\"]; k=[x[\"ms\"] for x in p[\"kernels\"]]; assert k==sorted(k,reverse=True) and p[\"wall_ms\"]>=p[\"kernel_ms\"]>0"'
fi
json=$("$t2g" bench rollout --preset small --prompts 2 --new 4 --json 2>&1); code=$?
check "bench rollout --json reports new tokens/s" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"new_tokens_per_s\":"'
check "... with the prefill, by default" 'printf "%s" "$json" | grep -q "\"prefill\":[[:space:]]*1"'
json=$("$t2g" bench rollout --preset small --prompts 2 --prompt-tokens 20 --new 4 --prefill off --json 2>&1); code=$?
check "bench rollout --prompt-tokens 20 --prefill off: prompts of 20 tokens, one position a step" \
  '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"prompt_tokens\":[[:space:]]*20" && printf "%s" "$json" | grep -q "\"prefill\":[[:space:]]*0"'
out=$("$t2g" bench rollout --preset small --prompt-tokens 61 --new 4 2>&1); code=$?
check "bench rollout --prompt-tokens past the context: exit 2, naming both" \
  '[ $code = 2 ] && printf "%s" "$out" | grep -q "prompt-tokens 61 and --new 4 do not fit in a context of 64"'
out=$("$t2g" bench rollout --preset small --prefill maybe 2>&1); code=$?
check "bench rollout --prefill maybe: exit 2, naming on and off" '[ $code = 2 ] && printf "%s" "$out" | grep -q "expected on or off"'
json=$("$t2g" bench train --preset small --batch 2 --steps 1 --warmup 0 --precision bf16 --json 2>&1); code=$?
check "bench train --precision bf16 trains in bf16 and says so" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"precision\":[[:space:]]*\"bf16\""'
out=$("$t2g" bench train --preset small --precision f8 2>&1); code=$?
check "bench train --precision f8 exits 2 naming the choices" '[ $code = 2 ] && printf "%s" "$out" | grep -q "f32, bf16, f16 or auto"'
out=$("$t2g" bench train --preset huge 2>&1); code=$?
check "bench train --preset huge exits 2 naming the presets" '[ $code = 2 ] && printf "%s" "$out" | grep -q "char6l384"'
out=$("$t2g" bench rollouts 2>&1); code=$?
check "an unknown benchmark exits 2" '[ $code = 2 ] && printf "%s" "$out" | grep -q "unknown benchmark"'

json=$("$t2g" bench align --json 2>&1); code=$?
check "bench align --json reports ms and work of both cases, every span right" '[ $code = 0 ] && printf "%s" "$json" | grep -q "\"ms_per_span\":" && printf "%s" "$json" | grep -q "\"right\":[[:space:]]*12" && printf "%s" "$json" | grep -q "\"right\":[[:space:]]*true"'
[ $fail = 0 ] && echo "cli_bench: all passed"
exit $fail
