"""Input checks shared by every helper: bad input gets a ``ValueError`` that says what is wrong.

Images are (N, H, W, C) arrays with pixels in [0, 1] (MNIST: (N, 28, 28, 1)); labels are N
integers in [0, number of classes). Each check returns the value in the form the helpers
compute with (float32 images, int64 labels, Python numbers), so a caller checks and converts
in one line.
"""

from __future__ import annotations

import math

import keras
import numpy as np

__all__ = ["validate_images", "validate_labels", "validate_number", "validate_steps", "validate_count",
           "validate_probability"]


def validate_images(model: keras.Model, x: object) -> np.ndarray:
    """Return ``x`` as float32 numpy after checking rank, shape, finiteness and [0, 1] range."""
    array = np.asarray(x)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"images must be a numeric array, got dtype {array.dtype}")
    expected = tuple(model.input_shape[1:])
    if array.ndim != len(expected) + 1:
        raise ValueError(
            f"images must have rank {len(expected) + 1} (N, {', '.join(map(str, expected))}), "
            f"got shape {array.shape}; for one image use x[None] or x[i:i+1]"
        )
    if tuple(array.shape[1:]) != expected:
        raise ValueError(f"images must have shape (N, {', '.join(map(str, expected))}), got {array.shape}")
    array = array.astype(np.float32, copy=False)
    if array.size and not np.isfinite(array).all():
        raise ValueError("images contain NaN or infinite pixels")
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ValueError(
            f"pixels must lie in [0, 1], got range [{array.min():.4g}, {array.max():.4g}]"
            " (divide uint8 images by 255)"
        )
    return array


def validate_labels(model: keras.Model, y: object, count: int, what: str = "labels") -> np.ndarray:
    """Return labels as int64 (count,), accepting one int for all; ValueError if invalid."""
    num_classes = int(model.output_shape[-1])
    array = np.asarray(y)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer)
        or (np.issubdtype(array.dtype, np.floating) and np.all(np.mod(array, 1) == 0))
    ):
        raise ValueError(f"{what} must be integers, got {array.dtype} {array.ravel()[:5]}")
    if array.ndim == 0:
        array = np.full(count, int(array))
    if array.ndim != 1 or len(array) != count:
        raise ValueError(f"{what} must be one integer or {count} integers (one per image), got shape {array.shape}")
    if count and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"{what} must lie in [0, {num_classes - 1}], got {array.min()}..{array.max()}")
    return array.astype(np.int64)


def validate_number(value: object, name: str, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float after checking it is a real number >= 0 (finite unless allowed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number


def validate_count(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def validate_steps(steps: object) -> int:
    """Return ``steps`` as an int after checking it is a whole number >= 0."""
    return validate_count(steps, "steps", minimum=0)


def validate_probability(value: object, name: str, *, allow_zero: bool = True) -> float:
    """Return ``value`` as a float after checking it lies in [0, 1] (in (0, 1] without ``allow_zero``)."""
    number = validate_number(value, name)
    if number > 1 or (number == 0 and not allow_zero):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} is a probability and must lie in {interval}, got {value!r}")
    return number
