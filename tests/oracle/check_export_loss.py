"""Checks a folder that `t2g export` wrote against t2g itself: transformers, loading the folder in
float64, must give the loss that `t2g eval --data ROWS` gave for the run that was exported.
Usage: check_export_loss.py DIR ROWS LOSS

ROWS is a JSONL file of {"prompt", "response"} rows; LOSS is t2g's evaluation loss on them. The
loss is t2g's: each row is the sequence BOS, the prompt's bytes, the response's bytes, EOS (t2g's
byte tokenizer, the ids the exported tokenizer.json gives), and the loss is the mean
cross-entropy over the response's tokens and the EOS, over all rows together (each token
counts once). The folder's own tokenizer is run on the row text too, to check that it gives
t2g's ids. Exit 1 when the relative difference is above TOLERANCE.
"""
import json
import sys

import torch
import transformers

TOLERANCE = 1e-4
BOS, EOS = 256, 257


def rows_of(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_tokenizer(folder, rows):
    """The exported tokenizer gives the bytes as ids; None when it does, else a message."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    for row in rows:
        text = row["prompt"] + row["response"]
        got = tokenizer(text, add_special_tokens=False)["input_ids"]
        if got != list(text.encode("utf-8")):
            return f"its tokenizer gives {got[:12]}... for {text!r}, t2g's bytes are {list(text.encode())[:12]}..."
    return None


def loss_of(folder, rows):
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, dtype=torch.float64, attn_implementation="eager").eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for row in rows:
            prompt, response = row["prompt"].encode("utf-8"), row["response"].encode("utf-8")
            sequence = [BOS] + list(prompt) + list(response) + [EOS]
            tokens = torch.tensor([sequence[:-1]])
            logits = model(input_ids=tokens).logits[0]
            targets = torch.tensor(sequence[1:])
            losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
            first = len(prompt)  # targets from here on are the response and EOS
            total += losses[first:].sum().item()
            count += len(sequence) - 1 - first
    return total / count


def main(folder, rows_path, want_text):
    rows, want = rows_of(rows_path), float(want_text)
    problem = check_tokenizer(folder, rows)
    if problem:
        print(f"check_export_loss: {folder}: {problem}")
        return 1
    got = loss_of(folder, rows)
    error = abs(got - want) / abs(want)
    verdict = "ok" if error <= TOLERANCE else f"FAILS (tolerance {TOLERANCE:g})"
    print(f"check_export_loss: {folder}: transformers' loss {got:.9f}, t2g's {want:.9f}, "
          f"relative difference {error:.3e}: {verdict}")
    return 0 if error <= TOLERANCE else 1


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: check_export_loss.py DIR ROWS LOSS")
    transformers.utils.logging.disable_progress_bar()
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3]))
