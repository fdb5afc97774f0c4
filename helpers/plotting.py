"""Figures for the series: digit grids, perturbations, accuracy curves, animations.

Used from notebook ``00_start_here.ipynb`` onwards. Every function builds a stand-alone
``matplotlib.figure.Figure`` (not registered with pyplot, so nothing stays open and nothing
is shown twice) and returns it; Jupyter displays a returned figure as an image. Animations
come back as an ``IPython.display.HTML`` object (``FuncAnimation.to_jshtml``), which plays
inline without ffmpeg.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from IPython.display import HTML
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

__all__ = [
    "softmax",
    "prediction_text",
    "show_digits",
    "show_perturbation",
    "show_heatmaps",
    "plot_accuracy_curves",
    "animate_frames",
]

CORRECT_COLOUR = "tab:green"
WRONG_COLOUR = "tab:red"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits along the last axis (numerically stable)."""
    logits = np.asarray(logits, np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def prediction_text(logits: np.ndarray) -> str:
    """'7 (98%)': the predicted digit and the model's confidence in it, for one image."""
    probabilities = softmax(logits)
    digit = int(np.argmax(probabilities))
    return f"{digit} ({probabilities[digit]:.0%})"


def _as_2d(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return image[..., 0] if image.ndim == 3 else image


def _hide_ticks(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def show_digits(
    images: np.ndarray,
    *,
    logits: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    titles: Sequence[str] | None = None,
    columns: int = 8,
    title: str | None = None,
    cell_size: float = 1.3,
) -> Figure:
    """A grid of digits. With ``logits``, each is captioned 'pred 7 (98%)', green when it
    matches ``labels`` and red when not; ``titles`` replaces the captions."""
    images = np.asarray(images)
    count = len(images)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    caption_room = 0.35 if (titles is not None or logits is not None or labels is not None) else 0.0
    figure = Figure(figsize=(columns * cell_size, rows * (cell_size + caption_room) + (0.4 if title else 0.1)))
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for index, ax in enumerate(axes):
        _hide_ticks(ax)
        if index >= count:
            ax.set_axis_off()
            continue
        ax.imshow(_as_2d(images[index]), cmap="gray", vmin=0, vmax=1)
        caption, colour = "", "black"
        if titles is not None:
            caption = titles[index]
        elif logits is not None:
            caption = "pred " + prediction_text(logits[index])
            if labels is not None:
                right = int(np.argmax(logits[index])) == int(labels[index])
                colour = CORRECT_COLOUR if right else WRONG_COLOUR
        elif labels is not None:
            caption = f"label {int(labels[index])}"
        ax.set_title(caption, fontsize=8, color=colour)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def show_perturbation(
    x: np.ndarray,
    x_adv: np.ndarray,
    *,
    logits_clean: np.ndarray | None = None,
    logits_adv: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Three panels for one image: the original, the change (red = brighter, blue = darker,
    on a colour scale centred at zero) and the changed image, with predictions if given."""
    original, adversarial = _as_2d(x), _as_2d(x_adv)
    change = adversarial - original
    limit = max(float(np.abs(change).max()), 1e-6)
    figure = Figure(figsize=(7.2, 2.6))
    axes = figure.subplots(1, 3)
    axes[0].imshow(original, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("original" + (f"\npred {prediction_text(logits_clean)}" if logits_clean is not None else ""),
                      fontsize=9)
    shown = axes[1].imshow(change, cmap="RdBu_r", vmin=-limit, vmax=limit)
    l2 = float(np.sqrt((change**2).sum()))
    axes[1].set_title(f"change (L2 {l2:.2f}, max {float(np.abs(change).max()):.2f})", fontsize=9)
    figure.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.04)
    axes[2].imshow(adversarial, cmap="gray", vmin=0, vmax=1)
    axes[2].set_title("changed" + (f"\npred {prediction_text(logits_adv)}" if logits_adv is not None else ""),
                      fontsize=9)
    for ax in axes:
        _hide_ticks(ax)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def show_heatmaps(
    maps: Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    images: Sequence[np.ndarray] | None = None,
    title: str | None = None,
    signed: bool = True,
) -> Figure:
    """Pixel maps side by side (e.g. gradients): red raises the score, blue lowers it, each
    on its own symmetric scale; the matching ``images`` go in a row above if given."""
    count = len(maps)
    rows = 2 if images is not None else 1
    figure = Figure(figsize=(2.2 * count, 2.3 * rows + 0.3))
    axes = figure.subplots(rows, count, squeeze=False)
    for column, (pixel_map, caption) in enumerate(zip(maps, titles)):
        pixel_map = _as_2d(pixel_map)
        if images is not None:
            axes[0, column].imshow(_as_2d(images[column]), cmap="gray", vmin=0, vmax=1)
            _hide_ticks(axes[0, column])
        ax = axes[-1, column]
        limit = max(float(np.abs(pixel_map).max()), 1e-12)
        if signed:
            ax.imshow(pixel_map, cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(pixel_map, cmap="magma", vmin=0, vmax=limit)
        ax.set_title(caption, fontsize=9)
        _hide_ticks(ax)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


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
    norm_text = {"l2": "L2", "linf": "L-infinity"}.get(norms.pop(), "") if len(norms) == 1 else ""
    ax.set_xlabel(xlabel or f"epsilon (attack budget{', ' + norm_text if norm_text else ''})")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def animate_frames(
    frames: Mapping[str, np.ndarray],
    *,
    captions: Mapping[str, Sequence[str]] | None = None,
    title: str | None = None,
    max_frames: int = 41,
    interval_ms: int = 150,
    dpi: int = 60,
) -> HTML:
    """An inline HTML animation (no ffmpeg needed) showing several traversals side by side.

    ``frames`` maps a panel name to an array (T, 28, 28, 1) or (T, 28, 28); ``captions``
    maps the same names to one caption per frame. At most ``max_frames`` evenly spaced frames
    are kept (first and last included) so the HTML stays small.
    """
    names = list(frames)
    length = len(next(iter(frames.values())))
    if any(len(frames[name]) != length for name in names):
        raise ValueError("every panel needs the same number of frames")
    keep = np.unique(np.linspace(0, length - 1, min(length, max_frames)).round().astype(int))
    figure = Figure(figsize=(2.4 * len(names), 2.8), dpi=dpi)
    axes = np.atleast_1d(figure.subplots(1, len(names)))
    shown = []
    for ax, name in zip(axes, names):
        shown.append(ax.imshow(_as_2d(frames[name][0]), cmap="gray", vmin=0, vmax=1))
        _hide_ticks(ax)
    if title:
        figure.suptitle(title, fontsize=10)

    def draw(frame_index: int):
        step = int(keep[frame_index])
        for ax, picture, name in zip(axes, shown, names):
            picture.set_data(_as_2d(frames[name][step]))
            caption = captions[name][step] if captions and name in captions else ""
            ax.set_title(f"{name}, step {step}\n{caption}", fontsize=9)
        return shown

    draw(0)
    figure.tight_layout()
    animation = FuncAnimation(figure, draw, frames=len(keep), interval=interval_ms, blit=False)
    return HTML(animation.to_jshtml(default_mode="once"))


# --- Added for notebooks 01 and 02: confidence per digit, and the budget ball in two dimensions


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
    classes = np.arange(num_classes.pop())
    width = 0.8 / len(rows)
    figure = Figure(figsize=(6.0, 3.0))
    ax = figure.subplots()
    for index, (name, values) in enumerate(rows.items()):
        offset = (index - (len(rows) - 1) / 2) * width
        ax.bar(classes + offset, 100 * softmax(values), width=width, label=name)
    ax.set_xticks(classes)
    if label is not None:
        ax.set_xticklabels([f"{c}\n(true)" if c == int(label) else str(c) for c in classes])
    ax.set_xlabel("digit")
    ax.set_ylabel("confidence (%)")
    ax.set_ylim(0, 105)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


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
    import tensorflow as tf

    from helpers.attacks import NORMS, validate_number

    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {sorted(NORMS)}")
    eps = validate_number(eps, "eps")
    step_size = validate_number(step_size, "step_size")
    vectors = []
    for name, value in (("point", point), ("gradient", gradient)):
        vector = np.asarray(value, np.float32)
        if vector.shape != (2,) or not np.isfinite(vector).all():
            raise ValueError(f"{name} must be 2 finite numbers, got {value!r}")
        vectors.append(tf.constant(vector[None]))
    spec = NORMS[norm]
    stepped = vectors[0] + spec.step(vectors[1], tf.constant(step_size, tf.float32))
    projected = spec.project(stepped, tf.constant(eps, tf.float32))
    return stepped.numpy()[0], projected.numpy()[0]


_BALL_NAMES = {"l2": "L2 budget: a circle", "linf": "L-infinity budget: a square"}


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
    from matplotlib.patches import Circle, Rectangle

    if not norms or any(norm not in _BALL_NAMES for norm in norms):
        raise ValueError(f"norms must be a non-empty selection of {sorted(_BALL_NAMES)}, got {norms!r}")
    start = np.asarray(point, np.float64)
    figure = Figure(figsize=(4.2 * len(norms), 4.9))
    axes = np.atleast_1d(figure.subplots(1, len(norms)))
    for ax, norm in zip(axes, norms):
        stepped, projected = budget_step_2d(point, gradient, eps=eps, step_size=step_size, norm=norm)
        ball = (Circle((0.0, 0.0), eps) if norm == "l2"
                else Rectangle((-eps, -eps), 2 * eps, 2 * eps))
        ball.set(facecolor=(0.12, 0.47, 0.71, 0.15), edgecolor="tab:blue", linewidth=1.5,
                 label=f"allowed changes (epsilon {eps:g})")
        ax.add_patch(ball)
        ax.plot(0, 0, "k+", markersize=12, label="original image (centre)")
        ax.plot(*start, "o", color="black", label="before the step")
        for (head, tail, colour) in ((stepped, start, "tab:orange"), (projected, stepped, "tab:green")):
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
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0.13, 1, 1))
    return figure


__all__ += ["show_probabilities", "budget_step_2d", "show_budget_ball"]


# --- Added for notebooks 03 and 04: grouped bars, named rows of digits, traversal progress,
# --- accuracy during training


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
    groups = list(table)
    bar_names = list(dict.fromkeys(name for bars in table.values() for name in bars))
    for group, bars in table.items():
        for name, value in bars.items():
            if not np.isfinite(float(value)):
                raise ValueError(f"{group!r} / {name!r}: the value must be a finite number, got {value!r}")
    width = 0.8 / len(bar_names)
    figure = Figure(figsize=(min(11.0, max(4.0, 1.2 + 1.3 * len(groups))), 3.4))
    ax = figure.subplots()
    positions = np.arange(len(groups))
    for index, name in enumerate(bar_names):
        offset = (index - (len(bar_names) - 1) / 2) * width
        present = [(p, float(table[g][name])) for p, g in zip(positions, groups) if name in table[g]]
        xs, heights = [p + offset for p, _ in present], [h for _, h in present]
        bars = ax.bar(xs, heights, width=width, label=name)
        ax.bar_label(bars, labels=[value_format.format(h) for h in heights], fontsize=8, padding=2)
    ax.set_xticks(positions)
    ax.set_xticklabels(groups)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        ax.margins(y=0.15)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def show_digit_rows(
    rows: Mapping[str, np.ndarray],
    *,
    captions: Mapping[str, Sequence[str]] | None = None,
    title: str | None = None,
    cell_size: float = 1.3,
) -> Figure:
    """A grid of digits with one named row per entry, e.g. a gallery of traversals.

    ``rows`` maps a row name ("start", "robust", "natural") to K images of shape
    (K, 28, 28, 1) or (K, 28, 28), the same K for every row; the name is written at the left
    of its row. ``captions`` maps row names to K captions (rows without one get none). Used
    in notebook ``04_class_traversal.ipynb``.
    """
    if not rows:
        raise ValueError("give at least one row, e.g. {'start': images}")
    names = list(rows)
    counts = {len(rows[name]) for name in names}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"every row needs the same, non-zero number of images, got {sorted(counts)}")
    count = counts.pop()
    for name, texts in (captions or {}).items():
        if name not in rows or len(texts) != count:
            raise ValueError(f"captions[{name!r}] must name a row and hold {count} captions")
    lines = max((text.count("\n") + 1 for texts in (captions or {}).values() for text in texts), default=0)
    row_height = cell_size + 0.05 + 0.16 * lines  # room for captions of one or more lines
    figure = Figure(figsize=(count * cell_size + 0.5, len(names) * row_height + (0.4 if title else 0.1)))
    axes = figure.subplots(len(names), count, squeeze=False)
    for row, name in enumerate(names):
        for column in range(count):
            ax = axes[row, column]
            ax.imshow(_as_2d(rows[name][column]), cmap="gray", vmin=0, vmax=1)
            _hide_ticks(ax)
            if captions and name in captions:
                ax.set_title(captions[name][column], fontsize=8)
        axes[row, 0].set_ylabel(name, fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


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
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.set_title(label.split(" (")[0], fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[2].set_ylim(-2, 102)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


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
    ax.set_xlabel("training time (minutes)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


__all__ += ["plot_grouped_bars", "show_digit_rows", "plot_traversal_progress", "plot_training_history"]


# --- Added for notebook 05: success matrices of class traversals


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
    for name, matrix in matrices.items():
        matrix = np.asarray(matrix, dtype=float)
        finite = matrix[np.isfinite(matrix)]
        if matrix.shape != (10, 10) or np.any((finite < 0) | (finite > 1)):
            raise ValueError(f"{name!r}: need a (10, 10) array of rates in [0, 1], got shape {matrix.shape}")
    figure = Figure(figsize=(4.2 * len(matrices) + 0.6, 4.4))
    axes = np.atleast_1d(figure.subplots(1, len(matrices)))
    for ax, (name, matrix) in zip(axes, matrices.items()):
        matrix = np.asarray(matrix, dtype=float)
        image = ax.imshow(np.ma.masked_invalid(100 * matrix), cmap="viridis", vmin=0, vmax=100)
        for s in range(10):
            for t in range(10):
                if np.isfinite(matrix[s, t]):
                    value = 100 * matrix[s, t]
                    ax.text(t, s, f"{value:.0f}", ha="center", va="center", fontsize=7,
                            color="black" if value > 60 else "white")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_xlabel("target digit")
        ax.set_ylabel("start digit")
        ax.set_title(f"{name}\nmean over pairs {100 * np.nanmean(matrix):.1f}%", fontsize=10)
    figure.colorbar(image, ax=list(axes), shrink=0.8, label="judge success (%)")
    figure.suptitle(title, fontsize=11)
    return figure


__all__ += ["plot_success_matrices"]
