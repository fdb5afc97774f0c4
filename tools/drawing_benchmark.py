"""Measure drawing with a classifier: digits from nothing, repairs of erased digits, the canvas.

    python tools/drawing_benchmark.py            # every figure (a few minutes on 2 cores)
    python tools/drawing_benchmark.py --quick --out /tmp/d   # a smoke run of small samples
    MNIST_NPZ=/path/to/mnist.npz python tools/drawing_benchmark.py --fit-starts   # rebuild data/drawing_starts.npz

Every model of :data:`helpers.models.PRETRAINED` except the judge draws and repairs (the natural
and the robust model, and any other robust model shipped there), all with the same settings and
the same images; the shipped judge scores every result. Settings are chosen on a development
split and reported on a disjoint one:

* **drawings** (:func:`helpers.drawing.draw_digits`): step sizes are compared on seed 0 (3
  drawings per digit, robust model); the report uses seed 1 (10 per digit per start). Success:
  the judge gives the requested digit at least 50%. Realism: :func:`helpers.judging.relative_realism`
  against test digits 2000-9999, next to the yardstick of real test digits 1000-1999;
* **repairs** (:func:`helpers.drawing.repair`): a 10 x 10 block in the middle of the digit is
  erased (set to black); ways to choose what to draw are compared on test images 0-99, and the
  shipped one is reported on test images 5000-5249, next to the erased digits and two simple
  baselines (the block filled with the mean training digit, or by blurring in from its edges). Success: the judge reads the true digit;
  distance: L2 between the repair and the original digit inside the erased block;
* **the canvas** (:mod:`helpers.canvas`): the time to read a sketch with both models and to
  clean it up, as the panel does after each stroke and each button press.

Writes ``results/drawing.json``, ``results/drawing.md`` and the figures ``results/drawing_gallery.png``
and ``results/drawing_repairs.png``. Explained in notebook ``06_robust_models_draw.ipynb``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from helpers.environment import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

from helpers.canvas import clean_up_sketch, sketch_image, sketch_view  # noqa: E402
from helpers.data import load_mnist_test, load_mnist_train  # noqa: E402
from helpers.drawing import (DRAW_STEP_SIZE, DRAW_STEPS, STARTS_NPZ, centre_mask, draw_digits, fit_starts,  # noqa: E402
                             load_starts, repair)
from helpers.evaluation import predict  # noqa: E402
from helpers.judging import judge_probability, relative_realism  # noqa: E402
from helpers.models import PRETRAINED, load_pretrained  # noqa: E402
from helpers.plotting import show_digit_rows  # noqa: E402

RESULTS = Path(__file__).resolve().parent.parent / "results"
DEV_STEP_SIZES = (0.2, 0.3)
REPAIR_BLOCK = 10


def drawing_figures(model, judge, digits, start, seed, reference, step_size=DRAW_STEP_SIZE) -> dict:
    """Draw ``digits`` from ``start`` and score them: judge success and realism (ratio to real)."""
    drawings = draw_digits(model, digits, start=start, seed=seed, step_size=step_size)
    realism = relative_realism(drawings, digits, *reference)
    return {"drawings": drawings, "success": float(np.mean(judge_probability(judge, drawings, digits) >= 0.5)),
            "realism_mean": float(realism["distance"].mean()), "realism_ratio": float(realism["ratio"].mean()),
            "yardstick": realism["yardstick"]}


def choose_draw_step(robust, judge, reference, per_digit: int) -> tuple[float, dict]:
    """On the development seed, the step size whose robust drawings the judge accepts >= 95%
    of the time with the best realism (the smallest step if none reaches 95%)."""
    digits = np.repeat(np.arange(10), per_digit)
    tried = {}
    for step_size in DEV_STEP_SIZES:
        result = drawing_figures(robust, judge, digits, "mean", 0, reference, step_size)
        tried[step_size] = {k: result[k] for k in ("success", "realism_mean", "realism_ratio")}
        print(f"  dev: step {step_size}: success {result['success']:.1%}, realism {result['realism_mean']:.2f}",
              flush=True)
    good = [s for s in DEV_STEP_SIZES if tried[s]["success"] >= 0.95] or [min(DEV_STEP_SIZES)]
    return min(good, key=lambda s: tried[s]["realism_mean"]), tried


def blur_fill(images: np.ndarray, mask: np.ndarray, rounds: int = 60) -> np.ndarray:
    """The simple baseline: erased pixels repeatedly replaced by the mean of their 4 neighbours."""
    filled = np.where(mask, 0.0, images)
    for _ in range(rounds):
        padded = np.pad(filled, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
        neighbours = (padded[:, :-2, 1:-1] + padded[:, 2:, 1:-1] + padded[:, 1:-1, :-2] + padded[:, 1:-1, 2:]) / 4
        filled = np.where(mask, neighbours, images)
    return filled.astype(np.float32)


def repair_scores(judge, repaired: np.ndarray, originals: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> dict:
    """Judge success (reads the true digit) and L2 distance to the original inside the block."""
    difference = np.where(mask, repaired - originals, 0.0).reshape(len(repaired), -1)
    return {"success": float(np.mean(predict(judge, repaired).argmax(axis=1) == labels)),
            "distance_in_block": float(np.sqrt((difference ** 2).sum(axis=1)).mean())}


def repair_table(models: dict, judge, x: np.ndarray, y: np.ndarray, step_size: float) -> tuple[dict, dict]:
    """Every repair and baseline of digits ``x`` with the middle block erased, and their scores."""
    mask = centre_mask(x.shape, REPAIR_BLOCK)
    erased = np.where(mask, 0.0, x).astype(np.float32)
    mean_fill = np.where(mask, load_starts()["mean"][None], x).astype(np.float32)
    pictures = {"erased (no repair)": erased, "mean fill (baseline)": mean_fill,
                "blur fill (baseline)": blur_fill(x, mask)}
    for name, model in models.items():
        pictures[f"{name} repair"] = repair(model, erased, mask, step_size=step_size)
    return pictures, {name: repair_scores(judge, p, x, y, mask) for name, p in pictures.items()}


def first_reading_repair(model, erased: np.ndarray, mask: np.ndarray, from_black: bool) -> np.ndarray:
    """The simplest repair, for comparison: push towards the model's first reading of the erased
    digit (from black, or from the mean-digit fill), with the same steps as :func:`repair`."""
    if from_black:
        return repair(model, erased, mask, target=predict(model, erased).argmax(axis=1), candidates=1)
    return repair(model, erased, mask, candidates=1)


def compare_repairs(robust, judge, x: np.ndarray, y: np.ndarray) -> dict:
    """On the development images: the ways of choosing what to draw, robust model (how the
    shipped repair, 3 readings from the mean fill, was chosen)."""
    mask = centre_mask(x.shape, REPAIR_BLOCK)
    erased = np.where(mask, 0.0, x).astype(np.float32)
    variants = {"first reading, from black": first_reading_repair(robust, erased, mask, True),
                "first reading, from the mean fill": first_reading_repair(robust, erased, mask, False),
                "3 readings, surest kept (shipped)": repair(robust, erased, mask)}
    scores = {"erased (no repair)": repair_scores(judge, erased, x, y, mask)}
    scores.update({name: repair_scores(judge, p, x, y, mask) for name, p in variants.items()})
    for name, entry in scores.items():
        print(f"  dev: {name}: judge right {entry['success']:.1%}", flush=True)
    return scores


def canvas_timing(models: dict, sketch: np.ndarray, repeats: int = 7) -> dict:
    """Median seconds (and max) for the panel's two responses: reading a sketch, cleaning it up."""
    image = sketch_image(sketch)
    timings = {"read": [], "clean_up": []}
    clean_up_sketch(models["robust"], image, target=None, budget=3.0)  # warm up, as the panel does
    sketch_view(models, image)
    for _ in range(repeats):
        started = time.perf_counter()
        sketch_view(models, image)
        timings["read"].append(time.perf_counter() - started)
        started = time.perf_counter()
        cleaned = clean_up_sketch(models["robust"], image, target=None, budget=3.0)
        sketch_view(models, cleaned)
        timings["clean_up"].append(time.perf_counter() - started)
    return {k: {"median_s": float(np.median(v)), "max_s": float(np.max(v))} for k, v in timings.items()}


def gallery_figure(drawings: dict, per_row: int, path: Path) -> None:
    """Rows: digits 0-9; left ``per_row`` robust drawings, right as many natural ones."""
    rows = {f"digit {d}": np.concatenate([drawings[name][d * per_row:(d + 1) * per_row][:per_row // 2 or 1]
                                          for name in ("robust", "natural")]) for d in range(10)}
    count = len(rows["digit 0"])
    captions = {"digit 0": ["robust"] * (count // 2) + ["natural"] * (count - count // 2)}
    show_digit_rows(rows, captions=captions, cell_size=1.0,
                    title="Drawn from the mean digit: robust model (left) beside natural model (right)"
                    ).savefig(path, dpi=80)


def repairs_figure(pictures: dict, labels: np.ndarray, path: Path, count: int = 10) -> None:
    """Some erased digits and every repair of them, captioned with the judge's verdict elsewhere."""
    rows = {name: images[:count] for name, images in pictures.items()}
    captions = {"original": [f"a {int(d)}" for d in labels[:count]]}
    show_digit_rows(rows, captions=captions, cell_size=1.0,
                    title="A 10 x 10 block erased, then filled: baselines and each model's repair"
                    ).savefig(path, dpi=80)


def write_markdown(report: dict, path: Path) -> None:
    """results/drawing.md: the two tables and the canvas times, from this one run."""
    lines = ["# Drawing with a classifier, measured", "",
             "<!-- generated by tools/drawing_benchmark.py; do not edit by hand -->", "",
             f"Made by `python tools/drawing_benchmark.py` on {report['date']} ({report['machine']}; "
             f"{report['minutes']:.1f} minutes). Explained in [notebook 06](../notebooks/06_robust_models_draw.ipynb).",
             "", f"## Drawings ({report['drawings']['count']} per model and start, seed {report['drawings']['seed']})",
             "", f"Settings: {DRAW_STEPS} steps of L2 length {report['drawings']['step_size']} (chosen on seed 0), "
             "cross-entropy towards the requested digit. **Success**: the judge gives it >= 50%. **Realism**: "
             "distance to the nearest of the 8,000 test digits 2000-9999 of that class; real test digits "
             f"1000-1999 sit {report['drawings']['yardstick']:.2f} from theirs (ratio 1.00 = as real as real digits).",
             "", "| model | start | success | realism | ratio to real |", "|---|---|---:|---:|---:|"]
    for key, entry in report["drawings"]["results"].items():
        model, start = key.split("/")
        lines.append(f"| {model} | {start} | {entry['success']:.1%} | {entry['realism_mean']:.2f} | "
                     f"{entry['realism_ratio']:.2f} |")
    repairs = report["repairs"]
    dev_text = ", ".join(f"{name} {entry['success']:.0%}" for name, entry in repairs["dev"].items())
    lines += ["", f"## Repairs ({repairs['count']} test digits {repairs['images']}, a {REPAIR_BLOCK} x {REPAIR_BLOCK} "
              "block erased in the middle)", "", f"Repairs: {DRAW_STEPS} steps of L2 length {repairs['step_size']} "
              "on the erased pixels only, which start as the mean digit's; the model's 3 likeliest readings "
              "are tried and the repair it ends surest of is kept (chosen over simpler ways on test images "
              f"{repairs['dev_images']}: {dev_text}). **Success**: the judge reads the true digit. "
              "**Distance**: L2 to the original inside the block.",
              "", "| picture | judge reads it right | distance in block |", "|---|---:|---:|"]
    for name, entry in repairs["results"].items():
        lines.append(f"| {name} | {entry['success']:.1%} | {entry['distance_in_block']:.2f} |")
    timing = report["canvas"]
    lines += ["", "## The canvas", "", f"Reading a sketch with both models: median {timing['read']['median_s']:.3f} s "
              f"(max {timing['read']['max_s']:.3f}); clean-up and re-reading: median "
              f"{timing['clean_up']['median_s']:.3f} s (max {timing['clean_up']['max_s']:.3f}).", "",
              "Figures: [gallery](drawing_gallery.png), [repairs](drawing_repairs.png)."]
    path.write_text("\n".join(lines) + "\n")


def measure_drawings(models: dict, judge, reference, per_digit: int, dev_per_digit: int) -> tuple[dict, dict]:
    """The step size chosen on seed 0, then every model's drawings from both starts on seed 1."""
    step_size, tried = choose_draw_step(models["robust"], judge, reference, dev_per_digit)
    digits = np.repeat(np.arange(10), per_digit)
    results, gallery = {}, {}
    for start in ("mean", "gaussian"):
        for name, model in models.items():
            result = drawing_figures(model, judge, digits, start, 1, reference, step_size)
            if start == "mean":
                gallery[name] = result.pop("drawings")
            results[f"{name}/{start}"] = {k: v for k, v in result.items() if k != "drawings"}
            print(f"  {name}, {start}: success {result['success']:.1%}, realism {result['realism_mean']:.2f}",
                  flush=True)
    mean_start = relative_realism(np.repeat(load_starts()["mean"][None], 10, 0), np.arange(10), *reference)
    report = {"count": len(digits), "seed": 1, "step_size": step_size, "dev_seed0": tried,
              "yardstick": results["robust/mean"]["yardstick"], "results": results,
              "mean_digit_itself_realism": float(mean_start["distance"].mean())}
    return report, gallery


def measure_repairs(models: dict, judge, x: np.ndarray, y: np.ndarray, quick: bool) -> tuple[dict, dict, np.ndarray]:
    """Ways to repair compared on test images 0-99, then every repair of test images 5000-5249."""
    dev = slice(0, 20 if quick else 100)
    tried = compare_repairs(models["robust"], judge, x[dev], y[dev])
    report_images = slice(5000, 5020 if quick else 5250)
    originals, labels = x[report_images], y[report_images]
    pictures, scores = repair_table(models, judge, originals, labels, DRAW_STEP_SIZE)
    mask = centre_mask(originals.shape, REPAIR_BLOCK)
    simple = first_reading_repair(models["robust"], pictures["erased (no repair)"], mask, True)
    scores["robust, first reading from black"] = repair_scores(judge, simple, originals, labels, mask)
    for name, entry in scores.items():
        print(f"  {name}: judge right {entry['success']:.1%}, distance in block {entry['distance_in_block']:.2f}",
              flush=True)
    report = {"count": len(labels), "images": f"{report_images.start}-{report_images.stop - 1}",
              "step_size": DRAW_STEP_SIZE, "dev_images": f"0-{dev.stop - 1}", "dev": tried, "results": scores,
              "original_success": float(np.mean(predict(judge, originals).argmax(axis=1) == labels))}
    return report, {"original": originals, **pictures}, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small samples, for a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results")
    parser.add_argument("--fit-starts", action="store_true", help="rebuild data/drawing_starts.npz and stop")
    args = parser.parse_args()
    if args.fit_starts:
        np.savez_compressed(STARTS_NPZ, **fit_starts(load_mnist_train()[0]))
        print(f"wrote {STARTS_NPZ}: record its checksums in helpers/drawing.py and data/README.md")
        return
    started = time.perf_counter()
    x, y = load_mnist_test()
    judge = load_pretrained("judge")
    models = {name: load_pretrained(name) for name in ("robust", "natural", *sorted(set(PRETRAINED) - {
        "robust", "natural", "judge"}))}
    reference = (x[2000:], y[2000:], x[1000:2000], y[1000:2000])
    print("drawings", flush=True)
    drawings, gallery = measure_drawings(models, judge, reference, 2 if args.quick else 10, 1 if args.quick else 3)
    print("repairs", flush=True)
    repairs, pictures, labels = measure_repairs(models, judge, x, y, args.quick)
    sketch = np.clip(x[3] * 0.8 + 0.1 * (x[3] > 0.3), 0, 1)  # a stand-in for a sketch: a faded digit
    report = {"date": datetime.date.today().isoformat(),
              "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}",
              "drawings": drawings, "repairs": repairs, "canvas": canvas_timing(models, sketch)}
    report["minutes"] = (time.perf_counter() - started) / 60
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "drawing.json").write_text(json.dumps(report, indent=1) + "\n")
    write_markdown(report, args.out / "drawing.md")
    per_digit = len(gallery["robust"]) // 10
    gallery_figure(gallery, per_digit, args.out / "drawing_gallery.png")
    repairs_figure(pictures, labels, args.out / "drawing_repairs.png")
    print((args.out / "drawing.md").read_text())


if __name__ == "__main__":
    main()
