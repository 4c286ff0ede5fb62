"""Writes the golden GGUF files of tests/golden/gguf/ with the `gguf` Python package
(tools/oracle-requirements.txt): for each tensor type t2g reads, TYPE.gguf holds a tensor
"blocks" of that type and a tensor "dequantized" (F32) holding what gguf.quants.dequantize makes
of those blocks; metadata.gguf holds every metadata value type, written by gguf.GGUFWriter.

The blocks of F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 are gguf.quants.quantize of random
normal rows at scales from 1e-6 to 3e3; the package has no quantizer for Q4_K, Q5_K and Q6_K, so
their blocks are random bytes with random finite f16 scales (zero, subnormal and the largest
included). The default test suite reads them with no Python (`gguf_golden`, in
tests/check/check_gguf_golden.c) and requires t2g's dequantized floats to equal the package's
bit for bit.

    python tests/oracle/make_gguf_golden.py OUT_DIR
"""
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V

SEED = 12
QUANTIZED = [Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1]
RANDOM_BYTES = [Q.Q4_K, Q.Q5_K, Q.Q6_K]
# where each K quant's f16 scales lie in its block (byte offsets)
F16_FIELDS = {Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208]}
EXTREME_F16 = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x3C00]


def random_f16(rng, n):
    """n finite f16 bit patterns: a third from EXTREME_F16, the rest any finite pattern."""
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32)
    bits = np.where((bits >> 10) & 0x1F == 0x1F, bits & 0x83FF, bits)  # infinity or NaN: exponent 0
    extremes = np.array(EXTREME_F16, dtype=np.uint32)[rng.integers(0, len(EXTREME_F16), size=n)]
    return np.where(rng.random(n) < 1 / 3, extremes, bits).astype(np.uint16)


def blocks_of(rng, qtype, rows, cols):
    """(rows, bytes per row) uint8 blocks of qtype."""
    if qtype in QUANTIZED:
        scales = np.array([1e-6, 1e-2, 1.0, 30.0, 3e3], dtype=np.float32)
        data = rng.standard_normal((rows, cols)).astype(np.float32) * scales[np.arange(rows) % len(scales)][:, None]
        if qtype == Q.F16:
            return data.astype(np.float16).view(np.uint8)
        return gguf.quants.quantize(data, qtype)
    block_elements, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    n_blocks = rows * cols // block_elements
    blocks = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    for at in F16_FIELDS[qtype]:
        blocks[:, at:at + 2] = random_f16(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    return blocks.reshape(rows, -1)


def write_type(out, rng, qtype):
    block_elements, _ = gguf.GGML_QUANT_SIZES[qtype]
    rows, cols = 8, 256 if block_elements == 256 else 128
    blocks = blocks_of(rng, qtype, rows, cols)
    dequantized = gguf.quants.dequantize(blocks, qtype).astype(np.float32)
    assert dequantized.shape == (rows, cols)
    writer = gguf.GGUFWriter(str(out / f"{qtype.name}.gguf"), "t2g-golden")
    if qtype in (Q.Q4_0, Q.Q6_K):
        writer.add_custom_alignment(64)
    writer.add_tensor("blocks", blocks, raw_dtype=qtype)
    writer.add_tensor("dequantized", dequantized)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_metadata(out):
    writer = gguf.GGUFWriter(str(out / "metadata.gguf"), "t2g-golden")
    writer.add_uint8("t.u8", 200)
    writer.add_int8("t.i8", -100)
    writer.add_uint16("t.u16", 60000)
    writer.add_int16("t.i16", -30000)
    writer.add_uint32("t.u32", 4000000000)
    writer.add_int32("t.i32", -2000000000)
    writer.add_float32("t.f32", 1.5)
    writer.add_bool("t.bool", True)
    writer.add_string("t.string", "h\u00e9llo, \u4e16\u754c")
    writer.add_uint64("t.u64", (1 << 63) + 5)
    writer.add_int64("t.i64", -(1 << 62))
    writer.add_float64("t.f64", 0.1)
    for name, vtype in [("u8", V.UINT8), ("i8", V.INT8), ("u16", V.UINT16), ("i16", V.INT16), ("u32", V.UINT32),
                        ("i32", V.INT32), ("u64", V.UINT64), ("i64", V.INT64)]:
        signed = name.startswith("i")
        writer.add_key_value(f"a.{name}", [1, -2 if signed else 2, 3], V.ARRAY, sub_type=vtype)
    writer.add_key_value("a.f32", [-0.25, 1e30], V.ARRAY, sub_type=V.FLOAT32)
    writer.add_key_value("a.f64", [1e-300, -2.5], V.ARRAY, sub_type=V.FLOAT64)
    writer.add_key_value("a.bool", [False, True], V.ARRAY, sub_type=V.BOOL)
    writer.add_array("a.string", ["first", "", "<|im_end|>"])
    writer.add_tensor("tiny", np.arange(6, dtype=np.float32).reshape(2, 3))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for qtype in QUANTIZED + RANDOM_BYTES:
        write_type(out, rng, qtype)
    write_metadata(out)


if __name__ == "__main__":
    main()
