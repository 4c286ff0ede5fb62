"""SmolLM2-135M-Instruct fine-tuned end to end (ctest label `model`): the GGUF that
tools/get_model.sh fetches, trained by every command a user types, the result handed back to
transformers. Each step is one optimizer step on a few short rows: minutes on lavapipe.

SFT, `t2g train --set model.from=GGUF` on four prompt/response rows (the chat template applied,
loss on the response and its end of turn), a batch of all four:
  - step 1's loss is `t2g eval --data` of the GGUF on the same rows (the same model and tokens):
    within 1e-4 relative;
  - `t2g train --resume` reloads the run for step 2, whose loss (the same rows, one update later)
    is below step 1's; `t2g eval` of the run after two steps is below the GGUF's loss.
RL, `t2g rl --set rl.start=GGUF`: one Text2Grad step with arith's built-in critic, resumed for a
second (the frozen reference is the GGUF, checked by its CRC on resume); one step on the prompts
of a JSONL file with the external example critic. Every step's figures finite, its responses
critiqued and their spans found.
`t2g report` of the three runs; `t2g export` of the SFT run as a GGUF (f32) and a Hugging Face
folder: transformers loads each to the same prompt ids and logits (within 1e-5 of each other),
and t2g's check `model_gguf_oracle` loads each export and matches transformers' logits (1e-3)
and greedy tokens.

    usage: smollm2_finetune.py T2G_TESTS T2G MODEL_FILE SOURCE_DIR
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

from model_checks import check, finish, t2g_matches
from transformers_reference import reference

NEW_TOKENS = 16  # the answer (about 8 tokens) and some more: each is a full forward in transformers here
ROWS = [("What is 2+3?", "2+3 is 5."), ("Name a colour.", "Blue is a colour."),
        ("What is the capital of Italy?", "The capital of Italy is Rome."),
        ("Say hello.", "Hello! How can I help you today?")]
CONTEXT = "64"
SFT = ["--set", "model.context=" + CONTEXT, "--set", "data.task=", "--set", "data.path=rows.jsonl",
       "--set", "train.batch_size=4", "--set", "train.micro_batch=2", "--set", "optim.lr=5e-6"]
RL = ["--set", "model.context=" + CONTEXT, "--set", "rl.prompts=1", "--set", "rl.samples_per_prompt=2",
      "--set", "rl.max_new_tokens=8", "--set", "rl.ppo_epochs=1", "--set", "train.micro_batch=2",
      "--set", "optim.lr=1e-6", "--set", "eval.examples=0"]

def t2g(binary, *args):
    """Runs t2g; its stdout, or None (with what it said) when it fails."""
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    if done.returncode:
        print(f"t2g {' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}", flush=True)
        return None
    return done.stdout


def metrics(run):
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def eval_loss(binary, model):
    out = t2g(binary, "eval", "--model", model, "--context", CONTEXT, "--data", "rows.jsonl", "--max-new", "1", "--json")
    return json.loads(out)["metrics"]["loss"] if out else math.nan


def finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def sft(binary, model):
    before = eval_loss(binary, model)
    ran = t2g(binary, "train", "--set", "model.from=" + model, *SFT, "--set", "train.steps=1", "--out", "sft")
    ran = ran is not None and t2g(binary, "train", "--resume", "sft", "--set", "train.steps=2") is not None
    steps = metrics("sft") if ran else []
    if not check(len(steps) == 2, "SFT: one step, resumed for a second"):
        return
    first, second = steps[0]["loss"], steps[1]["loss"]
    check(abs(first - before) <= 1e-4 * before,
          f"SFT: step 1's loss {first:.6f} is eval's of the GGUF on the same rows ({before:.6f})")
    check(second < first, f"SFT: step 2's loss {second:.6f} (the reloaded run) is below step 1's")
    after = eval_loss(binary, "sft")
    check(after < before, f"SFT: eval of the run after two steps {after:.6f} is below the GGUF's {before:.6f}")


def rl_steps_sound(run, steps, critiques):
    rows = metrics(run)
    ok = len(rows) == steps
    for row in rows:
        ok = ok and all(finite(row[k]) for k in ("score", "kl", "policy_loss", "value_loss", "entropy"))
        ok = ok and row["spans"]["critiques"] == critiques and row["critic_failures"] == 0
    with open(os.path.join(run, "samples.jsonl")) as f:
        samples = [json.loads(line) for line in f if line.strip()]
    return ok and len(samples) > 0


def rl(binary, model, source):
    ran = t2g(binary, "rl", "--set", "rl.start=" + model, "--set", "data.task=arith", *RL, "--set", "train.steps=1",
              "--out", "rl")
    ran = ran is not None and t2g(binary, "rl", "--resume", "rl", "--set", "train.steps=2") is not None
    check(ran and rl_steps_sound("rl", 2, 2),
          "RL (built-in critic): one step, resumed for a second against the same reference, figures finite")
    with open("prompts.jsonl", "w") as f:
        for a, b in ((12, 30), (7, 5)):
            f.write(json.dumps({"prompt": f"{a}+{b}=", "sum": str(a + b)}) + "\n")
    critic = "critic.command=python3 " + os.path.join(source, "tools", "example_critic.py")
    ran = t2g(binary, "rl", "--set", "rl.start=" + model, "--set", "data.task=", "--set", "data.path=prompts.jsonl",
              "--set", "critic.kind=external", "--set", critic, *RL, "--set", "train.steps=1", "--out", "rl-file")
    check(ran is not None and rl_steps_sound("rl-file", 1, 2), "RL (external critic, prompts of a JSONL file): one step")


def report(binary):
    ok = t2g(binary, "report", "sft", "rl", "rl-file", "--out", "report.html") is not None
    check(ok and os.path.getsize("report.html") > 0, "t2g report of the three runs")


def exports(binary, tests):
    made = t2g(binary, "export", "sft", "--format", "gguf", "--dtype", "f32", "--out", "sft.gguf") is not None
    made = made and t2g(binary, "export", "sft", "--format", "hf", "--out", "sft-hf") is not None
    if not check(made, "t2g export of the SFT run: a GGUF (f32) and a Hugging Face folder"):
        return
    gguf = reference(os.path.abspath("sft.gguf"), NEW_TOKENS)
    hf = reference(os.path.abspath("sft-hf"), NEW_TOKENS)
    error = float(np.linalg.norm(gguf[1] - hf[1]) / np.linalg.norm(hf[1]))
    check(gguf[0] == hf[0] and error <= 1e-5,
          f"transformers loads both exports: the same prompt ids, logits within {error:.2e} of each other")
    check(t2g_matches(tests, "sft.gguf", os.path.abspath("gguf.expected.safetensors"), *gguf[:4]),
          "t2g loads the exported GGUF: transformers' logits and greedy tokens")
    check(t2g_matches(tests, "sft-hf", os.path.abspath("hf.expected.safetensors"), *hf[:4]),
          "t2g loads the exported folder: transformers' logits and greedy tokens")


def main():
    tests, binary, model, source = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3]), sys.argv[4]
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        with open("rows.jsonl", "w") as f:
            for prompt, response in ROWS:
                f.write(json.dumps({"prompt": prompt, "response": response}) + "\n")
        sft(binary, model)
        rl(binary, model, source)
        report(binary)
        exports(binary, tests)
    return finish("smollm2_finetune")


if __name__ == "__main__":
    sys.exit(main())
