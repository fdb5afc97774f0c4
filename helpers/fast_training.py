"""Fast adversarial training: one-gradient attacks, their cost, and a plan the loop can distribute.

Explained in notebook ``03_adversarial_training.ipynb``. Every attack here is callable like
:class:`helpers.attacks.PGDAttack` (``attack(model, x, y, rng)``), so it is just another
``attack`` for :func:`helpers.training.fit`; the steps and projections are
:func:`helpers.attacks.ascend` and :mod:`helpers.norms`, not a copy of them.

* **FGSM with a random start** (Wong, Rice and Kolter 2020, "Fast is better than free"):
  start at a random point of the ball, take one step of ``1.25 * eps``, project back into the
  ball. That is a one-step PGD, so :func:`fgsm_rs` returns a ``PGDAttack``.
* **N-FGSM** (de Jorge et al. 2022): noise drawn from a ball ``noise_multiplier`` (2) times the
  radius, one step of ``eps``, and *no* projection: the training point may lie outside the
  ball. :class:`NFGSMAttack`.

From L-infinity to L2: the papers' noise is uniform per pixel in ``[-r, r]``; here it is
drawn uniformly from the L2 ball of radius ``r`` (the norm's own random start), the sign step
becomes a step along the gradient over its length, and the step lengths keep their ratio to
``eps`` (1.25 and 1). Both are exactly the L-infinity recipes when ``norm="linf"``.

Cost: an attack with ``k`` gradient steps makes every training image cost ``k + 1``
forward-backward passes (:func:`passes_per_image`); FGSM-RS and N-FGSM cost 2, like a 1-step
PGD. Fast recipes risk *catastrophic overfitting* (robust accuracy under PGD collapses while
accuracy under the training attack soars); :func:`helpers.training.fit` guards against it
with a PGD check on held-out training images each epoch (``TrainConfig.restore_best``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from helpers.attacks import PGDAttack, ascend, get_loss
from helpers.norms import get_norm
from helpers.validation import validate_images, validate_labels, validate_number

__all__ = ["fgsm_rs", "NFGSMAttack", "AscentPlan", "ascent_plan", "passes_per_image", "scaled_attack",
           "OneCycle", "hold_out"]


def _positive(value: float, name: str) -> float:
    number = validate_number(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def fgsm_rs(eps: float, *, norm: str = "l2", step_multiplier: float = 1.25, loss: str = "ce") -> PGDAttack:
    """FGSM with a random start (Wong et al. 2020): one step of ``step_multiplier * eps``.

    A random point of the ``eps`` ball, one steepest-ascent step, a projection back into the
    ball, a clip to [0, 1]: a one-step :class:`~helpers.attacks.PGDAttack`, returned as one.
    """
    eps = validate_number(eps, "eps")
    get_norm(norm), get_loss(loss)
    return PGDAttack(eps=eps, step_size=eps * _positive(step_multiplier, "step_multiplier"), steps=1,
                     norm=norm, random_start=True, loss=loss)


@dataclass(frozen=True)
class NFGSMAttack:
    """N-FGSM (de Jorge et al. 2022), callable as ``attack(model, x, y, rng)``.

    Adds noise drawn uniformly from the ball of radius ``noise_multiplier * eps`` (pixels then
    clipped to [0, 1]), takes one steepest-ascent step of ``step_multiplier * eps`` and does
    **not** project back into the ``eps`` ball (only the [0, 1] clip). ``x``: (N, 28, 28, 1) in
    [0, 1]; returns float32 of that shape.
    """

    eps: float
    noise_multiplier: float = 2.0
    step_multiplier: float = 1.0
    norm: str = "l2"
    loss: str = "ce"

    def __post_init__(self) -> None:
        validate_number(self.eps, "eps")
        validate_number(self.noise_multiplier, "noise_multiplier")
        _positive(self.step_multiplier, "step_multiplier")
        get_norm(self.norm), get_loss(self.loss)

    def __call__(self, model: keras.Model, x: np.ndarray, y: np.ndarray,
                 rng: int | np.random.Generator | None = None) -> np.ndarray:
        images = validate_images(model, x)
        labels = validate_labels(model, y, len(images))
        return ascent_plan(self).run(model, images, labels, rng)


@dataclass(frozen=True)
class AscentPlan:
    """An attack split into a host part and a graph part, so a strategy can run the graph part.

    ``start(images, rng)`` draws the starting points with numpy (they do not depend on the
    model); :func:`helpers.attacks.ascend` (or the compiled loop behind it) then takes ``steps``
    steps of ``step_size`` with projection onto the ``eps`` ball (``inf``: none) in ``norm``.
    """

    start: Callable[[np.ndarray, np.random.Generator], np.ndarray]
    eps: float
    step_size: float
    steps: int
    norm: str
    loss: str

    def run(self, model: keras.Model, images: np.ndarray, labels: np.ndarray,
            rng: int | np.random.Generator | None = None) -> np.ndarray:
        """The attacked images, for checked ``images`` (float32) and ``labels`` (int64)."""
        if len(images) == 0:
            return images.copy()
        generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        return ascend(model, images, labels, eps=self.eps, step_size=self.step_size, steps=self.steps,
                      norm=self.norm, loss=self.loss, start=self.start(images, generator))


def _noisy_start(norm: str, radius: float) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """Images plus noise uniform in the ``radius`` ball of ``norm``, clipped to [0, 1]."""
    def start(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if radius <= 0:
            return images
        noise = get_norm(norm).random_start(images.shape, radius, rng)
        return np.clip(images + noise, 0.0, 1.0).astype(np.float32)
    return start


def ascent_plan(attack: object) -> AscentPlan:
    """The :class:`AscentPlan` of a ``PGDAttack`` (FGSM-RS included) or an :class:`NFGSMAttack`.

    The start draws the same random numbers, in the same order, as calling the attack itself.
    """
    if isinstance(attack, PGDAttack):
        radius = attack.eps if attack.random_start else 0.0
        return AscentPlan(_noisy_start(attack.norm, radius), attack.eps, attack.step_size, attack.steps,
                          attack.norm, attack.loss)
    if isinstance(attack, NFGSMAttack):
        return AscentPlan(_noisy_start(attack.norm, attack.noise_multiplier * attack.eps), math.inf,
                          attack.step_multiplier * attack.eps, 1, attack.norm, attack.loss)
    raise ValueError(f"need a PGDAttack or an NFGSMAttack, got {type(attack).__name__}")


def passes_per_image(attack: Optional[object]) -> int:
    """Forward-backward passes one training image costs per epoch: attack steps + 1 update."""
    if attack is None:
        return 1
    return ascent_plan(attack).steps + 1


def scaled_attack(attack: object, fraction: float) -> object:
    """``attack`` with its radius and steps scaled by ``fraction`` (for a warm-up)."""
    fraction = _positive(fraction, "fraction")
    if isinstance(attack, PGDAttack):
        return replace(attack, eps=attack.eps * fraction, step_size=attack.step_size * fraction)
    if isinstance(attack, NFGSMAttack):
        return replace(attack, eps=attack.eps * fraction)
    raise ValueError(f"an attack warm-up needs a PGDAttack or an NFGSMAttack, got {type(attack).__name__}")


# --- The schedule and the guard's data -------------------------------------------------
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Piecewise-linear one-cycle rate: ``low`` -> ``peak`` at ``peak_at`` of the run -> ``low``."""

    def __init__(self, peak: float, total_steps: int, peak_at: float = 0.3, low_fraction: float = 0.01):
        self.peak, self.total_steps = float(peak), max(1, int(total_steps))
        self.peak_at, self.low_fraction = float(peak_at), float(low_fraction)

    def __call__(self, step):
        progress = tf.cast(step, tf.float32) / float(self.total_steps)
        low = self.peak * self.low_fraction
        rising = low + (self.peak - low) * progress / self.peak_at
        falling = self.peak - (self.peak - low) * (progress - self.peak_at) / (1.0 - self.peak_at)
        return tf.maximum(tf.where(progress < self.peak_at, rising, falling), low)

    def get_config(self) -> dict:
        return {"peak": self.peak, "total_steps": self.total_steps, "peak_at": self.peak_at,
                "low_fraction": self.low_fraction}


def hold_out(x: np.ndarray, y: np.ndarray, size: int = 1000, seed: int = 0
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_guard, y_guard)``: ``size`` random images set aside from training.

    The guard images are never trained on; the per-epoch check against catastrophic
    overfitting runs on them (not on test images, which stay for the final figures).
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 0 < size < len(x):
        raise ValueError(f"size must be a whole number between 1 and {len(x) - 1}, got {size!r}")
    if len(y) != len(x):
        raise ValueError(f"need one label per image, got {len(x)} images and {len(y)} labels")
    order = np.random.default_rng(seed).permutation(len(x))
    guard, kept = np.sort(order[:size]), np.sort(order[size:])
    return x[kept], y[kept], x[guard], y[guard]
