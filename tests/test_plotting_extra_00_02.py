"""The figures added for notebooks 01 and 02: confidence bars and the 2-D budget ball (fast)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.attacks import NORMS
from helpers.plotting import budget_step_2d, show_budget_ball, show_probabilities

NORM_NAMES = sorted(NORMS)


def _length(vector: np.ndarray, norm: str) -> float:
    return float(NORMS[norm].measure(np.asarray(vector)[None])[0])


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_step_has_the_norms_length_and_projection_lands_in_the_ball(norm):
    point, gradient = np.array([0.3, -0.6]), np.array([1.0, 0.6])
    stepped, projected = budget_step_2d(point, gradient, eps=1.0, step_size=1.2, norm=norm)
    assert stepped.shape == projected.shape == (2,)
    assert _length(stepped - point, norm) == pytest.approx(1.2, rel=1e-5)  # a step of step_size
    assert _length(stepped, norm) > 1.0  # this example's step leaves the ball...
    assert _length(projected, norm) == pytest.approx(1.0, rel=1e-5)  # ...and lands on its edge


def test_l2_projection_shrinks_towards_the_centre_and_linf_clips_each_pixel():
    stepped, projected = budget_step_2d((0.0, 0.0), (3.0, 4.0), eps=1.0, step_size=2.0, norm="l2")
    np.testing.assert_allclose(stepped, [1.2, 1.6], rtol=1e-6)  # along the gradient
    np.testing.assert_allclose(projected, [0.6, 0.8], rtol=1e-6)  # same direction, length 1
    stepped, projected = budget_step_2d((0.0, 0.0), (3.0, -0.1), eps=1.0, step_size=2.0, norm="linf")
    np.testing.assert_allclose(stepped, [2.0, -2.0])  # the sign of the gradient, not its direction
    np.testing.assert_allclose(projected, [1.0, -1.0])


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_a_point_that_stays_inside_is_not_moved_by_the_projection(norm):
    stepped, projected = budget_step_2d((0.1, 0.1), (1.0, 1.0), eps=1.0, step_size=0.1, norm=norm)
    np.testing.assert_array_equal(stepped, projected)


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_zero_gradient_and_zero_budget_give_no_nan(norm):
    stepped, projected = budget_step_2d((0.5, 0.5), (0.0, 0.0), eps=0.0, step_size=1.0, norm=norm)
    assert np.isfinite(stepped).all()
    np.testing.assert_allclose(projected, [0.0, 0.0], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"point": (1.0, 2.0, 3.0)},
        {"gradient": (np.nan, 1.0)},
        {"eps": -1.0},
        {"step_size": "big"},
        {"norm": "l1"},
    ],
)
def test_budget_step_rejects_bad_input(kwargs):
    arguments = {"point": (0.0, 0.0), "gradient": (1.0, 0.0), "eps": 1.0, "step_size": 0.5, "norm": "l2"}
    arguments.update(kwargs)
    point, gradient = arguments.pop("point"), arguments.pop("gradient")
    with pytest.raises(ValueError):
        budget_step_2d(point, gradient, **arguments)


def test_budget_ball_draws_one_labelled_panel_per_norm():
    figure = show_budget_ball()
    assert isinstance(figure, Figure)
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == ["L2 budget: a circle", "L-infinity budget: a square"]
    for ax in axes:
        assert ax.get_xlabel() == "change of pixel 1" and ax.get_ylabel() == "change of pixel 2"
        assert len(ax.patches) == 1  # the ball
    assert len(show_budget_ball(norms=("linf",), title=None).axes) == 1
    with pytest.raises(ValueError):
        show_budget_ball(norms=("l1",))
    with pytest.raises(ValueError):
        show_budget_ball(norms=())


def test_probability_bars_sum_to_100_per_entry_and_mark_the_label():
    logits = {"before": np.array([0, 0, 0, 0, 0, 0, 0, 9, 0, 1.0]),
              "after": np.array([[0, 0, 0, 5, 0, 0, 0, 3, 0, 1.0]])}  # (1, 10) is accepted too
    figure = show_probabilities(logits, label=7, title="test")
    ax = figure.axes[0]
    assert len(ax.patches) == 20
    heights = np.array([bar.get_height() for bar in ax.patches]).reshape(2, 10)
    np.testing.assert_allclose(heights.sum(axis=1), [100.0, 100.0])
    assert heights[0].argmax() == 7 and heights[1].argmax() == 3
    assert "(true)" in ax.get_xticklabels()[7].get_text()
    assert ax.get_xlabel() == "digit" and ax.get_ylabel() == "confidence (%)"
    assert ax.get_title() == "test"


@pytest.mark.parametrize("logits", [{}, {"a": np.zeros((2, 10))}, {"a": np.zeros(10), "b": np.zeros(5)}])
def test_probability_bars_reject_bad_input(logits):
    with pytest.raises(ValueError):
        show_probabilities(logits)
