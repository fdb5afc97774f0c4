"""Norms: how big a change is, and the three norm-specific pieces of every attack.

Explained in notebook ``02_pgd.ipynb``. A :class:`Norm` holds the steepest-ascent **step**
(L2: along the gradient, scaled to the step's length; L-infinity: every pixel by the step
size in the direction of its gradient's sign), the **projection** back into the ball of radius
``eps`` around the original image (it shrinks a change that left the ball, never grows one),
the **random start** inside that ball, and the **measure** of a change's size. The attack loop
(:mod:`helpers.attacks`) never branches on the norm: a new norm is a new ``Norm``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf

__all__ = ["Norm", "NORMS", "get_norm"]

_TINY = 1e-12  # guards every division by a length, so a zero gradient never makes a NaN


def _per_example_l2(tensor: tf.Tensor) -> tf.Tensor:
    """L2 length of each example, shaped (N, 1, 1, ...) to broadcast against ``tensor``."""
    axes = tf.range(1, tf.rank(tensor))
    return tf.sqrt(tf.reduce_sum(tf.square(tensor), axis=axes, keepdims=True))


# --- L2 ---------------------------------------------------------------------------------
def _l2_step(grad: tf.Tensor, step_size: tf.Tensor) -> tf.Tensor:
    """Move ``step_size`` along the gradient's direction (gradient over its length)."""
    return step_size * grad / tf.maximum(_per_example_l2(grad), _TINY)


def _l2_project(delta: tf.Tensor, eps: tf.Tensor) -> tf.Tensor:
    """Shrink ``delta`` back onto the L2 ball of radius ``eps`` if it left it (never grows it)."""
    return delta * tf.minimum(1.0, eps / tf.maximum(_per_example_l2(delta), _TINY))


def _l2_random_start(shape: tuple[int, ...], eps: float, rng: np.random.Generator) -> np.ndarray:
    """A point drawn uniformly from the L2 ball of radius ``eps``, one per example."""
    direction = rng.standard_normal(shape)
    axes = tuple(range(1, len(shape)))
    direction /= np.maximum(np.sqrt((direction**2).sum(axis=axes, keepdims=True)), _TINY)
    dims = math.prod(shape[1:])
    radius = eps * rng.uniform(size=(shape[0],) + (1,) * (len(shape) - 1)) ** (1.0 / dims)
    return (direction * radius).astype(np.float32)


# --- L-infinity -------------------------------------------------------------------------
def _linf_step(grad: tf.Tensor, step_size: tf.Tensor) -> tf.Tensor:
    """Move every pixel by ``step_size`` in the direction of its gradient's sign."""
    return step_size * tf.sign(grad)


def _linf_project(delta: tf.Tensor, eps: tf.Tensor) -> tf.Tensor:
    """Clip every pixel's change to [-eps, eps]."""
    return tf.clip_by_value(delta, -eps, eps)


def _linf_random_start(shape: tuple[int, ...], eps: float, rng: np.random.Generator) -> np.ndarray:
    """Every pixel's change drawn uniformly from [-eps, eps]."""
    return rng.uniform(-eps, eps, size=shape).astype(np.float32)


@dataclass(frozen=True)
class Norm:
    """The three norm-specific pieces of a PGD attack."""

    name: str
    step: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    project: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    random_start: Callable[[tuple[int, ...], float, np.random.Generator], np.ndarray]
    measure: Callable[[np.ndarray], np.ndarray]


def _measure_l2(delta: np.ndarray) -> np.ndarray:
    return np.sqrt((np.asarray(delta, np.float64).reshape(len(delta), -1) ** 2).sum(axis=1))


def _measure_linf(delta: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(delta, np.float64).reshape(len(delta), -1)).max(axis=1, initial=0.0)


NORMS: dict[str, Norm] = {
    "l2": Norm("l2", _l2_step, _l2_project, _l2_random_start, _measure_l2),
    "linf": Norm("linf", _linf_step, _linf_project, _linf_random_start, _measure_linf),
}



def get_norm(norm: "str | Norm") -> Norm:
    """The :class:`Norm` named ``norm`` (a key of :data:`NORMS`), or ``norm`` itself if it is one."""
    if isinstance(norm, Norm):
        return norm
    if not isinstance(norm, str) or norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {sorted(NORMS)} or pass a Norm")
    return NORMS[norm]
