#!/usr/bin/env python3
"""Makes docs/RESULTS.md (and one SVG chart per task) from the runs of tools/experiment.sh.

    experiment_table.py --runs RUNS --tasks "arith facts" --seeds "1 2 3" --docs docs [--device NAME]

For each task it reads RUNS/<task>-<arm>-<seed>/metrics.jsonl for the RL arms (scalar, span)
and takes the sft arm from those runs' evaluation before RL (step 0: the common start). The
final metric of a run is its last evaluation; "steps to 95%" is the first evaluated step at
which a run reaches 95% of the best it ever scores (as the paper's "best performance after
75% of the training steps"), also given as a share of the run's steps. Standard library only.
"""
import argparse
import json
import math
import os
import statistics
import sys
from datetime import datetime, timezone

HEADLINE = {"arith": ["exact_match"], "facts": ["bleu4", "rougeL", "fact_recall"]}
ARMS = ["sft", "scalar", "span"]
COLOURS = {"sft": "#777777", "scalar": "#1f6fb2", "span": "#c8401e"}
DASHES = {"sft": "2,3", "scalar": "6,3", "span": ""}


def read_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"experiment_table: {path}:{number}: not JSON ({e})")
    return rows


def evals(rows):
    """[(step, {metric: value})] in step order; the last line of a step wins."""
    by_step = {}
    for r in rows:
        if "eval" in r and "step" in r:
            by_step[int(r["step"])] = r["eval"]
    return sorted(by_step.items())


def run_steps(rows):
    return max((int(r["step"]) for r in rows if "step" in r), default=0)


def seconds(rows):
    total = sum(r.get("ms_per_step", 0) for r in rows) / 1000.0
    total += sum(r["eval"].get("seconds", 0) for r in rows if "eval" in r)
    return total


def steps_to_95(curve, metric):
    """The first RL step (evaluations after step 0) at which the run is within 95% of its best
    during RL; the start does not count, so a run that never beats it still has an answer."""
    values = [(s, e[metric]) for s, e in curve if metric in e and s > 0]
    if not values:
        return None
    best = max(v for _, v in values)
    for s, v in values:
        if v >= 0.95 * best:
            return s
    return None


def best_gain(curve, metric):
    """The best evaluation during RL minus the start's (step 0), or None without both."""
    start = [e[metric] for s, e in curve if s == 0 and metric in e]
    during = [e[metric] for s, e in curve if s > 0 and metric in e]
    return max(during) - start[0] if start and during else None


def mean_sd(xs):
    if not xs:
        return float("nan"), float("nan")
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def fmt(x, digits=3):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def collect(runs, task, seeds):
    """{arm: {seed: {"final": {...}, "curve": [...], "steps": n, "seconds": s}}}"""
    out = {arm: {} for arm in ARMS}
    for arm in ("scalar", "span"):
        for seed in seeds:
            path = os.path.join(runs, f"{task}-{arm}-{seed}", "metrics.jsonl")
            if not os.path.exists(path):
                sys.exit(f"experiment_table: {path} is missing (has tools/experiment.sh finished?)")
            rows = read_jsonl(path)
            curve = evals(rows)
            if not curve:
                sys.exit(f"experiment_table: {path} holds no evaluation")
            out[arm][seed] = {"final": curve[-1][1], "curve": curve, "steps": run_steps(rows), "seconds": seconds(rows)}
            out[arm][seed]["practised"] = read_practised(os.path.join(runs, f"{task}-{arm}-{seed}"))
            if curve[0][0] == 0:  # the start, before RL: the sft arm
                out["sft"][seed] = {"final": curve[0][1], "curve": [curve[0]], "steps": 0, "seconds": 0.0,
                                    "practised": read_practised(os.path.join(runs, f"{task}-sft"))}
    return out


def read_wall(path):
    """{phase: seconds} from tools/experiment.sh's wall.tsv (the last line of a phase wins), or {}."""
    if not os.path.exists(path):
        return {}
    phases = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            name, _, value = line.rstrip("\n").partition("\t")
            try:
                phases[name] = float(value)
            except ValueError:
                sys.exit(f"experiment_table: {path}:{number}: expected PHASE<TAB>SECONDS")
    return phases


def read_practised(folder):
    """The metrics of `t2g eval --practised --json` in FOLDER/practised.json, or None."""
    path = os.path.join(folder, "practised.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["metrics"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        sys.exit(f"experiment_table: {path}: not the output of t2g eval --practised --json ({e})")


def practised_table(data, seeds, metrics):
    """Final metrics on the RL prompt pool, where every run has its practised.json."""
    rows = {arm: [data[arm][s].get("practised") for s in seeds if s in data[arm]] for arm in ARMS}
    if not all(rows[arm] and all(r is not None for r in rows[arm]) for arm in ARMS):
        return []
    lines = ["On the prompts the RL arms practised (their prompt pool; greedy, `t2g eval --practised`):", "",
             "| arm | " + " | ".join(f"{m} (mean ± sd)" for m in metrics) + " | per seed (" + metrics[0] + ") |",
             "|" + "---|" * (len(metrics) + 2)]
    for arm in ARMS:
        cells = []
        for m in metrics:
            mean, sd = mean_sd([r[m] for r in rows[arm] if m in r])
            cells.append(f"{fmt(mean)} ± {fmt(sd)}")
        lines.append(f"| {arm} | " + " | ".join(cells) + " | " + ", ".join(fmt(r.get(metrics[0])) for r in rows[arm]) + " |")
    return lines + [""]


def chart(task, data, metric, path):
    """An SVG line chart of the metric over steps: each seed thin, each arm's mean thick."""
    width, height, left, right, top, bottom = 640, 360, 60, 20, 30, 50
    curves = [(arm, seed, r["curve"]) for arm in ("scalar", "span") for seed, r in data[arm].items()]
    xs = [s for _, _, c in curves for s, e in c if metric in e]
    ys = [e[metric] for _, _, c in curves for s, e in c if metric in e] + [r["final"][metric] for r in data["sft"].values()]
    if not xs or not ys:
        return False
    x_max = max(xs) or 1
    y_min, y_max = min(ys), max(ys)
    if y_max - y_min < 1e-9:
        y_min, y_max = y_min - 0.05, y_max + 0.05
    pad = 0.05 * (y_max - y_min)
    y_min, y_max = y_min - pad, y_max + pad

    def px(s):
        return left + (width - left - right) * s / x_max

    def py(v):
        return top + (height - top - bottom) * (1 - (v - y_min) / (y_max - y_min))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">{task}: {metric} on held-out prompts</text>']
    for i in range(6):  # y grid and ticks
        v = y_min + (y_max - y_min) * i / 5
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:.3f}</text>')
    for i in range(6):  # x ticks
        s = x_max * i / 5
        parts.append(f'<text x="{px(s):.1f}" y="{height - bottom + 18}" text-anchor="middle">{s:.0f}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 10}" text-anchor="middle">RL step</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="#333"/>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}" stroke="#333"/>')
    sft = [r["final"][metric] for r in data["sft"].values() if metric in r["final"]]
    if sft:
        y = py(statistics.fmean(sft))
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{COLOURS["sft"]}" '
                     f'stroke-width="2" stroke-dasharray="{DASHES["sft"]}"/>')
    for arm in ("scalar", "span"):
        runs = list(data[arm].values())
        for r in runs:
            pts = " ".join(f"{px(s):.1f},{py(e[metric]):.1f}" for s, e in r["curve"] if metric in e)
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{COLOURS[arm]}" stroke-opacity="0.35" '
                         f'stroke-width="1" stroke-dasharray="{DASHES[arm]}"/>')
        steps = sorted({s for r in runs for s, e in r["curve"] if metric in e})
        means = []
        for s in steps:
            vals = [e[metric] for r in runs for t, e in r["curve"] if t == s and metric in e]
            if len(vals) == len(runs):
                means.append((s, statistics.fmean(vals)))
        pts = " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in means)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{COLOURS[arm]}" stroke-width="2.5" '
                     f'stroke-dasharray="{DASHES[arm]}"/>')
    for i, arm in enumerate(ARMS):  # legend
        x = left + 12 + 130 * i
        parts.append(f'<line x1="{x}" x2="{x + 28}" y1="{top + 10}" y2="{top + 10}" stroke="{COLOURS[arm]}" '
                     f'stroke-width="2.5" stroke-dasharray="{DASHES[arm]}"/>')
        parts.append(f'<text x="{x + 34}" y="{top + 14}">{arm} (mean; seeds faint)</text>' if arm != "sft"
                     else f'<text x="{x + 34}" y="{top + 14}">sft (the start)</text>')
    parts.append("</svg>\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    return True


def task_section(task, data, seeds, docs):
    lines = [f"## {task}", ""]
    metrics = HEADLINE[task]
    header = "| arm | " + " | ".join(f"{m} (mean ± sd)" for m in metrics) + " | per seed (" + metrics[0] + ") |"
    lines += [header, "|" + "---|" * (len(metrics) + 2)]
    for arm in ARMS:
        runs = [data[arm][s] for s in seeds if s in data[arm]]
        cells = []
        for m in metrics:
            mean, sd = mean_sd([r["final"][m] for r in runs if m in r["final"]])
            cells.append(f"{fmt(mean)} ± {fmt(sd)}")
        per_seed = ", ".join(f"{fmt(r['final'].get(metrics[0]))}" for r in runs)
        lines.append(f"| {arm} | " + " | ".join(cells) + f" | {per_seed} |")
    lines += [""] + practised_table(data, seeds, metrics)
    lines += [f"Steps to reach 95% of a run's best {metrics[0]} during RL (first evaluated step after the start; "
              "mean over seeds), and how far that best is above the start:", ""]
    lines += ["| arm | steps | share of the run's steps | per seed | best during RL minus the start |", "|---|---|---|---|---|"]
    for arm in ("scalar", "span"):
        runs = [data[arm][s] for s in seeds if s in data[arm]]
        reached = [steps_to_95(r["curve"], metrics[0]) for r in runs]
        shares = [s / r["steps"] for s, r in zip(reached, runs) if s is not None and r["steps"]]
        known = [s for s in reached if s is not None]
        mean_steps = statistics.fmean(known) if known else None
        mean_share = statistics.fmean(shares) if shares else None
        gains = [g for g in (best_gain(r["curve"], metrics[0]) for r in runs) if g is not None]
        gain = f"{statistics.fmean(gains):+.3f} (" + ", ".join(f"{g:+.3f}" for g in gains) + ")" if gains else "n/a"
        lines.append(f"| {arm} | {fmt(mean_steps, 1)} | {fmt(100 * mean_share, 0) + '%' if mean_share is not None else 'n/a'} | "
                     + ", ".join(str(s) for s in reached) + f" | {gain} |")
    span = [data["span"][s]["final"][metrics[0]] for s in seeds if s in data["span"]]
    scalar = [data["scalar"][s]["final"][metrics[0]] for s in seeds if s in data["scalar"]]
    if span and scalar:
        d = statistics.fmean(span) - statistics.fmean(scalar)
        rel = d / statistics.fmean(scalar) * 100 if statistics.fmean(scalar) else float("nan")
        lines += ["", f"Span minus scalar, final {metrics[0]}: {d:+.3f} ({rel:+.1f}% of scalar's mean)."]
    lines.append("")
    for m in metrics:
        name = f"results_{task}_{m}.svg"
        if chart(task, data, m, os.path.join(docs, name)):
            lines += [f"![{task} {m} over RL steps]({name})", ""]
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", required=True)
    p.add_argument("--tasks", default="arith facts")
    p.add_argument("--seeds", default="1 2 3")
    p.add_argument("--docs", default="docs")
    p.add_argument("--device", default="unknown device")
    p.add_argument("--jobs", type=int, default=1, help="RL runs that ran side by side")
    p.add_argument("--notes", help="a Markdown file of a person's reading of the runs, put after the tables")
    a = p.parse_args()
    tasks, seeds = a.tasks.split(), a.seeds.split()
    for t in tasks:
        if t not in HEADLINE:
            sys.exit(f"experiment_table: no metrics known for task '{t}' (known: {', '.join(HEADLINE)})")
    os.makedirs(a.docs, exist_ok=True)
    lines = ["# Results: Text2Grad (span rewards) against PPO (scalar rewards) on t2g's tasks", "",
             f"Made by `tools/experiment.sh` on {a.device}, {datetime.now(timezone.utc):%Y-%m-%d}. "
             f"Arms from the same SFT start: `sft` (no RL), `scalar` (standard PPO: the critic's score on the "
             f"last token), `span` (Text2Grad: the critique's spans as token scores); seeds {', '.join(seeds)}; "
             f"the same rollouts and updates in both RL arms; every run evaluated on the same held-out prompts.", "",
             "For comparison, the paper (arXiv 2505.22338) reports on SLF5K: +25.3% BLEU over PPO, and the best "
             "score after 75% of the training steps against PPO's 97%.", ""]
    total = 0.0
    for task in tasks:
        data = collect(a.runs, task, seeds)
        total += sum(r["seconds"] for arm in ("scalar", "span") for r in data[arm].values())
        lines += task_section(task, data, seeds, a.docs)
    timing = f"RL runs: {total / 60:.1f} minutes of steps and evaluations, summed over the runs"
    phases = read_wall(os.path.join(a.runs, "wall.tsv"))
    if phases:
        timing = (f"Wall time: {sum(phases.values()) / 60:.1f} minutes in all, with the RL runs {a.jobs} at a time ("
                  + ", ".join(f"{name} {sec / 60:.1f}" for name, sec in phases.items()) + "). " + timing)
    lines += [timing + ".", ""]
    if a.notes:
        try:
            with open(a.notes, encoding="utf-8") as f:
                lines += [f.read().rstrip("\n"), ""]
        except OSError as e:
            sys.exit(f"experiment_table: --notes {a.notes}: {e.strerror}")
    with open(os.path.join(a.docs, "RESULTS.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
