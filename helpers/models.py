"""The tutorial CNN, and the pretrained copies shipped in ``models/``.

Explained in notebooks ``00_start_here.ipynb`` and ``03_adversarial_training.ipynb``.

Every model here maps images of shape (N, 28, 28, 1) with pixels in [0, 1] to **logits**
(pre-softmax scores) of shape (N, 10). Pretrained files are Keras ``.keras`` archives whose
SHA-256 is recorded in ``models/SHA256SUMS``; :func:`load_pretrained` checks it before
loading, and loads with Keras' ``safe_mode`` (no pickle, no arbitrary code).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import keras

from helpers.data import IMAGE_SHAPE, NUM_CLASSES

__all__ = [
    "MODELS_DIR",
    "PRETRAINED",
    "ModelIntegrityError",
    "build_cnn",
    "build_judge",
    "file_sha256",
    "recorded_sha256",
    "load_pretrained",
    "card_figures",
    "crosscheck_figures",
]

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"

#: Pretrained model name -> file name inside ``models/``.
PRETRAINED = {
    "natural": "natural.keras",
    "robust": "robust.keras",
    "judge": "judge.keras",
}



class ModelIntegrityError(ValueError):
    """A weights file does not match the SHA-256 recorded in the repository."""


def build_cnn(name: str = "tutorial_cnn") -> keras.Model:
    """The classic TensorFlow-tutorial / Madry MNIST network, returning logits.

    conv 5x5x32 (same, ReLU) -> max-pool 2 -> conv 5x5x64 (same, ReLU) -> max-pool 2
    -> dense 1024 (ReLU) -> dense 10. Input (N, 28, 28, 1) in [0, 1]; output (N, 10) logits.
    3.27 million parameters.
    """
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE),
            layers.Conv2D(32, 5, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(1024, activation="relu", name="dense1"),
            layers.Dense(NUM_CLASSES, name="logits"),
        ],
        name=name,
    )


def build_judge(name: str = "judge") -> keras.Model:
    """A second, differently shaped classifier used only to *score* class traversals.

    Explained in notebook ``05_better_traversals.ipynb``. Three stages of two 3x3
    convolutions (16, 32, 64 channels) with strided down-sampling instead of max-pooling,
    global average pooling and a dense layer: a different architecture from
    :func:`build_cnn` (and about a third of its cost per image), so that what fools one is
    less likely to fool the other. Input (N, 28, 28, 1) in [0, 1]; output logits.
    """
    layers = keras.layers
    stack: list[keras.layers.Layer] = [keras.Input(shape=IMAGE_SHAPE)]
    for stage, channels in enumerate((16, 32, 64), start=1):
        stack += [
            layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"s{stage}_conv_a"),
            layers.Conv2D(
                channels, 3, strides=2 if stage < 3 else 1, padding="same", activation="relu",
                name=f"s{stage}_conv_b",
            ),
        ]
    stack += [
        layers.GlobalAveragePooling2D(name="pool"),
        layers.Dense(128, activation="relu", name="dense1"),
        layers.Dense(NUM_CLASSES, name="logits"),
    ]
    return keras.Sequential(stack, name=name)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recorded_sha256(directory: str | os.PathLike[str] = MODELS_DIR) -> dict[str, str]:
    """File name -> SHA-256 from ``SHA256SUMS`` (``sha256sum`` format) in ``directory``."""
    sums_path = Path(directory) / "SHA256SUMS"
    if not sums_path.is_file():
        raise ModelIntegrityError(f"{sums_path} is missing: no checksums to verify models against.")
    recorded: dict[str, str] = {}
    for line in sums_path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, file_name = line.split(maxsplit=1)
            recorded[file_name.lstrip("*")] = digest.lower()
    return recorded


def load_pretrained(name: str, directory: str | os.PathLike[str] | None = None) -> keras.Model:
    """Load a shipped model (``"natural"``, ``"robust"`` or ``"judge"``) after checking its SHA-256.

    ``directory`` defaults to the repository's ``models/``. The file must match the digest
    recorded in ``SHA256SUMS`` there; a changed or truncated file raises
    :class:`ModelIntegrityError` before Keras reads a byte of it. Returns a ``keras.Model``
    mapping (N, 28, 28, 1) images in [0, 1] to (N, 10) logits.
    """
    if name not in PRETRAINED:
        known = ", ".join(repr(k) for k in PRETRAINED)
        raise ValueError(f"unknown pretrained model {name!r}; choose one of {known}")
    folder = Path(directory) if directory is not None else MODELS_DIR
    file_name = PRETRAINED[name]
    path = folder / file_name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; retrain it with: python -m helpers.train {name}")
    expected = recorded_sha256(folder).get(file_name)
    if expected is None:
        raise ModelIntegrityError(f"no SHA-256 recorded for {file_name} in {folder / 'SHA256SUMS'}")
    actual = file_sha256(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path} has SHA-256 {actual} but {expected} is recorded: the file was changed or "
            "truncated. Restore it (git checkout -- models/) or retrain it."
        )
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    model.trainable = False
    return model


def card_figures(directory: str | os.PathLike[str] | None = None) -> dict:
    """The measured figures behind the model card: ``models/evaluation.json``, as a dict.

    Written by ``python tools/evaluate_models.py``: ``"models"`` maps each model to its table row
    (``"clean_10000"`` and ``"l2_2.0"``-style keys, fractions in [0, 1]), ``"protocol_text"`` and
    ``"sample_words"`` say how it was measured, and ``"compare_old"`` (when present) holds the
    robust model's old and new headline figures. Notebooks print from it so that every figure a
    reader sees is the card's.
    """
    path = (Path(directory) if directory is not None else MODELS_DIR) / "evaluation.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; make it with: python tools/evaluate_models.py")
    return json.loads(path.read_text())


def crosscheck_figures(path: str | os.PathLike[str] | None = None) -> dict:
    """The independent check of the card's attack: ``benchmarks/autoattack_crosscheck.json``, as a dict.

    Written by ``python -m benchmarks.autoattack_crosscheck``: ``"models"`` maps each checked model
    to its row, with ``"autoattack_percent"`` (ART's AutoAttack), ``"project_percent"`` (the card's
    strongest evaluation) and ``"images"``, ``"which_images"`` (the same images for both).
    """
    path = Path(path) if path is not None else MODELS_DIR.parent / "benchmarks" / "autoattack_crosscheck.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; make it with: python -m benchmarks.autoattack_crosscheck")
    return json.loads(path.read_text())
