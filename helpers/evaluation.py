"""Clean and robust accuracy, and accuracy-versus-epsilon sweeps.

Explained in notebooks ``02_pgd.ipynb`` and ``03_adversarial_training.ipynb``.

Robust accuracy is reported against the **worst case** over every attack run: an image
counts as robust only if the model classifies it correctly after *each* of them (PGD with
the cross-entropy loss and with the margin loss, each from the clean image and from random
starts). A weak attack overstates robustness; this is the honest way to report it.
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from helpers.attacks import pgd
from helpers.validation import validate_images, validate_labels, validate_number, validate_steps

__all__ = ["softmax", "predict", "accuracy", "robust_mask", "robust_accuracy", "accuracy_vs_epsilon"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits along the last axis: (..., classes) -> (..., classes), float64.

    Each row is in [0, 1] and sums to 1. Numerically stable: the row's largest logit is
    subtracted before exponentiating, so huge logits (e.g. 1000) give no overflow or NaN.
    """
    logits = np.asarray(logits, np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def predict(model: keras.Model, x: np.ndarray, *, batch_size: int = 1000) -> np.ndarray:
    """Logits (N, 10) for images (N, 28, 28, 1) in [0, 1], computed in batches."""
    images = validate_images(model, x)
    if len(images) == 0:
        return np.zeros((0, int(model.output_shape[-1])), np.float32)
    parts = [model(tf.constant(images[i:i + batch_size]), training=False).numpy()
             for i in range(0, len(images), batch_size)]
    return np.concatenate(parts)


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, *, batch_size: int = 1000) -> float:
    """Fraction of images whose highest logit is the label."""
    labels = validate_labels(model, y, len(np.asarray(x)))
    if len(labels) == 0:
        raise ValueError("cannot measure accuracy on zero images")
    return float(np.mean(predict(model, x, batch_size=batch_size).argmax(axis=1) == labels))


def _default_step_size(eps: float, steps: int) -> float:
    """Madry et al.'s rule of thumb: 2.5 * eps / steps, so the path can cross the whole ball."""
    return 2.5 * eps / max(steps, 1)


def robust_mask(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    eps: float,
    norm: str = "l2",
    steps: int = 100,
    step_size: float | None = None,
    restarts: int = 1,
    losses: Sequence[str] = ("ce", "margin"),
    batch_size: int = 500,
    seed: int = 0,
) -> np.ndarray:
    """Boolean (N,): True where the model stays correct under every attack run.

    For each loss in ``losses`` it runs PGD ``restarts`` times (the first from the clean image,
    the others from random points of the ball) with ``steps`` steps of ``step_size``
    (default 2.5 * eps / steps). Every iterate counts: an image is lost as soon as any step of
    any run fools the model. Images already misclassified are not attacked again.
    """
    eps = validate_number(eps, "eps")
    steps = validate_steps(steps)
    if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 1:
        raise ValueError(f"restarts must be a whole number >= 1, got {restarts!r}")
    if not losses:
        raise ValueError("losses must name at least one loss")
    images = validate_images(model, x)
    labels = validate_labels(model, y, len(images))
    size = _default_step_size(eps, steps) if step_size is None else validate_number(step_size, "step_size")
    rng = np.random.default_rng(seed)
    still_correct = predict(model, images, batch_size=batch_size).argmax(axis=1) == labels
    for loss in losses:
        for restart in range(restarts):
            for start in range(0, len(images), batch_size):
                index = np.flatnonzero(still_correct[start:start + batch_size]) + start
                if len(index) == 0:
                    continue
                adversarial = pgd(model, images[index], labels[index], eps=eps, step_size=size,
                                  steps=steps, norm=norm, random_start=restart > 0, loss=loss, seed=rng,
                                  keep_first_success=True)
                fooled = predict(model, adversarial, batch_size=batch_size).argmax(axis=1) != labels[index]
                still_correct[index[fooled]] = False
    return still_correct


def robust_accuracy(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    eps: float,
    norm: str = "l2",
    steps: int = 100,
    step_size: float | None = None,
    restarts: int = 1,
    losses: Sequence[str] = ("ce", "margin"),
    batch_size: int = 500,
    seed: int = 0,
) -> float:
    """Fraction of images classified correctly under the worst of all the attack runs.

    See :func:`robust_mask` for the runs: ``len(losses) * restarts`` PGD attacks of ``steps``
    steps, ``eps`` in the ``norm`` ("l2" or "linf").
    """
    mask = robust_mask(model, x, y, eps=eps, norm=norm, steps=steps, step_size=step_size,
                       restarts=restarts, losses=losses, batch_size=batch_size, seed=seed)
    if len(mask) == 0:
        raise ValueError("cannot measure accuracy on zero images")
    return float(mask.mean())


def accuracy_vs_epsilon(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epsilons: Sequence[float],
    norm: str = "l2",
    steps: int = 40,
    restarts: int = 1,
    losses: Sequence[str] = ("ce", "margin"),
    batch_size: int = 500,
    seed: int = 0,
) -> dict[str, object]:
    """Robust accuracy at each epsilon, as a table ready for plotting.

    Returns ``{"eps": array, "accuracy": array, "norm": ..., "steps": ..., "restarts": ...,
    "losses": ...}``; the step size at each epsilon is 2.5 * eps / steps. Epsilon 0 gives
    clean accuracy.
    """
    values = [validate_number(e, "eps") for e in epsilons]
    if not values:
        raise ValueError("epsilons must hold at least one value")
    accuracies = [
        accuracy(model, x, y, batch_size=batch_size) if eps == 0
        else robust_accuracy(model, x, y, eps=eps, norm=norm, steps=steps, restarts=restarts,
                             losses=losses, batch_size=batch_size, seed=seed)
        for eps in values
    ]
    return {"eps": np.array(values), "accuracy": np.array(accuracies), "norm": norm,
            "steps": steps, "restarts": restarts, "losses": tuple(losses)}
