"""Drawing with a classifier (helpers.drawing, helpers.canvas; notebook 06): shapes, ranges, masks,
budgets, bad input, and the canvas panel's logic without a browser."""

from __future__ import annotations

import time

import numpy as np
import pytest

from helpers.canvas import canvas_panel, clean_up_sketch, describe_view, sketch_image, sketch_view
from helpers.data import array_sha256
from helpers.drawing import (STARTS_SHA256, centre_mask, clean_up, draw_digits, fit_starts, load_starts, repair,
                             starting_images)
from helpers.evaluation import predict, softmax
from helpers.judging import relative_realism


def test_shipped_starts_match_their_checksums():
    starts = load_starts()
    assert starts["mean"].shape == (28, 28, 1) and starts["components"].shape[1] == 784
    assert {name: array_sha256(array) for name, array in starts.items()} == STARTS_SHA256
    assert 0.12 < float(starts["mean"].mean()) < 0.14  # MNIST's mean pixel is 0.1307


def test_a_changed_starts_file_is_refused(tmp_path):
    starts = load_starts()
    starts["mean"] = starts["mean"] * 0.5
    np.savez(tmp_path / "starts.npz", **starts)
    with pytest.raises(ValueError, match="checksum"):
        load_starts(tmp_path / "starts.npz")


def test_fit_starts_finds_the_mean_and_unit_directions(held_out):
    x, _ = held_out
    fitted = fit_starts(x, components=5)
    np.testing.assert_allclose(fitted["mean"], x.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(fitted["components"], axis=1), 1.0, atol=1e-4)
    assert np.all(np.diff(fitted["scales"]) <= 0)


@pytest.mark.parametrize("start", ["mean", "gaussian"])
def test_starting_images_are_seeded_and_in_range(start):
    first, again = starting_images(6, start, seed=3), starting_images(6, start, seed=3)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (6, 28, 28, 1) and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 1
    assert not np.array_equal(first, starting_images(6, start, seed=4))


def test_mean_start_without_noise_is_the_mean_digit():
    np.testing.assert_allclose(starting_images(2, "mean", noise=0.0)[1], load_starts()["mean"].clip(0, 1))


def test_draw_digits_shape_range_and_reaching_the_digit(small_model):
    digits = np.arange(10)
    drawings = draw_digits(small_model, digits)
    assert drawings.shape == (10, 28, 28, 1) and drawings.dtype == np.float32
    assert drawings.min() >= 0 and drawings.max() <= 1
    assert np.mean(predict(small_model, drawings).argmax(axis=1) == digits) >= 0.9


def test_draw_digits_from_a_given_image_and_one_digit(small_model, held_out):
    x, _ = held_out
    drawing = draw_digits(small_model, 3, start=x[0], steps=0, noise=0.0)
    np.testing.assert_allclose(drawing[0], x[0])
    assert draw_digits(small_model, [], start="gaussian").shape == (0, 28, 28, 1)


@pytest.mark.parametrize("digits, message", [(10, "digits"), ([-1], "digits"), ([[1, 2]], "list of digits"),
                                             ([1.5], "integers")])
def test_draw_digits_rejects_bad_digits(small_model, digits, message):
    with pytest.raises(ValueError, match=message):
        draw_digits(small_model, digits)


@pytest.mark.parametrize("start, message", [("noise", "unknown start"), (np.zeros((28, 28)), "shape"),
                                            (np.full((28, 28, 1), 2.0), r"\[0, 1\]")])
def test_draw_digits_rejects_bad_starts(small_model, start, message):
    with pytest.raises(ValueError, match=message):
        draw_digits(small_model, [1], start=start)


def test_repair_changes_only_the_masked_pixels(small_model, held_out):
    x, _ = held_out
    images = x[:8]
    mask = centre_mask(images.shape, size=10)
    erased = np.where(mask, 0.0, images).astype(np.float32)
    repaired = repair(small_model, erased, mask)
    np.testing.assert_array_equal(repaired[~mask], erased[~mask])
    assert repaired.min() >= 0 and repaired.max() <= 1
    assert np.abs(repaired - erased)[mask].sum() > 0


def test_repair_without_steps_fills_the_block_with_the_mean_digit(small_model, held_out):
    x, _ = held_out
    mask = centre_mask(x[:3].shape, size=8)
    repaired = repair(small_model, x[:3], mask, steps=0)
    expected = np.where(mask, load_starts()["mean"][None], x[:3])
    np.testing.assert_allclose(repaired, expected, atol=1e-6)


def test_repair_keeps_the_candidate_the_model_is_surest_of(small_model, held_out):
    x, _ = held_out
    mask = centre_mask(x[:6].shape, size=12)
    erased = np.where(mask, 0.0, x[:6]).astype(np.float32)
    one, three = repair(small_model, erased, mask, candidates=1), repair(small_model, erased, mask)
    sure = [np.max(softmax(predict(small_model, r)), axis=1) for r in (one, three)]
    assert np.all(sure[1] >= sure[0] - 1e-6)


def test_repair_towards_a_given_target_raises_it(small_model, held_out):
    x, _ = held_out
    mask = centre_mask(x[:6].shape, size=12)
    repaired = repair(small_model, x[:6], mask, target=4)
    assert np.mean(predict(small_model, repaired).argmax(axis=1) == 4) >= 0.5


@pytest.mark.parametrize("mask, message", [(np.ones((2, 28, 28, 1), np.float32), "boolean"),
                                           (np.ones((2, 28, 28), bool), "shape"),
                                           (np.ones((3, 28, 28, 1), bool), "shape")])
def test_repair_rejects_bad_masks(small_model, held_out, mask, message):
    x, _ = held_out
    with pytest.raises(ValueError, match=message):
        repair(small_model, x[:2], mask)


def test_centre_mask_is_a_block_in_the_middle():
    mask = centre_mask((1, 28, 28, 1), size=10)
    assert mask.sum() == 100 and mask[0, 9:19, 9:19].all()


def test_clean_up_stays_within_its_budget(small_model, held_out):
    x, _ = held_out
    sketch = x[:5]
    for budget in (0.0, 1.5):
        cleaned = clean_up(small_model, sketch, budget=budget)
        change = np.sqrt(((cleaned - sketch) ** 2).reshape(5, -1).sum(axis=1))
        assert np.all(change <= budget + 1e-4)
        assert cleaned.min() >= 0 and cleaned.max() <= 1
    np.testing.assert_allclose(clean_up(small_model, sketch, budget=0.0), sketch)


def test_clean_up_towards_a_target(small_model, held_out):
    x, _ = held_out
    cleaned = clean_up(small_model, x[:6], target=7, budget=6.0, steps=30)
    assert np.mean(predict(small_model, cleaned).argmax(axis=1) == 7) >= 0.8


@pytest.mark.parametrize("options, message", [({"budget": -1.0}, "budget"), ({"target": 11}, "target"),
                                              ({"steps": 1.5}, "steps")])
def test_clean_up_rejects_bad_settings(small_model, held_out, options, message):
    x, _ = held_out
    with pytest.raises(ValueError, match=message):
        clean_up(small_model, x[:2], **options)


def test_clean_up_asks_for_a_batch(small_model, held_out):
    x, _ = held_out
    with pytest.raises(ValueError, match=r"x\[None\]"):
        clean_up(small_model, x[0])


def test_relative_realism_of_real_digits_is_about_one(mnist_test):
    x, y = mnist_test
    result = relative_realism(x[:200], y[:200], x[1000:4000], y[1000:4000], x[200:400], y[200:400])
    assert result["distance"].shape == (200,)
    assert 0.8 < result["ratio"].mean() < 1.2
    np.testing.assert_allclose(result["ratio"], result["distance"] / result["yardstick"])


# --- The canvas (helpers.canvas): its logic, without a browser --------------------------------


def _seven() -> np.ndarray:
    ink = np.zeros((28, 28), np.float32)
    ink[6, 6:20] = 1.0
    for row in range(6, 22):
        ink[row, 19 - (row - 6) // 2] = 1.0
    return ink


def test_sketch_image_centres_the_ink_and_checks_its_size():
    ink = np.zeros((28, 28), np.float32)
    ink[2:6, 2:6] = 1.0  # a blob in the corner
    image = sketch_image(ink.ravel().tolist())
    assert image.shape == (1, 28, 28, 1)
    rows, cols = np.nonzero(image[0, ..., 0])
    assert abs(rows.mean() - 13.5) <= 1 and abs(cols.mean() - 13.5) <= 1
    np.testing.assert_array_equal(sketch_image(np.zeros(784)), np.zeros((1, 28, 28, 1)))
    with pytest.raises(ValueError, match="784"):
        sketch_image([0.5] * 10)


def test_sketch_view_and_clean_up_sketch(small_model, blind_model):
    image = sketch_image(_seven())
    view = sketch_view({"small": small_model, "blind": blind_model}, image)
    assert set(view) == {"small", "blind"} and 0 <= view["small"]["prediction"] <= 9
    assert abs(view["small"]["probabilities"].sum() - 1) < 1e-5
    cleaned = clean_up_sketch(small_model, image, target=None, budget=2.0)
    assert 0 < np.sqrt(((cleaned - image) ** 2).sum()) <= 2.0 + 1e-4
    assert "small" in describe_view(view) and "sketch-prediction" in describe_view(view)


def test_canvas_panel_reads_strokes_and_cleans_up(small_model, blind_model):
    panel = canvas_panel({"robust": small_model, "natural": blind_model}, budget=2.0)
    pad = panel.controls["pad"]
    assert panel.state == {} and "Draw" in panel.controls["readings"].value
    pad.pixels = [float(v) for v in _seven().ravel()]  # what the browser sends after a stroke
    assert panel.state["view"]["robust"]["prediction"] == panel.state["view"]["robust"]["probabilities"].argmax()
    assert panel.controls["readings"].value.count("sketch-prediction") == 2
    before = list(pad.pixels)
    started = time.perf_counter()
    panel.controls["target"].value = 3
    panel.controls["clean"].click()
    assert time.perf_counter() - started < 5.0
    assert pad.pixels != before and len(pad.pixels) == 784
    panel.controls["clear"].click()
    assert not any(pad.pixels) and "Draw" in panel.controls["readings"].value


def test_canvas_panel_needs_its_cleaner():
    with pytest.raises(ValueError, match="cleaner"):
        canvas_panel({"natural": None}, cleaner="robust")
