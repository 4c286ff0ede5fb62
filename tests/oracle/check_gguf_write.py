"""GGUF files written by t2g, read by the gguf Python package (the oracle).

    check_gguf_write.py T2G_TESTS

Runs the host check gguf_write_sample with T2G_GGUF_WRITE_SAMPLES set to a temporary folder, so
that it keeps its files there (alignments 32, 64 and 8), then reads each with gguf.GGUFReader
and compares every key (its type and value bytes, as tests/check/check_gguf_write.c wrote them),
the alignment, and every tensor: name, type, dims; each F16, BF16 and Q8_0 tensor's bytes equal
to what numpy and gguf.quants.quantize make of its f32 twin "ref.<name>" in the same file.
Exit 0 when all agree, 1 otherwise.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader, GGUFValueType as V
from gguf.quants import quantize


def tokens():
    t = [f"tok{i}" for i in range(1000)]
    t[1], t[2], t[3] = "\u00e9\u20ac\U0001F600", "", "a\nb\tc"
    return t


# key: (type, numpy dtype or None for strings, value); arrays are lists
EXPECTED = {
    "general.architecture": (V.STRING, None, "t2g-test"),
    "test.u8": (V.UINT8, np.uint8, 200),
    "test.i8": (V.INT8, np.int8, -100),
    "test.u16": (V.UINT16, np.uint16, 60000),
    "test.i16": (V.INT16, np.int16, -30000),
    "test.u32": (V.UINT32, np.uint32, 4000000000),
    "test.i32": (V.INT32, np.int32, -2000000000),
    "test.u64": (V.UINT64, np.uint64, 18000000000000000000),
    "test.i64": (V.INT64, np.int64, -9000000000000000000),
    "test.f32": (V.FLOAT32, np.float32, 0.1),
    "test.f64": (V.FLOAT64, np.float64, -2.5e300),
    "test.bool": (V.BOOL, np.uint8, 1),
    "test.bool_false": (V.BOOL, np.uint8, 0),
    "test.string": (V.STRING, None, 'caf\u00e9 "GGUF"\n'),
    "test.empty_string": (V.STRING, None, ""),
    "test.u8s": (V.UINT8, np.uint8, [0, 1, 127, 128, 255]),
    "test.i8s": (V.INT8, np.int8, [-128, -1, 0, 1, 127]),
    "test.u16s": (V.UINT16, np.uint16, [0, 1, 32768, 65535]),
    "test.i16s": (V.INT16, np.int16, [-32768, -1, 0, 32767]),
    "test.u32s": (V.UINT32, np.uint32, [0, 1, 2147483648, 4294967295]),
    "test.i32s": (V.INT32, np.int32, [-2147483648, -1, 0, 2147483647]),
    "test.u64s": (V.UINT64, np.uint64, [0, 1, 1 << 63, (1 << 64) - 1]),
    "test.i64s": (V.INT64, np.int64, [-(1 << 63), -1, 0, (1 << 63) - 1]),
    "test.f32s": (V.FLOAT32, np.float32, [0.0, -0.0, 1.5, -3.25e-5, 3.4e38]),
    "test.f64s": (V.FLOAT64, np.float64, [0.0, 1e-300, -2.5, 1.7976931348623157e308]),
    "test.bools": (V.BOOL, np.uint8, [1, 0, 1]),
    "test.empty_i32s": (V.INT32, np.int32, []),
    "test.nul_strings": (V.STRING, None, ["a\0b", "\0", "xyz"]),
    "tokenizer.ggml.tokens": (V.STRING, None, tokens()),
}

# name: (type, dims in ggml order); each but the F32 one has an F32 twin "ref.<name>"
TENSORS = {
    "f32.matrix": (Q.F32, [7, 3]),
    "f16.vector": (Q.F16, [33]),
    "bf16.cube": (Q.BF16, [5, 3, 2]),
    "q8_0.matrix": (Q.Q8_0, [64, 5]),
    "q8_0.4d": (Q.Q8_0, [32, 2, 1, 3]),
}


def field_problem(field, kind, dtype, want):
    array = isinstance(want, list)
    if array and not want:  # the reader lists no element type for an empty array: read its raw parts
        raw = (list(field.types), int(field.parts[3][0]), int(field.parts[4][0]))
        return None if raw == ([V.ARRAY], kind, 0) else f"an empty array read as {raw}"
    types = [V.ARRAY, kind] if array else [kind]
    if list(field.types) != types:
        return f"types {list(field.types)}, expected {types}"
    if dtype is None:
        got = field.contents()
        return None if got == want else f"holds {got[:5] if array else got!r}"
    values = [field.parts[i] for i in field.data] if field.data != [-1] else []
    got = b"".join(np.asarray(v).tobytes() for v in values)
    expected = np.array(want if array else [want], dtype=dtype).tobytes()
    return None if got == expected else f"holds {got.hex()}, expected {expected.hex()}"


def check_file(path, alignment, problems):
    reader = GGUFReader(path)
    keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    expected_keys = list(EXPECTED)
    if alignment != 32:
        expected_keys.insert(1, "general.alignment")
    if keys != expected_keys:
        problems.append(f"{path}: keys {keys[:4]}..., expected {expected_keys[:4]}...")
    if reader.alignment != alignment:
        problems.append(f"{path}: alignment {reader.alignment}, expected {alignment}")
    for key, (kind, dtype, want) in EXPECTED.items():
        field = reader.fields.get(key)
        problem = "missing" if field is None else field_problem(field, kind, dtype, want)
        if problem:
            problems.append(f"{path}: key {key}: {problem}")
    tensors = {t.name: t for t in reader.tensors}
    expected_names = []
    for name, (kind, dims) in TENSORS.items():
        expected_names += [name] if kind == Q.F32 else [name, "ref." + name]
    if list(tensors) != expected_names:
        problems.append(f"{path}: tensors {list(tensors)}, expected {expected_names}")
        return
    for name, (kind, dims) in TENSORS.items():
        t = tensors[name]
        if t.tensor_type != kind or t.shape.tolist() != dims:
            problems.append(f"{path}: tensor {name}: {t.tensor_type.name} {t.shape.tolist()}, expected {kind.name} {dims}")
            continue
        if t.data_offset % alignment:
            problems.append(f"{path}: tensor {name} at {t.data_offset}, not a multiple of {alignment}")
        if kind == Q.F32:
            continue
        ref = tensors["ref." + name]
        if ref.tensor_type != Q.F32 or ref.shape.tolist() != dims:
            problems.append(f"{path}: tensor ref.{name} is not F32 {dims}")
            continue
        source = np.array(ref.data, dtype=np.float32)
        with np.errstate(over="ignore"):
            want = quantize(source, kind)
        got = np.array(t.data)
        if got.tobytes() != want.tobytes():
            bad = np.flatnonzero(got.view(np.uint8).ravel() != want.view(np.uint8).ravel())
            problems.append(f"{path}: tensor {name} ({kind.name}): {bad.size} bytes differ from gguf.quants.quantize, "
                            f"first at byte {bad[0] if bad.size else '?'}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="t2g-oracle-gguf-") as folder:
        env = dict(os.environ, T2G_GGUF_WRITE_SAMPLES=folder)
        run = subprocess.run([sys.argv[1], "gguf_write_sample"], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stdout + run.stderr)
            print("FAIL: t2g-tests gguf_write_sample")
            return 1
        problems = []
        for alignment in (32, 64, 8):
            check_file(os.path.join(folder, f"align{alignment}.gguf"), alignment, problems)
    for p in problems:
        print("FAIL:", p)
    if problems:
        return 1
    print(f"ok: 3 files (alignments 32, 64, 8), {len(EXPECTED)} keys and {len(TENSORS)} tensors each "
          "(F32, F16, BF16, Q8_0) agree with gguf.GGUFReader and gguf.quants.quantize")
    return 0


if __name__ == "__main__":
    sys.exit(main())
