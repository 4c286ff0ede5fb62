"""Compares freshly made golden files with the committed ones.  Usage: compare_golden.py NEW COMMITTED

Model folders (weights, config.json, ...) must be identical byte for byte; in each
*.expected.safetensors the tensors must have the same names, dtypes and shapes, integers equal and
floats within TOLERANCE (relative, floor 1). Prints each difference; exit 1 if there is one.
"""
import pathlib
import sys

import torch
from safetensors.torch import load_file

TOLERANCE = 1e-12


def files(root):
    """The files under root, but the README.md that describes them."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {"README.md"}


def tensor_differences(new, old):
    a, b = load_file(new), load_file(old)
    if a.keys() != b.keys():
        return [f"tensors {sorted(a.keys() ^ b.keys())} are in only one of the two"]
    out = []
    for name in sorted(a):
        x, y = a[name], b[name]
        if x.dtype != y.dtype or x.shape != y.shape:
            out.append(f"{name}: {x.dtype} {tuple(x.shape)} here, {y.dtype} {tuple(y.shape)} committed")
        elif x.is_floating_point():
            error = ((x - y).abs() / y.abs().clamp_min(1.0)).max().item() if x.numel() else 0.0
            if error > TOLERANCE:
                out.append(f"{name}: differs by {error:.3e} (relative, floor 1)")
        elif not torch.equal(x, y):
            out.append(f"{name}: integers differ")
    return out


def main(new, old):
    problems = [f"{f}: only in {'the new' if f in files(new) else 'the committed'} files"
                for f in sorted(files(new) ^ files(old))]
    for f in sorted(files(new) & files(old)):
        if f.endswith(".expected.safetensors"):
            problems += [f"{f}: {p}" for p in tensor_differences(new / f, old / f)]
        elif (new / f).read_bytes() != (old / f).read_bytes():
            problems.append(f"{f}: not byte for byte the committed file")
    for p in problems:
        print(f"compare_golden: {p}")
    print(f"compare_golden: {len(files(old))} committed files, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: compare_golden.py NEW COMMITTED")
    sys.exit(main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])))
