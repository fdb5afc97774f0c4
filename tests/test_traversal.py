"""Class traversal: shapes, ranges, the seed objective, the options and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.attacks import attack_loss, perturbation_norm
from helpers.traversal import DEFAULT_STEPS, traverse


def test_default_frames_shape_range_and_first_frame(small_model, held_out):
    x, _ = held_out
    frames = traverse(small_model, x[:3], 0)
    assert frames.shape == (DEFAULT_STEPS + 1, 3, 28, 28, 1) and frames.dtype == np.float32
    np.testing.assert_array_equal(frames[0], x[:3])
    assert frames.min() >= 0.0 and frames.max() <= 1.0


def test_each_step_moves_at_most_step_size(small_model, held_out):
    x, _ = held_out
    frames = traverse(small_model, x[:4], [0, 1, 2, 3], steps=10, step_size=0.3)
    for before, after in zip(frames[:-1], frames[1:]):
        assert perturbation_norm(after, before, "l2").max() <= 0.3 + 1e-5


def test_target_score_rises(small_model, held_out):
    x, y = held_out
    targets = (y[:20] + 3) % 10
    frames = traverse(small_model, x[:20], targets, steps=30, step_size=0.2)
    # attack_loss with "logit" is minus the target's raw score
    start = -attack_loss(small_model, frames[0], targets, "logit")
    end = -attack_loss(small_model, frames[-1], targets, "logit")
    assert np.all(end > start)
    assert np.mean(small_model.predict(frames[-1], verbose=0).argmax(1) == targets) > 0.8


@pytest.mark.parametrize("objective", ["ce", "margin"])
def test_other_objectives_also_reach_the_target(small_model, held_out, objective):
    x, y = held_out
    targets = (y[:20] + 5) % 10
    frames = traverse(small_model, x[:20], targets, steps=30, step_size=0.2, objective=objective)
    assert np.mean(small_model.predict(frames[-1], verbose=0).argmax(1) == targets) > 0.8


def test_ball_option_keeps_the_path_near_the_start(small_model, held_out):
    x, _ = held_out
    frames = traverse(small_model, x[:5], 1, steps=20, step_size=0.5, eps=1.5)
    for frame in frames:
        assert perturbation_norm(frame, x[:5], "l2").max() <= 1.5 + 1e-5


def test_step_decay_shrinks_the_steps(small_model, held_out):
    x, _ = held_out
    frames = traverse(small_model, x[:2], 4, steps=8, step_size=0.4, step_decay=1.0)
    lengths = [perturbation_norm(b, a, "l2").max() for a, b in zip(frames[:-1], frames[1:])]
    assert lengths[-1] <= 0.4 / (1 + 7) + 1e-5
    assert lengths[0] > lengths[-1]


def test_freeze_saturated_leaves_black_background_black_when_it_would_go_darker(small_model, held_out):
    x, _ = held_out
    frozen = traverse(small_model, x[:3], 6, steps=5, step_size=0.5, freeze_saturated=True)
    free = traverse(small_model, x[:3], 6, steps=5, step_size=0.5)
    # with freezing, more of the step goes into pixels that can move: the path is at least as long
    assert np.all(perturbation_norm(frozen[-1], x[:3]) >= perturbation_norm(free[-1], x[:3]) - 1e-4)
    assert frozen.min() >= 0.0 and frozen.max() <= 1.0


def test_zero_steps_and_blank_images(small_model, blind_model):
    blank = np.zeros((2, 28, 28, 1), np.float32)
    assert traverse(small_model, blank, 0, steps=0).shape == (1, 2, 28, 28, 1)
    frames = traverse(blind_model, blank, 3, steps=4)  # zero gradient: nothing moves, no NaN
    assert np.isfinite(frames).all()
    np.testing.assert_array_equal(frames[-1], blank)


@pytest.mark.parametrize(
    "target, message",
    [(10, r"target must lie in \[0, 9\]"), (-1, r"\[0, 9\]"), ([0, 1], "one per image"),
     (1.5, "must be integers"), ("3", "must be integers")],
)
def test_invalid_targets(small_model, held_out, target, message):
    x, _ = held_out
    with pytest.raises(ValueError, match=message):
        traverse(small_model, x[:3], target)


@pytest.mark.parametrize(
    "change, message",
    [(dict(steps=-1), "steps"), (dict(step_size=-0.1), "step_size"), (dict(eps=-1.0), "eps"),
     (dict(objective="hinge"), "unknown objective"), (dict(step_decay=float("nan")), "step_decay")],
)
def test_invalid_settings(small_model, held_out, change, message):
    x, _ = held_out
    with pytest.raises(ValueError, match=message):
        traverse(small_model, x[:2], 0, **change)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        traverse(small_model, x[:2] * 2, 0)


def test_methods_seed_is_the_default_and_best_has_the_same_frame_shape(small_model, held_out):
    from helpers.traversal import METHODS

    x, _ = held_out
    np.testing.assert_array_equal(traverse(small_model, x[:2], 3, steps=5),
                                  traverse(small_model, x[:2], 3, method="seed", steps=5))
    best = traverse(small_model, x[:2], 3, method="best")
    assert best.shape == (METHODS["best"].steps + 1, 2, 28, 28, 1) and best.dtype == np.float32
    assert best.min() >= 0 and best.max() <= 1
    np.testing.assert_array_equal(best[0], x[:2])


def test_equal_budget_is_the_choice_of_the_measurement_and_stays_in_its_ball(small_model, held_out):
    import json
    from dataclasses import asdict
    from pathlib import Path

    from helpers.traversal import METHODS
    choice = json.loads((Path(__file__).parent.parent / "results" / "equal_budget.json").read_text())["choice"]
    settings = asdict(METHODS["equal_budget"])
    assert {k: settings[k] for k in choice["settings"]} == choice["settings"]  # what tools/equal_budget.py picked
    assert settings["stop_confidence"] is None  # no stop rule: both models use the whole ball
    x, _ = held_out
    frames = traverse(small_model, x[:3], 4, method="equal_budget")
    size = np.sqrt(((frames[-1] - x[:3]) ** 2).reshape(3, -1).sum(1))
    assert np.all(size <= settings["eps"] + 1e-3)


def test_explicit_settings_override_the_method(small_model, held_out):
    from helpers.traversal import METHODS

    x, _ = held_out
    frames = traverse(small_model, x[:2], 7, method="best", steps=3)
    assert frames.shape[0] == 4
    best = METHODS["best"]
    spelled_out = traverse(small_model, x[:2], 7, steps=3, step_size=best.step_size, objective=best.objective,
                           eps=best.eps, freeze_saturated=best.freeze_saturated, step_decay=best.step_decay)
    np.testing.assert_allclose(frames, spelled_out, atol=1e-6)


def test_unknown_method(small_model, held_out):
    x, _ = held_out
    with pytest.raises(ValueError, match="unknown method 'fancy'"):
        traverse(small_model, x[:1], 0, method="fancy")


def test_stop_confidence_freezes_each_walk_at_its_first_confident_frame(small_model, held_out):
    x, y = held_out
    targets = (y[:6] + 1) % 10
    free = traverse(small_model, x[:6], targets, steps=25, step_size=0.4)
    stopped = traverse(small_model, x[:6], targets, steps=25, step_size=0.4, stop_confidence=0.9)
    assert stopped.shape == free.shape
    logits = small_model.predict(free.reshape(-1, 28, 28, 1), verbose=0).reshape(26, 6, 10)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs = probs / probs.sum(-1, keepdims=True)
    for i, t in enumerate(targets):
        confident = np.flatnonzero(probs[:, i, t] >= 0.9)
        first = confident[0] if len(confident) else 25
        np.testing.assert_allclose(stopped[: first + 1, i], free[: first + 1, i], atol=1e-6)
        for later in stopped[first:, i]:
            np.testing.assert_array_equal(later, stopped[first, i])
    assert np.any(perturbation_norm(stopped[-1], x[:6]) < perturbation_norm(free[-1], x[:6]) - 1e-3)


@pytest.mark.parametrize("value", [0.0, -0.5, 1.5, float("nan")])
def test_invalid_stop_confidence(small_model, held_out, value):
    x, _ = held_out
    with pytest.raises(ValueError, match="stop_confidence"):
        traverse(small_model, x[:2], 0, stop_confidence=value)


def test_first_confident_and_target_probability(small_model, held_out):
    from helpers.traversal import first_confident, target_probability

    probability = np.array([[0.1, 0.2, 0.95], [0.6, 0.3, 0.99], [0.9, 0.4, 0.999]])
    np.testing.assert_array_equal(first_confident(probability, 0.5), [1, 2, 0])  # never reached: the last frame
    x, y = held_out
    frames = traverse(small_model, x[:3], [1, 2, 3], steps=2)
    got = target_probability(small_model, frames, np.array([1, 2, 3]))
    logits = small_model.predict(frames[1], verbose=0)
    want = np.exp(logits - logits.max(1, keepdims=True))
    want = (want / want.sum(1, keepdims=True))[np.arange(3), [1, 2, 3]]
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got[1], want, rtol=1e-4)
