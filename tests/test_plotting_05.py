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


def _study_row(radius: float, clean: float, robust: float, success: tuple[float, ...]) -> dict:
    walks = {f"{b:g}": {"success": s, "realism_ratio": 1.5 - s / 2} for b, s in zip((2.0, 4.0, 6.0), success)}
    return {"train_radius": radius, "clean_10000": clean, "robust_l2_2.0": robust, "walks": walks}


def test_radius_study_draws_accuracy_and_walks_per_model():
    from helpers.plotting import plot_radius_study

    rows = {"natural": _study_row(0.0, 0.99, 0.0, (0.0, 0.2, 0.7)), "robust": _study_row(2.0, 0.99, 0.73, (0.1, 0.5, 0.9)),
            "pgd2_eps1": _study_row(1.0, 0.995, 0.4, (0.0, 0.3, 0.8)), "pgd2": _study_row(2.0, 0.99, 0.63, (0.1, 0.5, 0.9)),
            "pgd2_eps3": _study_row(3.0, 0.98, 0.66, (0.2, 0.6, 0.95))}
    figure = plot_radius_study(rows, yardstick=4.8)
    left, middle, right = figure.axes
    fast = [line for line in left.lines if line.get_label().endswith("(fast recipe)")]
    assert [list(line.get_xdata()) for line in fast] == [[1.0, 2.0, 3.0]] * 2  # sorted by training radius
    assert list(fast[1].get_ydata()) == pytest.approx([40.0, 63.0, 66.0])
    assert len(middle.lines) == 5 and list(middle.lines[0].get_ydata()) == pytest.approx([0.0, 20.0, 70.0])
    assert "4.80" in right.get_title() and any(line.get_label() == "real digits (1.00)" for line in right.lines)
    with pytest.raises(ValueError):
        plot_radius_study({}, yardstick=4.8)


def _walk(success: float, ratio: float, size: float) -> dict:
    return {"success": success, "realism_ratio": ratio, "size": size, "realism": 4.7 * ratio}


def test_budget_curves_put_both_models_on_the_size_of_the_change():
    from helpers.plotting import plot_budget_curves

    curves = {"robust": {"4": _walk(0.5, 1.3, 4.0), "2": _walk(0.1, 1.4, 2.0)},
              "natural": {"2": _walk(0.05, 1.5, 2.0), "4": _walk(0.2, 1.5, 3.8)}}
    figure = plot_budget_curves(curves, yardstick=4.7)
    left, right = figure.axes
    assert list(left.lines[0].get_xdata()) == [2.0, 4.0]  # sorted by ball, plotted at the size reached
    assert list(left.lines[1].get_xdata()) == [2.0, 3.8] and list(left.lines[1].get_ydata()) == pytest.approx([5, 20])
    assert list(right.lines[0].get_ydata()) == [1.4, 1.3] and "4.70" in right.get_title()
    assert left.get_xlabel() and left.get_ylabel() and right.get_ylabel()
    with pytest.raises(ValueError):
        plot_budget_curves({}, yardstick=4.7)
    with pytest.raises(ValueError, match="robust"):
        plot_budget_curves({"robust": {"2": {"success": 0.1}}}, yardstick=4.7)


def test_position_study_draws_walks_and_readings_against_the_shift():
    from helpers.plotting import plot_position_study

    position = {str(s): {"settings": {}, "robust": _walk(0.9 - 0.1 * s, 1.3 + 0.05 * s, 6.0),
                         "natural": _walk(0.6 - 0.1 * s, 1.5, 6.0)} for s in (2, 0, 1)}
    readings = {str(s): {"robust": 1 - 0.1 * s, "natural": 1 - 0.05 * s, "judge": 1.0} for s in (0, 1, 2)}
    figure = plot_position_study(position, readings)
    walks, realism, read = figure.axes
    assert len(walks.lines) == 2 and list(walks.lines[0].get_xdata()) == [0, 1, 2]
    assert list(walks.lines[0].get_ydata()) == pytest.approx([90, 80, 70])
    assert len(read.lines) == 3 and list(read.lines[0].get_ydata()) == pytest.approx([100, 90, 80])
    with pytest.raises(ValueError, match="same shifts"):
        plot_position_study(position, {"0": readings["0"]})


def test_class_grid_tiles_start_by_target_full_size():
    from helpers.plotting import show_class_grid

    grid = np.zeros((10, 10, 28, 28, 1))
    grid[3, 7] = 1.0  # the walk from a 3 towards a 7
    figure = show_class_grid({"robust": grid, "natural": grid[..., 0]}, title="grid")
    robust_axes = figure.axes[0]
    tiled = robust_axes.images[0].get_array()
    assert tiled.shape == (280, 280) and tiled[3 * 28:4 * 28, 7 * 28:8 * 28].min() == 1 and tiled.sum() == 28 * 28
    assert figure.get_size_inches()[0] >= 13  # two panels of 6.5 inches: digits ~65 pixels wide at 100 dpi
    assert [t.get_text() for t in robust_axes.get_xticklabels()] == [str(d) for d in range(10)]
    with pytest.raises(ValueError, match="robust"):
        show_class_grid({"robust": grid[:9]})
