"""Figures of digit images and of the changes made to them.

Images are grey, (28, 28, 1) or (28, 28), with pixels in [0, 1]. A change (an image minus
another) is drawn on a symmetric red-blue scale centred at zero: red = brighter, blue =
darker (:func:`draw_change`, shared with :func:`helpers.widgets.draw_attack_view`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from helpers.evaluation import softmax
from helpers.plotting.figure import as_2d, finish, hide_ticks

__all__ = [
    "CORRECT_COLOUR",
    "WRONG_COLOUR",
    "CHANGE_TITLE",
    "prediction_text",
    "draw_digit",
    "draw_change",
    "show_digits",
    "show_perturbation",
    "show_heatmaps",
    "show_digit_rows",
]

CORRECT_COLOUR = "tab:green"
WRONG_COLOUR = "tab:red"
#: The default caption of :func:`draw_change`.
CHANGE_TITLE = "change (L2 {l2:.2f}, max {max:.2f})"


def prediction_text(logits: np.ndarray) -> str:
    """'7 (98%)': the predicted digit and the model's confidence in it, for the logits (10,)
    of one image."""
    probabilities = softmax(logits)
    digit = int(np.argmax(probabilities))
    return f"{digit} ({probabilities[digit]:.0%})"


def draw_digit(ax: Axes, image: np.ndarray, title: str | None = None, *, fontsize: float = 9,
               colour: str | None = None) -> AxesImage:
    """Draw one grey image (28, 28, 1) or (28, 28) with pixels in [0, 1] on ``ax``, without
    ticks, captioned ``title`` (in ``colour`` if given). Returns the drawn image."""
    shown = ax.imshow(as_2d(image), cmap="gray", vmin=0, vmax=1)
    hide_ticks(ax)
    if title is not None:
        ax.set_title(title, fontsize=fontsize, **({"color": colour} if colour else {}))
    return shown


def draw_change(ax: Axes, delta: np.ndarray, *, title: str | None = CHANGE_TITLE, name: str = "",
                colorbar: bool = False) -> AxesImage:
    """Draw a change ``delta`` (28, 28, 1) or (28, 28), values in [-1, 1], on ``ax``: red where
    pixels got brighter, blue where darker, on a colour scale symmetric about zero that
    reaches the largest change (white: no change; an all-zero change stays white).

    ``title`` is formatted with ``l2`` (the change's L2 length), ``max`` (its largest pixel
    change) and ``name``; ``colorbar`` adds the colour scale beside the panel. Returns the
    drawn image.
    """
    change = as_2d(delta)
    largest = float(np.abs(change).max())
    limit = max(largest, 1e-6)
    shown = ax.imshow(change, cmap="RdBu_r", vmin=-limit, vmax=limit)
    hide_ticks(ax)
    if title is not None:
        ax.set_title(title.format(l2=float(np.sqrt((change ** 2).sum())), max=largest, name=name), fontsize=9)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    return shown


def _caption(index: int, logits: np.ndarray | None, labels: np.ndarray | None,
             titles: Sequence[str] | None) -> tuple[str, str]:
    """Caption and colour of digit ``index`` in :func:`show_digits`."""
    if titles is not None:
        return titles[index], "black"
    if logits is not None:
        caption = "pred " + prediction_text(logits[index])
        if labels is None:
            return caption, "black"
        right = int(np.argmax(logits[index])) == int(labels[index])
        return caption, CORRECT_COLOUR if right else WRONG_COLOUR
    if labels is not None:
        return f"label {int(labels[index])}", "black"
    return "", "black"


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
    """A grid of digits (N, 28, 28, 1) in [0, 1], ``columns`` to a row. With ``logits``
    (N, 10), each is captioned 'pred 7 (98%)', green when it matches ``labels`` (N,) and red
    when not; ``titles`` (N captions) replaces the captions."""
    images = np.asarray(images)
    count = len(images)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    caption_room = 0.35 if (titles is not None or logits is not None or labels is not None) else 0.0
    figure = Figure(figsize=(columns * cell_size, rows * (cell_size + caption_room) + (0.4 if title else 0.1)))
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for index, ax in enumerate(axes):
        if index >= count:
            hide_ticks(ax)
            ax.set_axis_off()
            continue
        caption, colour = _caption(index, logits, labels, titles)
        draw_digit(ax, images[index], caption, fontsize=8, colour=colour)
    return finish(figure, title)


def show_perturbation(
    x: np.ndarray,
    x_adv: np.ndarray,
    *,
    logits_clean: np.ndarray | None = None,
    logits_adv: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Three panels for one image (28, 28, 1) in [0, 1]: the original ``x``, the change (red =
    brighter, blue = darker, see :func:`draw_change`) and the changed image ``x_adv``, with
    the predictions from the logits (10,) if given."""
    figure = Figure(figsize=(7.2, 2.6))
    axes = figure.subplots(1, 3)
    draw_digit(axes[0], x, "original" + (f"\npred {prediction_text(logits_clean)}"
                                         if logits_clean is not None else ""))
    draw_change(axes[1], as_2d(x_adv) - as_2d(x), colorbar=True)
    draw_digit(axes[2], x_adv, "changed" + (f"\npred {prediction_text(logits_adv)}"
                                            if logits_adv is not None else ""))
    return finish(figure, title)


def show_heatmaps(
    maps: Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    images: Sequence[np.ndarray] | None = None,
    title: str | None = None,
    signed: bool = True,
) -> Figure:
    """Pixel maps (28, 28, 1) or (28, 28) side by side (e.g. gradients), captioned ``titles``:
    with ``signed``, red raises the score and blue lowers it, each map on its own symmetric
    scale; otherwise magma from 0 to the largest value. The matching ``images`` go in a row
    above if given."""
    count = len(maps)
    rows = 2 if images is not None else 1
    figure = Figure(figsize=(2.2 * count, 2.3 * rows + 0.3))
    axes = figure.subplots(rows, count, squeeze=False)
    for column, (pixel_map, caption) in enumerate(zip(maps, titles)):
        pixel_map = as_2d(pixel_map)
        if images is not None:
            draw_digit(axes[0, column], images[column])
        ax = axes[-1, column]
        limit = max(float(np.abs(pixel_map).max()), 1e-12)
        if signed:
            ax.imshow(pixel_map, cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(pixel_map, cmap="magma", vmin=0, vmax=limit)
        ax.set_title(caption, fontsize=9)
        hide_ticks(ax)
    return finish(figure, title)


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
    captions = captions or {}
    for name, texts in captions.items():
        if name not in rows or len(texts) != count:
            raise ValueError(f"captions[{name!r}] must name a row and hold {count} captions")
    lines = max((text.count("\n") + 1 for texts in captions.values() for text in texts), default=0)
    row_height = cell_size + 0.05 + 0.16 * lines  # room for captions of one or more lines
    figure = Figure(figsize=(count * cell_size + 0.5, len(names) * row_height + (0.4 if title else 0.1)))
    axes = figure.subplots(len(names), count, squeeze=False)
    for row, name in enumerate(names):
        for column in range(count):
            draw_digit(axes[row, column], rows[name][column],
                       captions[name][column] if name in captions else None, fontsize=8)
        axes[row, 0].set_ylabel(name, fontsize=9)
    return finish(figure, title)
