"""Makes the golden byte-level BPE tokenizers and their expected encodings under tests/golden/tokenizers/.

Run with the oracle's python (tools/setup.sh --oracle):  python tests/oracle/make_tokenizers.py OUT_DIR
Everything is fixed by SEED, so two runs write the same files (tests/oracle/regenerate_tokenizers.sh
checks it). OUT_DIR gets, for each style NAME in gpt2, smollm2, qwen2: NAME/tokenizer.json (a small
BPE trained here with that model's normalizer, pre-tokenizer and decoder), NAME.plain.bin (every
corpus string encoded with special-token texts as plain text) and NAME.special.bin (the strings
holding a special token's text, encoded with the specials matched); and corpus.bin, the test strings.
The binary formats are described in tests/golden/tokenizers/README.md (all little-endian).
"""
import json
import pathlib
import random
import struct
import sys

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

SEED = 11
VOCAB = 1500                             # trained vocabulary, special tokens included
TEST_STRINGS = 10000
MAX_TEXT_BYTES = 40                      # offsets are stored in one byte each: < 256
TRAIN_LINES = 6000
GPT2_REGEX = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
QWEN2_REGEX = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
               r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
CHATML_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

ENGLISH = ("the of and to in is that it was for on are with as his they be at one have this from "
           "or had by word but what some we can out other were all there when up use your how said an "
           "each she which do their time if will way about many then them write would like so these "
           "her long make thing see him two has look more day could go come did number sound no most "
           "people my over know water than call first who may down side been now find any new work "
           "part take get place made live where after back little only round man year came show every "
           "good me give our under name very through just form sentence great think say help low line "
           "differ turn cause much mean before move right boy old too same tell does set three want air "
           "well also play small end put home read hand port large spell add even land here must big "
           "high such follow act why ask men change went light kind off need house picture try us again "
           "animal point mother world near build self earth father head stand own page should country "
           "Hello World London Monday January Python Linux GitHub OpenAI NASA HTTP JSON API URL").split()
SCRIPTS = {
    "latin": "café naïve façade Ångström Żółć señor déjà vu über Straße crème brûlée jalapeño Øresund "
             "garçon coöperate résumé São Paulo Kraków İstanbul ĳssel œuvre ﬁnal".split(),
    "cyrillic": "Привет мир как дела Москва Україна съешь же ещё этих мягких французских булок".split(),
    "greek": "Καλημέρα κόσμε Ελλάδα φιλοσοφία ψυχή Ωμέγα άλφα ΐ ΰ".split(),
    "cjk": "你好世界 日本語のテキスト 中文分词 漢字 カタカナ ひらがな 한국어 텍스트 東京 北京 𠀀𪚥".split(),
    "arabic": "مرحبا بالعالم اللغة العربية كتاب السلام عليكم".split(),
    "hindi": "नमस्ते दुनिया हिन्दी भाषा क्षत्रिय संस्कृत".split(),
    "other": "สวัสดี שלום עולם Ողջույն გამარჯობა ሰላም ᐊᐃᓐᖓᐃᑦ".split(),
}
EMOJI = ["😀", "👍", "👍🏻", "👍🏽", "👍🏿", "👋🏾", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "❤️", "❤", "🇫🇷", "🇯🇵",
         "🧑🏿‍🤝‍🧑🏻", "✌️", "🤷‍♀️", "🙂🙃", "🔥🔥🔥", "👁‍🗨", "©️", "1️⃣", "#️⃣"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303", "o\u0302\u0323", "A\u030a", "\u212b", "\u1100\u1161\u11a8",
             "z\u0335\u0321\u0347", "\u0301", "x\u20dd", "i\u0307\u0301", "\u0915\u094d\u0937", "c\u0327a"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", " \t ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", " \n ",
          "\u00a0", "\u3000", "\u2028", "\u200b", "     \n", "\n    ", "\t\n"]
CONTRACTIONS = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'vE", "'m", "'M", "'ll",
                "'LL", "'lL", "'d", "'D"]
CODE = ["def f(x):\n    return x**2", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
        "const add = (a, b) => a + b;", "#include <stdio.h>", "SELECT * FROM t WHERE id=42;",
        '{"a": [1, 2, 3], "b": null}', "if x != nil { return err }", "fn main() -> Result<(), E> {",
        "x_1 = y__2 * 0x1F + 0b101", "    self.cache[key] = value  # TODO", "<div class=\"a\">&amp;</div>",
        "$ ls -la | grep '^d'", "a.b?.c ?? d", "printf(\"%5.2f\\n\", v);", "λx. x → ∀y ∈ ℕ"]
SPECIAL_TEXTS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>user\nhi<|im_end|>\n",
                 "<|im_start", "im_end|>", "<|endoftext|><|endoftext|>", " <|endoftext|> ", "a<|im_end|>b",
                 "<|im_start|>assistant\n", "<|endoftext", "<<|im_end|>>", "<|ENDOFTEXT|>"]
PUNCTUATION = [".", ",", "!", "?", "...", ";", ":", "-", "--", "—", "(", ")", "\"", "'", "«»", "“”", "¿", "¡"]
FIXED = ["", " ", "\n", "\t", "\r\n", "a", "0", "00", "1234567890", "'s", "'S", "''", " '", "Hello, world!",
         "I'm here, you're there, it's THEIR'S, WE'VE, SHE'D, HE'LL", "don't DON'T Don'T", "<|endoftext|>",
         "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n",
         "😀", "👨‍👩‍👧‍👦", "e\u0301", "\u212b", "   x", "x   ", "x   y", "\n\n\nx", "1 2 3", " 12 345 6789"]


def word(rng):
    kind = rng.random()
    if kind < 0.45:
        w = rng.choice(ENGLISH)
        return rng.choice([w, w, w.capitalize(), w.upper()])
    if kind < 0.75:
        return rng.choice(SCRIPTS[rng.choice(sorted(SCRIPTS))])
    if kind < 0.85:
        return rng.choice(ENGLISH) + rng.choice(CONTRACTIONS)
    return rng.choice(COMBINING) + rng.choice(["", rng.choice(ENGLISH)])


def digits(rng):
    n = rng.choice([1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 20, 25, 32])
    s = "".join(rng.choice("0123456789") for _ in range(n))
    return rng.choice([s, s, s + "." + str(rng.randrange(1000)), "-" + s, s + "%", "$" + s,
                       "{:,}".format(int(s)), rng.choice("٠١٢٣٤٥٦٧٨٩०१२३४५६७८९²½") + s])


def fragment(rng):
    kind = rng.random()
    if kind < 0.40:
        words = [word(rng) for _ in range(rng.randint(1, 4))]
        out = words[0]
        for w in words[1:]:
            out += rng.choice([" ", " ", " ", "", rng.choice(SPACES), rng.choice(PUNCTUATION) + " "]) + w
        return out + rng.choice(["", "", rng.choice(PUNCTUATION)])
    if kind < 0.52:
        return digits(rng)
    if kind < 0.62:
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3)))
    if kind < 0.74:
        return rng.choice(CODE)
    if kind < 0.84:
        return rng.choice(SPACES) * rng.randint(1, 3)
    if kind < 0.89:
        return rng.choice(SPECIAL_TEXTS)
    return rng.choice(PUNCTUATION) * rng.randint(1, 3)


def text(rng):
    parts = [fragment(rng) for _ in range(rng.randint(1, 2))]
    out = parts[0]
    for p in parts[1:]:
        out += rng.choice(["", " ", " ", "\n", "\t", "  ", "\r\n"]) + p
    while len(out.encode()) > MAX_TEXT_BYTES:
        out = out[:-1]
    return out


def test_corpus():
    rng = random.Random(SEED)
    strings, seen = [], set()
    for s in FIXED:
        strings.append(s)
        seen.add(s)
    while len(strings) < TEST_STRINGS:
        s = text(rng)
        if s not in seen:
            seen.add(s)
            strings.append(s)
    return strings


def training_corpus():
    rng = random.Random(SEED + 1)
    lines = [text(rng) for _ in range(TRAIN_LINES)]
    prose = random.Random(SEED + 2)
    lines += [" ".join(prose.choice(ENGLISH) for _ in range(12)) + "." for _ in range(TRAIN_LINES)]
    return lines


def byte_level(**options):
    return dict(add_prefix_space=False, **options)


def make(style):
    """A trained tokenizer of the style: the normalizer, pre-tokenizer, post-processor and decoder of
    that model's published tokenizer.json, specials at the end (gpt2, qwen2) or at ids 0.. (smollm2)."""
    tok = Tokenizer(models.BPE())
    specials_first = []
    if style == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(**byte_level(trim_offsets=True, use_regex=True))
        specials_last = ["<|endoftext|>"]
    elif style == "smollm2":
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                     pre_tokenizers.ByteLevel(**byte_level(trim_offsets=True,
                                                                                           use_regex=True))])
        specials_first, specials_last = CHATML_SPECIALS, []
    else:
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(**byte_level(trim_offsets=False, use_regex=False))])
        specials_last = CHATML_SPECIALS
    prefix = style != "qwen2"                # Qwen2's post-processor and decoder: all options off
    tok.post_processor = processors.ByteLevel(add_prefix_space=prefix, trim_offsets=False, use_regex=prefix)
    tok.decoder = decoders.ByteLevel()      # its Python constructor takes no options: see save()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB - len(specials_last), special_tokens=specials_first,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(training_corpus(), trainer=trainer)
    tok.add_special_tokens(specials_last)
    return tok


def save(tok, path, merges_as_strings, style):
    """tokenizer.json with merges as ["a", "b"] pairs (what tokenizers writes) or as "a b" strings;
    Qwen2's decoder has all its options off (the options do not change encoding); GPT-2's vocab also
    lists its special token (as GPT-2's does; Qwen2's lists its specials only under added_tokens)."""
    data = json.loads(tok.to_str())
    if style == "gpt2":
        data["model"]["vocab"].update({t["content"]: t["id"] for t in data["added_tokens"]})
    if style == "qwen2":
        data["decoder"].update(add_prefix_space=False, trim_offsets=False, use_regex=False)
    if merges_as_strings:
        data["model"]["merges"] = [f"{a} {b}" for a, b in data["model"]["merges"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def byte_offsets(s, offsets):
    """Character (code point) offsets -> UTF-8 byte offsets."""
    at = [0]
    for ch in s:
        at.append(at[-1] + len(ch.encode()))
    return [(at[a], at[b]) for a, b in offsets]


def encode_all(tok, strings, indices):
    """One record per string: u16 index, u16 count, count x u16 id, count x u8 start, count x u8 end."""
    out = bytearray()
    for i in indices:
        enc = tok.encode(strings[i], add_special_tokens=False)
        spans = byte_offsets(strings[i], enc.offsets)
        assert max(enc.ids, default=0) < 65536 and all(e < 256 for _, e in spans)
        out += struct.pack(f"<HH{len(enc.ids)}H", i, len(enc.ids), *enc.ids)
        out += bytes(s for s, _ in spans) + bytes(e for _, e in spans)
    return out


def write_records(path, records, count):
    path.write_bytes(b"t2gtoks1" + struct.pack("<I", count) + records)


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    strings = test_corpus()
    corpus = bytearray(b"t2gtext1" + struct.pack("<I", len(strings)))
    for s in strings:
        b = s.encode()
        corpus += struct.pack("<H", len(b)) + b
    (out / "corpus.bin").write_bytes(corpus)
    with_special = [i for i, s in enumerate(strings) if any(t in s for t in CHATML_SPECIALS)]
    for style in ("gpt2", "smollm2", "qwen2"):
        save(make(style), out / style / "tokenizer.json", merges_as_strings=(style == "gpt2"), style=style)
        tok = Tokenizer.from_file(str(out / style / "tokenizer.json"))   # the file as saved
        tok.encode_special_tokens = True                                 # specials' texts as plain text
        write_records(out / f"{style}.plain.bin", encode_all(tok, strings, range(len(strings))), len(strings))
        tok.encode_special_tokens = False                                # specials matched (tokenizers' default)
        special = [i for i in with_special if any(t.content in strings[i] for t in tok.get_added_tokens_decoder().values())]
        write_records(out / f"{style}.special.bin", encode_all(tok, strings, special), len(special))
        print(f"make_tokenizers: {style}: vocab {tok.get_vocab_size()}, "
              f"{len(special)} strings with special-token text")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_tokenizers.py OUT_DIR")
    main(pathlib.Path(sys.argv[1]))
