#!/bin/sh
# The experiment of the Text2Grad paper's claim, on t2g's two built-in tasks: three arms from
# the same SFT start, with the same number of rollouts and updates in each RL arm:
#   sft     no RL (the start, evaluated)
#   scalar  standard PPO: the critic's scalar score on the last token
#   span    Text2Grad: the critique's spans as per-token scores
# for several seeds (RL sampling), then docs/RESULTS.md and its charts. Every arm and seed is
# evaluated on the same held-out prompts (the task's evaluation stream for data.seed 1) and, at
# the end, on the prompts the RL arms practised (t2g eval --practised, into practised.json).
#
# The arith start is the SFT checkpoint that t2g demo ships (assets/demo_sft.ckpt, made by
# tools/make_demo_checkpoint.sh); the facts start is trained here (tools/experiment/facts_sft.json).
# The two RL arms of a seed run side by side (JOBS at a time): lavapipe keeps about one core
# busy per run, so two runs on 2 cores take little longer than one.
#
#   tools/experiment.sh [RUNS_DIR]          (default runs/experiment; 76 minutes on 2 CPU cores with lavapipe, measured)
# Environment: T2G (default build/t2g), SEEDS (default "1 2 3"), TASKS (default "arith facts"),
# DOCS (default docs), JOBS (default 2). Runs already complete (their checkpoint.bin exists)
# are not run again, so an interrupted experiment continues where it stopped.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
t2g=${T2G:-$root/build/t2g}
runs=${1:-runs/experiment}
seeds=${SEEDS:-"1 2 3"}
tasks=${TASKS:-"arith facts"}
docs=${DOCS:-$root/docs}
jobs=${JOBS:-2}
mkdir -p "$runs" "$docs"

run() { # run FOLDER COMMAND...: skipped when FOLDER holds a checkpoint already
  folder=$1; shift
  if [ -s "$folder/checkpoint.bin" ]; then echo "experiment: $folder is done"; return; fi
  rm -rf "$folder"
  echo "experiment: $folder"
  "$@" --out "$folder" --quiet > "$folder.log" 2>&1 || { echo "experiment: $folder failed, see $folder.log" >&2; exit 1; }
}

# $runs/wall.tsv: "PHASE<TAB>SECONDS" for each phase, the last line of a phase wins. An SFT
# run's time is from its run.json "started" to its checkpoint's last write, so it holds also
# when the run was made before (an interrupted experiment); an RL phase is timed when it runs.
wall() { echo "$1	$2" >> "$runs/wall.tsv"; }
run_seconds() { # run_seconds FOLDER: started -> checkpoint.bin written
  python3 -c 'import json, os, sys, datetime as d
s = d.datetime.strptime(json.load(open(sys.argv[1] + "/run.json"))["started"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=d.timezone.utc)
print(int(os.path.getmtime(sys.argv[1] + "/checkpoint.bin") - s.timestamp()))' "$1"
}
all_done() { # all_done TASK: every RL run of TASK holds its checkpoint
  for seed in $seeds; do for arm in scalar span; do
    [ -s "$runs/$1-$arm-$seed/checkpoint.bin" ] || return 1
  done; done
}

for task in $tasks; do
  if [ "$task" = arith ]; then # the demo's shipped SFT start
    mkdir -p "$runs/arith-sft" && cp "$root/assets/demo_sft.ckpt" "$runs/arith-sft/checkpoint.bin"
  else
    run "$runs/$task-sft" "$t2g" train --config "$here/experiment/${task}_sft.json"
    wall "$task SFT" "$(run_seconds "$runs/$task-sft")"
  fi
  all_done "$task" && timed=0 || timed=1
  started=$(date +%s)
  pids="" failed=0
  for seed in $seeds; do
    for arm in scalar span; do
      run "$runs/$task-$arm-$seed" "$t2g" rl --config "$here/experiment/${task}_rl.json" \
        --set "rl.start=$runs/$task-sft/checkpoint.bin" --set "rl.reward_granularity=$arm" --set "seed=$seed" &
      pids="$pids $!"
      if [ $(echo $pids | wc -w) -ge "$jobs" ]; then
        for pid in $pids; do wait "$pid" || failed=1; done
        pids=""
      fi
    done
  done
  for pid in $pids; do wait "$pid" || failed=1; done
  [ $failed = 0 ] || { echo "experiment: a $task run failed (see its .log)" >&2; exit 1; }
  [ $timed = 0 ] || wall "$task RL" $(( $(date +%s) - started ))
  started=$(date +%s)
  # every arm, greedy, on the prompts the RL arms practised (their pool: data.examples of the RL config)
  pool=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"]["examples"])' "$here/experiment/${task}_rl.json")
  for folder in "$runs/$task-sft" "$runs/$task"-scalar-* "$runs/$task"-span-*; do
    [ -d "$folder" ] || continue
    "$t2g" eval --ckpt "$folder/checkpoint.bin" --task "$task" --practised --n "$pool" --seed 1 --json > "$folder/practised.json" ||
      { echo "experiment: the practised evaluation of $folder failed" >&2; exit 1; }
  done
  wall "$task practised evaluation" $(( $(date +%s) - started ))
done
# tools/experiment/notes.md: a person's reading of the last runs, put after the tables
if [ -f "$here/experiment/notes.md" ]; then set -- --notes "$here/experiment/notes.md"; else set --; fi
python3 "$here/experiment_table.py" --runs "$runs" --tasks "$tasks" --seeds "$seeds" --docs "$docs" --jobs "$jobs" "$@" \
  --device "$("$t2g" devices --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["name"])')"
echo "experiment: wrote $docs/RESULTS.md"
