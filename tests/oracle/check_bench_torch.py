"""tools/bench_torch.py against t2g: the same models, and a JSON bench_compare can read.

    check_bench_torch.py T2G

1. `bench_torch.py --preset small --steps 1 --warmup 0 --json` runs and prints every field
   bench_compare reads, with positive timings, for the same shape, batch and parameter count as
   `t2g bench train --preset small --steps 1 --warmup 0 --json`.
2. Every preset's hand-built model and transformers model (built on the meta device) have
   bench_torch's count of t2g's parameters (bench_torch.py stops otherwise: here it must agree).
3. That count is t2g's own: for char6l384 and small at a context of 8 (gpt2: learned positions
   count), and for a small tied-head llama with grouped-query attention and SwiGLU written as a
   Hugging Face folder (t2g bench rollout --model), where the presets themselves are too large to
   open in a test (gpt2-124m's embedding is past lavapipe's binding range; smollm2-135m takes
   half a minute).
Exit 0 when all agree, 1 otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "tools")
sys.path.insert(0, TOOLS)
import bench_torch  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

TRAIN_FIELDS = ["bench", "device", "device_type", "torch", "preset", "arch", "vocab", "context", "layers", "heads",
                "kv_heads", "width", "ffn_width", "batch", "sequence_length", "warmup_steps", "ms_per_step",
                "best_ms_per_step", "tokens_per_s", "parameters", "peak_memory_mib", "memory_measure"]
SHAPE = ["arch", "vocab", "context", "layers", "heads", "kv_heads", "width", "ffn_width", "batch", "sequence_length",
         "parameters"]
failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print("FAIL:", message)


def start(command):
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process):
    out, err = process.communicate()
    if process.returncode != 0:
        sys.exit(f"check_bench_torch: {' '.join(process.args)}: exit status {process.returncode}\n{err}")
    return json.loads(out)


def run_json(command):
    return finish(start(command))


SMALL = ["--preset", "small", "--steps", "1", "--warmup", "0", "--json"]


def check_train(t2g, torch_run):
    """1. bench_torch's small train step (torch_run, started first): its fields, and the shape of t2g's."""
    t2g_result = run_json([t2g, "bench", "train"] + SMALL)
    torch_result = finish(torch_run)
    for field in TRAIN_FIELDS:
        check(field in torch_result, f"bench_torch.py --json has no '{field}'")
    for field in ["ms_per_step", "best_ms_per_step", "tokens_per_s", "peak_memory_mib"]:
        check(torch_result.get(field, 0) > 0, f"bench_torch.py: {field} {torch_result.get(field)} is not positive")
    for field in SHAPE:
        check(torch_result.get(field) == t2g_result.get(field),
              f"small: {field}: bench_torch {torch_result.get(field)}, t2g {t2g_result.get(field)}")


def check_counts():
    """2. every preset's two PyTorch models against bench_torch's count of t2g's parameters."""
    for name, counted in bench_torch.counts().items():
        print(name, counted)
        check(counted["hand_built"] == counted["t2g"] == counted["transformers"], f"{name}: counts differ: {counted}")


def t2g_rollout(t2g, args):
    return start([t2g, "bench", "rollout", "--prompts", "1", "--new", "1", "--json"] + args)


def check_t2g_counts(t2g):
    """3. bench_torch's shapes and counts against t2g's own, at shapes a test can open (t2g runs at once)."""
    llama = bench_torch.Shape(arch="llama", vocab=259, context=32, layers=2, heads=4, width=32, batch=1, kv_heads=2,
                              ffn_width=48, rope_theta=100000.0)
    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        bench_torch.hf_model(llama).save_pretrained(folder)
        runs = {name: t2g_rollout(t2g, ["--preset", name, "--context", "8"]) for name in ["char6l384", "small"]}
        llama_run = t2g_rollout(t2g, ["--model", folder])
        for name, run in runs.items():
            got, shape = finish(run), bench_torch.Shape(**bench_torch.PRESETS[name])
            shape.context = 8
            for field in ["arch", "vocab", "layers", "heads", "kv_heads", "width", "ffn_width"]:
                check(got[field] == getattr(shape, field), f"{name}: {field}: t2g {got[field]}, "
                      f"bench_torch {getattr(shape, field)}")
            check(got["parameters"] == bench_torch.t2g_parameters(shape), f"{name} at context 8: t2g "
                  f"{got['parameters']}, bench_torch {bench_torch.t2g_parameters(shape)}")
        got = finish(llama_run)["parameters"]
    with torch.device("meta"):
        hand = bench_torch.count(bench_torch.Model(llama))
    want = bench_torch.t2g_parameters(llama)
    check(got == want == hand, f"tied llama (GQA 4/2, SwiGLU 48): t2g {got}, bench_torch {want}, hand-built {hand}")


def main():
    t2g = sys.argv[1]
    transformers.utils.logging.disable_progress_bar()
    print("torch", torch.__version__, "transformers", transformers.__version__)
    torch_run = start([sys.executable, os.path.join(TOOLS, "bench_torch.py"), "--threads", "1"] + SMALL)
    check_counts()
    check_t2g_counts(t2g)
    check_train(t2g, torch_run)
    if failures:
        sys.exit(f"check_bench_torch: {len(failures)} failures")
    print("check_bench_torch: bench_torch.py runs, and its models have t2g's shapes and parameter counts")


if __name__ == "__main__":
    main()
