"""The real model against transformers (ctest label `model`): SmolLM2-135M-Instruct's GGUF, as
tools/get_model.sh fetches it, loaded by transformers (dequantized to float32) and by t2g.

transformers gives, for the chat prompt "What is the capital of France?" (the GGUF's own chat
template, its default system prompt): the prompt's token ids, the logits at every prompt
position, and 32 greedy tokens with each step's top-2 margin; its answer must name Paris. They go
to a safetensors file that the t2g check `model_gguf_oracle` (tests/check/check_model_gguf.c)
reads: t2g must give the same ids, logits within 1e-3 relative, and the same greedy tokens while
the margin exceeds 1e-3, and its answer must name Paris too.

    usage: smollm2_oracle.py T2G_TESTS MODEL_FILE
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.numpy import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

QUESTION = "What is the capital of France?"
NEW_TOKENS = 32


def main():
    t2g_tests, model_file = sys.argv[1], sys.argv[2]
    folder, name = os.path.split(os.path.abspath(model_file))
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    ids = tokenizer.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True,
                                        tokenize=True, return_dict=False)
    ids = list(ids["input_ids"] if isinstance(ids, dict) else ids)
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double().numpy()
        sequence, margins = list(ids), []
        for _ in range(NEW_TOKENS):
            step = model(torch.tensor([sequence])).logits[0, -1].double()
            top = torch.topk(step, 2).values
            margins.append(float(top[0] - top[1]))
            sequence.append(int(torch.argmax(step)))
    answer = tokenizer.decode(sequence[len(ids):], skip_special_tokens=True)
    print(f"transformers: {len(ids)} prompt tokens; greedy answer: {answer!r}")
    if "Paris" not in answer:
        print("FAIL: transformers' answer does not name Paris")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        expected = os.path.join(tmp, "expected.safetensors")
        save_file({"prompt": np.array(ids, dtype=np.float64), "logits": logits,
                   "greedy": np.array(sequence, dtype=np.float64), "greedy_margin": np.array(margins)}, expected)
        env = dict(os.environ, T2G_MODEL_GGUF=os.path.abspath(model_file), T2G_MODEL_EXPECTED=expected)
        return subprocess.run([t2g_tests, "model_gguf_oracle"], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
