"""Shared fixtures: the shipped test split, and tiny fixed models that make attack tests fast."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.data import load_mnist_test  # noqa: E402
from helpers.training import TrainConfig, fit  # noqa: E402


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist_test()


def tiny_cnn(seed: int = 0) -> keras.Model:
    """A small CNN (about 28k parameters) with fixed initial weights."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 5, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2D(32, 5, strides=2, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10),
    ])


@pytest.fixture(scope="session")
def small_model(mnist_test) -> keras.Model:
    """The tiny CNN trained for four epochs on test images 0..4999 (about 92% accurate on others)."""
    x, y = mnist_test
    model = tiny_cnn()
    fit(model, x[:5000], y[:5000], config=TrainConfig(epochs=4, batch_size=64, learning_rate=3e-3),
        progress=False, log=lambda _: None)
    return model


@pytest.fixture(scope="session")
def held_out(mnist_test) -> tuple[np.ndarray, np.ndarray]:
    """200 test images the small model never trained on."""
    x, y = mnist_test
    return x[5000:5200], y[5000:5200]


@pytest.fixture(scope="session")
def blind_model() -> keras.Model:
    """A model whose output ignores its input entirely: every gradient is exactly zero."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, kernel_initializer="zeros", bias_initializer="zeros"),
    ])
