"""Class traversal: push an image, step by step, towards looking like another digit.

Explained in notebook ``04_class_traversal.ipynb``.

The seed experiment raises the target digit's pre-softmax score (its *logit*) by steepest
ascent on the pixels: at each step the image moves a fixed L2 distance along the gradient
of that score, and pixels are clipped to [0, 1]. It is a targeted attack with no budget,
so it reuses the attack module's loop (:func:`helpers.attacks.ascent_loop`) with the
"logit" loss and an infinite radius. A robust model's gradients point along digit strokes,
so its traversals grow real strokes; a natural model's only add noise.

Options of the same function change the method: the ``objective`` ("logit", "ce" for
cross-entropy, "margin"), a ball of radius ``eps`` around the start that the path may not
leave, ``freeze_saturated`` (no push on pixels already at 0 or 1) and ``step_decay`` (steps
shrink as ``step_size / (1 + step_decay * i)`` so the path settles).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from helpers.attacks import ascent_loop, validate_images, validate_labels, validate_number, validate_steps

__all__ = ["DEFAULT_STEPS", "DEFAULT_STEP_SIZE", "OBJECTIVES", "traverse"]

#: Defaults of the seed experiment: 40 steps of L2 length 0.3 (at most 12 in all), chosen in
#: notebook 04: long enough for the robust model to draw the target digit, short enough that
#: the natural model mostly does not.
DEFAULT_STEPS = 40
DEFAULT_STEP_SIZE = 0.3
OBJECTIVES = ("logit", "ce", "margin")


def traverse(
    model: keras.Model,
    x: np.ndarray,
    target: int | np.ndarray,
    *,
    steps: int = DEFAULT_STEPS,
    step_size: float = DEFAULT_STEP_SIZE,
    objective: str = "logit",
    eps: float = math.inf,
    freeze_saturated: bool = False,
    step_decay: float = 0.0,
) -> np.ndarray:
    """All frames of a class traversal of images ``x`` towards ``target``.

    ``x``: (N, 28, 28, 1) in [0, 1]; ``target``: one digit for all images, or N digits.
    Each step moves every image ``step_size`` (L2) along the gradient of the objective
    (by default the target's logit), keeps it within ``eps`` (L2) of the start and clips
    pixels to [0, 1]. Returns float32 frames of shape (steps + 1, N, 28, 28, 1), frame 0
    being ``x``, every frame in [0, 1].
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose one of {list(OBJECTIVES)}")
    steps = validate_steps(steps)
    step_size = validate_number(step_size, "step_size")
    eps = validate_number(eps, "eps", allow_inf=True)
    step_decay = validate_number(step_decay, "step_decay")
    images = validate_images(model, x)
    targets = validate_labels(model, target, len(images), what="target")
    if len(images) == 0:
        return np.zeros((steps + 1, *images.shape), np.float32)
    loop = ascent_loop(model, "l2", objective, images.shape[1:], output="frames",
                       freeze_saturated=bool(freeze_saturated))
    start = tf.constant(images)
    frames = loop(start, start, tf.constant(targets), tf.constant(eps, tf.float32),
                  tf.constant(step_size, tf.float32), tf.constant(steps, tf.int32),
                  tf.constant(-1.0), tf.constant(step_decay, tf.float32))
    return frames.numpy()
