"""Animations: traversals played side by side as inline HTML (no ffmpeg needed)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from IPython.display import HTML
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from helpers.plotting.figure import as_2d, finish
from helpers.plotting.images import draw_digit

__all__ = ["animate_frames"]


def animate_frames(
    frames: Mapping[str, np.ndarray],
    *,
    captions: Mapping[str, Sequence[str]] | None = None,
    title: str | None = None,
    max_frames: int = 41,
    interval_ms: int = 150,
    dpi: int = 90,
) -> HTML:
    """An inline HTML animation (no ffmpeg needed) showing several traversals side by side.

    ``frames`` maps a panel name to an array (T, 28, 28, 1) or (T, 28, 28) in [0, 1];
    ``captions`` maps the same names to one caption per frame. At most ``max_frames`` evenly
    spaced frames are kept (first and last included) so the HTML stays small. Each panel is
    2.4 inches wide: at the default ``dpi`` of 90, 216 pixels, readable on a projector.
    """
    names = list(frames)
    length = len(next(iter(frames.values())))
    if any(len(frames[name]) != length for name in names):
        raise ValueError("every panel needs the same number of frames")
    keep = np.unique(np.linspace(0, length - 1, min(length, max_frames)).round().astype(int))
    figure = Figure(figsize=(2.4 * len(names), 2.8), dpi=dpi)
    axes = np.atleast_1d(figure.subplots(1, len(names)))
    shown = [draw_digit(ax, frames[name][0]) for ax, name in zip(axes, names)]

    def draw(frame_index: int) -> list[AxesImage]:
        """Show kept frame number ``frame_index`` in every panel, with its caption."""
        step = int(keep[frame_index])
        for ax, picture, name in zip(axes, shown, names):
            picture.set_data(as_2d(frames[name][step]))
            caption = captions[name][step] if captions and name in captions else ""
            ax.set_title(f"{name}, step {step}\n{caption}", fontsize=9)
        return shown

    draw(0)
    finish(figure, title)
    animation = FuncAnimation(figure, draw, frames=len(keep), interval=interval_ms, blit=False)
    return HTML(animation.to_jshtml(default_mode="once"))
