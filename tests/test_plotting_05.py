"""The plot added for notebook 05: success matrices."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.plotting import plot_success_matrices


def _matrix(value: float) -> np.ndarray:
    matrix = np.full((10, 10), value)
    np.fill_diagonal(matrix, np.nan)
    return matrix


def test_success_matrices_label_cells_and_give_the_mean():
    matrix = _matrix(0.5)
    matrix[3, 0] = 1.0
    figure = plot_success_matrices({"robust": matrix, "natural": _matrix(0.0)})
    assert isinstance(figure, Figure)
    heat_axes = [ax for ax in figure.axes if ax.get_title()]
    assert len(heat_axes) == 2
    assert "robust" in heat_axes[0].get_title() and f"{100 * np.nanmean(matrix):.1f}%" in heat_axes[0].get_title()
    texts = [t.get_text() for t in heat_axes[0].texts]
    assert len(texts) == 90 and texts.count("100") == 1 and texts.count("50") == 89
    assert heat_axes[0].get_xlabel() == "target digit" and heat_axes[0].get_ylabel() == "start digit"


@pytest.mark.parametrize("matrices", [{}, {"a": np.zeros((9, 10))}, {"a": _matrix(1.5)}])
def test_success_matrices_reject_bad_input(matrices):
    with pytest.raises(ValueError):
        plot_success_matrices(matrices)
