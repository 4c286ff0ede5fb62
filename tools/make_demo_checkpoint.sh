#!/bin/sh
# Makes assets/demo_sft.ckpt, the SFT checkpoint that `t2g demo` starts its Text2Grad run from:
# the built-in config assets/demo_sft.json (a 2-layer byte-level GPT on 1-3 digit addition),
# trained with t2g itself. About 20 minutes on 2 CPU cores with lavapipe. `t2g demo
# --from-scratch` redoes the same SFT inside the demo's run instead of using the shipped file.
#   tools/make_demo_checkpoint.sh [T2G]    (default build/t2g)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
t2g=${1:-$root/build/t2g}
work=$(mktemp -d /tmp/t2g-demo-sft-XXXXXX)
trap 'rm -rf "$work"' EXIT
"$t2g" train --config demo_sft --out "$work/run"
cp "$work/run/checkpoint.bin" "$root/assets/demo_sft.ckpt"
echo "wrote assets/demo_sft.ckpt ($(wc -c < "$root/assets/demo_sft.ckpt") bytes); rebuild t2g to embed it"
