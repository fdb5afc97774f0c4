"""Measure class traversals: 900 walks, both models, every variant, judged by the judge.

    python tools/traversal_benchmark.py              # the full table (about 15 minutes on 2 cores)
    python tools/traversal_benchmark.py --per-digit 2 --variants seed,best --out /tmp/t   # a slice

The benchmark set is the first ``--per-digit`` (10) test images of every digit, each sent to
every other digit (900 walks); the other 9,900 test digits are the reference set for realism.
Every variant of :func:`helpers.traversal.traverse` in :data:`VARIANTS` runs on the natural and
the robust model, and the shipped judge scores every final frame (see :mod:`helpers.judging`).
Writes ``results/traversals.json`` (every figure, the seed's and the best method's 10 x 10
success matrices) and ``results/traversals.md`` (the table, made in this one run).
Explained in notebook ``05_better_traversals.ipynb``.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from helpers.data import load_mnist_test  # noqa: E402
from helpers.environment import quiet_tensorflow  # noqa: E402
from helpers.evaluation import accuracy  # noqa: E402
from helpers.judging import benchmark_split, nearest_distance, score, success_matrix  # noqa: E402
from helpers.models import load_pretrained  # noqa: E402
from helpers.reports import REPO_DIR, command_line, load_average, machine_line, read_json, write_json  # noqa: E402
from helpers.traversal import METHODS, TraversalMethod, traverse  # noqa: E402

SEED = METHODS["seed"]
# step_decay 0.05 over 40 steps shrinks the path by sum(1 / (1 + 0.05 i)) / 40 = 0.55; the
# decaying variants start with a larger step so their longest possible path stays 12 (the seed's)
_DECAY = 0.05
_DECAY_STEP = round(SEED.steps * SEED.step_size / sum(1 / (1 + _DECAY * i) for i in range(SEED.steps)), 3)

#: name -> (what changes, settings). One change at a time, then combinations, then the
#: bigger-budget "easy way out" for comparison, then the recommended method.
VARIANTS: dict[str, tuple[str, TraversalMethod]] = {
    "seed": ("the original: raise the target's logit, 40 steps of 0.3", SEED),
    "ce": ("cross-entropy objective (raise the target's probability)", replace(SEED, objective="ce")),
    "margin": ("margin objective (raise the target's lead over the best other digit)",
               replace(SEED, objective="margin")),
    "freeze": ("no push on pixels already at 0 or 1", replace(SEED, freeze_saturated=True)),
    "decay": (f"decaying steps (step_decay {_DECAY}, first step {_DECAY_STEP}, same longest path)",
              replace(SEED, step_decay=_DECAY, step_size=_DECAY_STEP)),
    "ball": ("path kept within L2 distance 6 of the start", replace(SEED, eps=6.0)),
    "stop": ("stop each walk once the model gives the target 99.9%",
             replace(SEED, stop_confidence=0.999)),
    "ce+freeze": ("cross-entropy objective, frozen saturated pixels",
                  replace(SEED, objective="ce", freeze_saturated=True)),
    "ce+freeze+decay": ("cross-entropy, frozen pixels, decaying steps",
                        replace(SEED, objective="ce", freeze_saturated=True, step_decay=_DECAY,
                                step_size=_DECAY_STEP)),
    "margin+freeze+stop": ("margin objective, frozen pixels, stop at 99.9%",
                           replace(SEED, objective="margin", freeze_saturated=True, stop_confidence=0.999)),
    "ce+freeze+stop at 99%": ("cross-entropy, frozen pixels, stop earlier: at 99%",
                              replace(SEED, objective="ce", freeze_saturated=True, stop_confidence=0.99)),
    "ce+freeze+ball": ("cross-entropy, frozen pixels, ball of 6",
                       replace(SEED, objective="ce", freeze_saturated=True, eps=6.0)),
    "seed with 3x budget": ("the easy way out: the seed method with 120 steps (path up to 36)",
                        replace(SEED, steps=120)),
    "best": ("the recommended method, `traverse(..., method=\"best\")`: " + ", ".join(
        f"{k} {v}" for k, v in asdict(METHODS["best"]).items() if v != asdict(SEED)[k]) + "; 40 steps of 0.3",
        METHODS["best"]),
}
MODELS = ("natural", "robust")


def final_frames(model, images: np.ndarray, targets: np.ndarray, settings: TraversalMethod,
                 batch: int = 300) -> np.ndarray:
    """The last frame of every walk made by :func:`traverse` with ``settings`` (in batches)."""
    options = asdict(settings)
    return np.concatenate([traverse(model, images[i:i + batch], targets[i:i + batch], **options)[-1]
                           for i in range(0, len(images), batch)])


def run(variants: list[str], per_digit: int, log=print) -> dict:
    """Every chosen variant on both models; returns the JSON-ready results."""
    x, y = load_mnist_test()
    bench = benchmark_split(x, y, per_digit)
    judge = load_pretrained("judge")
    models = {name: load_pretrained(name) for name in MODELS}
    first = np.unique(bench.start_index)  # each start image once
    starts, start_labels = x[first], y[first]
    real = nearest_distance(starts, start_labels, bench.reference_images, bench.reference_labels)
    results: dict = {
        "walks": int(len(bench.targets)),
        "per_digit": per_digit,
        "reference_digits": int(len(bench.reference_labels)),
        "yardstick_real_digits": {"mean_nearest_distance": float(real.mean()),
                                  "judge_accuracy": accuracy(judge, starts, start_labels)},
        "variants": {},
    }
    for name in variants:
        description, settings = VARIANTS[name]
        entry = {"description": description, "settings": asdict(settings), "models": {}}
        for model_name, model in models.items():
            started = time.perf_counter()
            finals = final_frames(model, bench.images, bench.targets, settings)
            seconds = time.perf_counter() - started
            scores = score(judge, bench.images, finals, bench.targets, bench.reference_images,
                           bench.reference_labels)
            model_says = model.predict(finals, verbose=0).argmax(1) == bench.targets
            success = scores["success"]
            entry["models"][model_name] = {
                "success": float(success.mean()),
                "model_success": float(model_says.mean()),
                "realism_mean": float(scores["realism"].mean()),
                "realism_successful_mean": float(scores["realism"][success].mean()) if success.any() else None,
                "size_mean": float(scores["size"].mean()),
                "judge_probability_mean": float(scores["probability"].mean()),
                "seconds": seconds,
                "matrix": [[None if math.isnan(v) else round(float(v), 3) for v in row]
                           for row in success_matrix(bench.sources, bench.targets, success)],
            }
            m = entry["models"][model_name]
            log(f"{name:>26} {model_name:>7}: judge success {m['success']:6.1%}  realism {m['realism_mean']:.2f}"
                f"  size {m['size_mean']:.2f}  ({seconds:.0f} s)")
        results["variants"][name] = entry
    return results


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def write_markdown(results: dict, command: str, path: Path) -> None:
    """The variants table and the seed's and best method's success matrices, for humans."""
    yard = results["yardstick_real_digits"]
    lines = [
        "# Class traversals, measured",
        "",
        "<!-- generated by tools/traversal_benchmark.py; do not edit by hand -->",
        "",
        f"Made by `{command}` on {results['date']} ({results['machine']}; {results['minutes']:.1f} minutes).",
        "Explained in [notebook 05](../notebooks/05_better_traversals.ipynb).",
        "",
        f"{results['walks']} walks: the first {results['per_digit']} test images of every digit, each sent to every",
        "other digit. **Success**: the judge (an independent, adversarially trained network of another",
        "architecture, `models/judge.keras`) gives the target at least 50% on the final frame.",
        "**Realism**: L2 distance from the final frame to the nearest of "
        f"{results['reference_digits']:,} real test digits of the",
        "target class (none of them a starting image; smaller is better). For scale, real digits sit at "
        f"{yard['mean_nearest_distance']:.2f}",
        f"from their nearest neighbour of the same class (the judge reads {_pct(yard['judge_accuracy'])} of the",
        "starting images correctly). **Size**: L2 distance from the start (the change made).",
        "Figures are means over all walks; every row comes from this one run.",
        "",
        "| variant | what changes | robust: success | realism | size | natural: success | realism | size |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in results["variants"].items():
        r, n = entry["models"]["robust"], entry["models"]["natural"]
        lines.append(f"| {name} | {entry['description']} | {_pct(r['success'])} | {r['realism_mean']:.2f} | "
                     f"{r['size_mean']:.2f} | {_pct(n['success'])} | {n['realism_mean']:.2f} | {n['size_mean']:.2f} |")
    for name in ("seed", "best"):
        if name not in results["variants"]:
            continue
        for model_name in MODELS:
            matrix = results["variants"][name]["models"][model_name]["matrix"]
            lines += ["", f"## Success matrix: {name} method, {model_name} model (rows: source digit, columns: target)",
                      "", "| from \\ to | " + " | ".join(str(t) for t in range(10)) + " |",
                      "|---" * 11 + "|"]
            for s, row in enumerate(matrix):
                lines.append(f"| **{s}** | " + " | ".join("" if v is None else f"{100 * v:.0f}" for v in row) + " |")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, from: {', '.join(VARIANTS)}".replace("%", "%%"))
    parser.add_argument("--per-digit", type=int, default=10)
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results")
    parser.add_argument("--markdown-only", action="store_true",
                        help="only rewrite traversals.md from an existing traversals.json")
    args = parser.parse_args(argv)
    if args.markdown_only:
        results = read_json(args.out / "traversals.json")
        write_markdown(results, results["command"], args.out / "traversals.md")
        return
    chosen = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    quiet_tensorflow()
    started = time.perf_counter()
    results = run(chosen, args.per_digit)
    results["minutes"] = (time.perf_counter() - started) / 60
    results["date"] = datetime.date.today().isoformat()
    results["machine"] = f"{machine_line()}, load average {(load_average() or [float('nan')])[0]:.1f} at the end"
    command = command_line("tools/traversal_benchmark.py", sys.argv[1:] if argv is None else argv)
    results["command"] = command
    write_json(args.out / "traversals.json", results, indent=1)
    write_markdown(results, command, args.out / "traversals.md")
    print(f"wrote {args.out / 'traversals.md'} and traversals.json")


if __name__ == "__main__":
    main()
