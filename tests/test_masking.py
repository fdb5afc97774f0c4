"""The gradient-masking demonstration: same answers, a flat cross-entropy, the margin loss unfooled."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.attacks import input_gradient
from helpers.evaluation import predict, robust_mask
from helpers.masking import overconfident
from helpers.models import load_pretrained


@pytest.fixture(scope="module")
def natural():
    return load_pretrained("natural")


def test_same_answers_times_the_factor(natural, mnist_test):
    x = mnist_test[0][:50]
    hot = overconfident(natural, factor=100.0)
    np.testing.assert_allclose(predict(hot, x), 100.0 * predict(natural, x), rtol=1e-4, atol=1e-3)


def test_the_cross_entropy_gradient_vanishes_and_the_attack_with_it(natural, mnist_test):
    x, y = mnist_test[0][:50], mnist_test[1][:50]
    hot = overconfident(natural)
    assert np.abs(input_gradient(natural, x, y)).max() > 0
    flat = np.abs(input_gradient(hot, x, y)).reshape(len(x), -1).max(axis=1) == 0
    assert flat.mean() > 0.9  # on nearly every picture the gradient is exactly zero
    settings = dict(eps=2.0, norm="l2", steps=10, restarts=1)
    fooled_natural = ~robust_mask(natural, x, y, losses=("ce",), **settings)
    assert fooled_natural.mean() > 0.5  # the natural model is easy to fool...
    masked = robust_mask(hot, x, y, losses=("ce",), **settings)
    assert masked.mean() > 0.9  # ...but the cross-entropy attack cannot see it
    margin_hot = robust_mask(hot, x, y, losses=("margin",), **settings)
    margin_natural = robust_mask(natural, x, y, losses=("margin",), **settings)
    assert abs(margin_hot.mean() - margin_natural.mean()) <= 0.04  # the margin loss is not fooled


@pytest.mark.parametrize("factor", [1.0, 0.5, -3, float("inf"), float("nan"), "100", True])
def test_bad_factors_are_refused(natural, factor):
    with pytest.raises(ValueError, match="factor"):
        overconfident(natural, factor)
