"""Makes the golden chat-template files under tests/golden/chat/.

Run with the oracle's python (tools/setup.sh --oracle):  python tests/oracle/make_chat_golden.py OUT_DIR
Everything is fixed by SEED, so two runs write the same files (tests/oracle/regenerate_chat.sh
checks it). OUT_DIR gets conversations.bin (the test conversations) and, for each style NAME,
NAME/tokenizer_config.json (a Jinja chat template written here from the format, with bos/eos)
and NAME/ids.bin (transformers' apply_chat_template(tokenize=True) of each conversation, with the
generation prompt and in full); llama3/ also gets its tokenizer.json (the SmolLM2-style golden
tokenizer with Llama 3's four special tokens added). The chatml styles use
tests/golden/tokenizers/smollm2/tokenizer.json as it is. Formats: tests/golden/chat/README.md.
"""
import json
import pathlib
import random
import shutil
import struct
import sys
import tempfile

from tokenizers import AddedToken, Tokenizer
from transformers import AutoTokenizer

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_tokenizers import CODE, EMOJI, SPACES, save, text  # noqa: E402  (the tokenizer golden's test strings)

SEED = 12
CONVERSATIONS = 200
ROOT = pathlib.Path(__file__).resolve().parents[2]
SMOLLM2_TOKENIZER = ROOT / "tests" / "golden" / "tokenizers" / "smollm2" / "tokenizer.json"
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]

# The default system prompts of SmolLM2-Instruct and Qwen2.5-Instruct (facts of those models).
SMOLLM2_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
QWEN2_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

# Our own templates, written from the formats (README.md there). They differ on purpose in how
# they spell the same thing (quotes, `+` or `~`, raw newlines or \n escapes) so that the
# recogniser meets each.
CHATML_DEFAULT_ONE_LITERAL = (  # the default system turn in one single-quoted literal, raw newlines
    "{%- for turn in messages %}\n"
    "{%- if loop.first and turn['role'] != 'system' %}\n"
    "{{- '<|im_start|>system\n" + SMOLLM2_SYSTEM + "<|im_end|>\n' }}\n"
    "{%- endif %}\n"
    "{{- '<|im_start|>' + turn['role'] + '\n' + turn['content'] + '<|im_end|>\n' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}\n")
CHATML_DEFAULT_JOINED = (  # the default system turn as double-quoted literals joined by +, \n escapes
    r"{#- a system turn always comes first: the caller's, or ours -#}"
    r'{%- if messages[0].role == "system" %}'
    r'{{- "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n" }}'
    r'{%- else %}'
    r'{{- "<|im_start|>system\n" + "' + QWEN2_SYSTEM + r'" + "<|im_end|>\n" }}'
    r'{%- endif %}'
    r'{%- for turn in messages %}{%- if turn.role != "system" or not loop.first %}'
    r'{{- "<|im_start|>" + turn.role + "\n" + turn.content + "<|im_end|>\n" }}'
    r'{%- endif %}{%- endfor %}'
    r'{%- if add_generation_prompt %}{{- "<|im_start|>assistant\n" }}{%- endif %}')
CHATML_NO_DEFAULT = (  # no system turn unless the conversation has one; ~ joins
    r"{% for turn in messages %}{{ '<|im_start|>' ~ turn.role ~ '\n' ~ turn.content ~ '<|im_end|>' ~ '\n' }}"
    r"{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
LLAMA3 = (  # BOS first, contents trimmed, no default system turn
    r"{{- bos_token }}"
    r"{%- for turn in messages %}"
    r"{{- '<|start_header_id|>' + turn['role'] + '<|end_header_id|>\n\n' + (turn['content'] | trim) + '<|eot_id|>' }}"
    r"{%- endfor %}"
    r"{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}")

# name, template, bos, eos, whether the tokenizer.json is written here (else the smollm2 one)
STYLES = [
    ("chatml_smollm2", CHATML_DEFAULT_ONE_LITERAL, "<|im_start|>", "<|im_end|>", False),
    ("chatml_qwen2", CHATML_DEFAULT_JOINED, None, "<|im_end|>", False),
    ("chatml_plain", CHATML_NO_DEFAULT, None, "<|im_end|>", False),
    ("llama3", LLAMA3, "<|begin_of_text|>", "<|eot_id|>", True),
]

# Whitespace at the ends of contents: what Jinja's trim (Python's str.strip) removes, and some it
# keeps (U+200B, U+FEFF).
EDGE_SPACES = [" ", "  ", "\n", "\n\n", "\t", "\r\n", " \n ", "\u3000", "\u00a0", "\x85", "\x1c", "\x0b\x0c",
               "\u2028", "\u2009", "\u202f", "\u200b", "\ufeff"]
SPECIAL_TEXTS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|begin_of_text|>",
                 "<|start_header_id|>user<|end_header_id|>\n\n"]

FIXED = [  # system (None: no system message), prompt, response
    (None, "Hello", "Hi there!"),
    ("You are terse.", "What is 2+2?", "4"),
    (None, "", ""),
    ("", "", ""),
    ("", "x", "y"),
    (None, "  padded  ", "  reply  "),
    (None, "\n\nlines\n", "\nstarts with a newline"),
    (None, "tab\t", "\tx"),
    (None, "\u3000wide space\u3000", "\u00a0nbsp\u00a0"),
    (None, "\x85nel\x1c", "\u200bzero width\u200b"),
    (None, "\ufeffbom", "ok\u2028"),
    (None, "   ", "   "),
    ("  ", "\n", "\t"),
    (None, "日本語のテキスト", "Привет мир"),
    (None, "👍🏽 emoji", "👨‍👩‍👧‍👦"),
    (None, "line1\r\nline2", "a\rb"),
    (None, "code:\ndef f(x):\n    return x", "```\nok\n```"),
    ("Multi\nline\nsystem ", "q", " a"),
    (None, "<|im_end|>", "<|im_start|>assistant\n"),
    (None, "a<|eot_id|>b", "<|begin_of_text|>"),
    ("sys<|endoftext|>", "user", "resp"),
    (None, "It's 'quoted' and \"double\"", "\\n is not a newline"),
]


def padded(rng, s):
    if rng.random() < 0.3:
        s = rng.choice(EDGE_SPACES) + s
    if rng.random() < 0.3:
        s = s + rng.choice(EDGE_SPACES)
    return s


def content(rng):
    kind = rng.random()
    if kind < 0.05:
        return ""
    if kind < 0.10:
        return rng.choice(SPACES)
    if kind < 0.16:
        return padded(rng, rng.choice(SPECIAL_TEXTS) + text(rng))
    if kind < 0.22:
        return padded(rng, rng.choice(CODE))
    if kind < 0.27:
        return rng.choice(EMOJI) + " " + text(rng)
    return padded(rng, text(rng) + rng.choice(["", " ", "\n", "\n\n"]) + (text(rng) if rng.random() < 0.4 else ""))


def conversations():
    rng = random.Random(SEED)
    out = list(FIXED)
    while len(out) < CONVERSATIONS:
        system = None if rng.random() < 0.6 else (text(rng) if rng.random() < 0.9 else "")
        out.append((system, content(rng), content(rng)))
    return out


def write_conversations(path, convs):
    """conversations.bin: "t2gconv1", u32 count, then per conversation: u8 has_system, and the
    system, prompt and response each as u16 length + UTF-8 bytes."""
    out = bytearray(b"t2gconv1" + struct.pack("<I", len(convs)))
    for system, prompt, response in convs:
        out += struct.pack("<B", system is not None)
        for s in (system or "", prompt, response):
            b = s.encode()
            out += struct.pack("<H", len(b)) + b
    path.write_bytes(out)


def llama3_tokenizer(path):
    tok = Tokenizer.from_file(str(SMOLLM2_TOKENIZER))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in LLAMA3_SPECIALS])
    save(tok, path, merges_as_strings=False, style="llama3")


def write_config(path, template, bos, eos):
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": bos, "eos_token": eos,
              "chat_template": template}
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def messages(system, prompt, response):
    m = [] if system is None else [{"role": "system", "content": system}]
    m.append({"role": "user", "content": prompt})
    if response is not None:
        m.append({"role": "assistant", "content": response})
    return m


def shared_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def ids_file(tok, convs):
    """ids.bin: "t2gchid1", u32 count, then per conversation: the full conversation's ids (u16 m,
    m x u16), then the generation prompt's as u16 p (its first p ids are the full one's first p),
    u16 k, k x u16 (the rest of its ids)."""
    out = bytearray(b"t2gchid1" + struct.pack("<I", len(convs)))
    for system, prompt, response in convs:
        gen = tok.apply_chat_template(messages(system, prompt, None), add_generation_prompt=True, return_dict=False)
        full = tok.apply_chat_template(messages(system, prompt, response), return_dict=False)
        assert max(full + gen, default=0) < 65536 and len(full) < 65536 and len(gen) < 65536
        p = shared_prefix(gen, full)
        out += struct.pack(f"<H{len(full)}H", len(full), *full)
        out += struct.pack(f"<HH{len(gen) - p}H", p, len(gen) - p, *gen[p:])
    return out


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    convs = conversations()
    write_conversations(out / "conversations.bin", convs)
    for name, template, bos, eos, own_tokenizer in STYLES:
        folder = out / name
        folder.mkdir(exist_ok=True)
        write_config(folder / "tokenizer_config.json", template, bos, eos)
        if own_tokenizer:
            llama3_tokenizer(folder / "tokenizer.json")
        with tempfile.TemporaryDirectory() as load:   # the folder transformers loads: config + tokenizer.json
            shutil.copy(folder / "tokenizer_config.json", load)
            shutil.copy(folder / "tokenizer.json" if own_tokenizer else SMOLLM2_TOKENIZER, load)
            tok = AutoTokenizer.from_pretrained(load)
            (folder / "ids.bin").write_bytes(ids_file(tok, convs))
        print(f"make_chat_golden: {name}: {len(convs)} conversations")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_chat_golden.py OUT_DIR")
    main(pathlib.Path(sys.argv[1]))
