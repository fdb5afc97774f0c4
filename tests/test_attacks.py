"""Attack properties, for every norm (in the spirit of cleverhans' attack tests)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.attacks import LOSSES as LOSSES_FOR_TEST
from helpers.attacks import NORMS, PGDAttack, ascent_loop, attack_loss, fgsm, perturbation_norm, pgd

NORM_NAMES = sorted(NORMS)
BUDGET = {"l2": 2.0, "linf": 0.2}
TOLERANCE = 1e-5


def _batch(held_out, count=64):
    x, y = held_out
    return x[:count], y[:count]


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_eps_zero_returns_the_input(small_model, held_out, norm):
    x, y = _batch(held_out, 16)
    for random_start in (False, True):
        result = pgd(small_model, x, y, eps=0.0, step_size=0.1, steps=5, norm=norm,
                     random_start=random_start, seed=0)
        np.testing.assert_array_equal(result, x)
    np.testing.assert_array_equal(fgsm(small_model, x, y, 0.0, norm=norm), x)


@pytest.mark.parametrize("norm", NORM_NAMES)
@pytest.mark.parametrize("random_start", [False, True])
def test_perturbation_stays_in_ball_and_pixels_in_range(small_model, held_out, norm, random_start):
    x, y = _batch(held_out)
    eps = BUDGET[norm]
    result = pgd(small_model, x, y, eps=eps, step_size=eps / 4, steps=10, norm=norm,
                 random_start=random_start, seed=1)
    assert result.shape == x.shape and result.dtype == np.float32
    assert perturbation_norm(result, x, norm).max() <= eps + TOLERANCE
    assert result.min() >= 0.0 and result.max() <= 1.0
    # a budget this large is actually used: the attack reaches (nearly) the edge of the ball
    assert perturbation_norm(result, x, norm).mean() > 0.5 * eps


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_small_step_budget_cannot_reach_the_edge(small_model, held_out, norm):
    x, y = _batch(held_out, 32)
    eps, step_size, steps = BUDGET[norm], BUDGET[norm] / 20, 5  # at most a quarter of the way
    result = pgd(small_model, x, y, eps=eps, step_size=step_size, steps=steps, norm=norm)
    assert perturbation_norm(result, x, norm).max() <= steps * step_size + TOLERANCE


@pytest.mark.parametrize("norm", NORM_NAMES)
@pytest.mark.parametrize("loss", ["ce", "margin"])
def test_loss_does_not_decrease(small_model, held_out, norm, loss):
    x, y = _batch(held_out)
    before = attack_loss(small_model, x, y, loss)
    for result in (pgd(small_model, x, y, eps=BUDGET[norm] / 2, step_size=BUDGET[norm] / 20, steps=10,
                       norm=norm, loss=loss),
                   fgsm(small_model, x, y, BUDGET[norm] / 10, norm=norm)):
        after = attack_loss(small_model, result, y, loss)
        assert np.all(after >= before - 1e-4), (before - after).max()
        assert after.mean() > before.mean()


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_untargeted_attack_succeeds(small_model, held_out, norm):
    x, y = held_out
    clean = np.mean(small_model.predict(x, verbose=0).argmax(1) == y)
    eps = {"l2": 3.0, "linf": 0.3}[norm]
    result = pgd(small_model, x, y, eps=eps, step_size=2.5 * eps / 40, steps=40, norm=norm)
    attacked = np.mean(small_model.predict(result, verbose=0).argmax(1) == y)
    assert clean > 0.88  # the small model is about 92% accurate on these images
    assert attacked < 0.1, f"accuracy under attack {attacked:.2%}"


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_targeted_attack_reaches_target(small_model, held_out, norm):
    x, y = held_out
    target = (y + 1) % 10
    eps = {"l2": 4.0, "linf": 0.4}[norm]
    result = pgd(small_model, x, target, eps=eps, step_size=2.5 * eps / 40, steps=40, norm=norm,
                 targeted=True)
    success = np.mean(small_model.predict(result, verbose=0).argmax(1) == target)
    assert success > 0.8, f"targeted success {success:.2%}"
    # targeted lowers the loss of the target class (the objective's sign is flipped)
    assert np.all(attack_loss(small_model, result, target) <= attack_loss(small_model, x, target) + 1e-4)


def test_linf_fgsm_moves_every_pixel_by_eps_along_the_gradient_sign(small_model, held_out):
    x, y = _batch(held_out, 8)
    eps = 0.1
    images = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(images)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=small_model(images))
    expected = np.clip(x + eps * np.sign(tape.gradient(loss, images).numpy()), 0, 1)
    np.testing.assert_allclose(fgsm(small_model, x, y, eps), expected, atol=1e-6)


def test_l2_fgsm_step_has_length_eps_before_clipping(blind_model, small_model, held_out):
    x, y = _batch(held_out, 8)
    x = np.full_like(x, 0.5)  # far from 0 and 1: nothing gets clipped
    result = fgsm(small_model, x, y, 0.5, norm="l2")
    np.testing.assert_allclose(perturbation_norm(result, x, "l2"), 0.5, rtol=1e-4)


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_zero_gradient_never_makes_nan(blind_model, norm):
    blank = np.zeros((3, 28, 28, 1), np.float32)
    for random_start in (False, True):
        result = pgd(blind_model, blank, [1, 2, 3], eps=BUDGET[norm], step_size=0.1, steps=3,
                     norm=norm, random_start=random_start, seed=0)
        assert np.isfinite(result).all()
        assert result.min() >= 0.0 and result.max() <= 1.0
        if not random_start:
            np.testing.assert_array_equal(result, blank)


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_random_start_is_inside_the_ball_and_clipped(small_model, held_out, norm):
    x, y = _batch(held_out, 32)
    eps = BUDGET[norm]
    result = pgd(small_model, x, y, eps=eps, step_size=0.0, steps=0, norm=norm, random_start=True, seed=3)
    assert perturbation_norm(result, x, norm).max() <= eps + TOLERANCE
    assert perturbation_norm(result, x, norm).min() > 0
    assert result.min() >= 0.0 and result.max() <= 1.0
    again = pgd(small_model, x, y, eps=eps, step_size=0.0, steps=0, norm=norm, random_start=True, seed=3)
    np.testing.assert_array_equal(result, again)  # seeded: reproducible


def test_no_retracing_for_new_numbers_or_batch_sizes(small_model, held_out):
    x, y = held_out
    for eps, step_size, steps, count in [(0.5, 0.1, 3, 5), (1.5, 0.2, 7, 17), (2.0, 0.05, 1, 1)]:
        pgd(small_model, x[:count], y[:count], eps=eps, step_size=step_size, steps=steps, norm="l2")
    loop = ascent_loop(small_model, "l2", "ce", (28, 28, 1))
    assert loop.experimental_get_tracing_count() == 1


def test_empty_batch_and_integer_label(small_model, held_out):
    x, y = held_out
    assert pgd(small_model, x[:0], y[:0], eps=1.0, step_size=0.1, steps=2).shape == (0, 28, 28, 1)
    one = pgd(small_model, x[:3], 7, eps=1.0, step_size=0.1, steps=2, targeted=True)
    assert one.shape == (3, 28, 28, 1)


def test_pgd_attack_object_matches_function(small_model, held_out):
    x, y = _batch(held_out, 16)
    attack = PGDAttack(eps=1.0, step_size=0.25, steps=5, norm="l2", random_start=True)
    np.testing.assert_array_equal(
        attack(small_model, x, y, np.random.default_rng(4)),
        pgd(small_model, x, y, eps=1.0, step_size=0.25, steps=5, random_start=True,
            seed=np.random.default_rng(4)))


GOOD = dict(eps=1.0, step_size=0.1, steps=3, norm="l2")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(eps=-0.1), "eps must be >= 0"),
        (dict(eps=float("nan")), "eps must be finite"),
        (dict(eps=float("inf")), "eps must be finite"),
        (dict(eps="1"), "eps must be a number"),
        (dict(step_size=-1.0), "step_size must be >= 0"),
        (dict(step_size=float("nan")), "step_size must be finite"),
        (dict(steps=-1), "steps must be >= 0"),
        (dict(steps=2.5), "steps must be a whole number"),
        (dict(steps=True), "steps must be a whole number"),
        (dict(norm="l1"), "unknown norm"),
        (dict(loss="hinge"), "unknown loss"),
    ],
)
def test_bad_settings_raise_value_error(small_model, held_out, change, message):
    x, y = _batch(held_out, 4)
    with pytest.raises(ValueError, match=message):
        pgd(small_model, x, y, **{**GOOD, **change})


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((4, 28, 28), np.float32), [0, 1, 2, 3], "rank 4"),
        (np.zeros((28, 28, 1), np.float32), 0, "rank 4"),
        (np.zeros((4, 28, 28, 3), np.float32), [0, 1, 2, 3], "shape"),
        (np.full((4, 28, 28, 1), 255.0, np.float32), [0, 1, 2, 3], r"\[0, 1\]"),
        (np.full((4, 28, 28, 1), -0.1, np.float32), [0, 1, 2, 3], r"\[0, 1\]"),
        (np.full((4, 28, 28, 1), np.nan, np.float32), [0, 1, 2, 3], "NaN"),
        (np.zeros((4, 28, 28, 1), np.float32), [0, 1, 2], "one per image"),
        (np.zeros((4, 28, 28, 1), np.float32), [0, 1, 2, 10], r"\[0, 9\]"),
        (np.zeros((4, 28, 28, 1), np.float32), [0, 1, 2, -1], r"\[0, 9\]"),
        (np.zeros((4, 28, 28, 1), np.float32), [0.5, 1, 2, 3], "integers"),
        (np.zeros((4, 28, 28, 1), np.float32), np.zeros((4, 10)), "one per image"),
    ],
)
def test_bad_inputs_raise_value_error(small_model, images, labels, message):
    for attack in (lambda: pgd(small_model, images, labels, **GOOD),
                   lambda: fgsm(small_model, images, labels, 0.1)):
        with pytest.raises(ValueError, match=message):
            attack()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    count=st.integers(1, 6),
    norm=st.sampled_from(NORM_NAMES),
    eps_fraction=st.floats(0.0, 1.0),
    step_fraction=st.floats(0.0, 1.0),
    steps=st.integers(0, 4),
    random_start=st.booleans(),
    targeted=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_property_any_batch_stays_valid(small_model, count, norm, eps_fraction, step_fraction, steps,
                                        random_start, targeted, seed):
    rng = np.random.default_rng(seed)
    # random images, including saturated pixels, plus random labels
    x = np.clip(rng.uniform(-0.3, 1.3, size=(count, 28, 28, 1)), 0, 1).astype(np.float32)
    y = rng.integers(0, 10, size=count)
    eps = eps_fraction * {"l2": 6.0, "linf": 0.6}[norm]
    result = pgd(small_model, x, y, eps=eps, step_size=step_fraction * eps, steps=steps, norm=norm,
                 random_start=random_start, targeted=targeted, seed=seed)
    assert result.shape == x.shape
    assert np.isfinite(result).all()
    assert result.min() >= 0.0 and result.max() <= 1.0
    assert perturbation_norm(result, x, norm).max() <= eps + TOLERANCE


@pytest.mark.parametrize("norm", NORM_NAMES)
def test_keep_first_success_never_loses_a_success(small_model, held_out, norm):
    x, y = held_out
    eps = {"l2": 1.5, "linf": 0.15}[norm]
    settings = dict(eps=eps, step_size=eps / 2, steps=10, norm=norm)  # big steps overshoot
    last = pgd(small_model, x, y, **settings)
    first = pgd(small_model, x, y, keep_first_success=True, **settings)
    fooled_last = small_model.predict(last, verbose=0).argmax(1) != y
    fooled_first = small_model.predict(first, verbose=0).argmax(1) != y
    assert np.all(fooled_first >= fooled_last)
    assert perturbation_norm(first, x, norm).max() <= eps + TOLERANCE
    assert first.min() >= 0.0 and first.max() <= 1.0


def test_unknown_loop_output(small_model):
    with pytest.raises(ValueError, match="unknown output"):
        ascent_loop(small_model, "l2", "ce", (28, 28, 1), output="middle")


def test_only_movable_pixels_change(small_model, held_out):
    from helpers.attacks import ascend

    x, y = _batch(held_out, 8)
    movable = np.zeros(x.shape, bool)
    movable[:, 10:18, 10:18, :] = True
    result = ascend(small_model, x, y.astype(np.int64), eps=3.0, step_size=0.5, steps=5, movable=movable)
    np.testing.assert_array_equal(result[~movable], x[~movable])
    assert np.abs(result - x)[movable].max() > 0  # the block did change


def test_a_norm_object_and_a_loss_callable_plug_in(small_model, held_out):
    """The extension points: ``norm`` takes a Norm, ``loss`` takes any (logits, labels) -> values."""
    from dataclasses import replace

    x, y = _batch(held_out, 16)
    halved_l2 = replace(NORMS["l2"], name="l2-half-steps", step=lambda g, s: NORMS["l2"].step(g, s / 2))
    by_name = pgd(small_model, x, y, eps=1.0, step_size=0.1, steps=4, norm="l2")
    by_object = pgd(small_model, x, y, eps=1.0, step_size=0.2, steps=4, norm=halved_l2)
    np.testing.assert_allclose(by_object, by_name, atol=1e-6)  # half of 0.2 is 0.1
    margin = lambda logits, labels: LOSSES_FOR_TEST["margin"](logits, labels)  # noqa: E731
    np.testing.assert_allclose(pgd(small_model, x, y, eps=1.0, step_size=0.2, steps=3, loss=margin),
                               pgd(small_model, x, y, eps=1.0, step_size=0.2, steps=3, loss="margin"), atol=1e-6)
    with pytest.raises(ValueError, match="or a callable"):
        pgd(small_model, x, y, eps=1.0, step_size=0.2, steps=3, loss=42)
    with pytest.raises(ValueError, match="or pass a Norm"):
        pgd(small_model, x, y, eps=1.0, step_size=0.2, steps=3, norm="l3")
