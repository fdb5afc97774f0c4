"""Notebook 03's live runs: the fast robust recipe and catastrophic overfitting on purpose."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import live_training
from helpers.attacks import PGDAttack
from helpers.live_training import COLLAPSE_ATTACK, COLLAPSE_GUARD, FAST_ATTACK, collapse_run, fast_robust_run

from conftest import tiny_cnn


def test_the_recipes_are_the_ones_the_notebook_describes():
    assert FAST_ATTACK == PGDAttack(eps=2.0, step_size=2.5, steps=2, norm="l2", random_start=True)  # pgd2
    assert COLLAPSE_ATTACK == PGDAttack(eps=0.3, step_size=0.375, steps=1, norm="linf", random_start=True)  # FGSM-RS
    assert COLLAPSE_GUARD.norm == "linf" and COLLAPSE_GUARD.eps == 0.3 and COLLAPSE_GUARD.steps == 10


@pytest.mark.parametrize("run", [fast_robust_run, collapse_run])
def test_bad_training_data_is_refused(run):
    with pytest.raises(ValueError, match="N labels"):
        run(np.zeros((20_000, 28, 28)), np.zeros(20_000, np.int64))
    with pytest.raises(ValueError, match="at least"):
        run(np.zeros((100, 28, 28, 1), np.float32), np.zeros(100, np.int64))


@pytest.mark.slow
def test_fast_run_trains_with_the_guard_and_keeps_its_best_epoch(monkeypatch, mnist_test):
    monkeypatch.setattr(live_training, "build_cnn", lambda name: tiny_cnn())
    x, y = mnist_test
    model, history = fast_robust_run(x[:2500], y[:2500], epochs=2, progress=False, log=lambda _: None)
    assert len(history) == 2 and {"eval_adversarial_accuracy", "train_accuracy", "best_epoch"} <= set(history[-1])
    best = max(history, key=lambda record: record["eval_adversarial_accuracy"])
    assert history[-1]["best_epoch"] == best["epoch"]
    assert model.count_params() == tiny_cnn().count_params()


@pytest.mark.slow
def test_collapse_run_checks_every_epoch_against_the_linf_guard(monkeypatch, mnist_test):
    monkeypatch.setattr(live_training, "build_cnn", lambda name: tiny_cnn())
    x, y = mnist_test
    history = collapse_run(x, y, images=600, progress=False, log=lambda _: None)
    assert 1 <= len(history) <= 6  # planned for 6 epochs; the guard may stop it early
    assert all(0 <= r["eval_adversarial_accuracy"] <= r["eval_clean_accuracy"] + 0.05 for r in history)
