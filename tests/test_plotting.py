"""Figures and animations: they build, carry titles and labels, and stay small."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image
from matplotlib.figure import Figure

import helpers.plotting
from helpers.evaluation import predict
from helpers.plotting import (
    animate_frames, draw_change, plot_accuracy_curves, prediction_text, show_digits, show_heatmaps, show_perturbation,
)


def test_prediction_text():
    logits = np.zeros(10)
    logits[7] = 10.0
    assert prediction_text(logits) == "7 (100%)"
    assert prediction_text(np.array([0.0, 0.0, 1000.0])) == "2 (100%)"  # huge logits: no overflow


def test_plotting_draws_and_leaves_the_maths_to_evaluation():
    assert not hasattr(helpers.plotting, "softmax") and "softmax" not in helpers.plotting.__all__


def test_change_panel_is_red_blue_symmetric_and_captioned():
    figure = Figure()
    ax = figure.subplots()
    delta = np.zeros((28, 28, 1), np.float32)
    delta[0, 0], delta[1, 1] = 0.5, -0.25
    shown = draw_change(ax, delta, colorbar=True)
    assert shown.get_cmap().name == "RdBu_r" and shown.get_clim() == (-0.5, 0.5)  # centred at zero
    assert shown.get_array().shape == (28, 28)
    assert ax.get_title() == f"change (L2 {np.hypot(0.5, 0.25):.2f}, max 0.50)"
    assert len(figure.axes) == 2 and not ax.get_xticks().size and not ax.get_yticks().size  # + colour bar
    ax = Figure().subplots()
    flat = draw_change(ax, np.zeros((28, 28)), title="{name}: change\nL2 {l2:.2f}", name="robust {x}")
    assert flat.get_clim() == (-1e-6, 1e-6)  # no change: no division by zero, all white
    assert ax.get_title() == "robust {x}: change\nL2 0.00"
    assert draw_change(Figure().subplots(), delta, title=None).axes.get_title() == ""


def test_digit_grid_captions_right_and_wrong(small_model, held_out):
    x, y = held_out
    logits = predict(small_model, x[:10])
    wrong_labels = y[:10].copy()
    wrong_labels[0] = (wrong_labels[0] + 1) % 10
    figure = show_digits(x[:10], logits=logits, labels=wrong_labels, columns=5, title="Ten digits")
    assert isinstance(figure, Figure)
    titled = [ax for ax in figure.axes if ax.get_title()]
    assert len(titled) == 10 and titled[0].get_title().startswith("pred ")
    assert titled[0].title.get_color() == "tab:red"
    assert figure._suptitle.get_text() == "Ten digits"


def test_perturbation_view_has_three_labelled_panels(held_out):
    x, _ = held_out
    changed = np.clip(x[0] + 0.1, 0, 1)
    figure = show_perturbation(x[0], changed, logits_clean=np.eye(10)[3], logits_adv=np.eye(10)[5])
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles[0].startswith("original") and "change" in titles[1] and titles[2].startswith("changed")
    assert "pred 5" in titles[2]


def test_heatmaps_signed_and_unsigned(held_out):
    x, _ = held_out
    for signed in (True, False):
        figure = show_heatmaps([x[0] - 0.5, x[1] - 0.5], ["a", "b"], images=x[:2], title="maps", signed=signed)
        assert [ax.get_title() for ax in figure.axes if ax.get_title()] == ["a", "b"]
    assert isinstance(show_heatmaps([np.zeros((28, 28))], ["flat"]), Figure)  # all-zero map: no division by zero


def test_accuracy_curves_are_labelled():
    table = {"eps": np.array([0.0, 1.0, 2.0]), "accuracy": np.array([0.99, 0.5, 0.1]), "norm": "l2"}
    figure = plot_accuracy_curves({"natural": table, "robust": {**table, "accuracy": np.array([0.98, 0.9, 0.7])}})
    ax = figure.axes[0]
    assert "L2" in ax.get_xlabel() and "accuracy" in ax.get_ylabel() and ax.get_title()
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["natural", "robust"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [98, 90, 70])


def test_animation_is_inline_html_and_small():
    rng = np.random.default_rng(0)
    frames = {"robust": rng.uniform(size=(61, 28, 28, 1)), "natural": rng.uniform(size=(61, 28, 28))}
    captions = {"robust": [f"P(0) {i}%" for i in range(61)]}
    html = animate_frames(frames, captions=captions, title="5 to 0", max_frames=21)
    assert "<script" in html.data and "<img" in html.data
    assert html.data.count("data:image/png;base64") == 21  # evenly spaced, first and last kept
    assert len(html.data) < 1_500_000  # random noise compresses worst; digits are far smaller
    encoded = re.search(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)", html.data).group(1)
    png = base64.b64decode(encoded.replace("\\", "").replace("\n", ""))  # jshtml wraps the base64 lines
    width = Image.open(io.BytesIO(png)).size[0]
    assert width >= 2 * 200  # at least 200 pixels per panel: readable on a projector
    with pytest.raises(ValueError, match="same number of frames"):
        animate_frames({"a": frames["robust"], "b": frames["natural"][:10]})


def test_the_figure_title_never_touches_a_panel_title():
    """finish() keeps a band above the panels: two-line panel titles stay clear of the figure's title."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as PlainFigure

    from helpers.plotting.figure import finish

    figure = PlainFigure(figsize=(10, 2.5))
    axes = figure.subplots(1, 5)
    for ax in axes:
        ax.set_title("a panel title\non two lines")
    finish(figure, "A long figure title above every panel")
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    top_of_panels = max(ax.title.get_window_extent(renderer).y1 for ax in axes)
    bottom_of_title = figure._suptitle.get_window_extent(renderer).y0
    assert bottom_of_title - top_of_panels >= 20  # pixels of clear space (a tight layout alone left 8)
