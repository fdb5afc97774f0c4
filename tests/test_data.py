"""MNIST loading: shapes, ranges, checksums, the MNIST_NPZ / Keras order and the offline error."""

from __future__ import annotations

import numpy as np
import pytest

import helpers.data as data
from helpers.data import ChecksumError, MnistUnavailableError, array_sha256, load_mnist, load_mnist_test, load_mnist_train


def test_shipped_test_split_matches_checksums_and_sanity_figures(mnist_test):
    x, y = mnist_test
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert list(y[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert abs(float(x.mean()) * 255 - 33.7912) < 1e-3
    assert array_sha256(np.rint(x[..., 0] * 255).astype(np.uint8)) == data.SHA256["x_test"]
    assert array_sha256(y.astype(np.uint8)) == data.SHA256["y_test"]


def _fake_train_npz(path, monkeypatch, count=20, seed=0):
    """A small npz in Keras' layout whose checksums are registered for the duration of a test."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, size=count, dtype=np.uint8)
    np.savez(path, x_train=x_train, y_train=y_train)
    monkeypatch.setitem(data.SHA256, "x_train", array_sha256(x_train))
    monkeypatch.setitem(data.SHA256, "y_train", array_sha256(y_train))
    return x_train, y_train


def test_training_split_comes_from_mnist_npz_first(tmp_path, monkeypatch):
    x_raw, y_raw = _fake_train_npz(tmp_path / "mnist.npz", monkeypatch)
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "mnist.npz"))
    monkeypatch.setattr("keras.datasets.mnist.load_data", lambda: pytest.fail("Keras must not be asked"))
    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert x_train.shape == (20, 28, 28, 1) and x_train.dtype == np.float32
    np.testing.assert_array_equal(x_train[..., 0], x_raw / np.float32(255))
    assert y_train.dtype == np.int64 and list(y_train) == list(y_raw)
    assert x_test.shape == (10000, 28, 28, 1)


def test_training_split_falls_back_to_keras(tmp_path, monkeypatch):
    x_raw, y_raw = _fake_train_npz(tmp_path / "unused.npz", monkeypatch)
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setattr("keras.datasets.mnist.load_data", lambda: ((x_raw, y_raw), (None, None)))
    x_train, y_train = load_mnist_train()
    assert x_train.shape == (20, 28, 28, 1) and list(y_train) == list(y_raw)


def test_offline_without_mnist_npz_says_how_to_fix_it(monkeypatch):
    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setattr("keras.datasets.mnist.load_data", offline)
    with pytest.raises(MnistUnavailableError) as raised:
        load_mnist_train()
    message = str(raised.value)
    assert "export MNIST_NPZ=" in message and "load_data()" in message and "URL fetch failure" in message
    assert load_mnist_test()[0].shape == (10000, 28, 28, 1)  # the test split still works offline


def test_mnist_npz_pointing_nowhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "missing.npz"))
    with pytest.raises(MnistUnavailableError, match="is not a file"):
        load_mnist_train()


def test_wrong_contents_are_refused(tmp_path, monkeypatch):
    x_raw, y_raw = _fake_train_npz(tmp_path / "mnist.npz", monkeypatch)
    tampered = x_raw.copy()
    tampered[0, 0, 0] ^= 1
    np.savez(tmp_path / "mnist.npz", x_train=tampered, y_train=y_raw)
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "mnist.npz"))
    with pytest.raises(ChecksumError, match="x_train"):
        load_mnist_train()


def test_keras_arrays_are_checked_too(monkeypatch):
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    fake = np.zeros((5, 28, 28), np.uint8)
    monkeypatch.setattr("keras.datasets.mnist.load_data", lambda: ((fake, np.zeros(5, np.uint8)), (None, None)))
    with pytest.raises(ChecksumError):
        load_mnist_train()


def test_corrupt_test_file_is_refused(tmp_path, mnist_test):
    x, y = mnist_test
    raw = np.rint(x[..., 0] * 255).astype(np.uint8)
    raw[5, 10, 10] = 255 - raw[5, 10, 10]
    np.savez_compressed(tmp_path / "test.npz", x_test=raw, y_test=y.astype(np.uint8))
    with pytest.raises(ChecksumError, match="x_test"):
        load_mnist_test(tmp_path / "test.npz")


def test_missing_arrays_and_files(tmp_path):
    np.savez(tmp_path / "other.npz", images=np.zeros(3))
    with pytest.raises(ValueError, match="x_test"):
        load_mnist_test(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        load_mnist_test(tmp_path / "nothing.npz")


def test_shift_images_moves_the_digit_and_fills_with_black(mnist_test):
    x = mnist_test[0][:3]
    moved = data.shift_images(x, right=3, down=-2)
    np.testing.assert_array_equal(moved[:, :-2, 3:], x[:, 2:, :-3])  # every kept pixel moved
    assert np.all(moved[:, :, :3] == 0) and np.all(moved[:, -2:] == 0)  # the uncovered edge is black
    np.testing.assert_array_equal(data.shift_images(x), x)
    empty_edge = x[x[:, :, -2:].max(axis=(1, 2, 3)) == 0]  # a digit clear of the right edge loses
    back = data.shift_images(data.shift_images(empty_edge, right=2), right=-2)  # nothing on the way
    np.testing.assert_array_equal(back, empty_edge)
    with pytest.raises(ValueError, match="right"):
        data.shift_images(x, right=1.5)
    with pytest.raises(ValueError, match="down"):
        data.shift_images(x, down=28)
    with pytest.raises(ValueError, match="shape"):
        data.shift_images(x[:, :, :, 0])
