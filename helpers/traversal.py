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
from dataclasses import dataclass, replace
from typing import Optional

import keras
import numpy as np

from helpers.attacks import ascend
from helpers.validation import (validate_images, validate_labels, validate_number, validate_probability,
                                validate_steps)
from helpers.evaluation import predict, softmax

__all__ = ["DEFAULT_STEPS", "DEFAULT_STEP_SIZE", "OBJECTIVES", "METHODS", "TraversalMethod", "traverse",
           "target_probability", "first_confident"]

#: Defaults of the seed experiment: 40 steps of L2 length 0.3 (at most 12 in all), chosen in
#: notebook 04: long enough for the robust model to draw the target digit, short enough that
#: the natural model mostly does not.
DEFAULT_STEPS = 40
DEFAULT_STEP_SIZE = 0.3
OBJECTIVES = ("logit", "ce", "margin")


@dataclass(frozen=True)
class TraversalMethod:
    """Every setting of a traversal method (see :func:`traverse` for their meaning)."""

    steps: int = DEFAULT_STEPS
    step_size: float = DEFAULT_STEP_SIZE
    objective: str = "logit"
    eps: float = math.inf
    freeze_saturated: bool = False
    step_decay: float = 0.0
    stop_confidence: Optional[float] = None


#: ``"seed"``: the original experiment (notebook 04). ``"best"``: the nicest pictures, from the
#: measurements of ``tools/traversal_benchmark.py`` (``results/traversals.md``); its stop rule
#: ends each model's walks at a different size, so it does not compare models fairly.
#: ``"equal_budget"``: the method for comparing models, one L2 ball for all walks, chosen by
#: ``tools/equal_budget.py`` (``results/equal_budget.md``). Both explained in notebook 05.
METHODS: dict[str, TraversalMethod] = {
    "seed": TraversalMethod(),
    # the cross-entropy objective stops rewarding a walk once the target is likely; frozen
    # saturated pixels stop wasting the step on pixels the clip undoes; and the walk ends as
    # soon as the model is 99.9% sure, before noise gathers. Same 40 steps of 0.3 as the seed.
    "best": TraversalMethod(objective="ce", freeze_saturated=True, stop_confidence=0.999),
    # the fair comparison: every walk kept inside an L2 ball of 8 around its start, so both models
    # change their pictures by (almost) the same amount; the margin objective and steps of 0.4
    # were picked on the choose split by tools/equal_budget.py (results/equal_budget.md)
    "equal_budget": TraversalMethod(objective="margin", step_size=0.4, freeze_saturated=True, eps=8.0),
}


def traverse(
    model: keras.Model,
    x: np.ndarray,
    target: int | np.ndarray,
    *,
    method: str = "seed",
    steps: Optional[int] = None,
    step_size: Optional[float] = None,
    objective: Optional[str] = None,
    eps: Optional[float] = None,
    freeze_saturated: Optional[bool] = None,
    step_decay: Optional[float] = None,
    stop_confidence: Optional[float] = None,
) -> np.ndarray:
    """All frames of a class traversal of images ``x`` towards ``target``.

    ``x``: (N, 28, 28, 1) in [0, 1]; ``target``: one digit for all images, or N digits.
    ``method`` picks a set of settings from :data:`METHODS` (``"seed"``, the default, is the
    original experiment; ``"best"`` the nicest pictures; ``"equal_budget"`` the fair comparison
    of two models); any setting given explicitly replaces
    the method's. Each step moves every image ``step_size`` (L2) along the gradient of the
    ``objective`` ("logit": the target's raw score; "ce": its log-probability; "margin": its
    lead over the strongest other class), shrunk to ``step_size / (1 + step_decay * i)`` at
    step ``i``, with no push on pixels already at 0 or 1 if ``freeze_saturated``; then keeps
    it within ``eps`` (L2) of the start and clips pixels to [0, 1]. With ``stop_confidence``
    (a probability in (0, 1]) a walk stops at the first frame where the model gives the target
    at least that probability: its later frames repeat that frame (the walk has converged
    instead of gathering noise). Returns float32 frames of shape (steps + 1, N, 28, 28, 1),
    frame 0 being ``x``, every frame in [0, 1].
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {sorted(METHODS)}")
    given = {"steps": steps, "step_size": step_size, "objective": objective, "eps": eps,
             "freeze_saturated": freeze_saturated, "step_decay": step_decay,
             "stop_confidence": stop_confidence}
    settings = replace(METHODS[method], **{k: v for k, v in given.items() if v is not None})
    if settings.objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {settings.objective!r}; choose one of {list(OBJECTIVES)}")
    steps = validate_steps(settings.steps)
    step_size = validate_number(settings.step_size, "step_size")
    eps = validate_number(settings.eps, "eps", allow_inf=True)
    step_decay = validate_number(settings.step_decay, "step_decay")
    stop = settings.stop_confidence
    if stop is not None:
        stop = validate_probability(stop, "stop_confidence", allow_zero=False)
    images = validate_images(model, x)
    targets = validate_labels(model, target, len(images), what="target")
    if len(images) == 0:
        return np.zeros((steps + 1, *images.shape), np.float32)
    frames = ascend(model, images, targets, eps=eps, step_size=step_size, steps=steps, loss=settings.objective,
                    targeted=True, step_decay=step_decay, output="frames",
                    freeze_saturated=bool(settings.freeze_saturated))
    if stop is not None:
        frames = _stop_when_confident(model, frames, targets, float(stop))
    return frames


def target_probability(model: keras.Model, frames: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The model's probability of each walk's target at every frame: (steps + 1, N).

    ``frames``: (steps + 1, N, 28, 28, 1) as returned by :func:`traverse`; ``targets``: N digits.
    """
    count, size = frames.shape[0], frames.shape[1]
    probability = softmax(predict(model, frames.reshape(-1, *frames.shape[2:]))).reshape(count, size, -1)
    return probability[:, np.arange(size), np.asarray(targets)]


def first_confident(probability: np.ndarray, confidence: float) -> np.ndarray:
    """Per walk, the first frame whose target probability is >= ``confidence`` (else the last).

    ``probability``: (steps + 1, N), e.g. from :func:`target_probability`. This is where
    ``stop_confidence`` stops each walk.
    """
    reached = np.asarray(probability) >= confidence
    return np.where(reached.any(axis=0), reached.argmax(axis=0), len(reached) - 1)


def _stop_when_confident(model: keras.Model, frames: np.ndarray, targets: np.ndarray,
                         confidence: float) -> np.ndarray:
    """Freeze each walk from its first frame where the target's probability is >= ``confidence``."""
    first = first_confident(target_probability(model, frames, targets), confidence)
    after = np.arange(frames.shape[0])[:, None] > first[None, :]
    frames[after] = frames[first, np.arange(frames.shape[1])][np.nonzero(after)[1]]
    return frames
