"""RESULTS.md from results.json: tables of medians with [min, max], the machine, the targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

#: Issue 6's targets on a 2-core machine.
TARGETS = {"pgd_vs_art": 2.5, "fraction_of_ceiling": 0.75, "series_seconds": 180.0, "slider_seconds": 0.5}


def _num(value: float, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _spread(summary: dict | None, scale: float = 1.0, digits: int = 3) -> str:
    """'median [min-max]' of a summary (n > 1), or the single value."""
    if not summary:
        return "n/a"
    median = _num(summary["median"] * scale, digits)
    if summary["n"] == 1:
        return f"{median} (n=1)"
    return f"{median} [{_num(summary['min'] * scale, digits)}-{_num(summary['max'] * scale, digits)}]"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def derive(results: dict) -> dict:
    """Numbers that combine sections: PGD's FLOP rate as a fraction of the matmul rate, the targets."""
    sections = {k: v.get("result") for k, v in results.get("sections", {}).items() if v.get("result")}
    derived: dict = {"fraction_of_ceiling": [], "targets": []}
    pgd, ceiling = sections.get("pgd"), sections.get("ceiling")
    if pgd and ceiling:
        per_step = ceiling["flop_count"]["flops_per_image_step"]
        limit = ceiling["matmul"]["flops_per_s"]["median"]
        for row in pgd["rows"]:
            for name in ("project", "art"):
                if name in row:
                    rate = row[name]["image_steps_per_s"]["median"] * per_step
                    derived["fraction_of_ceiling"].append({
                        "implementation": name, "norm": row["norm"], "steps": row["steps"],
                        "batch": row["batch"], "flops_per_s": rate, "fraction": rate / limit})
    targets = derived["targets"]
    if pgd and any("ratio_of_medians" in r for r in pgd["rows"]):
        worst = min(r["ratio_of_medians"] for r in pgd["rows"] if "ratio_of_medians" in r)
        targets.append({"target": f"project PGD >= {TARGETS['pgd_vs_art']}x ART's throughput (worst setting)",
                        "measured": f"{worst:.2f}x", "met": worst >= TARGETS["pgd_vs_art"]})
    ours = [f["fraction"] for f in derived["fraction_of_ceiling"] if f["implementation"] == "project"]
    if ours:
        targets.append({"target": f"project PGD >= {TARGETS['fraction_of_ceiling']:.0%} of the matmul FLOP rate "
                                  "(worst setting)",
                        "measured": _percent(min(ours)), "met": min(ours) >= TARGETS["fraction_of_ceiling"]})
    crosscheck = sections.get("crosscheck")
    if crosscheck and "rows" in crosscheck:
        worst = max(abs(r["difference_points"]) for r in crosscheck["rows"])
        targets.append({"target": "same robust accuracy as ART within 1 point", "measured": f"{worst:.1f} points",
                        "met": crosscheck["agree"]})
    series = sections.get("notebooks")
    if series and "series_seconds" in series:
        seconds = series["series_seconds"]["median"]
        targets.append({"target": f"whole notebook series < {TARGETS['series_seconds']:.0f} s",
                        "measured": f"{seconds:.1f} s", "met": seconds < TARGETS["series_seconds"]
                        and not series.get("errors")})
    slider = sections.get("sliders")
    if slider and slider.get("rows"):
        slowest = max(slider["rows"], key=lambda r: r["total"]["median"])
        targets.append({"target": f"slider callbacks < {TARGETS['slider_seconds']} s (slowest, median)",
                        "measured": f"{slowest['total']['median']:.3f} s ({slowest['event']})",
                        "met": slowest["total"]["median"] < TARGETS["slider_seconds"]})
    return derived


def _section_header(lines: list[str], title: str, entry: dict, results: dict) -> bool:
    """Title, and the date/command if this section came from another run; False if it has no result."""
    lines += ["", f"## {title}", ""]
    if entry.get("date") != results.get("date") or entry.get("command") != results.get("command"):
        lines += [f"*Measured {entry.get('date')} with `{entry.get('command')}`.*", ""]
    if entry.get("error"):
        lines += ["**Failed:**", "", "```text", entry["error"], "```"]
        return False
    result = entry.get("result") or {}
    if result.get("skipped"):
        lines += [f"Skipped: {result['skipped']}"]
        return False
    return True


def time_to_target_lines(path: Path = Path(__file__).resolve().parent / "time_to_target.json") -> list[str]:
    """The time-to-target table from ``benchmarks/time_to_target.py``'s results (if any)."""
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    shipped, target = data["shipped"], data["target"]
    rows = [row for name, row in data.items() if name not in ("shipped", "target")]
    protocol = next((f"{row['protocol']}, the first {row['attack_images']:,} test images" for row in rows
                     if "protocol" in row), "100-step PGD, cross-entropy and margin, 1,000 images")
    lines = ["", "## PGD adversarial training: time to target", "",
             "From `python -m benchmarks.time_to_target` (training runs take tens of minutes, so they are not "
             "part of `benchmarks.run`). Target: the shipped robust model's clean and robust accuracy minus 1 "
             f"point, i.e. clean >= {_percent(target['clean_10000'])} and L2 eps 2.0 ({protocol}) >= "
             f"{_percent(target['l2_2.0'])}. Cost is counted in forward-backward "
             "passes per training image (attack steps + 1, times epochs) as well as in wall time, because "
             "the wall times were measured on a machine shared with other jobs.", "",
             "| recipe | epochs | passes per image | training time | clean | L2 eps 2.0 | reaches the target |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    shipped_passes = 12 * (10 + 1)
    lines.append(f"| {shipped['description']} | 12 | {shipped_passes} | {shipped['train_seconds'] / 60:.1f} min | "
                 f"{_percent(shipped['clean_10000'])} | {_percent(shipped['l2_2.0'])} | (the reference) |")
    for name, row in data.items():
        if name in ("shipped", "target"):
            continue
        passes = row["epochs"] * (row["attack"]["steps"] + 1)
        lines.append(f"| {row['description']} | {row['epochs']} | {passes} ({passes / shipped_passes:.0%}) | "
                     f"{row['train_seconds'] / 60:.1f} min | {_percent(row['clean_10000'])} | "
                     f"{_percent(row['l2_2.0'])} | {'yes' if row['reaches_target'] else '**no**'} |")
    return lines


def _pgd_lines(lines: list[str], result: dict, derived: dict) -> None:
    """The ``pgd`` section of RESULTS.md."""
    lines += ["Image-steps per second (batch x steps / wall time of one attack call), the two "
              "implementations interleaved in one run after a warm-up call each.", "",
              "| norm | eps | steps | batch | project | ART | project / ART (ratio of medians) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in result["rows"]:
        art = _spread(row["art"]["image_steps_per_s"]) if "art" in row else "not run"
        ratio = f"{row['ratio_of_medians']:.2f}x" if "ratio_of_medians" in row else "n/a"
        lines.append(f"| {row['norm']} | {row['eps']} | {row['steps']} | {row['batch']} | "
                     f"{_spread(row['project']['image_steps_per_s'])} | {art} | {ratio} |")
    if result.get("art_missing"):
        lines += ["", f"ART part not run: {result['art_missing']}"]
    lines += ["", f"Settings: step size `helpers.evaluation.madry_step_size` (2.5 x eps / steps), no random start, untargeted, cross-entropy. "
                  f"{result['notes']}", "",
              f"Times each of the project's compiled loops was traced during the run (1 = no "
              f"re-tracing): `{result['project_loop_tracings']}`."]


def _crosscheck_lines(lines: list[str], result: dict, derived: dict) -> None:
    """The ``crosscheck`` section of RESULTS.md."""
    lines += ["The natural model's accuracy on the same test images under both attacks.", "",
              "| norm | eps | steps x step size | images | clean | under project PGD | under ART PGD | "
              "difference (points) | within 1 point | predictions that differ |",
              "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for r in result["rows"]:
        lines.append(f"| {r['norm']} | {r['eps']} | {r['steps']} x {r['step_size']:.4g} | {r['images']} | "
                     f"{_percent(r['clean_accuracy'])} | {_percent(r['project_accuracy'])} | "
                     f"{_percent(r['art_accuracy'])} | {r['difference_points']:+.1f} | "
                     f"{'yes' if r['agree_within_1_point'] else '**no**'} | {r['predictions_that_differ']} |")
    lines += ["", result["notes"]]


def _ceiling_lines(lines: list[str], result: dict, derived: dict) -> None:
    """The ``ceiling`` section of RESULTS.md."""
    flops = result["flop_count"]
    matmul = result["matmul"]
    lines += ["**FLOPs of one PGD step, per image** (the natural CNN, `helpers.models.build_cnn`):", "",
              "| layer | what | output | multiply-adds | forward FLOPs | backward-to-input FLOPs |",
              "| --- | --- | --- | ---: | ---: | ---: |"]
    for r in flops["layers"]:
        lines.append(f"| {r['layer']} | {r['kind']} | {'x'.join(map(str, r['output_shape']))} | "
                     f"{r['multiply_adds']:,} | {r['forward_flops']:,} | {r['backward_to_input_flops']:,} |")
    lines += [f"| **total** | | | | {flops['forward_flops']:,} | {flops['backward_to_input_flops']:,} |", "",
              f"One PGD step = **{flops['flops_per_image_step'] / 1e6:.1f} MFLOP per image**. "
              f"{flops['counted']}", "",
              f"**The ceiling:** a {matmul['size']}x{matmul['size']} float32 `tf.linalg.matmul` in a "
              f"`tf.function` ({_num(matmul['flops'] / 1e9)} GFLOP per product) runs at "
              f"**{_spread(matmul['flops_per_s'], 1e-9)} GFLOP/s**.", ""]
    gradient = result["model_gradient"]
    lines += [f"**The model's own floor:** forward + input gradient alone (no step, no projection), "
              f"batch {gradient['batch']}: {_spread(gradient['image_steps_per_s'])} image-steps/s = "
              f"{gradient['flops_per_s_median'] / 1e9:.1f} GFLOP/s = "
              f"{_percent(gradient['fraction_of_matmul'])} of the matmul rate.", ""]
    if derived["fraction_of_ceiling"]:
        lines += ["**PGD's achieved rate** (median image-steps/s x FLOPs per image-step):", "",
                  "| implementation | norm | steps | batch | GFLOP/s | fraction of the matmul rate |",
                  "| --- | --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {f['implementation']} | {f['norm']} | {f['steps']} | {f['batch']} | "
                  f"{f['flops_per_s'] / 1e9:.1f} | {_percent(f['fraction'])} |"
                  for f in derived["fraction_of_ceiling"]]


def _training_lines(lines: list[str], result: dict, derived: dict) -> None:
    """The ``training`` section of RESULTS.md."""
    lines += ["One optimisation pass through `helpers.training.run_epoch` (the project's input "
              "pipeline: validation, shuffling, batching, the attack, the compiled train step).", "",
              "| training | TensorFlow op determinism | images | batch | images/s | est. epoch of 60,000 |",
              "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        what = "natural" if r["mode"] == "natural" else (
            f"PGD ({r['attack']['norm']}, eps {r['attack']['eps']}, {r['attack']['steps']} steps of "
            f"{r['attack']['step_size']}, random start: {r['attack']['random_start']})")
        lines.append(f"| {what} | {r['op_determinism']} | {r['images']} | {r['batch']} | "
                     f"{_spread(r['images_per_s'])} | {r['estimated_epoch_seconds'] / 60:.1f} min |")
    lines += ["", result["notes"] + "."]
    shipped = result.get("shipped_models") or {}
    if shipped:
        lines += ["", "What the shipped models' own logs (`models/NAME.json`) record:", "",
                  "| model | epochs | training attack | total training time | recorded on |",
                  "| --- | ---: | --- | ---: | --- |"]
        for name, log in shipped.items():
            if "error" in log:
                lines.append(f"| {name} | | | unreadable: {log['error']} | |")
                continue
            seconds = log.get("training_seconds_total")
            attack = log.get("attack")
            attack_text = ("none" if not attack else
                           f"{attack['norm']} eps {attack['eps']}, {attack['steps']} x {attack['step_size']}")
            lines.append(f"| {name} | {log.get('epochs')} | {attack_text} | "
                         f"{'n/a' if seconds is None else f'{seconds / 60:.1f} min'} | {log.get('machine')} |")


def _notebooks_lines(lines: list[str], result: dict, derived: dict) -> None:
    """The ``notebooks`` section of RESULTS.md."""
    lines += ["| notebook | seconds |", "| --- | ---: |"]
    lines += [f"| {r['notebook']} | {_spread(r['seconds'])} |" for r in result["rows"]]
    lines += [f"| **whole series** | **{_spread(result['series_seconds'])}** |", "", result["notes"] + "."]
    for name, error in (result.get("errors") or {}).items():
        lines += ["", f"**{name} failed:**", "", "```text", error, "```"]


def _sliders_lines(lines: list[str], result: dict, derived: dict) -> None:
    """The ``sliders`` section of RESULTS.md."""
    lines += ["Seconds from a changed control to a PNG ready to send to the browser.", "",
              "| control | total | of which: callback | PNG rendering | the attack / traversal alone |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        lines.append(f"| {r['event']} | **{_spread(r['total'])}** | {_spread(r['callback'])} | "
                     f"{_spread(r['png'])} | {_spread(r.get('view'))} |")
    lines += ["", f"Test image #{result['image']['index']} (a {result['image']['label']}). {result['notes']}."]


#: Section name -> (its heading in RESULTS.md, the function that writes its body).
SECTIONS: dict[str, tuple[str, Callable[[list[str], dict, dict], None]]] = {
    "pgd": ("PGD throughput: the project's `pgd` and ART's", _pgd_lines),
    "crosscheck": ("Correctness cross-check against ART", _crosscheck_lines),
    "ceiling": ("The machine's limit", _ceiling_lines),
    "training": ("Training throughput", _training_lines),
    "notebooks": ("The notebook series, headless", _notebooks_lines),
    "sliders": ("Slider callbacks (natural and robust side by side)", _sliders_lines),
}


def render(results: dict) -> str:
    """RESULTS.md: the header, the machine, the targets, every section measured, time to target."""
    machine = results["machine"]
    lines = ["# Benchmarks: results", ""]
    if results.get("quick"):
        lines += ["> **Smoke run (`--quick`): tiny settings, the numbers mean nothing.** "
                  "Run `python -m benchmarks.run` for real measurements.", ""]
    lines += [f"Produced by `{results['command']}` on {results['date']} "
              f"(wall time {results.get('wall_seconds', 0):.0f} s). Every figure is the **median** of "
              f"repeated runs with **[min-max]** beside it; `results.json` holds every sample and the "
              "quartiles.", "", "## Machine", "", "| | |", "| --- | --- |"]
    rows = [
        ("CPU", f"{machine['cpu_model']} ({', '.join(machine.get('vector_extensions') or []) or 'no AVX'})"),
        ("cores", f"{machine['logical_cpus']} logical, {machine['usable_cpus']} usable by this process"),
        ("memory", f"{machine['memory_gib']} GiB"),
        ("system", f"{machine['platform']}, Python {machine['python']}"),
        ("libraries", f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, numpy {machine['numpy']}, "
                      f"ART {machine['art'] or 'not installed'}"),
        ("TensorFlow threads", f"intra-op {machine['tf_intra_op_threads']}, inter-op "
                               f"{machine['tf_inter_op_threads']} (0 = TensorFlow's default: all cores)"),
        ("thread variables", ", ".join(f"{k}={v}" for k, v in machine["environment"].items()) or "none set"),
        ("GPU", ", ".join(machine["gpus"]) or "none"),
        ("load average (1, 5, 15 min)", f"{results.get('load_average_start')} at the start, "
                                        f"{results.get('load_average_end')} at the end"),
    ]
    lines += [f"| {k} | {v} |" for k, v in rows]
    start = (results.get("load_average_start") or [0.0])[0]
    if start > 0.5:
        lines += ["", f"> **Warning:** the 1-minute load average was {start} when the run started: "
                      "something else was using the CPU, so these numbers are pessimistic and noisy."]

    derived = results.get("derived") or derive(results)
    sections = results.get("sections", {})
    if derived["targets"]:
        lines += ["", "## Against the targets (issue 6)", "", "| target | measured | met |", "| --- | --- | --- |"]
        lines += [f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |"
                  for t in derived["targets"]]
    for name, (title, write) in SECTIONS.items():
        if name in sections and _section_header(lines, title, sections[name], results):
            write(lines, sections[name]["result"], derived)

    lines += time_to_target_lines()
    lines += ["", "## Reproduce", "", "```bash", "pip install -r benchmarks/requirements.txt   # ART, for the comparison",
              "python -m benchmarks.run                          # everything; --only pgd,ceiling for a part",
              "```", ""]
    return "\n".join(lines)
