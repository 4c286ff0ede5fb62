"""What the scripts of tests/model/ share. Numpy only: llama.cpp's venv runs them too.

check() counts failures; finish() prints the verdict and gives the exit status. t2g_matches()
hands a reference's view of the chat prompt (its ids, the logits at every prompt position, greedy
tokens and each step's top-2 margin) to t2g's check `model_gguf_oracle`, which loads the model at
`path` itself and compares (tests/check/check_model_gguf.c)."""
import json
import os
import struct
import subprocess

import numpy as np

QUESTION = "What is the capital of France?"

failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures += 1
    return ok


def finish(name):
    print(f"{name}: " + ("all passed" if not failures else f"{failures} failed"))
    return 1 if failures else 0


def save_safetensors(path, tensors):
    """A safetensors file of float64 arrays: a little-endian u64 header length, the JSON header
    (padded to 8 bytes), then the data."""
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def t2g_matches(tests, path, expected, ids, logits, sequence, margins):
    """Whether t2g, loading `path`, gives the reference's ids, logits and greedy tokens (the
    reference's view written to the file `expected`)."""
    save_safetensors(expected, {"prompt": np.array(ids, dtype=np.float64), "logits": np.asarray(logits),
                                "greedy": np.array(sequence, dtype=np.float64), "greedy_margin": np.array(margins)})
    env = dict(os.environ, T2G_MODEL_GGUF=os.path.abspath(path), T2G_MODEL_EXPECTED=expected)
    return subprocess.run([tests, "model_gguf_oracle"], env=env).returncode == 0
