"""Figures for the series: digit grids, perturbations, charts, animations.

Used from notebook ``00_start_here.ipynb`` onwards. Every function builds a stand-alone
``matplotlib.figure.Figure`` (not registered with pyplot, so nothing stays open and nothing
is shown twice) and returns it; Jupyter displays a returned figure as an image. Animations
come back as an ``IPython.display.HTML`` object (``FuncAnimation.to_jshtml``), which plays
inline without ffmpeg.

The modules, by kind: :mod:`~helpers.plotting.images` (digits and the changes made to them),
:mod:`~helpers.plotting.charts` (curves and bars), :mod:`~helpers.plotting.walks` (charts of
class traversals),
:mod:`~helpers.plotting.animations` and :mod:`~helpers.plotting.figure` (the finishing
touches every figure shares). Probabilities come from :func:`helpers.evaluation.softmax`.
"""

from __future__ import annotations

from helpers.plotting import animations, charts, figure, images, walks
from helpers.plotting.animations import *  # noqa: F401,F403 (each module's __all__ is re-exported)
from helpers.plotting.charts import *  # noqa: F401,F403
from helpers.plotting.figure import *  # noqa: F401,F403
from helpers.plotting.images import *  # noqa: F401,F403
from helpers.plotting.walks import *  # noqa: F401,F403

__all__ = [*images.__all__, *charts.__all__, *walks.__all__, *animations.__all__, *figure.__all__]
