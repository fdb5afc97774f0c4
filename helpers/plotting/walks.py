"""Charts of class traversals: how one walk unfolds, success matrices, success and realism
against the budget (equal-budget curves, the training-radius study) and the position study.

Used in notebooks ``04_class_traversal.ipynb`` and ``05_better_traversals.ipynb``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from helpers.evaluation import softmax
from helpers.plotting.figure import finish, label_axes
from helpers.validation import validate_number

__all__ = ["plot_traversal_progress", "plot_success_matrices", "plot_radius_study", "plot_budget_curves",
           "plot_position_study", "show_class_grid"]


def plot_traversal_progress(
    view: Mapping[str, Mapping[str, np.ndarray]],
    target: int,
    *,
    title: str | None = None,
) -> Figure:
    """How a traversal unfolds step by step, one line per model, in three panels: the L2
    distance of each frame from the start (how much has been changed), the target's logit
    (the score being raised) and the model's probability for ``target`` (in %).

    ``view`` maps a model name to {"frames": (T, 28, 28, 1), "logits": (T, 10)}, as returned
    by :func:`helpers.widgets.traversal_view`. Used in notebook ``04_class_traversal.ipynb``.
    """
    if not view:
        raise ValueError("give at least one model's traversal, e.g. {'robust': view}")
    figure = Figure(figsize=(10.5, 3.2))
    axes = figure.subplots(1, 3)
    for name, result in view.items():
        frames = np.asarray(result["frames"], np.float64)
        logits = np.asarray(result["logits"], np.float64)
        if len(frames) != len(logits) or logits.ndim != 2 or not 0 <= int(target) < logits.shape[1]:
            raise ValueError(f"{name!r}: need T frames and T x classes logits with target a class index")
        steps = np.arange(len(frames))
        distance = np.sqrt(((frames - frames[0]) ** 2).reshape(len(frames), -1).sum(axis=1))
        axes[0].plot(steps, distance, label=name)
        axes[1].plot(steps, logits[:, int(target)], label=name)
        axes[2].plot(steps, 100 * softmax(logits)[:, int(target)], label=name)
    labels = ("distance from the start (L2)", f"score (logit) of digit {int(target)}",
              f"probability of digit {int(target)} (%)")
    for ax, label in zip(axes, labels):
        label_axes(ax, title=label.split(" (")[0], xlabel="step", ylabel=label)
    axes[2].set_ylim(-2, 102)
    return finish(figure, title)


def _draw_rates(ax: Axes, name: str, matrix: np.ndarray) -> AxesImage:
    """One panel of :func:`plot_success_matrices` for a (10, 10) ``matrix`` of rates in [0, 1]
    (NaN: no walk): the heat map in %, each cell labelled. Returns the drawn image."""
    image = ax.imshow(np.ma.masked_invalid(100 * matrix), cmap="viridis", vmin=0, vmax=100)
    for s, t in zip(*np.nonzero(np.isfinite(matrix))):
        value = 100 * matrix[s, t]
        ax.text(t, s, f"{value:.0f}", ha="center", va="center", fontsize=8,
                color="black" if value > 60 else "white")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("target digit")
    ax.set_ylabel("start digit")
    ax.set_title(f"{name}\nmean over pairs {100 * np.nanmean(matrix):.1f}%", fontsize=10)
    return image


def plot_success_matrices(
    matrices: Mapping[str, np.ndarray],
    *,
    title: str = "How often the judge sees the target (%)",
) -> Figure:
    """Side-by-side 10 x 10 heat maps of traversal success (rows: start digit, columns: target).

    ``matrices`` maps a panel name (e.g. "natural model") to a (10, 10) array of rates in
    [0, 1], NaN where there is no walk (the diagonal); each cell is labelled with its
    percentage and each panel's name carries the overall rate. As returned by
    :func:`helpers.judging.success_matrix`. Used in notebook ``05_better_traversals.ipynb``.
    """
    if not matrices:
        raise ValueError("give at least one matrix, e.g. {'robust': success_matrix(...)}")
    rates = {name: np.asarray(matrix, dtype=float) for name, matrix in matrices.items()}
    for name, matrix in rates.items():
        finite = matrix[np.isfinite(matrix)]
        if matrix.shape != (10, 10) or np.any((finite < 0) | (finite > 1)):
            raise ValueError(f"{name!r}: need a (10, 10) array of rates in [0, 1], got shape {matrix.shape}")
    figure = Figure(figsize=(4.2 * len(rates) + 0.6, 4.4))
    axes = np.atleast_1d(figure.subplots(1, len(rates)))
    for ax, (name, matrix) in zip(axes, rates.items()):
        image = _draw_rates(ax, name, matrix)
    figure.colorbar(image, ax=list(axes), shrink=0.8, label="judge success (%)")
    return finish(figure, title, title_size=11, layout=False)


def plot_radius_study(rows: Mapping[str, Mapping[str, object]], *, yardstick: float) -> Figure:
    """What the training radius buys, in three panels (``tools/fast_training.py radius``).

    ``rows``: model name -> its record of the study (``train_radius``, ``clean_10000``,
    ``robust_l2_2.0``, and ``walks``: ball radius (text) -> ``success`` and ``realism_ratio``).
    Left: clean and robust accuracy against the training radius (the fast recipe's models; the
    shipped models as single marks). Middle and right: judge success and realism (distance to
    the nearest real digit over ``yardstick``, the real digits' own) against the radius of the
    ball every walk was kept in, one line per model.
    """
    yardstick = validate_number(yardstick, "yardstick")
    if not rows:
        raise ValueError("rows must hold at least one model")
    figure = Figure(figsize=(14, 4.6))
    left, middle, right = figure.subplots(1, 3)
    fast = sorted((row["train_radius"], name) for name, row in rows.items() if name.startswith("pgd2"))
    if fast:
        radii = [r for r, _ in fast]
        left.plot(radii, [100 * rows[n]["clean_10000"] for _, n in fast], marker="o", label="clean (fast recipe)")
        left.plot(radii, [100 * rows[n]["robust_l2_2.0"] for _, n in fast], marker="o",
                  label="under attack, L2 eps 2.0 (fast recipe)")
    for name, marker in (("robust", "*"), ("natural", "X")):
        if name in rows:
            row = rows[name]
            for key, colour in (("clean_10000", "C0"), ("robust_l2_2.0", "C1")):
                left.plot([row["train_radius"]], [100 * row[key]], marker=marker, markersize=13, linestyle="none",
                          color=colour, label=f"shipped {name}, " + ("clean" if key == "clean_10000" else "L2 eps 2.0"))
    label_axes(left, title="Accuracy", xlabel="training radius (L2)", ylabel="accuracy (%)", legend_size=9)
    for name, row in rows.items():
        walks = row["walks"]
        balls = sorted(walks, key=float)
        label = f"{name} (trained at {row['train_radius']:g})" if name.startswith("pgd2") else f"shipped {name}"
        style = "--" if name == "natural" else "-"
        middle.plot([float(b) for b in balls], [100 * walks[b]["success"] for b in balls], style, marker="o",
                    label=label)
        right.plot([float(b) for b in balls], [walks[b]["realism_ratio"] for b in balls], style, marker="o",
                   label=label)
    right.axhline(1.0, color="grey", linewidth=1, linestyle=":", label="real digits (1.00)")
    label_axes(middle, title="Walks the judge accepts", xlabel="ball the walk stays in (L2 radius)",
               ylabel="accepted (%)", legend_size=8)
    label_axes(right, title=f"Realism (1.00 = as real as real digits, {yardstick:.2f})",
               xlabel="ball the walk stays in (L2 radius)", ylabel="distance to nearest real / real's", legend_size=8)
    for ax in (left, middle, right):
        ax.title.set_fontsize(12)
        ax.xaxis.label.set_fontsize(11)
        ax.yaxis.label.set_fontsize(11)
    return finish(figure, "What the training radius buys", title_size=13)


def _check_walks(name: str, walks: Mapping[str, Mapping[str, float]]) -> None:
    if not walks or any(not {"success", "realism_ratio", "size"} <= set(w) for w in walks.values()):
        raise ValueError(f"{name!r}: need, per budget, a record with success, realism_ratio and size")


def plot_budget_curves(curves: Mapping[str, Mapping[str, Mapping[str, float]]], *, yardstick: float,
                       title: str = "Both models, the same budget") -> Figure:
    """Judge success and realism against the size of the change, one line per model.

    ``curves``: model name -> ball radius (text) -> the record of
    :func:`helpers.judging.walk_scores` (``success``, ``realism_ratio``, ``size``), as in
    ``results/equal_budget.json``. The x axis is the walks' mean L2 size (what the budget
    bought), so two models compare at equal change. ``yardstick``: the real digits' own
    nearest distance (ratio 1.00), named in the realism panel.
    """
    yardstick = validate_number(yardstick, "yardstick")
    if not curves:
        raise ValueError("give at least one model's curve, e.g. {'robust': {'2': {...}}}")
    figure = Figure(figsize=(11, 4.4))
    left, right = figure.subplots(1, 2)
    for name, walks in curves.items():
        _check_walks(name, walks)
        balls = sorted(walks, key=float)
        size = [walks[b]["size"] for b in balls]
        style = "--" if name == "natural" else "-"
        left.plot(size, [100 * walks[b]["success"] for b in balls], style, marker="o", label=name)
        right.plot(size, [walks[b]["realism_ratio"] for b in balls], style, marker="o", label=name)
    right.axhline(1.0, color="grey", linewidth=1, linestyle=":", label="real digits (1.00)")
    label_axes(left, title="Walks the judge accepts", xlabel="size of the change (mean L2)",
               ylabel="accepted (%)", legend_size=10)
    label_axes(right, title=f"Realism (1.00 = as real as real digits, {yardstick:.2f})",
               xlabel="size of the change (mean L2)", ylabel="nearest-real distance / real digits'", legend_size=10)
    left.set_ylim(-2, 102)
    return finish(figure, title, title_size=13)


def plot_position_study(position: Mapping[str, Mapping[str, Mapping[str, float]]],
                        readings: Mapping[str, Mapping[str, float]], *,
                        title: str = "Off-centre start digits") -> Figure:
    """The position study in three panels against the shift (pixels): judge success, realism
    ratio (``position``: shift (text) -> model name -> :func:`helpers.judging.walk_scores`
    record) and how often each network reads the shifted start digit right (``readings``:
    shift (text) -> network name -> accuracy), as in ``results/equal_budget.json``."""
    if not position or set(position) != set(readings):
        raise ValueError("position and readings need the same shifts, at least one")
    shifts = sorted(position, key=int)
    figure = Figure(figsize=(14, 4.4))
    axes = figure.subplots(1, 3)
    for name in position[shifts[0]]:
        if name in ("settings", "split", "shift"):
            continue
        style = "--" if name == "natural" else "-"
        for ax, key, scale in ((axes[0], "success", 100), (axes[1], "realism_ratio", 1)):
            ax.plot([int(s) for s in shifts], [scale * position[s][name][key] for s in shifts], style, marker="o",
                    label=name)
    for name in readings[shifts[0]]:
        axes[2].plot([int(s) for s in shifts], [100 * readings[s][name] for s in shifts], marker="o", label=name)
    label_axes(axes[0], title="Walks the judge accepts", xlabel="shift of the start digit (pixels)",
               ylabel="accepted (%)", legend_size=10)
    label_axes(axes[1], title="Realism of the drawn digit", xlabel="shift of the start digit (pixels)",
               ylabel="nearest-real distance / real digits'", legend_size=10)
    label_axes(axes[2], title="Shifted start digits read right", xlabel="shift of the start digit (pixels)",
               ylabel="accuracy (%)", legend_size=10)
    for ax in (axes[0], axes[2]):
        ax.set_ylim(-2, 102)
    return finish(figure, title, title_size=13)


def show_class_grid(grids: Mapping[str, np.ndarray], *, title: str | None = None,
                    panel_size: float = 6.5) -> Figure:
    """Full-size 10 x 10 grids of traversal end images, one panel per model, side by side.

    ``grids`` maps a panel name to an array (10, 10, 28, 28, 1) or (10, 10, 28, 28) in [0, 1]:
    row ``s`` holds the walks from one start digit ``s``, column ``t`` the walk towards ``t``
    (the diagonal shows the start itself), in the style of Santurkar et al. (2019). Each panel is
    ``panel_size`` inches wide, so a digit is about 65 pixels at 100 dpi, readable on a projector.
    """
    if not grids:
        raise ValueError("give at least one grid, e.g. {'robust': finals}")
    figure = Figure(figsize=(panel_size * len(grids) + 0.3, panel_size + 0.9))
    axes = np.atleast_1d(figure.subplots(1, len(grids)))
    for ax, (name, grid) in zip(axes, grids.items()):
        grid = np.asarray(grid, np.float64)
        if grid.shape[:4] != (10, 10, 28, 28) or grid.ndim not in (4, 5) or not np.all((grid >= 0) & (grid <= 1)):
            raise ValueError(f"{name!r}: need (10, 10, 28, 28[, 1]) images in [0, 1], got shape {grid.shape}")
        tiled = grid.reshape(10, 10, 28, 28).transpose(0, 2, 1, 3).reshape(280, 280)
        ax.imshow(tiled, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        for edge in range(1, 10):
            ax.axhline(28 * edge - 0.5, color="#bbbbbb", linewidth=0.6)
            ax.axvline(28 * edge - 0.5, color="#bbbbbb", linewidth=0.6)
        ax.set_xticks(28 * np.arange(10) + 13.5, [str(d) for d in range(10)], fontsize=11)
        ax.set_yticks(28 * np.arange(10) + 13.5, [str(d) for d in range(10)], fontsize=11)
        ax.xaxis.tick_top()
        ax.xaxis.set_label_position("top")
        ax.set_xlabel("target digit", fontsize=12)
        ax.set_ylabel("start digit", fontsize=12)
        ax.set_title(name, fontsize=13, y=-0.07)
    return finish(figure, title, title_size=13)
