"""A real GGUF's tokenizer as t2g reads it, against transformers reading the same file (the oracle).

    check_gguf_tokenizer.py TOOL GGUF SOURCE_DIR

TOOL is the gguf_tokenizer_files program (tests/oracle/gguf_tokenizer_files.c): it writes the
tokenizer.json and tokenizer_config.json that t2g_gguf_tokenizer_files makes of GGUF, and the ids
t2g_text_encode gives through them for a list of strings. Those strings: the 10,000 of
tests/golden/tokenizers/corpus.bin and 4,000 more mixed from them, with numbers, whitespace runs
and the file's control tokens (seed 12). Compared with AutoTokenizer.from_pretrained(folder,
gguf_file=name) (transformers' own GGUF conversion):
  - the vocabulary (with added tokens), the added tokens and which are special;
  - bos/eos/pad/unk tokens, add_bos_token and the chat template;
  - the ids of every string, with special-token texts as plain text and matched, three ways: t2g,
    `tokenizers` loading t2g's tokenizer.json, transformers.
transformers reads the pre-tokenizer name "smollm" as plain ByteLevel (GPT-2's regex: it has no
entry for the name), without the Digits(individual_digits) step that SmolLM2's own tokenizer.json
has and llama.cpp applies (its "smollm" regexes isolate each \p{N} first): "  1" is then " ",
" 1" instead of "  ", "1". So the reference for the ids is transformers' tokenizer with the
pre-tokenizer of CORRECTED_PRE for such a name; how many strings transformers' own conversion
gives other ids for is printed. Exit 0 when all agree, 1 otherwise.
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from gguf import GGUFReader  # noqa: E402
from tokenizers import Tokenizer, pre_tokenizers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

SEED = 12
MIXED = 4000

# tokenizer.ggml.pre names transformers converts to another pre-tokenizer than the model's own
# tokenizer.json has (and llama.cpp applies): the model's own.
CORRECTED_PRE = {
    "smollm": lambda: pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ]),
}


def read_corpus(path):
    data = open(path, "rb").read()
    assert data[:8] == b"t2gtext1", path
    (count,) = struct.unpack_from("<I", data, 8)
    at, strings = 12, []
    for _ in range(count):
        (n,) = struct.unpack_from("<H", data, at)
        strings.append(data[at + 2 : at + 2 + n].decode("utf-8"))
        at += 2 + n
    return strings


def mixed_strings(corpus, specials, rng):
    pieces = [
        lambda: rng.choice(corpus),
        lambda: str(rng.randrange(10 ** rng.randrange(1, 25))),
        lambda: " " + str(rng.randrange(100000)) + rng.choice(["", ".5", ",000", "%", "px"]),
        lambda: rng.choice(specials),
        lambda: rng.choice([" ", "  ", "\n", "\n\n", "\t", " \n ", "\r\n", "\u00a0", "\u3000"]) * rng.randrange(1, 4),
        lambda: rng.choice(["²", "½", "٣٤", "१२", "Ⅻ", "①"]),
        lambda: rng.choice(["\x04", "\x06", "\x13", "\x14", "\x16", "\x1d", "\x00", "\x7f"]),
    ]
    out = []
    while len(out) < MIXED:
        s = "".join(rng.choice(pieces)() for _ in range(rng.randrange(1, 6)))
        if len(s.encode("utf-8")) < 65536:
            out.append(s)
    return out


def write_strings(path, strings):
    with open(path, "wb") as f:
        f.write(b"t2gtext1" + struct.pack("<I", len(strings)))
        for s in strings:
            b = s.encode("utf-8")
            f.write(struct.pack("<H", len(b)) + b)


def read_ids(path, count):
    data, at, out = open(path, "rb").read(), 0, []
    for _ in range(count):
        pair = []
        for _ in range(2):
            (n,) = struct.unpack_from("<I", data, at)
            pair.append(list(struct.unpack_from(f"<{n}I", data, at + 4)))
            at += 4 + 4 * n
        out.append(pair)
    assert at == len(data), "ids.bin has bytes left over"
    return out


def encode_all(tokenizer, strings, plain):
    tokenizer.encode_special_tokens = plain
    return [e.ids for e in tokenizer.encode_batch(strings, add_special_tokens=False)]


def main():
    tool, gguf, source = sys.argv[1:4]
    failures = []

    def expect(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    corpus = read_corpus(os.path.join(source, "tests/golden/tokenizers/corpus.bin"))
    hf = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(gguf)), gguf_file=os.path.basename(gguf))
    hf_backend = hf.backend_tokenizer
    specials = [t.content for t in hf_backend.get_added_tokens_decoder().values()]
    strings = corpus + mixed_strings(corpus, specials, random.Random(SEED))
    with tempfile.TemporaryDirectory() as tmp:
        write_strings(os.path.join(tmp, "strings.bin"), strings)
        subprocess.run([tool, gguf, tmp, os.path.join(tmp, "strings.bin")], check=True)
        ours = Tokenizer.from_file(os.path.join(tmp, "tokenizer.json"))
        config = json.load(open(os.path.join(tmp, "tokenizer_config.json")))
        t2g_ids = read_ids(os.path.join(tmp, "ids.bin"), len(strings))

    expect(ours.get_vocab(with_added_tokens=True) == hf.get_vocab(),
           f"vocabulary: {ours.get_vocab_size()} tokens, the same strings and ids as transformers'")
    added = lambda t: sorted((i, a.content, a.special) for i, a in t.get_added_tokens_decoder().items())  # noqa: E731
    expect(added(ours) == added(hf_backend),
           f"added tokens: {len(added(ours))}, {sum(s for _, _, s in added(ours))} special, as transformers'")
    for key in ["bos_token", "eos_token", "pad_token", "unk_token"]:
        expect(config.get(key) == getattr(hf, key), f"{key}: {config.get(key)!r} (transformers {getattr(hf, key)!r})")
    expect(config.get("add_bos_token") == bool(getattr(hf, "add_bos_token", False)),
           f"add_bos_token: {config.get('add_bos_token')} (transformers {getattr(hf, 'add_bos_token', None)})")
    expect(config.get("chat_template") == hf.chat_template,
           f"chat_template: {len(config.get('chat_template') or '')} characters, transformers' own")

    pre = GGUFReader(gguf).fields["tokenizer.ggml.pre"].contents()
    reference = Tokenizer.from_str(hf_backend.to_str())
    if pre in CORRECTED_PRE:
        reference.pre_tokenizer = CORRECTED_PRE[pre]()
        print(f"note: tokenizer.ggml.pre {pre!r}: the reference is transformers' tokenizer with the model's own "
              f"pre-tokenizer {reference.pre_tokenizer.__getstate__().decode()}, not transformers' "
              f"{json.dumps(json.loads(hf_backend.to_str())['pre_tokenizer'])}")
    for plain in [True, False]:
        setting = "special-token texts as plain text" if plain else "special tokens matched"
        ref_ids = encode_all(reference, strings, plain)
        hf_ids = encode_all(hf_backend, strings, plain)
        tk_ids = encode_all(ours, strings, plain)
        t2g = [pair[0 if plain else 1] for pair in t2g_ids]
        for name, got in [("t2g", t2g), ("tokenizers on t2g's tokenizer.json", tk_ids)]:
            bad = [i for i in range(len(strings)) if got[i] != ref_ids[i]]
            for i in bad[:3]:
                print(f"  string {i} {strings[i]!r}: {name} {got[i]}, the reference {ref_ids[i]}")
            expect(not bad, f"{setting}: {name}: {len(strings) - len(bad)} of {len(strings)} strings give the reference's ids")
        off = [i for i in range(len(strings)) if hf_ids[i] != ref_ids[i]]
        example = f", e.g. {strings[off[0]]!r}: {hf_ids[off[0]]} for {ref_ids[off[0]]}" if off else ""
        print(f"note: {setting}: transformers' own conversion gives other ids for {len(off)} strings{example}")
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
