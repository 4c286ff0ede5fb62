"""transformers' view of the chat prompt (tests/model/): a GGUF file or a Hugging Face folder
loaded in float32, the prompt through its own chat template, the logits at every prompt position
and greedy tokens with each step's top-2 margin (a full forward a step: no cache to differ)."""
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from model_checks import QUESTION


def reference(path, new_tokens):
    """(ids, logits, sequence, margins, answer) for the model at `path` (a .gguf file or a folder)."""
    gguf = path.endswith(".gguf")
    folder, name = os.path.split(os.path.abspath(path)) if gguf else (path, None)
    kwargs = {"gguf_file": name} if gguf else {}
    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **kwargs)
    model.eval()
    ids = tokenizer.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True,
                                        tokenize=True, return_dict=False)
    ids = list(ids["input_ids"] if isinstance(ids, dict) else ids)
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double().numpy()
        sequence, margins = list(ids), []
        for _ in range(new_tokens):
            step = model(torch.tensor([sequence])).logits[0, -1].double()
            top = torch.topk(step, 2).values
            margins.append(float(top[0] - top[1]))
            sequence.append(int(torch.argmax(step)))
    answer = tokenizer.decode(sequence[len(ids):], skip_special_tokens=True)
    print(f"transformers on {path}: {len(ids)} prompt tokens; greedy answer {answer!r}", flush=True)
    return ids, logits, sequence, margins, answer
