#!/usr/bin/env python3
"""t2g beside PyTorch in one run (tools/bench_compare.sh): `t2g bench train` then tools/bench_torch.py
with the same options, one after the other on this machine (and the same for `bench rollout` with
--rollout); prints one JSON object with both results, the ratios t2g / PyTorch, the device and its
driver, the CPU, the load average before each run, the versions and the date. Exit status 1 when
the two models' parameter counts or batch shapes differ.
"""
import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--t2g", default=os.path.join(os.path.dirname(HERE), "build", "t2g"),
                   help="the t2g binary (default: build/t2g of this repository)")
    p.add_argument("--preset", help="as t2g bench train's (default: t2g's choice for its device)")
    p.add_argument("--context", help="tokens per sequence (both)")
    p.add_argument("--batch", help="train: sequences per step (both)")
    p.add_argument("--steps", help="train: timed steps (both; default 10)")
    p.add_argument("--warmup", help="train: untimed steps first (both; default 2)")
    p.add_argument("--rollout", action="store_true", help="also bench rollout beside HF generate")
    p.add_argument("--prompts", help="rollout: prompts in the batch (both; default 64)")
    p.add_argument("--new", help="rollout: new tokens each (both)")
    p.add_argument("--prompt-tokens", help="rollout: tokens of each prompt (both; default 64)")
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16"], help="both sides': PyTorch's autocast type, t2g's --precision (train.precision)")
    p.add_argument("--torch-threads", help="PyTorch's CPU threads (default: the cores it may use)")
    return p.parse_args()


def options(args, names):
    out = []
    for name in names:
        value = getattr(args, name)
        if value is not None:
            out += ["--" + name.replace("_", "-"), str(value)]
    return out


def run_json(what, command):
    """The JSON a command prints, with the load average just before it ran; exits on failure."""
    load = os.getloadavg()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        sys.exit(f"bench_compare: {what}: cannot run {command[0]}: {e.strerror}")
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        sys.exit(f"bench_compare: {what} failed (exit status {done.returncode}): {' '.join(command)}")
    result = json.loads(done.stdout)
    result["load_average_before"] = [round(x, 2) for x in load]
    return result


def ratio(a, b):
    return a / b if b else None


def compare(t2g, torch, keys):
    """ratios t2g / PyTorch of the keys (t2g's key, PyTorch's key, the ratio's name)."""
    return {name: ratio(t2g[mine], torch[theirs]) for mine, theirs, name in keys if mine in t2g and theirs in torch}


def check_same(bench, t2g, torch, keys):
    wrong = [f"{k}: t2g {t2g.get(k)}, PyTorch {torch.get(k)}" for k in keys if t2g.get(k) != torch.get(k)]
    return [f"{bench}: {w}" for w in wrong]


def train(args, torch_cmd):
    t2g = run_json("t2g bench train", [args.t2g, "bench", "train", "--json", "--precision", args.dtype] +
                   options(args, ["preset", "context", "batch", "steps", "warmup"]))
    torch = run_json("bench_torch.py", torch_cmd + ["--preset", t2g["preset"]] +
                     options(args, ["context", "batch", "steps", "warmup"]))
    # t2g's peak device memory where it reports one, else the memory its model and batch hold
    memory_key = "peak_device_memory_mib" if "peak_device_memory_mib" in t2g else "device_memory_mib"
    ratios = compare(t2g, torch, [("ms_per_step", "ms_per_step", "ms_per_step"),
                                  ("tokens_per_s", "tokens_per_s", "tokens_per_s"),
                                  (memory_key, "peak_memory_mib", "memory")])
    ratios["memory_compares"] = f"t2g {memory_key} / PyTorch peak_memory_mib ({torch['memory_measure']})"
    wrong = check_same("train", t2g, torch, ["parameters", "batch", "sequence_length", "vocab", "layers", "width"])
    return dict(t2g=t2g, torch=torch, ratios_t2g_over_torch=ratios), wrong


def rollout(args, torch_cmd, preset):
    t2g = run_json("t2g bench rollout", [args.t2g, "bench", "rollout", "--json", "--preset", preset] +
                   options(args, ["context", "prompts", "new", "prompt_tokens"]))
    torch = run_json("bench_torch.py --rollout", torch_cmd + ["--rollout", "--preset", preset] +
                     options(args, ["context", "prompts", "new", "prompt_tokens"]))
    ratios = compare(t2g, torch, [("new_tokens_per_s", "new_tokens_per_s", "new_tokens_per_s"),
                                  ("ms", "ms", "ms")])
    wrong = check_same("rollout", t2g, torch, ["parameters", "prompts", "prompt_tokens", "new_tokens_each"])
    return dict(t2g=t2g, torch=torch, ratios_t2g_over_torch=ratios), wrong


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def t2g_device(args, name):
    """The entry of `t2g devices --json` for the device t2g ran on (its driver)."""
    done = subprocess.run([args.t2g, "devices", "--json"], stdout=subprocess.PIPE, text=True)
    devices = json.loads(done.stdout).get("devices", []) if done.returncode == 0 else []
    for d in devices:
        if d.get("name") == name:
            return {k: d.get(k) for k in ("name", "type", "vendor", "driver", "driver_info", "vulkan")}
    return {"name": name}


def main():
    args = parse()
    torch_cmd = [sys.executable, os.path.join(HERE, "bench_torch.py"), "--json", "--dtype", args.dtype]
    torch_cmd += ["--threads", args.torch_threads] if args.torch_threads else []
    out = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    out["train"], wrong = train(args, torch_cmd)
    if args.rollout:
        out["rollout"], more = rollout(args, torch_cmd, out["train"]["t2g"]["preset"])
        wrong += more
    version = subprocess.run([args.t2g, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    out["t2g_device"] = t2g_device(args, out["train"]["t2g"]["device"])
    out["torch_device"] = out["train"]["torch"]["device"]
    out["cpu"] = dict(model=cpu_model(), cores_usable=len(os.sched_getaffinity(0)), cores=os.cpu_count())
    out["versions"] = dict(t2g=version, torch=out["train"]["torch"]["torch"],
                           transformers=importlib.metadata.version("transformers"), python=platform.python_version())
    out["mismatches"] = wrong
    print(json.dumps(out, indent=2))
    if wrong:
        sys.exit("bench_compare: the two benchmarks differ in shape: " + "; ".join(wrong))


if __name__ == "__main__":
    main()
