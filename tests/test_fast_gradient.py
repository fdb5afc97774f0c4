"""The attack loop's two speed-ups (helpers.speedups), chosen with an explicit SpeedPath.

1. The gradient of a qualifying model's first convolution with respect to the pixels comes
   from a depthwise convolution instead of TensorFlow's transposed convolution: these tests
   check that it is the same gradient (to float rounding), that PGD gives the same images
   either way, and that models that do not qualify keep the plain path.
2. Each step's forward and backward pass runs in a function of its own, not inlined into the
   loop: the very same numbers, bit for bit.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.attacks import _LOOPS, ascend, pgd
from helpers.speedups import _CONVS, FAST, SpeedPath
from helpers.speedups import fast_first_conv_applies as _fast_first_conv
from helpers.speedups import model_forward as _model_forward
from helpers.models import build_cnn, build_judge

from conftest import tiny_cnn

RELATIVE = 1e-5


def _relative_error(actual, expected) -> float:
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))


def _gradients(conv, x, kernel, weights):
    """Gradients of sum(weights * conv(x, kernel)) with respect to x and kernel."""
    with tf.GradientTape() as tape:
        tape.watch([x, kernel])
        output = conv(x, kernel)
        objective = tf.reduce_sum(weights * output)
    return output, tape.gradient(objective, [x, kernel])


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("kernel_size, channels", [((5, 5), 32), ((3, 3), 16), ((4, 4), 8), ((2, 5), 3),
                                                    ((1, 1), 4)])
@pytest.mark.parametrize("batch", [1, 3, 17])
def test_fast_gradient_equals_tensorflows(padding, kernel_size, channels, batch):
    rng = np.random.default_rng([batch, channels, len(padding)])
    x = tf.constant(rng.uniform(size=(batch, 12, 11, 1)).astype(np.float32))
    kernel = tf.constant(rng.standard_normal((*kernel_size, 1, channels)).astype(np.float32))
    plain = lambda images, k: tf.nn.conv2d(images, k, strides=1, padding=padding)  # noqa: E731
    shape = plain(x, kernel).shape
    weights = tf.constant(rng.standard_normal(shape).astype(np.float32))
    expected, (expected_x, expected_kernel) = _gradients(plain, x, kernel, weights)
    fast, (fast_x, fast_kernel) = _gradients(_CONVS[padding], x, kernel, weights)
    np.testing.assert_array_equal(fast.numpy(), expected.numpy())  # forward: the very same op
    assert _relative_error(fast_x, expected_x) < RELATIVE
    assert _relative_error(fast_kernel, expected_kernel) < RELATIVE  # TensorFlow's own op


def test_fast_gradient_inside_a_tf_function_with_any_batch_size():
    rng = np.random.default_rng(7)
    kernel = tf.constant(rng.standard_normal((5, 5, 1, 32)).astype(np.float32))

    def gradient_with(conv):
        @tf.function(input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
        def gradient(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                objective = tf.reduce_sum(tf.sin(conv(x, kernel)))
            return tape.gradient(objective, x)
        return gradient

    plain = gradient_with(lambda x, k: tf.nn.conv2d(x, k, 1, "SAME"))
    fast = gradient_with(_CONVS["SAME"])
    for batch in (1, 2, 64, 129):
        x = tf.constant(rng.uniform(size=(batch, 28, 28, 1)).astype(np.float32))
        assert _relative_error(fast(x), plain(x)) < RELATIVE
    assert fast.experimental_get_tracing_count() == 1


def _qualifying_model(padding: str = "same", seed: int = 0) -> keras.Model:
    """A small model shaped like the tutorial CNN (first conv: 5x5, stride 1, 1 channel in)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 5, padding=padding, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10),
    ])


def _images(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # blurred noise: smooth enough that a tiny model's gradient is not dominated by one pixel
    x = rng.uniform(size=(count, 28, 28, 1)).astype(np.float32)
    x = (x + np.roll(x, 1, 1) + np.roll(x, 1, 2)) / 3
    return x.astype(np.float32), rng.integers(0, 10, size=count)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_fast_forward_matches_model_and_its_gradient(padding):
    model = _qualifying_model(padding)
    assert _fast_first_conv(model)
    x, y = _images(9)
    images, labels = tf.constant(x), tf.constant(y)
    results = {}
    for fast in (False, True):
        forward = _model_forward(model, fast)
        with tf.GradientTape() as tape:
            tape.watch(images)
            logits = forward(images)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        results[fast] = logits.numpy(), tape.gradient(loss, images).numpy()
    np.testing.assert_allclose(results[True][0], model(images, training=False).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(results[True][0], results[False][0], rtol=1e-6, atol=1e-6)
    assert _relative_error(results[True][1], results[False][1]) < RELATIVE


def test_tutorial_cnn_and_judge_qualify():
    assert _fast_first_conv(build_cnn())
    assert _fast_first_conv(build_judge())  # its first conv has stride 1 (the second is strided)


def _plain_and_fast(model, **settings):
    x, y = settings.pop("data")
    results = {fast: pgd(model, x, y, speed=SpeedPath(fast_first_conv=fast), **settings) for fast in (False, True)}
    return results[False], results[True]


@pytest.mark.parametrize("norm, eps", [("l2", 2.0), ("linf", 0.2)])
@pytest.mark.parametrize("keep_first_success", [False, True])
def test_pgd_fast_path_equals_plain_path(norm, eps, keep_first_success):
    model = _qualifying_model()
    plain, fast = _plain_and_fast(model, data=_images(24), eps=eps, step_size=eps / 4, steps=5,
                                  norm=norm, random_start=True, seed=11, keep_first_success=keep_first_success)
    np.testing.assert_allclose(fast, plain, atol=1e-5)
    assert np.abs(fast - _images(24)[0]).max() > 0  # the attack did move the images
    # both loops exist, each cached under its own speed path
    speeds = {key[-1] for key in _LOOPS[model]}
    assert {SpeedPath(fast_first_conv=False), FAST} <= speeds


def test_fast_path_follows_weight_changes():
    """The fast loop reads the kernel each call, so training between attacks is seen."""
    model = _qualifying_model(seed=3)
    settings = dict(data=_images(8), eps=1.0, step_size=0.25, steps=3, norm="l2")
    before_plain, before_fast = _plain_and_fast(model, **settings)
    first = model.layers[0]
    first.kernel.assign(first.kernel.numpy()[::-1, ::-1] * 1.5)
    first.bias.assign(first.bias.numpy() + 0.05)
    after_plain, after_fast = _plain_and_fast(model, **settings)
    np.testing.assert_allclose(after_fast, after_plain, atol=1e-5)
    assert np.abs(after_fast - before_fast).max() > 1e-3


def _model_with_first(layer: keras.layers.Layer, channels: int = 1) -> keras.Model:
    return keras.Sequential([keras.Input((28, 28, channels)), layer, keras.layers.Flatten(),
                             keras.layers.Dense(10)])


class _MyConv(keras.layers.Conv2D):
    pass


def _functional() -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Conv2D(4, 5, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(hidden)))


@pytest.mark.parametrize("make", [
    lambda: _model_with_first(keras.layers.Conv2D(4, 5, strides=2, padding="same")),
    lambda: _model_with_first(keras.layers.Conv2D(4, 3, dilation_rate=2, padding="same")),
    lambda: _model_with_first(keras.layers.Conv2D(4, 5, padding="same"), channels=3),
    lambda: _model_with_first(keras.layers.Conv2D(4, 5, padding="same", data_format="channels_first")),
    lambda: _model_with_first(_MyConv(4, 5, padding="same")),
    lambda: _model_with_first(keras.layers.Dense(4)),
    lambda: _model_with_first(keras.layers.DepthwiseConv2D(5, padding="same")),
    _functional,
], ids=["strided", "dilated", "3-channel", "channels-first", "subclass", "dense", "depthwise", "functional"])
def test_other_models_take_the_plain_path(make):
    model = make()
    assert not _fast_first_conv(model)
    assert _model_forward(model, True).__name__ == "<lambda>"  # the plain model call
    channels_first = any(getattr(layer, "data_format", None) == "channels_first" for layer in model.layers)
    # (TensorFlow's CPU kernels for a channels-first convolution's gradient are missing on some CPUs)
    if tuple(model.input_shape[1:]) == (28, 28, 1) and not channels_first:
        plain, fast = _plain_and_fast(model, data=_images(4), eps=1.0, step_size=0.3, steps=2,
                                      norm="l2")
        np.testing.assert_array_equal(fast, plain)  # the very same computation


def test_conftest_small_model_takes_the_plain_path(small_model):
    assert not _fast_first_conv(small_model)  # its first convolution is strided


@pytest.mark.parametrize("fast_first_conv", [False, True])
def test_separate_gradient_function_changes_no_number(fast_first_conv):
    # fresh models: a loop cached earlier in the session may have been traced before another
    # test switched on op determinism, which changes how the loss is computed
    model, strided = _qualifying_model(seed=5), tiny_cnn(seed=5)
    x, y = _images(16, seed=2)
    runs = {
        "l2": lambda m, speed: pgd(m, x, y, eps=2.0, step_size=0.3, steps=6, norm="l2", speed=speed),
        "linf": lambda m, speed: pgd(m, x, y, eps=0.2, step_size=0.05, steps=6, norm="linf", random_start=True,
                                     seed=1, speed=speed),
        "first_success": lambda m, speed: pgd(m, x, y, eps=2.0, step_size=0.5, steps=6, loss="margin",
                                              keep_first_success=True, speed=speed),
        "frames": lambda m, speed: ascend(m, x[:4], np.full(4, 3), eps=np.inf, step_size=0.3, steps=6,
                                          loss="logit", targeted=True, output="frames", freeze_saturated=True,
                                          step_decay=0.1, speed=speed),
    }
    for m in (model, strided):
        for name, run in runs.items():
            inline = run(m, SpeedPath(fast_first_conv, gradient_function=False))
            separate = run(m, SpeedPath(fast_first_conv, gradient_function=True))
            np.testing.assert_array_equal(separate, inline, err_msg=f"{name} {m.name}")


def test_speedup_benchmark_runs_with_tiny_settings(capsys):
    """``python -m benchmarks.bench_attacks``: every variant timed, and the same images as plain's."""
    from benchmarks import bench_attacks

    assert bench_attacks._main(["--repeats", "1", "--steps", "1", "--batch", "4"]) == 0
    printed = capsys.readouterr().out
    assert "applies to the natural model: True" in printed
    result = bench_attacks.fast_gradient_speedup({"repeats": 1, "batch": 2, "pgd_steps": [2]}, lambda _: None)
    assert {row["variant"] for row in result["rows"]} == set(bench_attacks.LOOP_VARIANTS)
    for row in result["rows"]:
        assert row["image_steps_per_s"]["median"] > 0
        if row["variant"] == "gradient_function":
            assert row["max_pixel_difference_from_plain"] == 0.0
        assert row["max_pixel_difference_from_plain"] < 1e-3
