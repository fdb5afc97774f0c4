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
    figure = Figure(figsize=(columns * cell_size, rows * cell_size + (0.4 if title else 0.1)))
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
