"""Makes the tiny random Hugging Face models and their expected outputs under tests/golden/hf/.

Run with the oracle's python (tools/setup.sh --oracle):  python tests/oracle/make_models.py OUT_DIR
Everything is fixed by SEED, so two runs write the same files (tests/oracle/regenerate.sh checks it).
For each model OUT_DIR gets a folder NAME/ (config.json, model.safetensors in float32) and
NAME.expected.safetensors with what transformers computes in float64 from those float32 weights:
tokens, targets, logits, loss, grad.<parameter> and the greedy generation (prompt, greedy,
greedy_margin). llama-bf16/ and llama-f16/ hold the llama weights rounded to those dtypes, with
their own expected logits; gpt2-sharded/ is gpt2 split over several files (gpt2's expected applies).
"""
import copy
import pathlib
import sys

import numpy
import torch
import transformers
from safetensors.torch import save_file
from transformers import GPT2Config, LlamaConfig, Qwen2Config

SEED = 4                                 # chosen so every greedy step has a top-2 margin > 0.02
VOCAB, CONTEXT = 259, 64                 # t2g's byte tokenizer: 256 bytes, BOS, EOS, PAD
BOS, EOS, PAD = 256, 257, 258
BATCH, LENGTH = 2, 11                    # the (B, T) batch for logits, loss and gradients
PROMPT, NEW_TOKENS = 5, 12               # greedy generation: (1, PROMPT) -> (1, PROMPT + NEW_TOKENS)
WEIGHT_STD, NORM_STD = 0.2, 0.1          # wider than transformers' init: outputs far from uniform


def configs():
    ids = dict(vocab_size=VOCAB, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)
    return {
        "gpt2": GPT2Config(n_positions=CONTEXT, n_embd=30, n_layer=2, n_head=3,
                           activation_function="gelu_new", **ids),
        "llama": LlamaConfig(hidden_size=36, num_hidden_layers=2, num_attention_heads=6,
                             num_key_value_heads=2, intermediate_size=45,
                             max_position_embeddings=CONTEXT, rope_theta=10000.0,
                             rms_norm_eps=1e-5, attention_bias=False,
                             tie_word_embeddings=False, **ids),
        "qwen2": Qwen2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, intermediate_size=39,
                             max_position_embeddings=CONTEXT, rope_theta=1000000.0,
                             rms_norm_eps=1e-6, tie_word_embeddings=True, **ids),
    }


def randomise(model, rng):
    """Every parameter ~ N(0, WEIGHT_STD); the scales of LayerNorm/RMSNorm ~ N(1, NORM_STD).
    numpy's generator, not torch's, so that the draws do not depend on the CPU's vector units."""
    norm_scales = {id(m.weight) for m in model.modules() if type(m).__name__.endswith("Norm")}
    with torch.no_grad():
        for p in model.parameters():
            noise = torch.from_numpy(rng.standard_normal(tuple(p.shape)))
            if id(p) in norm_scales:
                p.copy_(1.0 + NORM_STD * noise)
            else:
                p.copy_(WEIGHT_STD * noise)


def load_float64(folder):
    """The saved weights converted exactly to float64 (from f32, bf16 or f16)."""
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, dtype=torch.float64, attn_implementation="eager")
    return model.eval()


def batch(rng):
    """tokens (B, T) and targets (B, T): the tokens shifted left, the last target EOS."""
    tokens = torch.from_numpy(rng.integers(0, VOCAB, (BATCH, LENGTH)))
    targets = torch.cat([tokens[:, 1:], torch.full((BATCH, 1), EOS)], dim=1)
    return tokens, targets


def logits_and_loss(model, tokens, targets):
    logits = model(input_ids=tokens).logits                       # (B, T, V)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    return logits, loss


def greedy(model, prompt):
    """Greedy continuation (1, PROMPT + NEW_TOKENS) and, from one float64 forward over it, the
    top-1 minus top-2 logit at each generated step (generate itself ranks float32 logits)."""
    config = transformers.GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS,
                                           eos_token_id=None, pad_token_id=PAD)
    with torch.no_grad():
        sequence = model.generate(prompt, generation_config=config)
        steps = model(input_ids=sequence).logits[0, PROMPT - 1:-1]   # (NEW_TOKENS, V)
    top2 = steps.topk(2).values
    return sequence, top2[:, 0] - top2[:, 1]


def expected_all(folder, rng):
    """Everything the C oracle test compares, computed by transformers in float64."""
    model = load_float64(folder)
    tokens, targets = batch(rng)
    logits, loss = logits_and_loss(model, tokens, targets)
    loss.backward()
    prompt = torch.from_numpy(rng.integers(0, 256, (1, PROMPT)))
    sequence, margin = greedy(model, prompt)
    out = {"tokens": tokens, "targets": targets, "logits": logits.detach(), "loss": loss.detach(),
           "prompt": prompt, "greedy": sequence, "greedy_margin": margin}
    for name, p in model.named_parameters():                      # a tied head appears once
        out["grad." + name] = p.grad
    return out


def expected_logits(folder, tokens):
    with torch.no_grad():
        return {"tokens": tokens, "logits": load_float64(folder)(input_ids=tokens).logits}


def save_expected(tensors, path):
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"format": "pt"})


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    for index, (name, config) in enumerate(configs().items()):
        torch.manual_seed(SEED + index)              # anything transformers draws on its own
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        randomise(model, numpy.random.default_rng(SEED + index))
        model.save_pretrained(out / name)
        expected = expected_all(out / name, numpy.random.default_rng(SEED + 100 + index))
        save_expected(expected, out / f"{name}.expected.safetensors")
        if name == "gpt2":
            model.save_pretrained(out / "gpt2-sharded", max_shard_size="100KB")
        if name == "llama":
            for dtype, suffix in ((torch.bfloat16, "bf16"), (torch.float16, "f16")):
                copy.deepcopy(model).to(dtype).save_pretrained(out / f"llama-{suffix}")
                save_expected(expected_logits(out / f"llama-{suffix}", expected["tokens"]),
                              out / f"llama-{suffix}.expected.safetensors")
        print(f"make_models: {name} loss {expected['loss'].item():.6f}, "
              f"smallest greedy margin {expected['greedy_margin'].min().item():.2e}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUT_DIR")
    torch.use_deterministic_algorithms(True)
    transformers.utils.logging.disable_progress_bar()
    main(pathlib.Path(sys.argv[1]))
