"""The figures added for notebooks 03 and 04: grouped bars, named digit rows, traversal progress (fast)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.plotting import plot_grouped_bars, plot_traversal_progress, show_digit_rows


def test_grouped_bars_draw_one_labelled_bar_per_value():
    table = {"clean": {"natural": 99.0, "robust": 98.0}, "under attack": {"natural": 10.0, "robust": 70.0}}
    figure = plot_grouped_bars(table, title="Accuracy", ylabel="accuracy (%)", ylim=(0, 105))
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    heights = sorted(bar.get_height() for bar in ax.patches)
    assert heights == [10.0, 70.0, 98.0, 99.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["clean", "under attack"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["natural", "robust"]
    assert ax.get_ylabel() == "accuracy (%)" and ax.get_title() == "Accuracy"
    assert "99.0" in [text.get_text() for text in ax.texts]  # every bar carries its value


def test_grouped_bars_allow_a_missing_bar_and_reject_bad_input():
    figure = plot_grouped_bars({"a": {"x": 1.0}, "b": {"x": 2.0, "y": 3.0}}, title="t", ylabel="v")
    assert len(figure.axes[0].patches) == 3
    for table in ({}, {"a": {}}, {"a": {"x": float("nan")}}):
        with pytest.raises(ValueError):
            plot_grouped_bars(table, title="t", ylabel="v")


def test_digit_rows_name_each_row_and_caption_each_image():
    images = np.random.default_rng(0).uniform(size=(3, 28, 28, 1)).astype(np.float32)
    figure = show_digit_rows({"start": images, "robust": images[..., 0]},
                             captions={"robust": ["a", "b", "c"]}, title="Gallery")
    axes = np.array(figure.axes).reshape(2, 3)
    assert [axes[r, 0].get_ylabel() for r in range(2)] == ["start", "robust"]
    assert [ax.get_title() for ax in axes[1]] == ["a", "b", "c"]
    assert all(ax.get_title() == "" for ax in axes[0])
    assert figure._suptitle.get_text() == "Gallery"


@pytest.mark.parametrize(
    "rows, captions",
    [
        ({}, None),
        ({"a": np.zeros((2, 28, 28)), "b": np.zeros((3, 28, 28))}, None),
        ({"a": np.zeros((0, 28, 28))}, None),
        ({"a": np.zeros((2, 28, 28))}, {"a": ["only one"]}),
        ({"a": np.zeros((2, 28, 28))}, {"z": ["x", "y"]}),
    ],
)
def test_digit_rows_reject_bad_input(rows, captions):
    with pytest.raises(ValueError):
        show_digit_rows(rows, captions=captions)


def test_traversal_progress_plots_distance_logit_and_probability():
    frames = np.zeros((4, 28, 28, 1), np.float32)
    for step in range(4):
        frames[step, 0, :step] = 1.0  # step t changes t pixels by 1: L2 distance sqrt(t)
    logits = np.zeros((4, 10))
    logits[:, 0] = [0.0, 1.0, 2.0, 50.0]
    figure = plot_traversal_progress({"robust": {"frames": frames, "logits": logits}}, 0, title="Progress")
    distance_ax, logit_ax, probability_ax = figure.axes
    np.testing.assert_allclose(distance_ax.lines[0].get_ydata(), np.sqrt([0, 1, 2, 3]))
    np.testing.assert_allclose(logit_ax.lines[0].get_ydata(), [0, 1, 2, 50])
    probability = probability_ax.lines[0].get_ydata()
    assert probability[0] == pytest.approx(10.0) and probability[-1] == pytest.approx(100.0)
    for ax in figure.axes:
        assert ax.get_xlabel() == "step" and ax.get_ylabel() and ax.get_title()
    assert "digit 0" in logit_ax.get_ylabel()


def test_traversal_progress_rejects_bad_input():
    frames, logits = np.zeros((3, 28, 28, 1)), np.zeros((3, 10))
    with pytest.raises(ValueError):
        plot_traversal_progress({}, 0)
    with pytest.raises(ValueError):
        plot_traversal_progress({"m": {"frames": frames, "logits": logits[:2]}}, 0)
    with pytest.raises(ValueError):
        plot_traversal_progress({"m": {"frames": frames, "logits": logits}}, 10)


def test_training_history_plots_clean_and_attacked_accuracy_against_minutes():
    from helpers.plotting import plot_training_history

    natural = [{"seconds": 60.0, "eval_clean_accuracy": 0.98, "eval_adversarial_accuracy": 0.1},
               {"seconds": 60.0, "eval_clean_accuracy": 0.99, "eval_adversarial_accuracy": 0.1}]
    small = [{"seconds": 30.0, "eval_clean_accuracy": 0.5}]  # no attack recorded: clean line only
    figure = plot_training_history({"natural": natural, "small": small}, attack_text="PGD")
    ax = figure.axes[0]
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1.0, 2.0])  # minutes, added up
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [10.0, 10.0])  # percent
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["natural: clean", "natural: PGD", "small: clean"]
    assert ax.get_xlabel() == "training time (minutes)" and ax.get_ylabel() == "accuracy (%)"


def test_training_history_rejects_bad_input():
    from helpers.plotting import plot_training_history

    for histories in ({}, {"a": []}, {"a": [{"seconds": 1.0}]}):
        with pytest.raises(ValueError):
            plot_training_history(histories)


def test_guard_check_draws_three_lines_and_marks_the_kept_epoch():
    from helpers.plotting import plot_guard_check

    records = [{"train_accuracy": a, "eval_clean_accuracy": 0.9, "eval_adversarial_accuracy": g}
               for a, g in ((0.3, 0.1), (0.6, 0.23), (0.75, 0.04))]
    figure = plot_guard_check(records, title="collapse", attack_text="FGSM-RS", guard_text="PGD")
    ax = figure.axes[0]
    guard = [line for line in ax.lines if "guard" in str(line.get_label())][0]
    assert list(guard.get_ydata()) == pytest.approx([10, 23, 4])
    assert ax.texts[0].get_text() == "kept" and ax.texts[0].xy[0] == 2  # the best check: epoch 2
    with pytest.raises(ValueError, match="eval_adversarial_accuracy"):
        plot_guard_check([{"train_accuracy": 0.3}], title="t", attack_text="a", guard_text="g")
