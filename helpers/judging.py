"""Scoring class traversals: did the walk reach the target, does it look real, how far did it go?

Explained in notebook ``05_better_traversals.ipynb``.

A traversal is judged on its final frame by three numbers:

* **success**: an independent, adversarially trained classifier (the *judge*, a different
  architecture from the models that make the walks, see :func:`helpers.models.build_judge`)
  gives the target class at least ``threshold`` (50%) probability;
* **realism**: the L2 distance from the final frame to the nearest *real* image of the target
  class in a reference set (smaller is more realistic). The series uses held-out test digits
  that no model trained on and no walk started from (:func:`benchmark_split`), so a walk cannot
  score well by copying a digit a model memorised, and the measure works offline;
* **size**: the L2 distance from the starting image (how much the walk changed).

The benchmark set (:func:`benchmark_split`) is the first 10 test images of every digit, each
sent to every other digit: 10 x 10 x 9 = 900 traversals.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from helpers.data import NUM_CLASSES, shift_images
from helpers.validation import validate_images, validate_labels, validate_number
from helpers.evaluation import predict, softmax
from helpers.traversal import traverse

__all__ = ["Benchmark", "SPLITS", "benchmark_split", "nearest_distance", "nearest_reference", "judge_probability", "score",
           "success_matrix", "relative_realism", "walk_scores", "shift_starts", "SHIFT_DIRECTIONS",
           "NUM_CLASSES"]


@dataclass(frozen=True)
class Benchmark:
    """Traversal starts and targets, and the reference digits used to measure realism."""

    images: np.ndarray  # (M, 28, 28, 1): every start image, repeated once per target
    sources: np.ndarray  # (M,) the start images' true digits
    targets: np.ndarray  # (M,) the digit each walk aims for (never its source)
    start_index: np.ndarray  # (M,) index of the start image in the split it came from
    reference_images: np.ndarray  # (R, 28, 28, 1) real digits, none of them a start
    reference_labels: np.ndarray  # (R,)


SPLITS = ("choose", "report")


def benchmark_split(x: np.ndarray, y: np.ndarray, per_digit: int = 10, split: str = "choose") -> Benchmark:
    """``per_digit`` images of every digit, each sent to every other digit.

    ``split="choose"`` (the default) takes the first ``per_digit`` images of every digit: the
    walks settings are picked on. ``split="report"`` takes ``per_digit`` others, evenly spread
    over the rest of the set (never one of the first ``per_digit``), for the figures that are
    reported: choosing and reporting on the same walks would flatter the choice. Everything
    that is not a start of this split becomes the reference set for realism. With the 10,000
    test images and ``per_digit=10``: 900 traversals and 9,900 reference digits. Walks are
    ordered by source digit, then start image, then target.
    """
    if isinstance(per_digit, bool) or not isinstance(per_digit, (int, np.integer)) or per_digit < 1:
        raise ValueError(f"per_digit must be a positive whole number, got {per_digit!r}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1) or y.shape != (len(x),):
        raise ValueError(f"expected images (N, 28, 28, 1) and N labels, got {x.shape} and {y.shape}")
    starts = []
    for digit in range(NUM_CLASSES):
        found = np.flatnonzero(y == digit)
        if split == "report":
            found = found[per_digit:]
            found = found[np.linspace(0, len(found) - 1, per_digit).round().astype(int)] if len(found) else found
        found = np.unique(found[:per_digit])
        if len(found) < per_digit:
            raise ValueError(f"only {len(found)} images of digit {digit} for the {split!r} split, need {per_digit}")
        starts.extend(found)
    start_index = np.repeat(np.asarray(starts), NUM_CLASSES - 1)
    targets = np.array([t for s in starts for t in range(NUM_CLASSES) if t != y[s]], np.int64)
    keep = np.ones(len(x), bool)
    keep[starts] = False
    return Benchmark(images=x[start_index], sources=y[start_index].astype(np.int64), targets=targets,
                     start_index=start_index, reference_images=x[keep], reference_labels=y[keep])


def nearest_reference(images: np.ndarray, classes: np.ndarray, reference_images: np.ndarray,
                      reference_labels: np.ndarray, *, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """For each image, the nearest reference image of its class in ``classes`` (L2 in pixels).

    Returns ``(distances, indices)``: the distance, and the index into ``reference_images``.
    """
    images = np.asarray(images, np.float32).reshape(len(images), -1)
    classes = np.asarray(classes)
    labels = np.asarray(reference_labels)
    reference = np.asarray(reference_images, np.float32).reshape(len(reference_images), -1)
    if classes.shape != (len(images),):
        raise ValueError(f"need one class per image, got {classes.shape} for {len(images)} images")
    if reference.shape[1:] != images.shape[1:] or labels.shape != (len(reference),):
        raise ValueError("reference images must have the images' shape and one label each")
    distances = np.empty(len(images), np.float64)
    indices = np.empty(len(images), np.int64)
    for digit in np.unique(classes):
        members = np.flatnonzero(labels == digit)
        if len(members) == 0:
            raise ValueError(f"no reference image of class {digit}")
        pool = reference[members].astype(np.float64)
        pool_sq = np.sum(pool ** 2, axis=1)
        rows = np.flatnonzero(classes == digit)
        for start in range(0, len(rows), batch):
            chosen = rows[start:start + batch]
            part = images[chosen].astype(np.float64)
            squared = np.sum(part ** 2, axis=1)[:, None] - 2 * part @ pool.T + pool_sq[None, :]
            best = squared.argmin(axis=1)
            distances[chosen] = np.sqrt(np.maximum(squared[np.arange(len(chosen)), best], 0.0))
            indices[chosen] = members[best]
    return distances, indices


def nearest_distance(images: np.ndarray, classes: np.ndarray, reference_images: np.ndarray,
                     reference_labels: np.ndarray, *, batch: int = 512) -> np.ndarray:
    """L2 distance from each image to the nearest reference image of its class in ``classes``."""
    return nearest_reference(images, classes, reference_images, reference_labels, batch=batch)[0]


def judge_probability(judge: keras.Model, images: np.ndarray, targets: np.ndarray | int,
                      *, batch_size: int = 500) -> np.ndarray:
    """The judge's softmax probability of each image's target class."""
    images = validate_images(judge, images)
    targets = validate_labels(judge, targets, len(images), what="target")
    return softmax(predict(judge, images, batch_size=batch_size))[np.arange(len(images)), targets]


def score(judge: keras.Model, starts: np.ndarray, finals: np.ndarray, targets: np.ndarray,
          reference_images: np.ndarray, reference_labels: np.ndarray, *,
          threshold: float = 0.5) -> dict[str, np.ndarray]:
    """Per-walk ``probability``, ``success``, ``realism`` and ``size`` (see the module's text)."""
    threshold = validate_number(threshold, "threshold")
    if threshold > 1:
        raise ValueError(f"threshold is a probability and must lie in [0, 1], got {threshold}")
    starts = np.asarray(starts, np.float32)
    finals = np.asarray(finals, np.float32)
    if starts.shape != finals.shape:
        raise ValueError(f"starts {starts.shape} and final frames {finals.shape} differ in shape")
    probability = judge_probability(judge, finals, targets)
    size = np.sqrt(np.sum((finals - starts).reshape(len(finals), -1).astype(np.float64) ** 2, axis=1))
    return {
        "probability": probability,
        "success": probability >= threshold,
        "realism": nearest_distance(finals, np.asarray(targets), reference_images, reference_labels),
        "size": size,
    }


def success_matrix(sources: np.ndarray, targets: np.ndarray, success: np.ndarray) -> np.ndarray:
    """10 x 10 success rates, rows the source digit, columns the target (NaN where no walk)."""
    sources, targets = np.asarray(sources), np.asarray(targets)
    success = np.asarray(success, np.float64)
    if not (sources.shape == targets.shape == success.shape):
        raise ValueError("sources, targets and success must have the same length")
    matrix = np.full((NUM_CLASSES, NUM_CLASSES), np.nan)
    for s in range(NUM_CLASSES):
        for t in range(NUM_CLASSES):
            chosen = (sources == s) & (targets == t)
            if chosen.any():
                matrix[s, t] = success[chosen].mean()
    return matrix


def relative_realism(images: np.ndarray, classes: np.ndarray, reference_images: np.ndarray,
                     reference_labels: np.ndarray, real_images: np.ndarray,
                     real_labels: np.ndarray) -> dict[str, np.ndarray | float]:
    """Realism of made-up pictures next to the real digits' own yardstick (notebook 06).

    ``distance``: each image's L2 distance to the nearest reference digit of its class in
    ``classes``; ``yardstick``: the mean of the same distance for ``real_images`` (real
    held-out digits, none of them in the reference set); ``ratio``: ``distance / yardstick``,
    so 1.0 means "as close to a real digit as real digits are", more is less real. The reference
    set must hold none of the images' starting points. What it misses: it is a pixel distance,
    so a blurry average digit sits close to many real ones, and a crisp digit drawn off-centre
    sits far from all of them; it says nothing about whether a person would read the class.
    """
    distance = nearest_distance(images, classes, reference_images, reference_labels)
    yardstick = float(nearest_distance(real_images, real_labels, reference_images, reference_labels).mean())
    return {"distance": distance, "yardstick": yardstick, "ratio": distance / yardstick}


#: The direction (right, down) of a shifted start, taken in turn by start index (:func:`shift_starts`).
SHIFT_DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1))


def shift_starts(images: np.ndarray, start_index: np.ndarray, shift: int, *, back: bool = False) -> np.ndarray:
    """Each image moved ``shift`` pixels right, down, left or up, picked in turn by its
    ``start_index`` (so every copy of one start moves the same way); ``back=True`` undoes it.
    The position study of notebook 05 walks from such off-centre digits."""
    images = np.asarray(images, np.float32)
    start_index = np.asarray(start_index)
    if start_index.shape != (len(images),):
        raise ValueError(f"need one start index per image, got {start_index.shape} for {len(images)} images")
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or not 0 <= shift < 28:
        raise ValueError(f"shift must be a whole number of pixels in [0, 27], got {shift!r}")
    sign = -1 if back else 1
    moved = np.empty_like(images)
    for which, (right, down) in enumerate(SHIFT_DIRECTIONS):
        chosen = start_index % len(SHIFT_DIRECTIONS) == which
        moved[chosen] = shift_images(images[chosen], sign * shift * right, sign * shift * down)
    return moved


def walk_scores(model: keras.Model, judge: keras.Model, bench: Benchmark, *, yardstick: float, shift: int = 0,
                **settings) -> dict[str, float]:
    """Walk every start of ``bench`` to its target with ``traverse(model, ..., **settings)`` and
    score the final frames: the share the judge accepts (``success``), the mean distance to the
    nearest real digit of the target (``realism``), that distance over ``yardstick`` (the real
    digits' own, ``realism_ratio``) and the mean L2 size of the change (``size``).

    With ``shift``, every walk starts from its digit moved ``shift`` pixels (:func:`shift_starts`)
    and its final frame is moved back before the judge and the realism measure see it, so they
    score the digit drawn, not where it sits.
    """
    yardstick = validate_number(yardstick, "yardstick")
    if yardstick == 0:
        raise ValueError("yardstick must be positive: it is the real digits' own nearest distance")
    starts = shift_starts(bench.images, bench.start_index, shift)
    finals = traverse(model, starts, bench.targets, **settings)[-1]
    size = np.sqrt(np.sum((finals - starts).reshape(len(finals), -1).astype(np.float64) ** 2, axis=1))
    finals = shift_starts(finals, bench.start_index, shift, back=True)
    scores = score(judge, bench.images, finals, bench.targets, bench.reference_images, bench.reference_labels)
    return {"success": float(scores["success"].mean()), "realism": float(scores["realism"].mean()),
            "realism_ratio": float(scores["realism"].mean() / yardstick), "size": float(size.mean())}
