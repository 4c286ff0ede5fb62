"""t2g's f32 matmul beside numpy's float32 a @ b (OpenBLAS), square N^3 products, in one run.

Run with the oracle's python (tools/setup.sh --oracle), through tools/bench_matmul.sh:

    python tools/bench_matmul.py --t2g build/t2g [--sizes 512,1024,2048] [--repeat 5] [--tiles auto,...]

t2g: `t2g bench kernels --only matmul_square --matmul SIZES --json`, the median of --repeat runs
timed by GPU timestamps, on the tile configuration the device chooses (auto) and on any others
named by --tiles (compared in the same run). numpy: the median wall-clock time of --repeat calls of
a @ b after one warm-up, random float32 inputs, OpenBLAS on every core (OPENBLAS_NUM_THREADS =
the number of CPUs, unless set). OpenBLAS is the yardstick only: t2g never links it. Prints one
JSON object: per size both GFLOP/s and the ratio t2g / OpenBLAS (above 1, t2g is faster), the
device, the CPU model, the BLAS numpy bundles, the load average before and after, and the date.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

CPUS = os.cpu_count() or 1
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(CPUS))  # before numpy starts OpenBLAS

import numpy  # noqa: E402  (after the environment above)


def cpu_model():
    """The first 'model name' of /proc/cpuinfo (None where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def numpy_blas():
    """The name and version of the BLAS numpy was built with (numpy.show_config)."""
    blas = numpy.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return {"name": blas.get("name"), "version": blas.get("version"),
            "configuration": blas.get("openblas configuration")}


def numpy_gflops(n, repeat):
    """numpy's float32 (n,n) @ (n,n): GFLOP/s of the median of `repeat` timed calls."""
    rng = numpy.random.default_rng(42)
    a = rng.random((n, n), dtype=numpy.float32) - 0.5
    b = rng.random((n, n), dtype=numpy.float32) - 0.5
    a @ b  # warm-up: OpenBLAS's threads and buffers
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2.0 * n ** 3 / statistics.median(times) / 1e9


def t2g_results(t2g, sizes, repeat, tiles):
    """t2g bench kernels' matmul_square results, by (size, tile configuration)."""
    command = [t2g, "bench", "kernels", "--only", "matmul_square", "--matmul", ",".join(map(str, sizes)),
               "--repeat", str(repeat), "--tiles", tiles, "--json"]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"bench_matmul: {' '.join(command)} exited {run.returncode}: {run.stderr.strip()}")
    report = json.loads(run.stdout)
    for r in report["results"]:
        if "skipped" in r:
            sys.exit(f"bench_matmul: t2g skipped {r['shape']} on {r.get('tiles')}: {r['skipped']}")
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--t2g", required=True, help="the t2g executable")
    parser.add_argument("--sizes", default="512,1024,2048", help="square sizes N (N^3 products), by commas")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each (median)")
    parser.add_argument("--tiles", default="auto", help="t2g tile configurations to time (auto: the device's choice)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = os.getloadavg()

    # t2g first: numpy's OpenBLAS threads keep spinning a while after their last product, and
    # would take the cores from t2g's first product (measured: 512^3 at half its speed).
    report = t2g_results(args.t2g, sizes, args.repeat, args.tiles)
    blas = {n: numpy_gflops(n, args.repeat) for n in sizes}

    results = []
    for n in sizes:
        entry = {"n": n, "openblas_gflops": round(blas[n], 2)}
        by_tiles = {}
        for r in report["results"]:
            if r["shape"] != f"{n}^3":
                continue
            figures = {"gflops": round(r["gflops"], 2), "ratio": round(r["gflops"] / blas[n], 4),
                       "median_ms": round(r["median_ms"], 3)}
            if r["auto_tiles"]:
                entry.update({"t2g_gflops": figures["gflops"], "ratio": figures["ratio"], "t2g_tiles": r["tiles"]})
            else:
                by_tiles[r["tiles"]] = figures
        if by_tiles:
            entry["t2g_by_tiles"] = by_tiles
        results.append(entry)

    print(json.dumps({
        "benchmark": "square float32 matmul, t2g (bench kernels, GPU timestamps) beside numpy a @ b (wall clock)",
        "device": report["device"],
        "cpu": {"model": cpu_model(), "cpus": CPUS},
        "blas": numpy_blas(),
        "numpy": numpy.__version__,
        "openblas_threads": int(os.environ["OPENBLAS_NUM_THREADS"]),
        "repeat": args.repeat,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "results": results,
    }, indent=2))


if __name__ == "__main__":
    main()
