"""Drawing with a classifier: digits from nothing, repairs of erased parts, sketches cleaned up.

Explained in notebook ``06_robust_models_draw.ipynb``.

Santurkar et al. (2019, "Image Synthesis with a Single (Robust) Classifier") showed that a
robust classifier alone can generate, inpaint and turn sketches into pictures, and that all
three are the same targeted L2 steepest descent on the classifier's loss, differing only in
where the walk starts and which pixels may move (their code: MadryLab's
``robustness_applications``). This module does the same on MNIST with the series' one loop,
:func:`helpers.attacks.ascend`, and nothing else:

* :func:`draw_digits`: start from a neutral picture (the mean training digit plus faint noise,
  or a sample of a Gaussian fitted on all training digits, whatever their class) and push it
  towards each requested digit;
* :func:`repair`: only the pixels of a mask may move (``movable``); they start as the mean
  digit's and are pushed towards the digit the model reads in what is left (its few likeliest
  readings are tried; the one it ends surest of wins);
* :func:`clean_up`: a rough sketch pushed towards the model's reading (or a chosen digit) inside
  a small L2 ball around it, so it stays the reader's sketch.

The starts ship in ``data/drawing_starts.npz`` (checked against :data:`STARTS_SHA256`, see
``data/README.md``), so drawing works offline; :func:`fit_starts` rebuilds them.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

from helpers.attacks import ascend
from helpers.data import DATA_DIR, IMAGE_SHAPE, NUM_CLASSES, ChecksumError, array_sha256
from helpers.evaluation import predict, softmax
from helpers.validation import validate_count, validate_images, validate_labels, validate_number

__all__ = ["STARTS_NPZ", "STARTS_SHA256", "DRAW_STEPS", "DRAW_STEP_SIZE", "REPAIR_CANDIDATES", "START_NOISE",
           "fit_starts", "load_starts", "starting_images", "draw_digits", "repair", "clean_up", "centre_mask"]

STARTS_NPZ = DATA_DIR / "drawing_starts.npz"
#: SHA-256 (:func:`helpers.data.array_sha256`) of each array in ``data/drawing_starts.npz``.
STARTS_SHA256 = {
    "mean": "2346044bd191b0e794d74caf75fd0f1353e948dc74f278d420fb404b081e597a",
    "components": "9730253c6270a8f38631433ac8d0ecbadb3a708957a6d1d860c6f2180c044ce5",
    "scales": "be72f27855b20d4713715d897f4cf7edb937df8cb849a8a82b0f6aba6fc371b5",
}

#: The recommended settings: 40 steps of L2 length 0.2, cross-entropy, from the mean digit plus
#: Gaussian noise of standard deviation 0.02 per pixel. The step size was chosen over 0.3 on
#: seed 0 by ``tools/drawing_benchmark.py`` (realism 4.46 vs 5.02, both 100% judged right) and is
#: reported there on seed 1 (``results/drawing.md``); the noise level (0.02 over 0.05) and the
#: 40 steps (over 60) were compared the same way on seed 0 before the script existed.
DRAW_STEPS = 40
DRAW_STEP_SIZE = 0.2
START_NOISE = 0.02
#: Repairs try the model's 3 most likely readings of the damaged digit and keep the surest.
REPAIR_CANDIDATES = 3
#: Principal directions kept for the "gaussian" start (how digits vary around the mean).
COMPONENTS = 40


def fit_starts(images: np.ndarray, components: int = COMPONENTS) -> dict[str, np.ndarray]:
    """The arrays of ``data/drawing_starts.npz`` fitted on training ``images`` (N, 28, 28, 1).

    ``mean`` (28, 28, 1): the mean digit; ``components`` (K, 784) and ``scales`` (K,): the K
    strongest directions in which digits vary around it (principal components) and their standard
    deviations: together a Gaussian of all digits, of no class in particular.
    """
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    mean = flat.mean(axis=0)
    _, singular, directions = np.linalg.svd(flat - mean, full_matrices=False)
    return {"mean": mean.reshape(IMAGE_SHAPE).astype(np.float32),
            "components": directions[:components].astype(np.float32),
            "scales": (singular[:components] / math.sqrt(len(flat) - 1)).astype(np.float32)}


def load_starts(path: str | Path = STARTS_NPZ) -> dict[str, np.ndarray]:
    """The shipped mean digit and Gaussian (see :func:`fit_starts`), checked against their checksums."""
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in STARTS_SHA256}
    for name, array in arrays.items():
        if array_sha256(array) != STARTS_SHA256[name]:
            raise ChecksumError(f"{path}: array {name!r} differs from its recorded checksum (data/README.md)")
    return arrays


def starting_images(count: int, start: str | np.ndarray = "mean", *, seed: int = 0,
                    noise: float = START_NOISE) -> np.ndarray:
    """``count`` neutral starting pictures (count, 28, 28, 1) in [0, 1].

    ``start``: "mean" (the mean training digit plus Gaussian noise of standard deviation
    ``noise`` per pixel), "gaussian" (samples of the Gaussian of all digits, for varied
    drawings) or an image (28, 28, 1) used for every drawing (plus ``noise``).
    """
    count = validate_count(count, "count", minimum=0)
    noise = validate_number(noise, "noise")
    rng = np.random.default_rng(seed)
    if isinstance(start, str):
        if start not in ("mean", "gaussian"):
            raise ValueError(f"unknown start {start!r}; choose 'mean', 'gaussian' or give an image (28, 28, 1)")
        starts = load_starts()
        base = np.repeat(starts["mean"][None], count, axis=0)
        if start == "gaussian":
            codes = rng.standard_normal((count, len(starts["scales"]))) * starts["scales"]
            base = base + (codes @ starts["components"]).reshape(count, *IMAGE_SHAPE)
    else:
        image = np.asarray(start)
        if image.shape != IMAGE_SHAPE or not np.issubdtype(image.dtype, np.number):
            raise ValueError(f"a start image must be a numeric array of shape {IMAGE_SHAPE}, got "
                             f"{getattr(image, 'shape', None)}; or give start='mean' or 'gaussian'")
        if not (np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1):
            raise ValueError("a start image's pixels must lie in [0, 1] (divide uint8 images by 255)")
        base = np.repeat(image[None].astype(np.float64), count, axis=0)
    base = base + noise * rng.standard_normal(base.shape)
    return np.clip(base, 0.0, 1.0).astype(np.float32)


def draw_digits(model: keras.Model, digits: int | np.ndarray, *, start: str | np.ndarray = "mean", seed: int = 0,
                steps: int = DRAW_STEPS, step_size: float = DRAW_STEP_SIZE, noise: float = START_NOISE) -> np.ndarray:
    """One drawing per requested digit (N, 28, 28, 1) in [0, 1], drawn by ``model`` from nothing.

    ``digits``: one digit or N digits in 0-9. Each drawing starts at a neutral picture
    (:func:`starting_images` with ``start``, ``seed`` and ``noise``) and takes ``steps``
    steps of L2 length ``step_size`` down the cross-entropy of its digit (a targeted attack with
    no budget). The defaults are the recommended settings.
    """
    digits = np.atleast_1d(np.asarray(digits))
    if digits.ndim != 1:
        raise ValueError(f"digits must be one digit or a list of digits, got shape {digits.shape}")
    targets = validate_labels(model, digits, len(digits), what="digits")
    starts = starting_images(len(targets), start, seed=seed, noise=noise)
    if len(targets) == 0:
        return starts
    return ascend(model, starts, targets, eps=math.inf, step_size=validate_number(step_size, "step_size"),
                  steps=validate_count(steps, "steps", minimum=0), loss="ce", targeted=True)


def _check_mask(mask: object, shape: tuple[int, ...]) -> np.ndarray:
    """``mask`` as a boolean array of ``shape``, or a ValueError that says what is wrong."""
    array = np.asarray(mask)
    if array.dtype != bool:
        raise ValueError(f"mask must be a boolean array (True = may change), got dtype {array.dtype}; "
                         "e.g. mask = np.zeros(images.shape, bool); mask[:, 9:19, 9:19] = True")
    if array.shape != shape:
        raise ValueError(f"mask must have the images' shape {shape}, got {array.shape}")
    return array


def centre_mask(shape: tuple[int, ...], size: int = 10) -> np.ndarray:
    """A boolean mask of ``shape`` (N, 28, 28, 1), true on a ``size`` x ``size`` block in the middle."""
    size = validate_count(size, "size")
    mask = np.zeros(shape, bool)
    top = (shape[1] - size) // 2
    left = (shape[2] - size) // 2
    mask[:, top:top + size, left:left + size] = True
    return mask


def repair(model: keras.Model, images: np.ndarray, mask: np.ndarray, *, target: int | np.ndarray | None = None,
           candidates: int = REPAIR_CANDIDATES, steps: int = DRAW_STEPS,
           step_size: float = DRAW_STEP_SIZE) -> np.ndarray:
    """Fill the erased part of each image: only pixels where ``mask`` is true may change.

    ``images`` (N, 28, 28, 1) in [0, 1]; ``mask``: a boolean array of the same shape. The masked
    pixels start as the mean training digit's (a neutral guess) and take ``steps`` steps of L2
    length ``step_size`` towards a digit. Which digit: ``target`` if given; else the model's own
    reading decides: its ``candidates`` most likely digits for the damaged image are each tried,
    and the repair the model ends up most sure of is kept. The other pixels come back exactly
    as they were.
    """
    images = validate_images(model, images)
    movable = _check_mask(mask, images.shape)
    candidates = validate_count(candidates, "candidates")
    options = {"eps": math.inf, "step_size": validate_number(step_size, "step_size"), "loss": "ce",
               "steps": validate_count(steps, "steps", minimum=0), "targeted": True, "movable": movable}
    if len(images) == 0:
        return images
    start = np.where(movable, load_starts()["mean"][None], images).astype(np.float32)
    if target is not None:
        targets = validate_labels(model, target, len(images), what="target")
        return ascend(model, images, targets, start=start, **options)
    ranked = np.argsort(-predict(model, start), axis=1)[:, :min(candidates, NUM_CLASSES)]
    best, best_probability = start, np.full(len(images), -1.0)
    for column in ranked.T:
        repaired = ascend(model, images, column.astype(np.int64), start=start, **options)
        probability = softmax(predict(model, repaired))[np.arange(len(images)), column]
        better = probability > best_probability
        best = np.where(better[:, None, None, None], repaired, best)
        best_probability = np.maximum(probability, best_probability)
    return best


def clean_up(model: keras.Model, sketch: np.ndarray, *, target: int | np.ndarray | None = None,
             budget: float = 3.0, steps: int = 20, step_size: float | None = None) -> np.ndarray:
    """Rough sketches (N, 28, 28, 1) in [0, 1] made into digits within an L2 ``budget`` of them.

    Each sketch is pushed towards ``target`` (default: the digit the model reads in it) by
    ``steps`` steps (default length ``2.5 * budget / steps``, so the walk can cross the ball)
    that never leave the ball of radius ``budget`` around the sketch: the result is still the
    reader's sketch, only tidier. ``budget`` 0 returns the sketch.
    """
    sketch = validate_images(model, sketch)
    budget = validate_number(budget, "budget")
    steps = validate_count(steps, "steps", minimum=0)
    step_size = 2.5 * budget / max(steps, 1) if step_size is None else validate_number(step_size, "step_size")
    if len(sketch) == 0:
        return sketch
    targets = predict(model, sketch).argmax(axis=1) if target is None else target
    targets = validate_labels(model, targets, len(sketch), what="target")
    return ascend(model, sketch, targets, eps=budget, step_size=step_size, steps=steps, loss="ce", targeted=True)

