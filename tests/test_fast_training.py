"""Fast adversarial training: FGSM-RS, N-FGSM, their cost, the one-cycle rate and the overfitting guard."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from helpers.attacks import PGDAttack, perturbation_norm
from helpers.fast_training import NFGSMAttack, OneCycle, ascent_plan, fgsm_rs, hold_out, passes_per_image
from helpers.training import TrainConfig, fit, run_epoch

from conftest import tiny_cnn

NORMS = ["l2", "linf"]


@pytest.fixture(scope="module", autouse=True)
def deterministic_ops():
    tf.config.experimental.enable_op_determinism()


@pytest.mark.parametrize("norm", NORMS)
def test_fgsm_rs_is_one_step_pgd_with_a_random_start(norm):
    attack = fgsm_rs(0.3, norm=norm)
    assert attack == PGDAttack(eps=0.3, step_size=0.375, steps=1, norm=norm, random_start=True)


@pytest.mark.parametrize("norm", NORMS)
def test_fgsm_rs_stays_in_the_ball_and_in_range(small_model, held_out, norm):
    x, y = held_out[0][:32], held_out[1][:32]
    eps = 1.5 if norm == "l2" else 0.1
    x_adv = fgsm_rs(eps, norm=norm)(small_model, x, y, np.random.default_rng(0))
    assert perturbation_norm(x_adv, x, norm).max() <= eps * (1 + 1e-5)
    assert x_adv.min() >= 0 and x_adv.max() <= 1


@pytest.mark.parametrize("norm", NORMS)
def test_nfgsm_is_not_projected_but_bounded_by_noise_plus_step(small_model, held_out, norm):
    x, y = held_out[0][:32], held_out[1][:32]
    eps = 1.5 if norm == "l2" else 0.1
    x_adv = NFGSMAttack(eps, norm=norm)(small_model, x, y, np.random.default_rng(0))
    size = perturbation_norm(x_adv, x, norm)
    assert size.max() <= 3 * eps * (1 + 1e-5)  # noise 2 * eps, step eps
    assert size.max() > eps  # no projection back into the eps ball
    assert x_adv.min() >= 0 and x_adv.max() <= 1 and x_adv.dtype == np.float32


def test_nfgsm_raises_the_loss_and_is_reproducible(small_model, held_out):
    from helpers.attacks import attack_loss

    x, y = held_out[0][:64], held_out[1][:64]
    attack = NFGSMAttack(1.5, noise_multiplier=0.0)
    first = attack(small_model, x, y, np.random.default_rng(3))
    np.testing.assert_array_equal(first, attack(small_model, x, y, np.random.default_rng(3)))
    assert attack_loss(small_model, first, y).mean() > attack_loss(small_model, x, y).mean()


def test_zero_radius_returns_the_input(small_model, held_out):
    x, y = held_out[0][:8], held_out[1][:8]
    np.testing.assert_array_equal(NFGSMAttack(0.0)(small_model, x, y, 0), x)
    np.testing.assert_array_equal(fgsm_rs(0.0)(small_model, x, y, 0), x)


def test_a_plan_draws_the_same_numbers_as_the_attack(small_model, held_out):
    x, y = held_out[0][:16], held_out[1][:16]
    attack = PGDAttack(eps=1.0, step_size=0.5, steps=2)
    np.testing.assert_allclose(ascent_plan(attack).run(small_model, x, y, np.random.default_rng(1)),
                               attack(small_model, x, y, np.random.default_rng(1)), atol=1e-6)


def test_passes_per_image():
    assert passes_per_image(None) == 1
    assert passes_per_image(fgsm_rs(2.0)) == passes_per_image(NFGSMAttack(2.0)) == 2
    assert passes_per_image(PGDAttack(eps=2.0, step_size=0.5, steps=10)) == 11


@pytest.mark.parametrize("make", [lambda: NFGSMAttack(-1.0), lambda: NFGSMAttack(1.0, step_multiplier=0),
                                  lambda: NFGSMAttack(1.0, norm="l3"), lambda: fgsm_rs(-0.1),
                                  lambda: fgsm_rs(1.0, norm="l1"), lambda: ascent_plan(lambda m, x, y, r: x),
                                  lambda: passes_per_image("fgsm")])
def test_bad_settings_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_one_cycle_rises_to_its_peak_then_falls():
    schedule = OneCycle(1e-2, total_steps=100, peak_at=0.3, low_fraction=0.01)
    rates = np.array([float(schedule(step)) for step in range(101)])
    assert rates[0] == pytest.approx(1e-4) and rates[30] == pytest.approx(1e-2)
    assert rates[100] == pytest.approx(1e-4, rel=1e-3)
    assert np.all(np.diff(rates[:31]) > 0) and np.all(np.diff(rates[30:]) < 0)


def test_one_cycle_in_a_config():
    from helpers.training import make_optimizer

    optimizer = make_optimizer(TrainConfig(epochs=2, learning_rate=1e-2, lr_schedule="one_cycle"), 10)
    assert isinstance(optimizer.learning_rate, tf.Variable) or float(optimizer.learning_rate) <= 1e-2


@pytest.mark.parametrize("changes", [{"lr_schedule": "step"}, {"peak_at": 1.0}, {"stop_drop": 0.0},
                                     {"stop_drop": 1.5}])
def test_bad_configs_are_refused(changes):
    with pytest.raises(ValueError):
        TrainConfig(**changes)


def test_hold_out_sets_images_aside(mnist_test):
    x, y = mnist_test[0][:100], mnist_test[1][:100]
    x_train, y_train, x_guard, y_guard = hold_out(x, y, 20, seed=1)
    assert len(x_train) == 80 and len(x_guard) == 20 and len(y_guard) == 20
    together = np.concatenate([x_train, x_guard]).reshape(100, -1)
    assert len(np.unique(together, axis=0)) == len(np.unique(x.reshape(100, -1), axis=0))
    for size in (0, 100, 2.5):
        with pytest.raises(ValueError, match="size"):
            hold_out(x, y, size)


class Sabotage:
    """A 'training attack' that is honest in epoch 1 and then pairs images with the wrong labels."""

    def __init__(self, batches_per_epoch: int):
        self.calls, self.batches_per_epoch = 0, batches_per_epoch

    def __call__(self, model, x, y, rng):
        self.calls += 1
        return x if self.calls <= self.batches_per_epoch else np.roll(x, 1, axis=0)


def _guarded_run(mnist_test, epochs=3, **changes):
    x, y = mnist_test
    x_train, y_train, x_guard, y_guard = x[:1024], y[:1024], x[6000:6200], y[6000:6200]
    config = TrainConfig(epochs=epochs, batch_size=64, learning_rate=3e-3, eval_size=200, **changes)
    model, messages = tiny_cnn(seed=1), []
    history = fit(model, x_train, y_train, config=config, attack=Sabotage(16), x_eval=x_guard, y_eval=y_guard,
                  eval_attack=PGDAttack(eps=0.5, step_size=0.25, steps=2, random_start=False), progress=False,
                  log=messages.append)
    check = run_epoch(model, x_guard, y_guard, attack=PGDAttack(eps=0.5, step_size=0.25, steps=2, random_start=False),
                      progress=False)["accuracy"]
    return history, check, messages


def test_the_guard_restores_the_best_epoch(mnist_test):
    history, check, messages = _guarded_run(mnist_test, restore_best=True)
    scores = [r["eval_adversarial_accuracy"] for r in history]
    assert len(history) == 3 and scores[0] > scores[-1] + 0.1  # the sabotage made the later epochs worse
    assert history[-1]["best_epoch"] == 1 and check == pytest.approx(scores[0])
    assert messages[-1].startswith("restored epoch 1")


def test_the_guard_stops_a_collapse(mnist_test):
    history, check, messages = _guarded_run(mnist_test, epochs=6, stop_drop=0.1)
    assert len(history) < 6 and any(m.startswith("catastrophic overfitting") for m in messages)
    assert check == pytest.approx(history[0]["eval_adversarial_accuracy"])


def test_the_guard_needs_a_check(mnist_test):
    x, y = mnist_test[0][:64], mnist_test[1][:64]
    with pytest.raises(ValueError, match="restore_best"):
        fit(tiny_cnn(), x, y, config=TrainConfig(epochs=1, restore_best=True), progress=False, log=lambda _: None)


def test_a_warm_up_scales_nfgsm():
    from helpers.training import warmed_up

    assert warmed_up(NFGSMAttack(2.0), 0, 1).eps == pytest.approx(1.0)
