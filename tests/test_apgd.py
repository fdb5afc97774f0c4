"""APGD and the strongest evaluation protocol (helpers.apgd, helpers.evaluation)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from helpers.apgd import apgd, checkpoints, project_into, targeted_dlr
from helpers.attacks import perturbation_norm
from helpers.evaluation import (PGD_TABLE, STRONGEST, Protocol, madry_step_size, predict, robust_mask,
                                strongest_accuracy, strongest_mask)

BUDGET = {"l2": 1.5, "linf": 0.15}


def _batch(held_out, count=48):
    x, y = held_out
    return x[:count], y[:count].astype(np.int64)


def test_checkpoints_follow_croce_and_heins_schedule():
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(10) == [3, 5, 6, 7, 8, 9, 10]
    assert all(0 < c <= 7 for c in checkpoints(7))


def test_targeted_dlr_is_positive_once_the_target_leads():
    logits = tf.constant([[5.0, 1.0, 0.0, -1.0, -2.0], [1.0, 5.0, 0.0, -1.0, -2.0]])
    pairs = tf.constant([[0, 1], [0, 1]], tf.int64)  # true 0, target 1
    values = targeted_dlr(logits, pairs).numpy()
    assert values[0] < 0 < values[1]
    scaled = targeted_dlr(3 * logits, pairs).numpy()  # the ratio does not care about the logits' scale
    np.testing.assert_allclose(scaled, values, rtol=1e-5)


def test_projection_spends_the_whole_budget_on_pixels_that_can_move():
    # a black image; the step pushes the left half below black and lightens the right half
    original = np.zeros((1, 28, 28, 1), np.float32)
    step = np.zeros_like(original)
    step[:, :, :14], step[:, :, 14:] = -0.5, 0.2
    projected = project_into(original + step, original, 2.0, "l2")
    assert projected.min() >= 0.0 and projected.max() <= 1.0
    # clip first, then shrink: the change is a full 2.0, all of it on the right half
    np.testing.assert_allclose(perturbation_norm(projected, original, "l2"), [2.0], rtol=1e-5)
    # the other order (shrink, then clip) would have kept only 2.0 * 0.2 / sqrt(0.5**2 + 0.2**2)
    shrunk_then_clipped = np.clip(step * 2.0 / np.sqrt((step ** 2).sum()), 0.0, 1.0)
    assert perturbation_norm(shrunk_then_clipped, original, "l2")[0] < 0.75
    # under L-infinity the two orders agree
    linf = project_into(original + step, original, 0.1, "linf")
    np.testing.assert_allclose(linf, np.clip(np.clip(step, -0.1, 0.1), 0.0, 1.0))


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_apgd_stays_in_the_ball_and_in_range(small_model, held_out, norm):
    x, y = _batch(held_out)
    adversarial, fooled = apgd(small_model, x, y, eps=BUDGET[norm], norm=norm, steps=12)
    assert adversarial.shape == x.shape and fooled.shape == (len(x),)
    assert perturbation_norm(adversarial, x, norm).max() <= BUDGET[norm] + 1e-4
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0
    # what it calls fooled is fooled: the images it returns are misclassified
    wrong = predict(small_model, adversarial).argmax(axis=1) != y
    assert np.array_equal(wrong[fooled], np.ones(fooled.sum(), bool))


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_strongest_is_at_least_as_strong_as_fixed_step_pgd(small_model, held_out, norm):
    x, y = _batch(held_out, 64)
    pgd_mask = robust_mask(small_model, x, y, eps=BUDGET[norm], norm=norm, steps=20, losses=("ce",))
    protocol = Protocol("test", steps=20, restarts=1, losses=("ce",), targets=2)
    apgd_mask = strongest_mask(small_model, x, y, eps=BUDGET[norm], norm=norm, protocol=protocol)
    clean = predict(small_model, x).argmax(axis=1) == y
    assert not (apgd_mask & ~clean).any()  # a wrong clean answer is never robust
    assert apgd_mask.sum() <= pgd_mask.sum() + 1  # (one image of slack for a lucky PGD path)
    assert apgd_mask.sum() < clean.sum()  # the attack does something


def test_eps_zero_gives_clean_accuracy(small_model, held_out):
    x, y = _batch(held_out, 32)
    clean = predict(small_model, x).argmax(axis=1) == y
    assert np.array_equal(strongest_mask(small_model, x, y, eps=0.0), clean)


def test_pgd_protocols_run_through_the_same_entry(small_model, held_out):
    x, y = _batch(held_out, 16)
    quick = Protocol("quick-pgd", attack="pgd", steps=3, restarts=1, losses=("ce",))
    expected = robust_mask(small_model, x, y, eps=1.0, steps=3, losses=("ce",))
    assert np.array_equal(strongest_mask(small_model, x, y, eps=1.0, protocol=quick), expected)
    assert 0.0 <= strongest_accuracy(small_model, x, y, eps=1.0, protocol=quick) <= 1.0


def test_protocols_describe_themselves():
    assert "APGD" in STRONGEST.describe() and "targeted" in STRONGEST.describe()
    assert "2.5 * eps / steps" in PGD_TABLE.describe()
    assert madry_step_size(2.0, 100) == pytest.approx(0.05)


@pytest.mark.parametrize("call, message", [
    (lambda m, x, y: apgd(m, x, y, eps=1.0, loss="hinge"), "unknown APGD loss"),
    (lambda m, x, y: apgd(m, x, y, eps=1.0, loss="dlr_targeted"), "targets are needed"),
    (lambda m, x, y: apgd(m, x, y, eps=1.0, norm="l3"), "unknown norm"),
    (lambda m, x, y: strongest_mask(m, x, y, eps=-1.0), "eps must be >= 0"),
    (lambda m, x, y: strongest_mask(m, x, y, eps=1.0, protocol=Protocol("bad", attack="cw")), "unknown attack"),
    (lambda m, x, y: strongest_mask(m, x, y, eps=1.0, protocol=Protocol("bad", restarts=0)), "restarts"),
    (lambda m, x, y: strongest_accuracy(m, x[:0], y[:0], eps=1.0), "zero images"),
    (lambda m, x, y: madry_step_size(1.0, -2), "steps must be >= 0"),
])
def test_bad_input_is_a_clear_error(small_model, held_out, call, message):
    x, y = _batch(held_out, 4)
    with pytest.raises(ValueError, match=message):
        call(small_model, x, y)
