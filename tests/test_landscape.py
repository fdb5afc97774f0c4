"""The loss map around one picture: directions at right angles, the grid, paths placed on it."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.attacks import attack_loss, input_gradient
from helpers.landscape import loss_slice, path_coordinates, slice_directions
from helpers.plotting import plot_loss_landscape

from conftest import tiny_cnn


@pytest.fixture(scope="module")
def model():
    return tiny_cnn()


def test_directions_are_unit_and_at_right_angles(model, mnist_test):
    image, label = mnist_test[0][0], int(mnist_test[1][0])
    u, v = slice_directions(model, image, label)
    assert np.linalg.norm(u) == pytest.approx(1, abs=1e-5) and np.linalg.norm(v) == pytest.approx(1, abs=1e-5)
    assert abs(np.sum(u * v)) < 1e-5
    gradient = input_gradient(model, image[None], np.array([label]))[0]
    np.testing.assert_allclose(u, gradient / np.linalg.norm(gradient), atol=1e-6)  # uphill is the gradient's way
    towards = np.clip(image + 0.5 * u + 0.3 * v, 0, 1)
    u2, v2 = slice_directions(model, image, label, towards=towards)
    coordinates = path_coordinates(towards[None], image, u2, v2)[0]
    rest = (towards - image) - coordinates[0] * u2 - coordinates[1] * v2
    assert np.abs(rest).max() < 1e-5  # the picture "towards" lies in the map


def test_slice_measures_the_loss_on_its_grid(model, mnist_test):
    image, label = mnist_test[0][1], int(mnist_test[1][1])
    u, v = slice_directions(model, image, label, seed=1)
    cut = loss_slice(model, image, label, u, v, extent=2.0, points=5)
    assert cut["loss"].shape == (5, 5) and cut["a"][0] == -2.0 and cut["b"][-1] == 2.0
    centre = attack_loss(model, image[None], np.array([label]))[0]
    assert cut["loss"][2, 2] == pytest.approx(centre, rel=1e-5)
    corner = np.clip(image + 2.0 * u - 2.0 * v, 0, 1)  # a = 2 is column 4, b = -2 is row 0
    assert cut["loss"][0, 4] == pytest.approx(attack_loss(model, corner[None], np.array([label]))[0], rel=1e-4)
    figure = plot_loss_landscape({"tiny": cut}, {"tiny": {"a step": np.array([[1.0, 0.0]]),
                                                          "a path": np.array([[0, 0], [0.5, 0.2], [1, 0.5]])}},
                                 radius=1.5)
    assert isinstance(figure, Figure) and figure.axes[0].get_title() == "tiny"
    assert {"a step", "a path", "the picture"} <= {line.get_label() for line in figure.axes[0].lines}


def test_bad_input_is_refused(model, mnist_test):
    image, label = mnist_test[0][0], int(mnist_test[1][0])
    u, v = slice_directions(model, image, label)
    with pytest.raises(ValueError, match="shape"):
        loss_slice(model, image, label, u[:10], v)
    with pytest.raises(ValueError, match="points"):
        loss_slice(model, image, label, u, v, points=1)
    with pytest.raises(ValueError, match="no second direction"):
        slice_directions(model, image, label, towards=image)
    with pytest.raises(ValueError, match="fit together"):
        path_coordinates(np.zeros((3, 28, 28)), image, u, v)
    with pytest.raises(ValueError):
        plot_loss_landscape({})
