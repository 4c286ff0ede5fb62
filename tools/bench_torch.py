#!/usr/bin/env python3
"""PyTorch beside `t2g bench train` and `t2g bench rollout`: the same presets, on the same device.

Train (the default): the step t2g times (forward, cross-entropy over every position of random
tokens, backward, global gradient-norm clip at 1, AdamW with t2g's settings) of a hand-built
nn.Module of the preset's shape (below), the median of --steps steps after --warmup steps,
tokens/s and the peak memory (CUDA: torch.cuda.max_memory_allocated; CPU: the growth of the
process's peak resident set over the run).
--rollout: batched sampling with the KV cache through transformers' generate (GPT2LMHeadModel or
LlamaForCausalLM from a config of the preset's shape, random weights; temperature 1, no top-k,
never stopping early): --prompts prompts of 64 random byte ids (fewer if the context is short),
--new new tokens each; the time of a second batch, as t2g's.
Both models, and t2g's count from its own parameter table, must have the same number of
parameters: the script stops otherwise. --counts prints the three counts of every preset (built
on the meta device: nothing is allocated). Needs the oracle's venv (tools/setup.sh --oracle);
tools/bench_compare.sh runs this and t2g one after the other and prints the ratios.
"""
import argparse
import dataclasses
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The presets of src/cli/bench_model.c: the model's shape and the batch of bench train.
PRESETS = {
    "char6l384": dict(arch="gpt2", vocab=256, context=256, layers=6, heads=6, width=384, batch=64),
    "gpt2-124m": dict(arch="gpt2", vocab=50257, context=1024, layers=12, heads=12, width=768, batch=8),
    "small": dict(arch="gpt2", vocab=259, context=64, layers=2, heads=4, width=128, batch=16),
    "smollm2-135m": dict(arch="llama", vocab=49152, context=1024, layers=30, heads=9, width=576, batch=8,
                         kv_heads=3, ffn_width=1536, rope_theta=100000.0),
}
# AdamW as t2g bench train steps it (src/cli/bench_train.c): lr, betas, eps, weight decay, clip.
ADAMW = dict(lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
WEIGHT_DECAY, GRAD_CLIP = 0.1, 1.0


@dataclasses.dataclass
class Shape:
    arch: str
    vocab: int
    context: int
    layers: int
    heads: int
    width: int
    batch: int
    kv_heads: int = 0      # 0: heads
    ffn_width: int = 0     # 0: 4 x width
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    def __post_init__(self):
        self.kv_heads = self.kv_heads or self.heads
        self.ffn_width = self.ffn_width or 4 * self.width

    @property
    def head_size(self):
        return self.width // self.heads

    @property
    def llama(self):
        return self.arch == "llama"


def t2g_parameters(s):
    """t2g's count: the tensors of its parameter table (src/nn/arch_gpt2.c, arch_llama.c)."""
    C, F_, qkv = s.width, s.ffn_width, (s.heads + 2 * s.kv_heads) * s.head_size
    if s.llama:  # wte (tied head); per block qkvw, attprojw, fcw (gate and up), fcprojw, ln1w, ln2w; lnfw
        return s.vocab * C + s.layers * (qkv * C + C * C + 2 * F_ * C + C * F_ + 2 * C) + C
    # wte (tied head), wpe; per block the same matrices and their biases, ln1 and ln2; lnf
    block = qkv * C + qkv + C * C + C + F_ * C + F_ + C * F_ + C + 4 * C
    return s.vocab * C + s.context * C + s.layers * block + 2 * C


# ---- the hand-built model of the train step ------------------------------------------------

def rotate(x, cos, sin):
    """Rotary positions on x (B, heads, T, head_size), the two halves of each head paired."""
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class Block(nn.Module):
    """One pre-norm block: gpt2 (LayerNorm, biases, GELU tanh) or llama (RMSNorm, no biases, GQA, SwiGLU)."""

    def __init__(self, s):
        super().__init__()
        self.s = s
        C, bias = s.width, not s.llama
        norm = (lambda: nn.RMSNorm(C, eps=s.norm_eps)) if s.llama else (lambda: nn.LayerNorm(C, eps=s.norm_eps))
        self.norm1, self.norm2 = norm(), norm()
        self.qkv = nn.Linear(C, (s.heads + 2 * s.kv_heads) * s.head_size, bias=bias)  # (H + 2 KV) hs x C
        self.proj = nn.Linear(C, C, bias=bias)
        self.fc = nn.Linear(C, (2 if s.llama else 1) * s.ffn_width, bias=bias)  # llama: gate and up
        self.fcproj = nn.Linear(s.ffn_width, C, bias=bias)

    def forward(self, x, rope):  # x: (B, T, C)
        s, (B, T, C) = self.s, x.shape
        hs = s.head_size
        q, k, v = self.qkv(self.norm1(x)).split([s.heads * hs, s.kv_heads * hs, s.kv_heads * hs], dim=-1)
        q = q.view(B, T, s.heads, hs).transpose(1, 2)  # (B, H, T, hs)
        k = k.view(B, T, s.kv_heads, hs).transpose(1, 2)  # (B, KV, T, hs)
        v = v.view(B, T, s.kv_heads, hs).transpose(1, 2)
        if rope is not None:
            q, k = rotate(q, *rope), rotate(k, *rope)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=s.kv_heads != s.heads)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
        h = self.fc(self.norm2(x))  # (B, T, F) or (B, T, 2F)
        if s.llama:
            gate, up = h.chunk(2, dim=-1)
            h = F.silu(gate) * up
        else:
            h = F.gelu(h, approximate="tanh")
        return x + self.fcproj(h)


class Model(nn.Module):
    """The preset's model with its head tied to the token embedding; forward gives the logits."""

    def __init__(self, s):
        super().__init__()
        self.s = s
        self.wte = nn.Embedding(s.vocab, s.width)  # (V, C)
        self.wpe = None if s.llama else nn.Embedding(s.context, s.width)  # (T, C)
        self.blocks = nn.ModuleList(Block(s) for _ in range(s.layers))
        self.normf = nn.RMSNorm(s.width, eps=s.norm_eps) if s.llama else nn.LayerNorm(s.width, eps=s.norm_eps)
        if s.llama:  # cos and sin of every position: (T, hs), not parameters
            hs = s.head_size
            inv = 1.0 / s.rope_theta ** (torch.arange(0, hs, 2, dtype=torch.float32) / hs)
            angles = torch.outer(torch.arange(s.context, dtype=torch.float32), inv)
            angles = torch.cat((angles, angles), dim=-1)
            self.register_buffer("cos", angles.cos(), persistent=False)
            self.register_buffer("sin", angles.sin(), persistent=False)

    def init_weights(self):
        """t2g's initialisation: N(0, 0.02), the residual projections N(0, 0.02 / sqrt(2 layers))."""
        for name, p in self.named_parameters():
            if p.dim() == 1:
                nn.init.zeros_(p) if name.endswith("bias") else nn.init.ones_(p)
            else:
                residual = name.endswith("proj.weight") and "blocks" in name
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * self.s.layers) if residual else 0.02)

    def forward(self, idx):  # idx: (B, T) -> logits (B, T, V)
        T = idx.shape[1]
        x = self.wte(idx)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(T, device=idx.device))
        rope = (self.cos[:T], self.sin[:T]) if self.s.llama else None
        for block in self.blocks:
            x = block(x, rope)
        return self.normf(x) @ self.wte.weight.t()


# ---- transformers' model of the rollout ----------------------------------------------------

def hf_model(s):
    """GPT2LMHeadModel or LlamaForCausalLM of the shape: no dropout, tied head, end token vocab - 1 (no
    padding token: the prompts are all of one length)."""
    import transformers
    common = dict(vocab_size=s.vocab, tie_word_embeddings=True, bos_token_id=None, eos_token_id=s.vocab - 1,
                  pad_token_id=None)
    if s.llama:
        config = transformers.LlamaConfig(
            hidden_size=s.width, intermediate_size=s.ffn_width, num_hidden_layers=s.layers,
            num_attention_heads=s.heads, num_key_value_heads=s.kv_heads, head_dim=s.head_size,
            max_position_embeddings=s.context, rms_norm_eps=s.norm_eps, rope_theta=s.rope_theta,
            attention_bias=False, mlp_bias=False, **common)
        return transformers.LlamaForCausalLM(config)
    config = transformers.GPT2Config(
        n_positions=s.context, n_embd=s.width, n_layer=s.layers, n_head=s.heads, n_inner=s.ffn_width,
        activation_function="gelu_new", layer_norm_epsilon=s.norm_eps, resid_pdrop=0.0, embd_pdrop=0.0,
        attn_pdrop=0.0, **common)
    return transformers.GPT2LMHeadModel(config)


def count(model):
    return sum(p.numel() for p in model.parameters())  # tied tensors once


def check_count(name, model_name, got, s):
    want = t2g_parameters(s)
    if got != want:
        sys.exit(f"bench_torch.py: {name}: the {model_name} has {got} parameters, t2g's model {want}")
    return got


# ---- measuring ---------------------------------------------------------------------------------

def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """CUDA: the allocator's peak; CPU: how far the process's peak resident set rose past its start."""

    def __init__(self, device):
        self.device = device
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            self.start = torch.cuda.memory_allocated(device)
            self.measure = "torch.cuda.max_memory_allocated"
        else:  # after one small step of autograd and AdamW, so that loading code and starting threads do not count
            w = nn.Parameter(torch.ones(64, 64))
            F.gelu(torch.ones(64, 64) @ w).sum().backward()
            torch.optim.AdamW([w]).step()
            self.start = rss_bytes()
            self.measure = "peak RSS growth (getrusage ru_maxrss - RSS after a warm-up op)"

    def mib(self):
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        return max(peak - self.start, 0) / 2**20


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def autocast(device, dtype):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bf16")


def bench_train(s, args, device):
    peak = PeakMemory(device)
    torch.manual_seed(1)
    model = Model(s).to(device)
    model.init_weights()
    parameters = check_count(args.preset, "hand-built model", count(model), s)
    decayed = [p for p in model.parameters() if p.dim() >= 2]  # as t2g: matrices and embeddings
    others = [p for p in model.parameters() if p.dim() < 2]
    fused = device.type == "cuda"
    optimizer = torch.optim.AdamW([dict(params=decayed, weight_decay=WEIGHT_DECAY),
                                   dict(params=others, weight_decay=0.0)], fused=fused or None, **ADAMW)
    B, T = s.batch, s.context
    tokens = torch.randint(0, s.vocab, (B, T), device=device)  # (B, T)
    targets = torch.randint(0, s.vocab, (B, T), device=device)  # (B, T)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, args.dtype):
            logits = model(tokens)  # (B, T, V)
        loss = F.cross_entropy(logits.float().view(-1, s.vocab), targets.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        optimizer.step()

    ms = []
    for i in range(args.warmup + args.steps):
        sync(device)
        start = time.perf_counter()
        step()
        sync(device)
        if i >= args.warmup:
            ms.append((time.perf_counter() - start) * 1e3)
    ms.sort()
    n = len(ms)
    median = ms[n // 2] if n % 2 else 0.5 * (ms[n // 2 - 1] + ms[n // 2])
    return dict(bench="train", model="hand-built nn.Module (tools/bench_torch.py)",
                optimizer="torch.optim.AdamW, " + ("fused" if fused else "the default implementation"),
                sequence_length=T, warmup_steps=args.warmup, steps=args.steps, ms_per_step=median,
                best_ms_per_step=ms[0], tokens_per_s=B * T / (median * 1e-3), parameters=parameters,
                peak_memory_mib=peak.mib(), memory_measure=peak.measure)


def rollout_lengths(s, prompts, new, prompt_tokens=None):
    """t2g bench rollout's: new tokens (default min(context / 2, 128)) and prompt tokens (at most 64,
    or --prompt-tokens, which must fit beside the new ones)."""
    new = new or min(s.context // 2, 128)
    room = s.context - new if new < s.context else 0
    if prompt_tokens and prompt_tokens > room:
        sys.exit(f"bench_torch.py: --prompt-tokens {prompt_tokens} and --new {new} do not fit in a context of {s.context}")
    prompt = prompt_tokens or min(room, 64)
    if prompt == 0:
        sys.exit(f"bench_torch.py: --new {new} leaves no room for a prompt in a context of {s.context}")
    return new, prompt


def bench_rollout(s, args, device):
    import transformers
    new, prompt_len = rollout_lengths(s, args.prompts, args.new, args.prompt_tokens)
    peak = PeakMemory(device)
    torch.manual_seed(1)
    model = hf_model(s)
    parameters = check_count(args.preset, type(model).__name__, count(model), s)
    model = model.to(device, dtype=torch.bfloat16 if args.dtype == "bf16" else torch.float32).eval()
    prompt_vocab = min(256, s.vocab)  # t2g's presets draw prompts from the byte ids
    generator = torch.Generator().manual_seed(3)
    prompts = torch.randint(0, prompt_vocab, (args.prompts, prompt_len), generator=generator).to(device)
    settings = transformers.GenerationConfig(
        do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=new, min_new_tokens=new,
        eos_token_id=s.vocab - 1, pad_token_id=0)

    def generate():
        with torch.no_grad():
            out = model.generate(prompts, attention_mask=torch.ones_like(prompts), generation_config=settings)
        if out.shape[1] != prompt_len + new:
            sys.exit(f"bench_torch.py: generate gave {out.shape[1] - prompt_len} new tokens, not {new}")

    ms = 0.0
    for _ in range(2):  # as t2g: the time of the second batch
        sync(device)
        start = time.perf_counter()
        generate()
        sync(device)
        ms = (time.perf_counter() - start) * 1e3
    return dict(bench="rollout", model=f"transformers {type(model).__name__}", ms=ms,
                new_tokens_per_s=args.prompts * new / (ms * 1e-3), prompts=args.prompts, prompt_tokens=prompt_len,
                prompt_vocab=prompt_vocab, new_tokens_each=new, parameters=parameters,
                peak_memory_mib=peak.mib(), memory_measure=peak.measure)


def counts():
    """Every preset's three counts, the models built on the meta device."""
    out = {}
    for name, preset in PRESETS.items():
        s = Shape(**preset)
        with torch.device("meta"):
            hand, hf = count(Model(s)), count(hf_model(s))
        out[name] = dict(t2g=t2g_parameters(s), hand_built=check_count(name, "hand-built model", hand, s),
                         transformers=check_count(name, "transformers model", hf, s))
    return out


# ---- the command -------------------------------------------------------------------------------

def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), help="default: small on a CPU, char6l384 on CUDA")
    p.add_argument("--context", type=int, help="tokens per sequence, 2 to the preset's (its context becomes N)")
    p.add_argument("--batch", type=positive, help="train: sequences per step (default: the preset's)")
    p.add_argument("--steps", type=positive, default=10, help="train: timed steps (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="train: untimed steps first (default 2)")
    p.add_argument("--rollout", action="store_true", help="time HF generate instead of a train step")
    p.add_argument("--prompts", type=positive, default=64, help="rollout: prompts in the batch (default 64)")
    p.add_argument("--new", type=positive, help="rollout: new tokens each (default min(context / 2, 128))")
    p.add_argument("--prompt-tokens", type=positive, help="rollout: tokens of each prompt (default 64, or fewer)")
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                   help="f32, or bf16 autocast (train) / bf16 weights (rollout)")
    p.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available")
    p.add_argument("--threads", type=positive, help="CPU threads (default: the cores this process may use)")
    p.add_argument("--counts", action="store_true", help="print every preset's parameter counts and stop")
    p.add_argument("--json", action="store_true", help="one JSON object")
    args = p.parse_args()
    if args.warmup < 0:
        p.error("--warmup expects a non-negative integer")
    return args


def main():
    args = parse()
    if args.counts:
        print(json.dumps(counts(), indent=2))
        return
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("bench_torch.py: --device cuda: this PyTorch sees no CUDA device")
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    args.preset = args.preset or ("char6l384" if device.type == "cuda" else "small")
    s = Shape(**PRESETS[args.preset])
    if args.context is not None:
        if not 2 <= args.context <= s.context:
            sys.exit(f"bench_torch.py: --context expects 2 to the preset's {s.context}, got {args.context}")
        s.context = args.context
    s.batch = args.batch or s.batch
    result = dict(device=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                  device_type=device.type, threads=threads if device.type == "cpu" else None,
                  omp_wait_policy=os.environ.get("OMP_WAIT_POLICY") if device.type == "cpu" else None, dtype=args.dtype,
                  torch=torch.__version__, preset=args.preset, arch=s.arch, vocab=s.vocab, context=s.context,
                  layers=s.layers, heads=s.heads, kv_heads=s.kv_heads, width=s.width, ffn_width=s.ffn_width,
                  batch=args.prompts if args.rollout else s.batch)
    if args.rollout:
        import transformers
        result["transformers"] = transformers.__version__
        result.update(bench_rollout(s, args, device))
    else:
        result.update(bench_train(s, args, device))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"PyTorch {result['bench']} on {result['device']}, batch {result['batch']}, preset {args.preset}:")
    for key, value in result.items():
        if isinstance(value, float):  # plain digits: 13120, not 1.312e+04
            print(f"  {key:22} {value:.0f}" if abs(value) >= 1000 else f"  {key:22} {value:.4g}")
        elif value is not None and key not in ("bench", "device", "batch", "preset"):
            print(f"  {key:22} {value}")


if __name__ == "__main__":
    main()
