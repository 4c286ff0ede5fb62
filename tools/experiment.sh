#!/bin/sh
# The experiment of the Text2Grad paper's claim, on t2g's two built-in tasks: three arms from
# the same SFT start, with the same number of rollouts and updates in each RL arm:
#   sft     no RL (the start, evaluated)
#   scalar  standard PPO: the critic's scalar score on the last token
#   span    Text2Grad: the critique's spans as per-token scores
# for several seeds (RL sampling), then docs/RESULTS.md and its charts. Every arm and seed is
# evaluated on the same held-out prompts (the task's evaluation stream for data.seed 1).
#
#   tools/experiment.sh [RUNS_DIR]          (default runs/experiment; takes about 1.5 h on 2 CPU cores)
# Environment: T2G (default build/t2g), SEEDS (default "1 2 3"), TASKS (default "arith facts"),
# DOCS (default docs). Runs already complete (their checkpoint.bin exists) are not run again,
# so an interrupted experiment continues where it stopped.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
t2g=${T2G:-$root/build/t2g}
runs=${1:-runs/experiment}
seeds=${SEEDS:-"1 2 3"}
tasks=${TASKS:-"arith facts"}
docs=${DOCS:-$root/docs}
mkdir -p "$runs" "$docs"

run() { # run FOLDER COMMAND...: skipped when FOLDER holds a checkpoint already
  folder=$1; shift
  if [ -s "$folder/checkpoint.bin" ]; then echo "experiment: $folder is done"; return; fi
  rm -rf "$folder"
  echo "experiment: $folder"
  "$@" --out "$folder" --quiet > "$folder.log" 2>&1 || { echo "experiment: $folder failed, see $folder.log" >&2; exit 1; }
}

start=$(date +%s)
for task in $tasks; do
  run "$runs/$task-sft" "$t2g" train --config "$here/experiment/${task}_sft.json"
  for seed in $seeds; do
    for arm in scalar span; do
      run "$runs/$task-$arm-$seed" "$t2g" rl --config "$here/experiment/${task}_rl.json" \
        --set "rl.start=$runs/$task-sft/checkpoint.bin" --set "rl.reward_granularity=$arm" --set "seed=$seed"
    done
  done
done
echo "experiment: runs took $(( $(date +%s) - start )) s"
python3 "$here/experiment_table.py" --runs "$runs" --tasks "$tasks" --seeds "$seeds" --docs "$docs" \
  --device "$("$t2g" devices --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["name"])')"
echo "experiment: wrote $docs/RESULTS.md"
