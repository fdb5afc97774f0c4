"""The loss around one picture, drawn as a map: the "walker in fog" of notebook 02, made visible.

Explained in notebook ``02_pgd.ipynb``.

A picture is a point in a space of 784 directions (one per pixel), far too many to draw. A
*slice* keeps two of them: the direction in which the loss rises fastest (the gradient, what
FGSM follows) and a second one at right angles to it: random, or the rest of the way PGD went. :func:`loss_slice` measures the
cross-entropy loss on a grid of pictures ``image + a * u + b * v`` (pixels clipped to [0, 1]),
and :func:`path_coordinates` places the pictures of an attack's path on the same map (their
change, measured along ``u`` and ``v``; the rest of the change, in the other 782 directions, is
not drawn). Goodfellow et al. (2015) and Madry et al. (2018) drew such slices; this is our own
small version.
"""

from __future__ import annotations

import keras
import numpy as np

from helpers.attacks import attack_loss, input_gradient
from helpers.validation import validate_count, validate_images, validate_labels, validate_number

__all__ = ["slice_directions", "loss_slice", "path_coordinates"]


def _unit(vector: np.ndarray, problem: str) -> np.ndarray:
    """``vector`` scaled to L2 length 1; a ``ValueError`` saying ``problem`` if it has none."""
    length = float(np.sqrt(np.sum(vector.astype(np.float64) ** 2)))
    if length == 0:
        raise ValueError(problem)
    return (vector / length).astype(np.float32)


def slice_directions(model: keras.Model, image: np.ndarray, label: int, *, towards: np.ndarray | None = None,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two directions of L2 length 1 at right angles, shaped like ``image`` (28, 28, 1): the
    gradient of the loss (uphill, where FGSM looks), and the part of ``towards - image`` at right
    angles to it (e.g. ``towards`` = where PGD ended, so its path lies in the map), or, without
    ``towards``, a random direction (drawn with ``seed``)."""
    images = validate_images(model, np.asarray(image)[None])
    labels = validate_labels(model, label, 1)
    uphill = _unit(input_gradient(model, images, labels)[0],
                   "the loss is flat here (zero gradient): there is no uphill direction to draw")
    if towards is None:
        other = np.random.default_rng(seed).standard_normal(uphill.shape).astype(np.float32)
    else:
        other = np.asarray(towards, np.float32).reshape(uphill.shape) - images[0]
    across = _unit(other - np.sum(other * uphill) * uphill,  # remove the uphill part
                   "towards differs from the picture only along the gradient (or not at all): no second direction")
    return uphill, across


def loss_slice(model: keras.Model, image: np.ndarray, label: int, u: np.ndarray, v: np.ndarray, *,
               extent: float = 3.0, points: int = 41) -> dict[str, np.ndarray]:
    """The cross-entropy loss at ``image + a * u + b * v`` for ``a`` and ``b`` each on ``points``
    evenly spaced values in [-extent, extent] (L2 units), pixels clipped to [0, 1].

    Returns ``{"a": (points,), "b": (points,), "loss": (points, points)}`` with ``loss[j, i]``
    at ``a[i]``, ``b[j]`` (rows follow ``b``, as an image's rows follow its y axis).
    """
    images = validate_images(model, np.asarray(image)[None])
    labels = validate_labels(model, label, 1)
    extent = validate_number(extent, "extent")
    points = validate_count(points, "points", minimum=2)
    u, v = np.asarray(u, np.float32), np.asarray(v, np.float32)
    if u.shape != images.shape[1:] or v.shape != images.shape[1:]:
        raise ValueError(f"directions must have the picture's shape {images.shape[1:]}, got {u.shape} and {v.shape}")
    a = b = np.linspace(-extent, extent, points, dtype=np.float32)
    grid = images[0] + a[None, :, None, None, None] * u + b[:, None, None, None, None] * v
    grid = np.clip(grid.reshape(-1, *images.shape[1:]), 0.0, 1.0)
    loss = attack_loss(model, grid, np.full(len(grid), labels[0]))
    return {"a": a, "b": b, "loss": np.asarray(loss, np.float64).reshape(points, points)}


def path_coordinates(frames: np.ndarray, image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Where each picture of ``frames`` (T, 28, 28, 1) sits on the map of ``u`` and ``v``: (T, 2),
    its change from ``image`` measured along each direction."""
    frames, image = np.asarray(frames, np.float32), np.asarray(image, np.float32)
    if frames.shape[1:] != image.shape or image.shape != np.shape(u) or np.shape(u) != np.shape(v):
        raise ValueError(f"frames {np.shape(frames)}, image {np.shape(image)} and directions {np.shape(u)}, "
                         f"{np.shape(v)} do not fit together")
    flat = (frames - image[None]).reshape(len(frames), -1)
    return np.stack([flat @ np.ravel(u), flat @ np.ravel(v)], axis=1)
