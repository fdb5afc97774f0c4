"""Adversarial attacks: FGSM and PGD under an L2 or L-infinity budget.

Explained in notebooks ``01_adversarial_examples.ipynb`` (FGSM) and ``02_pgd.ipynb`` (PGD).
The module reads top to bottom: **losses**, the **loop**, then **FGSM and PGD**.

* Everything that depends on the norm lives in :mod:`helpers.norms`: three small functions per
  norm, gathered in a :class:`Norm` (:data:`NORMS`): the steepest-ascent **step**, the
  **projection** back into the ball of radius ``eps`` around the original image, and the
  **random start** inside that ball. Every function here accepts a ``Norm`` or its name.
* A loss maps (logits, labels) to one value per example that an untargeted attack *raises*
  (:data:`LOSSES`, or any callable of that shape).
* The loop (:func:`ascend`, compiled once per model and settings by :func:`ascent_loop`) never
  branches on the norm: step, project, clip, repeat. Its numbers (``eps``, ``step_size``,
  ``steps``) are tensors, so moving a slider does not re-trace it. Class traversal
  (:mod:`helpers.traversal`) reuses the same loop. How each step's gradient is computed fast is
  the business of :mod:`helpers.speedups` (an explicit ``speed`` argument).

Shapes and ranges: images are (N, H, W, C) float arrays with pixels in [0, 1] (MNIST:
(N, 28, 28, 1)); labels are N integers in [0, number of classes). Attacks return numpy
float32 arrays of the input's shape, with pixels in [0, 1].
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from helpers.norms import NORMS, Norm, get_norm
from helpers.speedups import FAST, SpeedPath, gradient_step
from helpers.validation import validate_images, validate_labels, validate_number, validate_steps

__all__ = [
    "Norm",
    "NORMS",
    "Loss",
    "LOSSES",
    "get_norm",
    "get_loss",
    "LOOP_OUTPUTS",
    "ascent_loop",
    "compiled_loops",
    "ascend",
    "fgsm",
    "pgd",
    "PGDAttack",
    "attack_loss",
    "input_gradient",
    "perturbation_norm",
]


# --- Losses: per-example values the attacker *raises* (untargeted) -----------------------
#: A loss: (logits (N, classes), labels (N,)) -> N values.
Loss = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


def _cross_entropy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def _margin(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Carlini-Wagner margin: best other logit minus the label's logit (> 0 means fooled)."""
    one_hot = tf.one_hot(labels, tf.shape(logits)[-1], dtype=logits.dtype)
    label_logit = tf.reduce_sum(logits * one_hot, axis=-1)
    other_best = tf.reduce_max(logits - 1e9 * one_hot, axis=-1)
    return other_best - label_logit


def _negative_logit(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Minus the label's raw logit; targeted, this raises the target's pre-softmax score."""
    one_hot = tf.one_hot(labels, tf.shape(logits)[-1], dtype=logits.dtype)
    return -tf.reduce_sum(logits * one_hot, axis=-1)


#: Loss name -> per-example loss(logits, labels). Untargeted attacks raise it for the true
#: label; targeted attacks lower it for the target label (the sign of the objective flips).
LOSSES: dict[str, Loss] = {
    "ce": _cross_entropy,
    "margin": _margin,
    "logit": _negative_logit,
}



def get_loss(loss: "str | Loss") -> Loss:
    """The loss named ``loss`` (a key of :data:`LOSSES`), or ``loss`` itself if it is callable.

    A callable loss takes (logits (N, classes), labels (N,) int64) tensors and returns N values
    that an untargeted attack raises.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)} or pass a callable")
        return LOSSES[loss]
    if not callable(loss):
        raise ValueError(f"loss must be a name in {sorted(LOSSES)} or a callable, got {loss!r}")
    return loss


# --- The loop ---------------------------------------------------------------------------
LOOP_OUTPUTS = ("last", "frames", "first_success")

_LOOPS: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()


def _build_loop(model: keras.Model, norm: Norm, loss: Loss, image_shape: tuple[int, ...], output: str,
                freeze_saturated: bool, speed: SpeedPath) -> Callable:
    """Compile one ascent loop for a model, norm, loss, image shape and output (traced once)."""
    logits_and_gradient = gradient_step(model, loss, speed)
    image_spec = tf.TensorSpec((None, *image_shape), tf.float32)
    scalar = tf.TensorSpec((), tf.float32)
    per_example = [-1] + [1] * len(image_shape)

    @tf.function(
        input_signature=[image_spec, image_spec, tf.TensorSpec((None,), tf.int64), scalar, scalar,
                         tf.TensorSpec((), tf.int32), scalar, scalar, image_spec],
        jit_compile=False,
    )
    def loop(x_orig, x_start, labels, eps, step_size, steps, sign, step_decay, movable):
        x = x_start
        frames = tf.TensorArray(tf.float32, size=steps + 1 if output == "frames" else 1)
        frames = frames.write(0, x)
        best, found = x, tf.zeros(tf.shape(labels), tf.bool)
        for i in tf.range(steps):
            logits, grad = logits_and_gradient(x, labels, sign)
            grad = grad * movable  # 0 where a pixel may not change
            if output == "first_success":  # remember the first iterate that fooled the model
                predicted = tf.argmax(logits, axis=-1)
                success = tf.where(sign > 0, predicted != labels, predicted == labels)
                best = tf.where(tf.reshape(success & ~found, per_example), x, best)
                found = found | success
            if freeze_saturated:  # pixels at 0 or 1 that the step would push further out
                pushed_out = ((x <= 0.0) & (grad < 0.0)) | ((x >= 1.0) & (grad > 0.0))
                grad = tf.where(pushed_out, tf.zeros_like(grad), grad)
            size = step_size / (1.0 + step_decay * tf.cast(i, tf.float32))
            x = x + norm.step(grad, size)
            x = x_orig + norm.project(x - x_orig, eps)
            x = tf.clip_by_value(x, 0.0, 1.0)
            if output == "frames":
                frames = frames.write(i + 1, x)
        if output == "frames":
            return frames.stack()
        if output == "first_success":
            return tf.where(tf.reshape(found, per_example), best, x)
        return x

    return loop


def ascent_loop(model: keras.Model, norm: "str | Norm", loss: "str | Loss", image_shape: tuple[int, ...],
                output: str = "last", freeze_saturated: bool = False, speed: SpeedPath = FAST) -> Callable:
    """The compiled steepest-ascent loop shared by PGD and class traversal (cached per model).

    The returned ``tf.function`` takes ``(x_orig, x_start, labels, eps, step_size, steps, sign,
    step_decay, movable)`` as tensors; call it through :func:`ascend`, which says what each one means.
    ``speed`` chooses how each step's gradient is computed (:mod:`helpers.speedups`).
    """
    if output not in LOOP_OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {list(LOOP_OUTPUTS)}")
    norm, loss = get_norm(norm), get_loss(loss)
    key = (norm, loss, tuple(image_shape), output, bool(freeze_saturated), speed)
    cache = _LOOPS.setdefault(model, {})
    if key not in cache:
        cache[key] = _build_loop(model, norm, loss, tuple(image_shape), output, bool(freeze_saturated), speed)
    return cache[key]


def compiled_loops(model: keras.Model) -> dict[tuple, Callable]:
    """The loops compiled so far for ``model``, by (norm, loss, image shape, output, freeze, speed)
    (a copy: for benchmarks and tests that count how often a loop was traced)."""
    return dict(_LOOPS.get(model, {}))


def ascend(
    model: keras.Model,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    eps: float,
    step_size: float,
    steps: int,
    norm: "str | Norm" = "l2",
    loss: "str | Loss" = "ce",
    targeted: bool = False,
    start: Optional[np.ndarray] = None,
    step_decay: float = 0.0,
    output: str = "last",
    freeze_saturated: bool = False,
    movable: Optional[np.ndarray] = None,
    speed: SpeedPath = FAST,
) -> np.ndarray:
    """Run the steepest-ascent loop on checked inputs (``x`` float32 in [0, 1], ``labels`` int64).

    Starts at ``start`` (default ``x``) and repeats ``steps`` times: a step of length
    ``step_size / (1 + step_decay * i)`` up the ``loss`` of ``labels`` (down it when
    ``targeted``), a projection onto the ``eps`` ball around ``x`` (``eps`` may be infinite),
    a clip of the pixels to [0, 1]. With ``freeze_saturated``, pixels already at 0 or 1 get no
    push further out, so the step's length goes to pixels that can still move. ``movable`` (a
    boolean array of ``x``'s shape, default all true) names the only pixels a step may change.

    ``output``: "last" returns the last image (N, ...); "frames" all ``steps + 1`` frames
    (steps + 1, N, ...), frame 0 being the start; "first_success" per image the first iterate
    the model got wrong (untargeted) or classified as the label (targeted), else the last one.
    """
    loop = ascent_loop(model, norm, loss, x.shape[1:], output=output, freeze_saturated=freeze_saturated,
                       speed=speed)
    result = loop(
        tf.constant(x, tf.float32), tf.constant(x if start is None else start, tf.float32),
        tf.constant(labels, tf.int64), tf.constant(eps, tf.float32), tf.constant(step_size, tf.float32),
        tf.constant(steps, tf.int32), tf.constant(-1.0 if targeted else 1.0), tf.constant(step_decay, tf.float32),
        tf.ones_like(x, tf.float32) if movable is None else tf.constant(movable, tf.float32),
    )
    return result.numpy()


# --- FGSM and PGD -----------------------------------------------------------------------
def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def pgd(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | int,
    *,
    eps: float,
    step_size: float,
    steps: int,
    norm: "str | Norm" = "l2",
    random_start: bool = False,
    targeted: bool = False,
    loss: "str | Loss" = "ce",
    seed: int | np.random.Generator | None = None,
    keep_first_success: bool = False,
    speed: SpeedPath = FAST,
) -> np.ndarray:
    """Projected gradient descent (Madry et al. 2018) within an ``eps`` ball.

    Repeats ``steps`` times: one steepest-ascent step of length ``step_size`` on the loss,
    then a projection back into the ball of radius ``eps`` (``norm`` "l2" or "linf", or a
    :class:`Norm`) around ``x``, then a clip to [0, 1]. Untargeted (``y`` = true labels) it
    raises the loss of the true label; ``targeted`` (``y`` = target labels) it lowers the loss
    of the target. ``loss`` is "ce" (cross-entropy), "margin" (Carlini-Wagner), "logit" (raw
    score) or a callable (see :func:`get_loss`). ``random_start`` begins at a random point of
    the ball (drawn with ``seed``). ``keep_first_success`` returns, per image, the first
    iterate that already fooled the model (for evaluation: a later step cannot undo a
    success); otherwise the last iterate. ``speed``: see :mod:`helpers.speedups`.

    The name: it is *descent* on the loss of the target when targeted, and on minus the loss
    when untargeted; either way the attacker climbs towards a wrong answer.

    ``x``: (N, 28, 28, 1) in [0, 1]; ``y``: N ints or one int. Returns numpy float32 of ``x``'s
    shape, in [0, 1], within ``eps`` of ``x``. See notebook ``02_pgd.ipynb``.
    """
    norm_spec, loss = get_norm(norm), get_loss(loss)
    eps = validate_number(eps, "eps")
    step_size = validate_number(step_size, "step_size")
    steps = validate_steps(steps)
    images = validate_images(model, x)
    labels = validate_labels(model, y, len(images))
    if len(images) == 0:
        return images.copy()
    start = images
    if random_start and eps > 0:
        start = np.clip(images + norm_spec.random_start(images.shape, eps, _rng(seed)), 0.0, 1.0)
    return ascend(model, images, labels, eps=eps, step_size=step_size, steps=steps, norm=norm_spec, loss=loss,
                  targeted=targeted, start=start, output="first_success" if keep_first_success else "last",
                  speed=speed)


def fgsm(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | int,
    eps: float,
    *,
    norm: "str | Norm" = "linf",
    targeted: bool = False,
) -> np.ndarray:
    """Fast gradient (sign) method (Goodfellow et al. 2015): one step of length ``eps``.

    With ``norm="linf"`` every pixel moves by ``eps`` in the direction that raises the loss
    (the sign of the gradient); with ``"l2"`` the image moves ``eps`` along the gradient.
    Pixels are clipped to [0, 1]. Same shapes and checks as :func:`pgd`. See notebook
    ``01_adversarial_examples.ipynb``.
    """
    return pgd(model, x, y, eps=eps, step_size=eps, steps=1, norm=norm, targeted=targeted)


def attack_loss(model: keras.Model, x: np.ndarray, y: np.ndarray | int, loss: "str | Loss" = "ce") -> np.ndarray:
    """Per-example value of ``loss`` ("ce", "margin", "logit" or a callable) for images ``x``, labels ``y``."""
    loss = get_loss(loss)
    images = validate_images(model, x)
    labels = validate_labels(model, y, len(images))
    return loss(model(tf.constant(images), training=False), tf.constant(labels)).numpy()


def input_gradient(model: keras.Model, x: np.ndarray, y: np.ndarray | int,
                   loss: "str | Loss" = "ce") -> np.ndarray:
    """Gradient of the per-example ``loss`` with respect to the pixels, shaped like ``x``.

    Positive where brightening a pixel would raise the loss. With ``loss="logit"`` it is
    minus the gradient of the label's raw score. See notebook ``01_adversarial_examples.ipynb``.
    """
    loss = get_loss(loss)
    images = tf.constant(validate_images(model, x))
    labels = tf.constant(validate_labels(model, y, int(images.shape[0])))
    with tf.GradientTape() as tape:
        tape.watch(images)
        values = loss(model(images, training=False), labels)
    return tape.gradient(values, images).numpy()


def perturbation_norm(x_adv: np.ndarray, x: np.ndarray, norm: "str | Norm" = "l2") -> np.ndarray:
    """Per-example size of ``x_adv - x`` measured in ``norm`` ("l2" or "linf"), float64 (N,)."""
    return get_norm(norm).measure(np.asarray(x_adv) - np.asarray(x))


@dataclass(frozen=True)
class PGDAttack:
    """A PGD attack with fixed settings, callable as ``attack(model, x, y, rng)``.

    This is the ``attack`` parameter of :func:`helpers.training.run_epoch` and
    :func:`helpers.training.fit` (``None`` there means natural training).
    """

    eps: float
    step_size: float
    steps: int
    norm: str = "l2"
    random_start: bool = True
    loss: str = "ce"

    def __call__(self, model: keras.Model, x: np.ndarray, y: np.ndarray,
                 rng: int | np.random.Generator | None = None) -> np.ndarray:
        return pgd(model, x, y, eps=self.eps, step_size=self.step_size, steps=self.steps,
                   norm=self.norm, random_start=self.random_start, loss=self.loss, seed=rng)
