"""Traversals at equal budgets: settings chosen on one split of start images, reported on another.

    python tools/equal_budget.py choose    # pick the settings and the ball on the choose split
    python tools/equal_budget.py report    # curves and the position study on the reported split
    python tools/equal_budget.py all       # both (about 40 minutes on 2 cores)

Both models walk the same 900 walks with the same settings, every walk kept inside an L2 ball
around its start, so their changes have (almost) the same size. Steps:

1. **choose** (the first 10 test images of every digit, ``benchmark_split(split="choose")``):
   every setting of :data:`GRID` walks inside a ball of :data:`CHOICE_RADIUS`; the one with the
   highest judge success averaged over the two models wins (ties: the more real). Then that
   setting walks inside balls of :data:`RADII`, and the recommended ball is the smallest where
   the robust model's walks reach :data:`TARGET_SUCCESS` on this split.
2. **report** (10 other test images of every digit, spread over the set, ``split="report"``):
   success, realism and size against the ball's radius for both models, and the position study:
   every start digit shifted by 0 to 4 pixels (right, down, left or up, in turn), walked inside
   the recommended ball; the final frame is shifted back before it is judged, so realism and
   success measure the digit drawn, not where it sits.

Realism is the distance to the nearest real test digit of the target (none of them a start) over
the real digits' own (the *yardstick*). Writes ``results/equal_budget.json`` and ``.md``; a run
that stops resumes from the json. ``traverse(..., method="equal_budget")`` holds the choice.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import product
from pathlib import Path
from typing import Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from helpers.data import load_mnist_test  # noqa: E402
from helpers.environment import quiet_tensorflow  # noqa: E402
from helpers.evaluation import accuracy  # noqa: E402
from helpers.judging import benchmark_split, nearest_distance, shift_starts, walk_scores  # noqa: E402
from helpers.models import load_pretrained  # noqa: E402
from helpers.reports import REPO_DIR, command_line, machine_line, read_json, write_json  # noqa: E402
from helpers.traversal import traverse  # noqa: E402

OUT_JSON, OUT_MD = REPO_DIR / "results" / "equal_budget.json", REPO_DIR / "results" / "equal_budget.md"
MODELS = ("natural", "robust")
#: The settings tried on the choose split: objective x step length (40 steps, frozen saturated
#: pixels, which notebook 05's variant table already chose on this split).
GRID = [dict(objective=objective, step_size=step, steps=40, freeze_saturated=True)
        for objective, step in product(("ce", "logit", "margin"), (0.2, 0.4))]
CHOICE_RADIUS = 6.0
RADII = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
TARGET_SUCCESS = 0.9
SHIFTS = (0, 1, 2, 3, 4)


def key(settings: dict) -> str:
    """A readable name for one setting, e.g. ``ce, step 0.2, ball 6``."""
    return f"{settings['objective']}, step {settings['step_size']:g}, ball {settings['eps']:g}"


class Study:
    """The json of results, the two splits, the models and the judge; saves after every run."""

    def __init__(self, path: Path = OUT_JSON):
        self.path = path
        self.results = read_json(path, default={}) or {}
        x, y = load_mnist_test()
        self.splits = {name: benchmark_split(x, y, split=name) for name in ("choose", "report")}
        self.models = {name: load_pretrained(name) for name in MODELS}
        self.judge = load_pretrained("judge")
        for name, bench in self.splits.items():
            starts = np.unique(bench.start_index)
            real = nearest_distance(x[starts], y[starts], bench.reference_images, bench.reference_labels)
            self.results.setdefault("yardstick", {})[name] = float(real.mean())
        self.x, self.y = x, y

    def run(self, section: str, name: str, split: str, settings: dict, shift: int = 0) -> dict:
        """One setting on both models (cached in the json under ``section`` / ``name``)."""
        entry = self.results.setdefault(section, {}).get(name)
        if entry is None:
            entry = {"settings": settings, "split": split, "shift": shift}
            for model_name, model in self.models.items():
                started = time.perf_counter()
                entry[model_name] = walk_scores(model, self.judge, self.splits[split], shift=shift,
                                                yardstick=self.results["yardstick"][split], **settings)
                entry[model_name]["seconds"] = round(time.perf_counter() - started, 1)
            self.results[section][name] = entry
            write_json(self.path, self.results)
            print(f"{section:>9} {name:>28}: " + "  ".join(
                f"{m} {entry[m]['success']:.1%} / {entry[m]['realism_ratio']:.2f} / {entry[m]['size']:.2f}"
                for m in MODELS), flush=True)
        return entry


def choose(study: Study) -> dict:
    """Pick the setting (at :data:`CHOICE_RADIUS`) and the recommended ball on the choose split."""
    for settings in GRID:
        full = {**settings, "eps": CHOICE_RADIUS}
        study.run("grid", key(full), "choose", full)
    grid = study.results["grid"]
    best = max(grid.values(), key=lambda e: (round(np.mean([e[m]["success"] for m in MODELS]), 3),
                                             -np.mean([e[m]["realism"] for m in MODELS])))["settings"]
    for radius in RADII:
        study.run("choose_radii", f"{radius:g}", "choose", {**best, "eps": radius})
    curve = study.results["choose_radii"]
    reached = [r for r in RADII if curve[f"{r:g}"]["robust"]["success"] >= TARGET_SUCCESS]
    radius = reached[0] if reached else RADII[-1]
    choice = {**best, "eps": radius}
    study.results["choice"] = {"settings": choice, "rule": (
        f"settings: highest judge success averaged over both models in a ball of {CHOICE_RADIUS:g} "
        f"(ties: the more real); ball: the smallest radius of {list(RADII)} where the robust model's walks "
        f"reach {TARGET_SUCCESS:.0%} judge success, all on the choose split")}
    write_json(study.path, study.results)
    return choice


def report(study: Study) -> None:
    """Curves against the ball's radius and the position study, on the reported split."""
    choice = study.results["choice"]["settings"]
    for radius in RADII:
        study.run("report_radii", f"{radius:g}", "report", {**choice, "eps": radius})
    for shift in SHIFTS:
        study.run("position", f"{shift}", "report", choice, shift=shift)
    bench = study.splits["report"]
    starts = np.unique(bench.start_index)
    readings = {}
    for shift in SHIFTS:  # how each network reads the shifted start digits themselves
        images = shift_starts(study.x[starts], starts, shift)
        readings[f"{shift}"] = {name: accuracy(model, images, study.y[starts])
                                for name, model in {**study.models, "judge": study.judge}.items()}
    study.results["position_clean_accuracy"] = readings
    write_json(study.path, study.results)


def markdown(results: dict) -> str:
    """``results/equal_budget.md``: the choice, the curves and the position study."""
    def cells(entry: dict) -> str:
        return " | ".join(f"{100 * entry[m]['success']:.1f}% / {entry[m]['realism_ratio']:.2f} / {entry[m]['size']:.2f}"
                          for m in ("robust", "natural"))
    choice = results["choice"]["settings"]
    lines = ["# Traversals at equal budgets", "", "<!-- generated by tools/equal_budget.py; do not edit by hand -->", "",
             f"Made by `{results['command']}` ({results['machine']}).", "",
             "Each cell: judge success / realism ratio / mean size of the change. **Judge success**: the judge gives "
             "the target at least 50% on the final frame. **Realism ratio**: distance from the final frame to the "
             "nearest real test digit of the target (none of them a start), over the same distance for the real "
             f"start digits (yardstick {results['yardstick']['report']:.2f} on the reported split, "
             f"{results['yardstick']['choose']:.2f} on the choose split): 1.00 is as real as real digits, more is "
             "less real. **Size**: mean L2 length of the change. Both models walk the same 900 walks with the same "
             "settings.", "",
             f"**Recommended** (`traverse(..., method=\"equal_budget\")`): {key(choice)}, 40 steps, frozen saturated "
             f"pixels. Rule: {results['choice']['rule']}.", "",
             "## Chosen on the choose split (first 10 test images of each digit)", "",
             "| setting | robust | natural |", "|---|---:|---:|"]
    lines += [f"| {name} | {cells(entry)} |" for name, entry in results["grid"].items()]
    lines += ["", "| ball radius | robust | natural |", "|---:|---:|---:|"]
    lines += [f"| {name} | {cells(entry)} |" for name, entry in results["choose_radii"].items()]
    lines += ["", "## Reported (10 other test images of each digit, spread over the test set)", "",
              "| ball radius | robust | natural |", "|---:|---:|---:|"]
    lines += [f"| {name} | {cells(entry)} |" for name, entry in results.get("report_radii", {}).items()]
    readings = results.get("position_clean_accuracy", {})
    lines += ["", f"## Position study (ball {choice['eps']:g}, reported split)", "",
              "Start digits shifted by 0-4 pixels (right, down, left or up in turn); the final frame is shifted back "
              "before it is judged. The last three columns: how often each network reads the shifted start digit "
              "right.", "", "| shift (pixels) | robust | natural | robust reads start | natural reads start | "
              "judge reads start |", "|---:|---:|---:|---:|---:|---:|"]
    for name, entry in results.get("position", {}).items():
        reading = readings.get(name, {})
        lines.append(f"| {name} | {cells(entry)} | " + " | ".join(
            f"{100 * reading[m]:.1f}%" if m in reading else "-" for m in ("robust", "natural", "judge")) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["choose", "report", "all", "markdown"])
    args = parser.parse_args(argv)
    quiet_tensorflow()
    if args.action != "markdown":
        study = Study()
        if args.action in ("choose", "all"):
            choose(study)
        if args.action in ("report", "all"):
            report(study)
        study.results["command"] = command_line("tools/equal_budget.py", sys.argv[1:] if argv is None else argv)
        study.results["machine"] = machine_line()
        write_json(OUT_JSON, study.results)
    results = read_json(OUT_JSON)
    OUT_MD.write_text(markdown(results))
    print(f"wrote {OUT_MD}")


if __name__ == "__main__":
    main()
