"""The real model against transformers (ctest label `model`): SmolLM2-135M-Instruct's GGUF, as
tools/get_model.sh fetches it, loaded by transformers (dequantized to float32) and by t2g.

transformers gives, for the chat prompt "What is the capital of France?" (the GGUF's own chat
template, its default system prompt): the prompt's token ids, the logits at every prompt
position, and 32 greedy tokens with each step's top-2 margin; its answer must name Paris. They go
to a safetensors file that the t2g check `model_gguf_oracle` (tests/check/check_model_gguf.c)
reads: t2g must give the same ids, logits within 1e-3 relative, and the same greedy tokens while
the margin exceeds 1e-3, and its answer must name Paris too. Then `t2g export --format hf` of the
GGUF: transformers loads that folder (its tokenizer is the one t2g made from the GGUF's metadata)
to the same prompt ids and logits within 1e-5 of its GGUF-loaded ones.

    usage: smollm2_oracle.py T2G_TESTS T2G MODEL_FILE
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

from model_checks import t2g_matches
from transformers_reference import reference

NEW_TOKENS = 32


def main():
    t2g_tests, t2g, model_file = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    ids, logits, sequence, margins, answer = reference(model_file, NEW_TOKENS)
    if "Paris" not in answer:
        print("FAIL: transformers' answer does not name Paris")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        expected = os.path.join(tmp, "expected.safetensors")
        if not t2g_matches(t2g_tests, model_file, expected, ids, logits, sequence, margins):
            return 1
        return check_export(t2g, model_file, os.path.join(tmp, "exported"), ids, logits)


def check_export(t2g, model_file, folder, ids, logits):
    """t2g's Hugging Face export of the GGUF, loaded by transformers: the same ids and logits."""
    subprocess.run([t2g, "export", model_file, "--format", "hf", "--out", folder], check=True, stdout=subprocess.DEVNULL)
    again, exported, _, _, _ = reference(folder, 0)
    error = float(np.linalg.norm(exported - logits) / np.linalg.norm(logits))
    print(f"t2g export --format hf, loaded by transformers: prompt ids {'equal' if again == ids else 'DIFFER'}, "
          f"logits relative error {error:.2e} against the GGUF's")
    return 0 if again == ids and error <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
