"""t2g's GGUF export against llama.cpp itself (ctest label `model`, registered where
tools/setup.sh --llama-cpp made its venv; this script runs in that venv's Python).

`t2g export` writes SmolLM2-135M-Instruct (the GGUF tools/get_model.sh fetches) as a GGUF in f32 and
in q8_0. llama.cpp (llama-cpp-python) loads each export and, for the chat prompt "What is the
capital of France?" as t2g renders it:
  - tokenizes the rendered text to t2g's ids (its tokenizer is the one t2g wrote into the
    metadata: tokens, merges, types, pre-tokenizer name, special ids);
  - f32: gives logits at every prompt position and 16 greedy tokens (KV cache in f32) that t2g's
    check `model_gguf_oracle` compares with t2g's own on the same export: logits within 1e-3
    relative, the same greedy tokens while llama.cpp's top-2 margin exceeds 1e-3, an answer
    naming Paris. Llama's q and k rows, which the writer permutes back into the converter's
    interleaved order, must be right for this to hold;
  - q8_0: its logits within 0.1 relative of the f32 export's (q8_0 itself costs about 4e-2 on
    this model; a block written in the wrong layout costs more than 1).

    usage: llama_cpp_export.py T2G_TESTS T2G MODEL_FILE
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from llama_cpp import Llama

from model_checks import QUESTION, check, finish, t2g_matches

NEW_TOKENS = 16
F32 = 0  # ggml's type number of float32: the KV cache in f32, not llama.cpp's default f16


def t2g_prompt(t2g, model):
    out = subprocess.run([t2g, "tokenize", "--model", model, "--chat", "--text", QUESTION, "--json"],
                         capture_output=True, text=True, check=True).stdout
    prompt = json.loads(out)
    return prompt["text"], prompt["ids"]


def llama_cpp_run(path, text, ids, greedy):
    """llama.cpp's ids for the rendered text, its logits at every position of t2g's ids and
    `greedy` tokens with each step's top-2 margin."""
    llm = Llama(model_path=path, n_ctx=128, logits_all=True, verbose=False, n_threads=os.cpu_count() or 1,
                type_k=F32, type_v=F32, seed=1)
    own = llm.tokenize(text.encode(), add_bos=False, special=True)
    llm.eval(ids)
    logits = np.array(llm.scores[:len(ids)], dtype=np.float64)
    sequence, margins = list(ids), []
    for _ in range(greedy):
        step = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
        top = np.sort(step)[-2:]
        margins.append(float(top[1] - top[0]))
        sequence.append(int(np.argmax(step)))
        llm.eval([sequence[-1]])
    answer = llm.detokenize(sequence[len(ids):]).decode(errors="replace")
    return own, logits, sequence, margins, answer


def main():
    tests, t2g, model = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    with tempfile.TemporaryDirectory() as tmp:
        exports = {}
        for dtype in ("f32", "q8_0"):
            exports[dtype] = os.path.join(tmp, f"smollm2-{dtype}.gguf")
            subprocess.run([t2g, "export", model, "--format", "gguf", "--dtype", dtype, "--out", exports[dtype]],
                           check=True, stdout=subprocess.DEVNULL)
        text, ids = t2g_prompt(t2g, exports["f32"])
        own, logits, sequence, margins, answer = llama_cpp_run(exports["f32"], text, ids, NEW_TOKENS)
        print(f"llama.cpp on t2g's f32 export: {len(ids)} prompt tokens; greedy answer {answer!r}", flush=True)
        check(own == ids, "llama.cpp tokenizes the chat prompt to t2g's ids (f32 export)")
        expected = os.path.join(tmp, "expected.safetensors")
        check(t2g_matches(tests, exports["f32"], expected, ids, logits, sequence, margins),
              "t2g on its f32 export: llama.cpp's logits (1e-3) and greedy tokens, an answer naming Paris")
        own8, logits8, _, _, answer8 = llama_cpp_run(exports["q8_0"], text, ids, 0)
        error = float(np.linalg.norm(logits8 - logits) / np.linalg.norm(logits))
        check(own8 == ids and error <= 0.1,
              f"llama.cpp on the q8_0 export: t2g's ids, logits within {error:.3g} of the f32 export's (bound 0.1)")
    return finish("llama_cpp_export")


if __name__ == "__main__":
    sys.exit(main())
