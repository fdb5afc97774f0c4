"""Charts: accuracy curves, bars, the budget ball in two dimensions, training history and the
loss landscape. Accuracies and probabilities are drawn in %. Traversal charts are in
:mod:`helpers.plotting.walks`.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import tensorflow as tf
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.colors import LogNorm
from matplotlib.patches import Circle, Rectangle

from helpers.norms import NORMS
from helpers.evaluation import softmax
from helpers.plotting.figure import finish, label_axes
from helpers.validation import validate_number

__all__ = [
    "plot_accuracy_curves",
    "show_probabilities",
    "budget_step_2d",
    "show_budget_ball",
    "plot_grouped_bars",
    "plot_training_history",
    "plot_guard_check",
    "plot_loss_landscape",
]

_NORM_TEXT = {"l2": "L2", "linf": "L-infinity"}
_BALL_NAMES = {"l2": "L2 budget: a circle", "linf": "L-infinity budget: a square"}


def _bar_offsets(count: int) -> tuple[float, np.ndarray]:
    """Width of each of ``count`` bars side by side in a group of total width 0.8, and their
    offsets (count,) from the group's centre."""
    width = 0.8 / count
    return width, (np.arange(count) - (count - 1) / 2) * width


def plot_accuracy_curves(
    tables: Mapping[str, Mapping[str, object]],
    *,
    title: str = "Accuracy under attack",
    xlabel: str | None = None,
) -> Figure:
    """Accuracy (%) against epsilon, one line per table from
    :func:`helpers.evaluation.accuracy_vs_epsilon`, labelled with the table's name."""
    figure = Figure(figsize=(5.5, 3.6))
    ax = figure.subplots()
    norms = set()
    for name, table in tables.items():
        ax.plot(table["eps"], 100 * np.asarray(table["accuracy"]), marker="o", label=name)
        norms.add(str(table.get("norm", "")))
    norm_text = _NORM_TEXT.get(norms.pop(), "") if len(norms) == 1 else ""
    ax.set_ylim(-2, 102)
    label_axes(ax, title=title, ylabel="accuracy (%)", legend_size=None,
               xlabel=xlabel or f"epsilon (attack budget{', ' + norm_text if norm_text else ''})")
    return finish(figure)


def _one_image_logits(logits: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check and flatten :func:`show_probabilities`'s ``logits``: name -> (classes,) float64."""
    if not logits:
        raise ValueError("give at least one entry, e.g. {'original': logits}")
    rows = {name: np.asarray(values, np.float64) for name, values in logits.items()}
    for name, values in rows.items():
        if values.ndim == 2 and values.shape[0] == 1:
            rows[name] = values = values[0]
        if values.ndim != 1 or len(values) < 2:
            raise ValueError(f"{name!r}: expected the logits of one image, shape (10,), got {values.shape}")
    num_classes = {len(values) for values in rows.values()}
    if len(num_classes) != 1:
        raise ValueError(f"every entry needs the same number of classes, got {sorted(num_classes)}")
    return rows


def show_probabilities(
    logits: Mapping[str, np.ndarray],
    *,
    label: int | None = None,
    title: str = "The model's confidence in each digit",
) -> Figure:
    """Bars of a model's confidence (softmax, in %) in each class, one colour per entry.

    ``logits`` maps a name to the logits of ONE image (shape (10,) or (1, 10)), e.g.
    ``{"original": ..., "after FGSM": ...}``. The true ``label`` is marked on the x axis if
    given. Used in notebook ``01_adversarial_examples.ipynb``.
    """
    rows = _one_image_logits(logits)
    classes = np.arange(len(next(iter(rows.values()))))
    width, offsets = _bar_offsets(len(rows))
    figure = Figure(figsize=(6.0, 3.0))
    ax = figure.subplots()
    for offset, (name, values) in zip(offsets, rows.items()):
        ax.bar(classes + offset, 100 * softmax(values), width=width, label=name)
    ax.set_xticks(classes)
    if label is not None:
        ax.set_xticklabels([f"{c}\n(true)" if c == int(label) else str(c) for c in classes])
    ax.set_ylim(0, 105)
    label_axes(ax, title=title, xlabel="digit", ylabel="confidence (%)", grid="y")
    return finish(figure)


def budget_step_2d(
    point: Sequence[float],
    gradient: Sequence[float],
    *,
    eps: float,
    step_size: float,
    norm: str,
) -> tuple[np.ndarray, np.ndarray]:
    """One PGD step in a world of two pixels, using the attack module's own step and projection.

    ``point`` is the change made so far (2 numbers, relative to the original image at the
    origin) and ``gradient`` the direction that raises the loss. The point moves by the
    ``norm``'s steepest-ascent step (:data:`helpers.attacks.NORMS`) of length ``step_size``,
    then is projected back into the ball of radius ``eps``. (Real PGD also clips pixels to
    [0, 1]; there are no pixel bounds here.) Returns ``(after_step, after_projection)``, each
    float32 of shape (2,). Used in notebook ``02_pgd.ipynb``.
    """
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {sorted(NORMS)}")
    eps = validate_number(eps, "eps")
    step_size = validate_number(step_size, "step_size")
    start, direction = _two_numbers("point", point), _two_numbers("gradient", gradient)
    spec = NORMS[norm]
    stepped = start + spec.step(direction, tf.constant(step_size, tf.float32))
    projected = spec.project(stepped, tf.constant(eps, tf.float32))
    return stepped.numpy()[0], projected.numpy()[0]


def _two_numbers(name: str, value: Sequence[float]) -> tf.Tensor:
    """``value`` as a float32 tensor of shape (1, 2), a batch of one two-pixel change."""
    vector = np.asarray(value, np.float32)
    if vector.shape != (2,) or not np.isfinite(vector).all():
        raise ValueError(f"{name} must be 2 finite numbers, got {value!r}")
    return tf.constant(vector[None])


def _draw_ball(ax: Axes, norm: str, start: np.ndarray, stepped: np.ndarray, projected: np.ndarray,
               eps: float) -> None:
    """One panel of :func:`show_budget_ball`: the ball of radius ``eps`` around the origin, and
    the points (2,) before the step, after it and after the projection, joined by arrows."""
    ball = Circle((0.0, 0.0), eps) if norm == "l2" else Rectangle((-eps, -eps), 2 * eps, 2 * eps)
    ball.set(facecolor=(0.12, 0.47, 0.71, 0.15), edgecolor="tab:blue", linewidth=1.5,
             label=f"allowed changes (epsilon {eps:g})")
    ax.add_patch(ball)
    ax.plot(0, 0, "k+", markersize=12, label="original image (centre)")
    ax.plot(*start, "o", color="black", label="before the step")
    for head, tail, colour in ((stepped, start, "tab:orange"), (projected, stepped, "tab:green")):
        ax.annotate("", xy=tuple(head), xytext=tuple(tail),
                    arrowprops={"arrowstyle": "->", "color": colour, "linewidth": 2})
    ax.plot(*stepped, "X", color="tab:orange", markersize=9, label="after the step (outside)")
    ax.plot(*projected, "o", color="tab:green", markersize=8, label="after the projection (inside)")
    reach = 1.25 * max(eps, float(np.abs(np.concatenate([start, stepped, projected])).max()))
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_aspect("equal")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.set_xlabel("change of pixel 1")
    ax.set_ylabel("change of pixel 2")
    ax.set_title(_BALL_NAMES[norm], fontsize=10)


def show_budget_ball(
    point: Sequence[float] = (0.3, -0.6),
    gradient: Sequence[float] = (1.0, 0.6),
    *,
    eps: float = 1.0,
    step_size: float = 1.2,
    norms: Sequence[str] = ("l2", "linf"),
    title: str | None = "One PGD step leaves the budget ball; the projection brings it back",
) -> Figure:
    """The budget ball of a two-pixel image, one panel per norm ("l2": circle, "linf": square).

    Each panel shows the original image (the centre), the current change ``point``, the step
    of length ``step_size`` driven by ``gradient`` and where :func:`budget_step_2d` projects
    it back into the ball of radius ``eps``. Axes: change of pixel 1 and of pixel 2. Used in
    notebook ``02_pgd.ipynb``.
    """
    if not norms or any(norm not in _BALL_NAMES for norm in norms):
        raise ValueError(f"norms must be a non-empty selection of {sorted(_BALL_NAMES)}, got {norms!r}")
    figure = Figure(figsize=(4.2 * len(norms), 4.9))
    axes = np.atleast_1d(figure.subplots(1, len(norms)))
    for ax, norm in zip(axes, norms):
        stepped, projected = budget_step_2d(point, gradient, eps=eps, step_size=step_size, norm=norm)
        _draw_ball(ax, norm, np.asarray(point, np.float64), stepped, projected, eps)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    return finish(figure, title, rect=(0, 0.13, 1, 1))


def plot_grouped_bars(
    table: Mapping[str, Mapping[str, float]],
    *,
    title: str,
    ylabel: str,
    value_format: str = "{:.1f}",
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Bars in groups, each bar labelled with its value: ``table`` maps a group name (on the x
    axis, e.g. "clean" or "under attack") to {bar name: value}, e.g. {"natural": 99.1,
    "robust": 98.0}; the same bar names in every group share a colour and a legend entry.
    Values are drawn as given (pass percentages for accuracy). Used in notebooks
    ``03_adversarial_training.ipynb`` and ``04_class_traversal.ipynb``.
    """
    if not table or any(not bars for bars in table.values()):
        raise ValueError("give at least one group with at least one bar, e.g. {'clean': {'natural': 99.0}}")
    for group, bars in table.items():
        for name, value in bars.items():
            if not np.isfinite(float(value)):
                raise ValueError(f"{group!r} / {name!r}: the value must be a finite number, got {value!r}")
    groups = list(table)
    bar_names = list(dict.fromkeys(name for bars in table.values() for name in bars))
    width, offsets = _bar_offsets(len(bar_names))
    figure = Figure(figsize=(min(11.0, max(4.0, 1.2 + 1.3 * len(groups))), 3.4))
    ax = figure.subplots()
    for offset, name in zip(offsets, bar_names):
        present = [(p + offset, float(table[g][name])) for p, g in enumerate(groups) if name in table[g]]
        bars = ax.bar([x for x, _ in present], [h for _, h in present], width=width, label=name)
        ax.bar_label(bars, labels=[value_format.format(h) for _, h in present], fontsize=8, padding=2)
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels(groups)
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        ax.margins(y=0.15)
    label_axes(ax, title=title, ylabel=ylabel, grid="y")
    return finish(figure)


def plot_training_history(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    *,
    title: str = "Accuracy during training",
    attack_text: str = "under attack",
) -> Figure:
    """Accuracy (%) against training time (minutes, added up over epochs), one colour per model:
    a solid line for clean accuracy and a dashed one for accuracy under the per-epoch attack,
    one marker per epoch (starting from the end of epoch 1).

    ``histories`` maps a model name to its per-epoch records, as returned by
    :func:`helpers.training.fit` (or the ``"history"`` of ``models/NAME.json``): each needs
    ``"seconds"`` and ``"eval_clean_accuracy"``, and may have ``"eval_adversarial_accuracy"``.
    ``attack_text`` names the attack in the legend. Used in notebook
    ``03_adversarial_training.ipynb``.
    """
    if not histories or any(len(records) == 0 for records in histories.values()):
        raise ValueError("give at least one model with at least one epoch record")
    figure = Figure(figsize=(6.4, 3.8))
    ax = figure.subplots()
    for index, (name, records) in enumerate(histories.items()):
        missing = [key for key in ("seconds", "eval_clean_accuracy") if any(key not in r for r in records)]
        if missing:
            raise ValueError(f"{name!r}: every epoch record needs {missing}")
        colour = f"C{index}"
        minutes = np.cumsum([float(r["seconds"]) for r in records]) / 60.0
        ax.plot(minutes, [100 * float(r["eval_clean_accuracy"]) for r in records], "o-", color=colour,
                label=f"{name}: clean")
        if all("eval_adversarial_accuracy" in r for r in records):
            ax.plot(minutes, [100 * float(r["eval_adversarial_accuracy"]) for r in records], "s--",
                    color=colour, label=f"{name}: {attack_text}")
    ax.set_ylim(-2, 102)
    ax.set_xlim(left=0)
    label_axes(ax, title=title, xlabel="training time (minutes)", ylabel="accuracy (%)")
    return finish(figure)


def plot_guard_check(records: Sequence[Mapping[str, float]], *, title: str, attack_text: str,
                     guard_text: str) -> Figure:
    """Catastrophic overfitting in one chart: per epoch, accuracy on the training attack's images
    (``train_accuracy``), clean and under the guard's check on held-out images
    (``eval_clean_accuracy``, ``eval_adversarial_accuracy``), and a mark on the epoch the run keeps
    (the best check). ``records``: :func:`helpers.training.fit`'s epoch records (notebook 03)."""
    keys = ("train_accuracy", "eval_clean_accuracy", "eval_adversarial_accuracy")
    if not records or any(key not in r for r in records for key in keys):
        raise ValueError(f"need at least one epoch record, each with {list(keys)}")
    epochs = np.arange(1, len(records) + 1)
    figure = Figure(figsize=(7.5, 4.2))
    ax = figure.subplots()
    for key, label, style in zip(keys, (f"training images, {attack_text}", "held-out images, clean",
                                        f"held-out images, {guard_text} (the guard)"), ("o-", "s:", "D--")):
        ax.plot(epochs, [100 * float(r[key]) for r in records], style, label=label, linewidth=2)
    best = int(np.argmax([r["eval_adversarial_accuracy"] for r in records]))
    ax.axvline(best + 1, color="grey", linewidth=1, linestyle=":")
    ax.annotate("kept", (best + 1, 100 * records[best]["eval_adversarial_accuracy"]), textcoords="offset points",
                xytext=(8, 8), fontsize=11)
    ax.set_xticks(epochs)
    ax.set_ylim(-2, 102)
    label_axes(ax, title=title, xlabel="epoch", ylabel="accuracy (%)", legend_size=10)
    return finish(figure)


def plot_loss_landscape(
    slices: Mapping[str, Mapping[str, np.ndarray]],
    paths: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    *,
    radius: float | None = None,
    title: str = "The loss around one picture",
    across: str = "at right angles to the gradient, L2",
) -> Figure:
    """One map per model of the loss around a picture (from :func:`helpers.landscape.loss_slice`),
    in a log colour scale; ``paths`` (model -> {label: (T, 2) coordinates from
    :func:`helpers.landscape.path_coordinates`}) are drawn on top, a single point as a star and
    a longer path as a line with dots; ``radius`` draws the L2 budget as a circle; ``across``
    labels the second direction. All maps share one colour scale, so their colours compare."""
    if not slices:
        raise ValueError("slices must hold at least one model")
    figure = Figure(figsize=(6.2 * len(slices), 5.4))
    axes = np.atleast_1d(figure.subplots(1, len(slices)))
    top = max(max(float(np.max(cut["loss"])) for cut in slices.values()), 1e-5)
    for ax, (name, cut) in zip(axes, slices.items()):
        a, b, loss = np.asarray(cut["a"]), np.asarray(cut["b"]), np.asarray(cut["loss"])
        shown = ax.imshow(np.maximum(loss, 1e-6), origin="lower", extent=(a[0], a[-1], b[0], b[-1]),
                          cmap="magma", norm=LogNorm(vmin=1e-6, vmax=top), aspect="equal")
        figure.colorbar(shown, ax=ax, shrink=0.85, label="loss (log scale; higher = more wrong)")
        ax.plot([0], [0], marker="o", color="white", markersize=8, linestyle="none", label="the picture")
        if radius is not None:
            ax.add_patch(Circle((0, 0), validate_number(radius, "radius"), fill=False, color="white",
                                linestyle="--", linewidth=1.5, label=f"budget, L2 {radius:g}"))
        for (label, points), colour in zip((paths or {}).get(name, {}).items(), ("cyan", "lime", "yellow")):
            points = np.asarray(points)
            if len(points) == 1:
                ax.plot(points[:, 0], points[:, 1], marker="*", markersize=16, color=colour, linestyle="none",
                        label=label)
            else:
                ax.plot(points[:, 0], points[:, 1], marker=".", color=colour, linewidth=2, label=label)
        label_axes(ax, title=name, xlabel="along the gradient (uphill), L2", ylabel=across,
                   grid="both", legend_size=9)
        ax.title.set_fontsize(12)
    return finish(figure, title, title_size=13)
