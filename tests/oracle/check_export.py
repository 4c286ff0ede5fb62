"""Checks that transformers, given a Hugging Face folder (for example one `t2g export` wrote), gives
the expected logits.  Usage: check_export.py DIR EXPECTED

DIR is loaded with AutoModelForCausalLM in float64 and run on EXPECTED's `tokens`; its logits are
compared with EXPECTED's `logits`. Prints the largest relative error; exit 1 above TOLERANCE.
"""
import sys

import torch
import transformers
from safetensors.torch import load_file

TOLERANCE = 1e-4


def relative_error(got, want):
    """max |got - want| / max(|want|, floor), the floor a hundredth of the largest |want|."""
    floor = 1e-2 * want.abs().max().clamp_min(1e-30)
    return ((got - want).abs() / torch.maximum(want.abs(), floor)).max().item()


def main(folder, expected_path):
    expected = load_file(expected_path)
    tokens, want = expected["tokens"].long(), expected["logits"].double()
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, dtype=torch.float64, attn_implementation="eager").eval()
    with torch.no_grad():
        got = model(input_ids=tokens).logits
    if got.shape != want.shape:
        print(f"check_export: {folder} gives logits of shape {tuple(got.shape)}, "
              f"{expected_path} expects {tuple(want.shape)}")
        return 1
    error = relative_error(got, want)
    verdict = "ok" if error <= TOLERANCE else f"FAILS (tolerance {TOLERANCE:g})"
    print(f"check_export: {folder}: logits max relative error {error:.3e}: {verdict}")
    return 0 if error <= TOLERANCE else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: check_export.py DIR EXPECTED")
    transformers.utils.logging.disable_progress_bar()
    sys.exit(main(sys.argv[1], sys.argv[2]))
