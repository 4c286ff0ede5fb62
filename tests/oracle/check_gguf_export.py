"""t2g's GGUF export read by the gguf Python package and loaded by transformers (the oracle).

    check_gguf_export.py T2G SOURCE_DIR

Exports the golden Hugging Face models of tests/golden/hf/ (llama, qwen2, gpt2) with
`t2g export --format gguf --dtype D` at f32, f16, bf16 and q8_0; then for each file:
  - gguf.GGUFReader reads every key; the architecture, the hyperparameters (against config.json),
    the byte tokenizer (259 tokens, <|bos|> <|eos|> <|pad|> control at 256-258, their ids, pre
    "gpt-2", add_bos_token) and each tensor's type (matrices in D, Q8_0 only where dims[0] is a
    multiple of 32; 1-D tensors F32) are as t2g/gguf_export.h says;
  - transformers' AutoModelForCausalLM.from_pretrained(dir, gguf_file=...) gives the logits of
    transformers on the original folder on a fixed sequence, relative error (max |a - b| / max |b|)
    within 1e-5 at f32 and within the rounding's reach at the other dtypes.
transformers' GGUF mapping of gpt2 puts context_length into n_ctx, not n_positions (the position
table's size): n_positions is given at load. Exit 0 when all agree, 1 otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader
from transformers import AutoModelForCausalLM

TOLERANCE = {"f32": 1e-5, "f16": 1e-2, "bf16": 5e-2, "q8_0": 5e-2}
TYPE = {"f32": Q.F32, "f16": Q.F16, "bf16": Q.BF16, "q8_0": Q.Q8_0}
IDS = [256, 49, 50, 43, 55, 61, 32, 200, 7, 120, 98, 255, 0, 33]
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += not ok


def value(reader, key):
    field = reader.fields.get(key)
    return None if field is None else field.contents()


def check_keys(reader, arch, config, dtype, name):
    contents = {k: f.contents() for k, f in reader.fields.items()}  # every key, read
    gguf_arch = contents.get("general.architecture")
    hp = {"llama": ("hidden_size", "num_hidden_layers", "num_attention_heads", "max_position_embeddings"),
          "gpt2": ("n_embd", "n_layer", "n_head", "n_positions")}["gpt2" if arch == "gpt2" else "llama"]
    keys = ("embedding_length", "block_count", "attention.head_count", "context_length")
    same = all(contents.get(f"{gguf_arch}.{k}") == config[c] for k, c in zip(keys, hp))
    check(gguf_arch == arch and same, f"{name}: {len(contents)} keys read, {gguf_arch} hyperparameters as config.json")
    tokens, types = contents.get("tokenizer.ggml.tokens"), contents.get("tokenizer.ggml.token_type")
    check(len(tokens) == 259 and tokens[256:] == ["<|bos|>", "<|eos|>", "<|pad|>"] and list(types[256:]) == [3, 3, 3]
          and all(t == 1 for t in types[:256]) and contents.get("tokenizer.ggml.model") == "gpt2"
          and contents.get("tokenizer.ggml.pre") == "gpt-2" and contents.get("tokenizer.ggml.add_bos_token") is True
          and [contents.get(f"tokenizer.ggml.{k}_token_id") for k in ("bos", "eos", "padding")] == [256, 257, 258],
          f"{name}: the byte tokenizer's tokens, types, ids, pre and add_bos_token")
    wrong = [t.name for t in reader.tensors
             if t.tensor_type != (Q.F32 if len(t.shape) == 1 or (dtype == "q8_0" and t.shape[0] % 32) else TYPE[dtype])]
    check(not wrong, f"{name}: {len(reader.tensors)} tensors, matrices {dtype} where they can be, 1-D F32 {wrong[:3]}")


def logits(model):
    with torch.no_grad():
        return model(torch.tensor([IDS])).logits[0].double()


def main():
    t2g, source = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="t2g-gguf-export-") as tmp:
        for arch in ("llama", "qwen2", "gpt2"):
            folder = os.path.join(source, "tests", "golden", "hf", arch)
            with open(os.path.join(folder, "config.json")) as f:
                config = json.load(f)
            reference = logits(AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32))
            for dtype in ("f32", "f16", "bf16", "q8_0"):
                name = f"{arch}-{dtype}.gguf"
                run = subprocess.run([t2g, "export", folder, "--format", "gguf", "--dtype", dtype, "--out",
                                      os.path.join(tmp, name)], capture_output=True, text=True)
                check(run.returncode == 0, f"t2g export {arch} --format gguf --dtype {dtype} {run.stderr.strip()}")
                if run.returncode:
                    continue
                check_keys(GGUFReader(os.path.join(tmp, name)), arch, config, dtype, name)
                extra = {"n_positions": config["n_positions"]} if arch == "gpt2" else {}
                model = AutoModelForCausalLM.from_pretrained(tmp, gguf_file=name, dtype=torch.float32, **extra)
                got = logits(model)
                error = ((got - reference).abs().max() / reference.abs().max()).item()
                check(got.shape == reference.shape and error <= TOLERANCE[dtype],
                      f"{name} in transformers: logits of {len(IDS)} tokens, relative error {error:.3g} "
                      f"(at most {TOLERANCE[dtype]:g}) against the folder's")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
