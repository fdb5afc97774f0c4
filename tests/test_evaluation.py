"""Accuracy, worst-case robust accuracy and accuracy-versus-epsilon tables."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.evaluation import accuracy, accuracy_vs_epsilon, predict, robust_accuracy, robust_mask, softmax


def test_softmax_rows_are_probabilities_even_for_huge_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 10)) * 4
    probabilities = softmax(logits)
    direct = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, direct, rtol=1e-12)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities.dtype == np.float64 and probabilities.shape == (5, 10)
    huge = softmax(np.array([[1000.0, 0.0, -1000.0], [1e6, 1e6, -1e6]], np.float32))
    assert np.isfinite(huge).all()
    np.testing.assert_allclose(huge, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(softmax(logits[0]), direct[0])  # one image's logits (10,)
    np.testing.assert_allclose(softmax(logits + 123.0), probabilities)  # a shift changes nothing


def test_accuracy_matches_a_hand_count(small_model, held_out):
    x, y = held_out
    expected = np.mean(small_model.predict(x, verbose=0).argmax(1) == y)
    assert accuracy(small_model, x, y) == pytest.approx(expected)
    assert accuracy(small_model, x, y, batch_size=7) == pytest.approx(expected)
    assert predict(small_model, x, batch_size=33).shape == (200, 10)


def test_worst_case_over_more_runs_is_never_better(small_model, held_out):
    x, y = held_out
    settings = dict(eps=1.0, norm="l2", steps=10)
    single = robust_mask(small_model, x, y, losses=("ce",), restarts=1, **settings)
    several = robust_mask(small_model, x, y, losses=("ce", "margin"), restarts=3, **settings)
    clean = predict(small_model, x).argmax(1) == y
    assert np.all(several <= single) and np.all(single <= clean)
    assert several.sum() < single.sum()  # the extra runs find images the first one missed


@pytest.mark.parametrize("norm, epsilons", [("l2", [0.0, 0.5, 1.5, 3.0]), ("linf", [0.0, 0.05, 0.15, 0.3])])
def test_accuracy_falls_as_epsilon_grows(small_model, held_out, norm, epsilons):
    x, y = held_out
    table = accuracy_vs_epsilon(small_model, x, y, epsilons=epsilons, norm=norm, steps=20)
    assert list(table["eps"]) == epsilons and table["norm"] == norm and table["steps"] == 20
    assert table["accuracy"][0] == pytest.approx(accuracy(small_model, x, y))
    assert np.all(np.diff(table["accuracy"]) <= 0.02)
    assert table["accuracy"][-1] < 0.2


def test_robust_accuracy_is_reproducible(small_model, held_out):
    x, y = held_out
    runs = [robust_accuracy(small_model, x, y, eps=1.0, steps=5, restarts=2, seed=3) for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    "change, message",
    [(dict(eps=-1.0), "eps must be >= 0"), (dict(restarts=0), "restarts"), (dict(losses=()), "losses"),
     (dict(steps=-2), "steps"), (dict(norm="l0"), "unknown norm"), (dict(step_size=-0.1), "step_size")],
)
def test_bad_settings(small_model, held_out, change, message):
    x, y = held_out
    with pytest.raises(ValueError, match=message):
        robust_accuracy(small_model, x[:10], y[:10], **{**dict(eps=1.0, steps=2), **change})


def test_bad_epsilons_in_a_sweep(small_model, held_out):
    x, y = held_out
    with pytest.raises(ValueError, match="eps must be >= 0"):
        accuracy_vs_epsilon(small_model, x[:5], y[:5], epsilons=[0.0, -0.5])
    with pytest.raises(ValueError, match="at least one"):
        accuracy_vs_epsilon(small_model, x[:5], y[:5], epsilons=[])
    with pytest.raises(ValueError, match="zero images"):
        accuracy(small_model, x[:0], y[:0])
