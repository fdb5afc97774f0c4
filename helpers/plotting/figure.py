"""What every figure of the series shares: its finishing touches and a few small pieces.

:func:`finish` does the tail every figure function ends with (the figure's title, then the
layout); :func:`label_axes` dresses one chart panel (axis labels, grid, legend, title).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["TITLE_SIZE", "as_2d", "hide_ticks", "label_axes", "finish"]

#: Font size of figure and panel titles.
TITLE_SIZE = 10


def as_2d(image: np.ndarray) -> np.ndarray:
    """A grey image as (28, 28): drops the channel of an image (28, 28, 1); (28, 28) is kept."""
    image = np.asarray(image)
    return image[..., 0] if image.ndim == 3 else image


def hide_ticks(ax: Axes) -> None:
    """Remove the tick marks and numbers of both axes (for panels that show an image)."""
    ax.set_xticks([])
    ax.set_yticks([])


def label_axes(
    ax: Axes,
    *,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    grid: Literal["both", "x", "y"] = "both",
    legend_size: float | None = 8,
) -> None:
    """Dress one chart panel: axis labels (those given), a light grid along ``grid``, a legend
    of the labelled lines or bars in font size ``legend_size`` (None: matplotlib's default)
    and the panel ``title``."""
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.grid(axis=grid, alpha=0.3)
    ax.legend(fontsize=legend_size)
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)


def finish(
    figure: Figure,
    title: str | None = None,
    *,
    title_size: float = TITLE_SIZE,
    layout: bool = True,
    rect: tuple[float, float, float, float] | None = None,
) -> Figure:
    """The tail of every figure function: the figure's ``title`` above all panels (if any),
    then a tight layout (unless ``layout`` is False) within ``rect`` (fractions of the figure,
    (left, bottom, right, top); None: all of it, less a band at the top for the title, so the
    figure's title never touches a panel's title). Returns ``figure``."""
    if title:
        figure.suptitle(title, fontsize=title_size)
    if layout:
        if title and rect is None:  # keep a band for the title, so it never touches a panel's title
            rect = (0.0, 0.0, 1.0, 1.0 - 0.12 / figure.get_figheight())  # 0.12 inches more
        figure.tight_layout(rect=rect)
    return figure
