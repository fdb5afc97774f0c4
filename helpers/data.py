"""MNIST, loaded offline when possible and always checked against known checksums.

Explained in notebook ``00_start_here.ipynb``.

* The 10,000 **test** images ship with the repository (``data/mnist_test.npz``), so every
  demo works without internet: :func:`load_mnist_test` never needs anything else.
* The 60,000 **training** images come, in this order, from the file named by the environment
  variable ``MNIST_NPZ`` (Keras' ``mnist.npz`` layout), else from
  ``keras.datasets.mnist.load_data()`` (downloads once, then uses Keras' cache).

Every array is checked against the SHA-256 of its raw ``uint8`` contents before it is used.
Images come back as float32 in [0, 1] with shape (N, 28, 28, 1); labels as int64.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = [
    "ChecksumError",
    "MnistUnavailableError",
    "DATA_DIR",
    "TEST_NPZ",
    "SHA256",
    "load_mnist",
    "load_mnist_test",
    "load_mnist_train",
    "array_sha256",
    "IMAGE_SHAPE",
    "NUM_CLASSES",
    "TEST_SIZE",
    "test_sample",
    "shift_images",
]

#: One MNIST image: 28 x 28 pixels, one (grey) channel. Every model maps (N, *IMAGE_SHAPE) to
#: NUM_CLASSES logits.
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
TEST_SIZE = 10_000

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TEST_NPZ = DATA_DIR / "mnist_test.npz"

#: SHA-256 of ``np.ascontiguousarray(a).tobytes()`` for each raw uint8 array (see data/README.md).
SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}

_HOW_TO_FIX = (
    "The 60,000 MNIST training images are not available on this machine.\n"
    "Fix it in one of two ways:\n"
    "  1. Point the environment variable MNIST_NPZ at a copy of Keras' mnist.npz, e.g.\n"
    "       export MNIST_NPZ=/path/to/mnist.npz      (Windows: set MNIST_NPZ=C:\\path\\to\\mnist.npz)\n"
    "  2. Or connect to the internet once and run\n"
    "       python -c \"import keras; keras.datasets.mnist.load_data()\"\n"
    "     which downloads it into Keras' cache (~/.keras/datasets/mnist.npz).\n"
    "The test images ship with this repository: load_mnist_test() works offline."
)


class ChecksumError(ValueError):
    """An array's contents differ from the known MNIST checksum."""


class MnistUnavailableError(RuntimeError):
    """The MNIST training images could be found neither via MNIST_NPZ nor via Keras."""


def array_sha256(array: np.ndarray) -> str:
    """SHA-256 hex digest of an array's raw bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _verified(name: str, array: np.ndarray, source: str) -> np.ndarray:
    """Return ``array`` if its checksum matches ``SHA256[name]``, else raise ChecksumError."""
    digest = array_sha256(array)
    if digest != SHA256[name]:
        raise ChecksumError(
            f"{name} from {source} has SHA-256 {digest}, expected {SHA256[name]}: "
            "the file is corrupt or is not the standard MNIST. Delete it and get a fresh copy."
        )
    return array


def _images(raw: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return (raw.astype(np.float32) / np.float32(255.0))[..., np.newaxis]


def _labels(raw: np.ndarray) -> np.ndarray:
    return raw.astype(np.int64)


def _read_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read ``keys`` from an ``.npz`` without pickle, checking each against its checksum."""
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in keys if k not in npz.files]
        if missing:
            raise ValueError(f"{path} has no array(s) {missing}; expected Keras' mnist.npz layout.")
        return {k: _verified(k, npz[k], str(path)) for k in keys}


def load_mnist_test(path: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test images shipped with the repository (no download, ever).

    Returns ``(x_test, y_test)``: float32 (10000, 28, 28, 1) in [0, 1] and int64 (10000,).
    """
    source = Path(path) if path is not None else TEST_NPZ
    if not source.is_file():
        raise FileNotFoundError(
            f"{source} is missing: it ships with the repository (git checkout -- data/)."
        )
    arrays = _read_npz(source, ("x_test", "y_test"))
    return _images(arrays["x_test"]), _labels(arrays["y_test"])


def _keras_train_arrays() -> dict[str, np.ndarray]:
    """Training arrays from Keras' loader; any failure becomes MnistUnavailableError."""
    try:
        import keras

        (x_train, y_train), _ = keras.datasets.mnist.load_data()
    except Exception as error:  # offline, proxy, corrupt cache...: one clear message
        raise MnistUnavailableError(f"{_HOW_TO_FIX}\n(Keras said: {error})") from error
    return {
        "x_train": _verified("x_train", x_train, "keras.datasets.mnist"),
        "y_train": _verified("y_train", y_train, "keras.datasets.mnist"),
    }


def load_mnist_train() -> tuple[np.ndarray, np.ndarray]:
    """The 60,000 MNIST training images: from ``$MNIST_NPZ`` if set, else from Keras.

    Returns ``(x_train, y_train)``: float32 (60000, 28, 28, 1) in [0, 1] and int64 (60000,).
    Raises :class:`MnistUnavailableError` with instructions when neither source works.
    """
    env_path = os.environ.get("MNIST_NPZ")
    if env_path:
        path = Path(env_path).expanduser()
        if not path.is_file():
            raise MnistUnavailableError(f"MNIST_NPZ={env_path} is not a file.\n{_HOW_TO_FIX}")
        arrays = _read_npz(path, ("x_train", "y_train"))
    else:
        arrays = _keras_train_arrays()
    return _images(arrays["x_train"]), _labels(arrays["y_train"])


def load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets.mnist.load_data()``.

    Images float32 (N, 28, 28, 1) in [0, 1], labels int64. The test split always comes from
    the repository; the training split as described in :func:`load_mnist_train`.
    """
    return load_mnist_train(), load_mnist_test()


def test_sample(every: int = 5, offset: int = 0, size: int = TEST_SIZE) -> np.ndarray:
    """Indices of every ``every``-th test image, starting at ``offset``: a sample spread evenly
    over the whole test set (``every=5``: 2,000 images, the series' reporting sample).

    Blocks of consecutive test images differ in difficulty (robust accuracy swings by about 10
    points between blocks of 1,000), so the series reports on a sample drawn from all of them.
    """
    for name, value in (("every", every), ("offset", offset), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    if every < 1 or offset >= every:
        raise ValueError(f"need every >= 1 and 0 <= offset < every, got every={every}, offset={offset}")
    return np.arange(offset, size, every)


def shift_images(images: np.ndarray, right: int = 0, down: int = 0) -> np.ndarray:
    """``images`` (N, 28, 28, 1) moved ``right`` pixels to the right and ``down`` pixels down
    (negative: left, up); pixels that leave the frame are lost and the uncovered ones are black.
    MNIST digits are centred by their centre of mass, so a shift shows a model a digit where it
    never saw one (notebook 05's position study)."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"expected images of shape (N, 28, 28, 1), got {images.shape}")
    for name, value in (("right", right), ("down", down)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or abs(value) >= IMAGE_SHAPE[0]:
            raise ValueError(f"{name} must be a whole number of pixels between -27 and 27, got {value!r}")
    moved = np.zeros_like(images)
    rows, cols = IMAGE_SHAPE[0], IMAGE_SHAPE[1]
    moved[:, max(down, 0):rows + min(down, 0), max(right, 0):cols + min(right, 0)] = \
        images[:, max(-down, 0):rows + min(-down, 0), max(-right, 0):cols + min(-right, 0)]
    return moved
