"""t2g's BPE tokenizer beside Hugging Face tokenizers, on one thread, in one run.

Run with the oracle's python (tools/setup.sh --oracle), through tools/bench_tokenize.sh:

    python tools/bench_tokenize.py --t2g build/t2g --tokenizer tests/golden/tokenizers/gpt2/tokenizer.json

`t2g bench tokenize --json` encodes the text (the built-in one of --mb MB, written to a temporary
file, or --text FILE) and writes its ids; Hugging Face tokenizers then loads the same
tokenizer.json and encodes the same text on one thread (RAYON_NUM_THREADS=1,
TOKENIZERS_PARALLELISM=false): the whole text as one string, and encode_batch of its lines (each
with its "\n"; t2g encodes the same lines one by one), best of the same --repeat. The ids of the whole-string encodes must be
identical (where not, the first difference is reported). Prints one JSON object: both figures
and the ratios (t2g over tokenizers: above 1, t2g is faster): encode_ratio (whole text),
encode_lines_ratio (line by line against encode_batch), decode_ratio. MB = 10^6 bytes of text.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"           # before tokenizers starts its thread pool
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import Tokenizer  # noqa: E402  (after the environment above)


def best_seconds(run, repeat):
    """The shortest wall-clock time of `repeat` calls of run(), and its last result."""
    best, result = None, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def run_t2g(args, text_path, ids_path):
    command = [args.t2g, "bench", "tokenize", "--tokenizer", args.tokenizer, "--repeat", str(args.repeat),
               "--write-ids", ids_path, "--json"]
    if args.text:
        command += ["--text", args.text]
    else:
        command += ["--mb", str(args.mb), "--write-text", text_path]
    if args.special:
        command.append("--special")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_tokenize: {' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def run_tokenizers(args, text, t2g_ids):
    tok = Tokenizer.from_file(args.tokenizer)
    tok.encode_special_tokens = not args.special    # t2g without --special: specials' texts as plain text
    mb = len(text.encode()) / 1e6
    whole_s, encoding = best_seconds(lambda: tok.encode(text, add_special_tokens=False), args.repeat)
    lines = [line + "\n" for line in text.split("\n")]   # as t2g splits: after each "\n"
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    batch_s, batch = best_seconds(lambda: tok.encode_batch(lines, add_special_tokens=False), args.repeat)
    ids = encoding.ids
    decode_s, _ = best_seconds(lambda: tok.decode(ids, skip_special_tokens=False), args.repeat)
    result = {
        "version": __import__("tokenizers").__version__,
        "threads": 1,
        "tokens": len(ids),
        "encode_ms": 1e3 * whole_s,
        "encode_mb_per_s": mb / whole_s,
        "encode_tokens_per_s": len(ids) / whole_s,
        "encode_batch_lines": len(lines),
        "encode_batch_tokens": sum(len(e.ids) for e in batch),
        "encode_batch_ms": 1e3 * batch_s,
        "encode_batch_mb_per_s": mb / batch_s,
        "decode_ms": 1e3 * decode_s,
        "decode_mb_per_s": mb / decode_s,
    }
    same = ids == t2g_ids
    comparison = {"ids_identical": same}
    if not same:
        at = first_difference(ids, t2g_ids)
        comparison.update({"first_difference": at, "t2g_ids_there": t2g_ids[at:at + 8],
                           "tokenizers_ids_there": ids[at:at + 8], "t2g_tokens": len(t2g_ids)})
    return result, comparison


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--t2g", default="build/t2g", help="the t2g command (default build/t2g)")
    parser.add_argument("--tokenizer", required=True, help="a tokenizer.json")
    parser.add_argument("--text", help="a UTF-8 text file (default: t2g's built-in text of --mb MB)")
    parser.add_argument("--mb", type=float, default=4, help="the built-in text's size in MB (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each; the best counts (default 3)")
    parser.add_argument("--special", action="store_true", help="match special tokens' texts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="t2g-bench-tokenize-") as tmp:
        text_path = args.text or os.path.join(tmp, "text.txt")
        ids_path = os.path.join(tmp, "ids.bin")
        t2g = run_t2g(args, text_path, ids_path)
        with open(text_path, "rb") as f:
            text = f.read().decode("utf-8")
        with open(ids_path, "rb") as f:
            raw = f.read()
        t2g_ids = list(memoryview(raw).cast("I")) if sys.byteorder == "little" else \
            [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]
    hf, comparison = run_tokenizers(args, text, t2g_ids)
    report = {
        "tokenizer": args.tokenizer,
        "text": args.text or f"built-in, {args.mb} MB",
        "bytes": t2g["bytes"],
        "cpu": t2g["cpu"],
        "repeat": args.repeat,
        "special": args.special,
        "t2g": {k: t2g[k] for k in ("tokens", "encode_ms", "encode_mb_per_s", "encode_tokens_per_s", "encode_lines",
                                    "encode_lines_tokens", "encode_lines_ms", "encode_lines_mb_per_s", "decode_ms",
                                    "decode_mb_per_s", "word_cache_hit_rate", "round_trip")},
        "tokenizers": hf,
        **comparison,
        "line_token_counts_equal": t2g["encode_lines_tokens"] == hf["encode_batch_tokens"],
        "encode_ratio": t2g["encode_mb_per_s"] / hf["encode_mb_per_s"],
        "encode_lines_ratio": t2g["encode_lines_mb_per_s"] / hf["encode_batch_mb_per_s"],
        "decode_ratio": t2g["decode_mb_per_s"] / hf["decode_mb_per_s"],
    }
    print(json.dumps(report, indent=2))
    return 0 if comparison["ids_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
