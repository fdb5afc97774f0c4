"""The series as a reader meets it: every notebook run headless, and the slider callbacks.

Sections ``notebooks`` and ``sliders`` of ``python -m benchmarks.run``.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
from pathlib import Path
from typing import Callable

from benchmarks.bench_common import summarise, timed
from helpers.reports import NOTEBOOKS_DIR, notebook_paths


def run_notebook(path: Path, timeout: int = 900) -> float:
    """Seconds to run one notebook top to bottom in a fresh kernel, working directory its folder.

    Like ``tools/run_notebooks.run`` but the executed copy stays in memory: the saved notebook
    on disk is never rewritten. Kernel start-up is included (a reader waits for it too)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)  # an in-memory copy
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    return timed(client.execute)


def notebooks(settings: dict, log: Callable[[str], None], folder: Path = NOTEBOOKS_DIR) -> dict:
    """Seconds of every numbered notebook (``helpers.reports.notebook_paths``) and of the series."""
    paths = notebook_paths(folder)
    if not paths:
        return {"skipped": f"no numbered notebooks (NN_*.ipynb) found in {folder}"}
    repeats = settings["notebook_repeats"]
    seconds: dict[str, list[float]] = {p.name: [] for p in paths}
    totals, errors = [], {}
    for repeat in range(repeats):
        total = 0.0
        for path in paths:
            try:
                spent = run_notebook(path)
            except Exception as error:  # a failing cell: record it, time the rest
                message = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # no terminal colours
                errors[path.name] = f"{type(error).__name__}: {message[-500:]}"
                log(f"  {path.name} FAILED: {type(error).__name__}")
                continue
            seconds[path.name].append(spent)
            total += spent
            log(f"  repeat {repeat + 1}/{repeats}: {path.name} {spent:.1f} s")
        totals.append(total)
    rows = [{"notebook": name, "seconds": summarise(s)} for name, s in seconds.items() if s]
    result = {"rows": rows, "series_seconds": summarise(totals), "repeats": repeats,
              "notes": "each notebook in a fresh python3 kernel (start-up included), run in memory with "
                       "nbclient from notebooks/ (the saved files are not rewritten); one after another"}
    if errors:
        result["errors"] = errors
    return result


# --- slider callbacks ------------------------------------------------------------------------
def _png(figure) -> bytes:
    """What Jupyter's inline backend does with a displayed figure: a PNG, bbox_inches='tight'."""
    from IPython.core.pylabtools import print_figure

    return print_figure(figure, "png", bbox_inches="tight")


def sliders(settings: dict, log: Callable[[str], None]) -> dict:
    """Time one slider change end to end, for the natural and robust models side by side.

    A change runs the panel's callback (the attack or traversal for both models, then the
    matplotlib figure); in a notebook, displaying the figure then renders it to PNG, which is
    timed here the same way as Jupyter does it. Websocket and browser time are not included."""
    from helpers.data import load_mnist_test
    from helpers.models import load_pretrained
    from helpers.widgets import (epsilon_panel, fgsm_view, pgd_panel, pgd_view, traversal_panel,
                                 traversal_view)

    models = {"natural": load_pretrained("natural"), "robust": load_pretrained("robust")}
    x, y = load_mnist_test()
    index = settings["slider_image"]
    image, label = x[index], int(y[index])
    images, labels = x[:10], y[:10]
    pgd_steps, traversal_steps = settings["slider_pgd_steps"], settings["traversal_steps"]
    quiet = io.StringIO()  # outside a kernel, display() prints the figure's repr: swallow it

    with contextlib.redirect_stdout(quiet):
        log("  building the panels (their first draw traces the attacks)")
        panels = {
            "epsilon_panel": epsilon_panel(models, image, label, norm="linf", eps=0.1, eps_max=0.4),
            "pgd_panel": pgd_panel(models, image, label, norm="l2", steps=pgd_steps),
            "traversal_panel": traversal_panel(models, images, labels, source=0, target=3,
                                               steps=traversal_steps, step_size=0.25),
        }
    eps_values = itertools.cycle([0.05, 0.15, 0.25, 0.1])
    l2_values = itertools.cycle([1.0, 1.5, 2.5, 2.0])
    targets = itertools.cycle([0, 8, 6, 3])
    source_digit = int(labels[0])


    def next_frame() -> int:  # the frame slider sits at the last frame after every recompute
        current = panels["traversal_panel"].controls["frame"].value
        return traversal_steps // 2 if current == traversal_steps else traversal_steps
    events = {
        # name: (panel, control, next value, the view the callback computes, as a callable)
        "epsilon slider (FGSM, L-inf)": (
            "epsilon_panel", "eps", lambda: next(eps_values),
            lambda v: fgsm_view(models, image, label, v, norm="linf")),
        f"PGD epsilon slider (L2, {pgd_steps} steps)": (
            "pgd_panel", "eps", lambda: next(l2_values),
            lambda v: pgd_view(models, image, label, eps=v, step_size=panels["pgd_panel"].controls["step_size"].value,
                               steps=pgd_steps, norm="l2")),
        f"traversal target ({traversal_steps} steps)": (
            "traversal_panel", "target", lambda: next(targets),
            lambda v: traversal_view(models, images[0], v, steps=traversal_steps, step_size=0.25)),
        "traversal frame slider / play button": (
            "traversal_panel", "frame", next_frame, None),
    }
    timings: dict[str, dict[str, list[float]]] = {name: {"callback": [], "png": [], "total": [], "view": []}
                                                  for name in events}

    def trigger(name: str) -> None:
        panel_name, control, next_value, view = events[name]
        panel = panels[panel_name]
        value = next_value()
        if value == panel.controls[control].value:  # an unchanged value would fire no callback
            raise RuntimeError(f"{name}: the next value {value!r} is the current one")
        with contextlib.redirect_stdout(quiet):
            callback = timed(lambda: setattr(panel.controls[control], "value", value))
        png = timed(lambda: _png(panel.state["figure"]))
        record = timings[name]
        record["callback"].append(callback)
        record["png"].append(png)
        record["total"].append(callback + png)
        if view is not None:
            record["view"].append(timed(lambda: view(value)))
        quiet.seek(0)
        quiet.truncate()

    if settings.get("warm_up", True):  # building the panels traced everything; one more change each
        log("  warming up: one change of each control")
        for name in events:
            trigger(name)
        for values in timings.values():
            for samples in values.values():
                samples.clear()
    for repeat in range(settings["slider_repeats"]):
        for name in events:  # interleaved, so noise spreads over every control
            trigger(name)
    rows = []
    for name, values in timings.items():
        row = {"event": name, "panel": events[name][0], "control": events[name][1],
               "models": list(models)}
        row.update({part: summarise(samples) for part, samples in values.items() if samples})
        rows.append(row)
    return {"rows": rows, "image": {"index": index, "label": label, "traversal_source_digit": source_digit},
            "notes": "total = the callback (attack or traversal for both models, then the matplotlib "
                     "figure) + the PNG rendering Jupyter's inline backend does on display; view = the "
                     "attack or traversal alone (helpers.widgets.*_view), timed separately"}
