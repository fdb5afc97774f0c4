"""Adversarial attacks: FGSM and PGD under an L2 or L-infinity budget.

Explained in notebooks ``01_adversarial_examples.ipynb`` (FGSM) and ``02_pgd.ipynb`` (PGD).

Everything that depends on the norm lives in three small functions per norm, gathered in
:data:`NORMS`: the steepest-ascent **step**, the **projection** back into the ball of radius
``eps`` around the original image, and the **random start** inside that ball. The PGD loop
itself (:func:`ascent_loop`) never branches on the norm; it runs inside one ``tf.function``
whose numbers (``eps``, ``step_size``, ``steps``) are tensors, so moving a slider does not
re-trace it. Class traversal (:mod:`helpers.traversal`) reuses the same loop. Two speed-ups:
each step's forward and backward pass runs in a nested function of its own (the very same
numbers), and for the tutorial CNN the gradient of the first convolution with respect to the
pixels takes a faster route (TensorFlow's gradient up to float rounding, about 1e-6 relative).

Shapes and ranges: images are (N, H, W, C) float arrays with pixels in [0, 1] (MNIST:
(N, 28, 28, 1)); labels are N integers in [0, number of classes). Attacks return numpy
float32 arrays of the input's shape, with pixels in [0, 1].
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "Norm",
    "PGDAttack",
    "NORMS",
    "LOSSES",
    "fgsm",
    "pgd",
    "attack_loss",
    "input_gradient",
    "ascent_loop",
    "perturbation_norm",
    "validate_images",
    "validate_labels",
    "validate_number",
    "validate_steps",
]

_TINY = 1e-12  # guards every division by a length, so a zero gradient never makes a NaN


def _per_example_l2(tensor: tf.Tensor) -> tf.Tensor:
    """L2 length of each example, shaped (N, 1, 1, ...) to broadcast against ``tensor``."""
    axes = tf.range(1, tf.rank(tensor))
    return tf.sqrt(tf.reduce_sum(tf.square(tensor), axis=axes, keepdims=True))


# --- L2 ---------------------------------------------------------------------------------
def _l2_step(grad: tf.Tensor, step_size: tf.Tensor) -> tf.Tensor:
    """Move ``step_size`` along the gradient's direction (gradient over its length)."""
    return step_size * grad / tf.maximum(_per_example_l2(grad), _TINY)


def _l2_project(delta: tf.Tensor, eps: tf.Tensor) -> tf.Tensor:
    """Shrink ``delta`` back onto the L2 ball of radius ``eps`` if it left it (never grows it)."""
    return delta * tf.minimum(1.0, eps / tf.maximum(_per_example_l2(delta), _TINY))


def _l2_random_start(shape: tuple[int, ...], eps: float, rng: np.random.Generator) -> np.ndarray:
    """A point drawn uniformly from the L2 ball of radius ``eps``, one per example."""
    direction = rng.standard_normal(shape)
    axes = tuple(range(1, len(shape)))
    direction /= np.maximum(np.sqrt((direction**2).sum(axis=axes, keepdims=True)), _TINY)
    dims = math.prod(shape[1:])
    radius = eps * rng.uniform(size=(shape[0],) + (1,) * (len(shape) - 1)) ** (1.0 / dims)
    return (direction * radius).astype(np.float32)


# --- L-infinity -------------------------------------------------------------------------
def _linf_step(grad: tf.Tensor, step_size: tf.Tensor) -> tf.Tensor:
    """Move every pixel by ``step_size`` in the direction of its gradient's sign."""
    return step_size * tf.sign(grad)


def _linf_project(delta: tf.Tensor, eps: tf.Tensor) -> tf.Tensor:
    """Clip every pixel's change to [-eps, eps]."""
    return tf.clip_by_value(delta, -eps, eps)


def _linf_random_start(shape: tuple[int, ...], eps: float, rng: np.random.Generator) -> np.ndarray:
    """Every pixel's change drawn uniformly from [-eps, eps]."""
    return rng.uniform(-eps, eps, size=shape).astype(np.float32)


@dataclass(frozen=True)
class Norm:
    """The three norm-specific pieces of a PGD attack."""

    name: str
    step: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    project: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    random_start: Callable[[tuple[int, ...], float, np.random.Generator], np.ndarray]
    measure: Callable[[np.ndarray], np.ndarray]


def _measure_l2(delta: np.ndarray) -> np.ndarray:
    return np.sqrt((np.asarray(delta, np.float64).reshape(len(delta), -1) ** 2).sum(axis=1))


def _measure_linf(delta: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(delta, np.float64).reshape(len(delta), -1)).max(axis=1, initial=0.0)


NORMS: dict[str, Norm] = {
    "l2": Norm("l2", _l2_step, _l2_project, _l2_random_start, _measure_l2),
    "linf": Norm("linf", _linf_step, _linf_project, _linf_random_start, _measure_linf),
}


# --- Losses: per-example values the attacker *raises* (untargeted) -----------------------
def _cross_entropy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def _margin(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Carlini-Wagner margin: best other logit minus the label's logit (> 0 means fooled)."""
    one_hot = tf.one_hot(labels, tf.shape(logits)[-1], dtype=logits.dtype)
    label_logit = tf.reduce_sum(logits * one_hot, axis=-1)
    other_best = tf.reduce_max(logits - 1e9 * one_hot, axis=-1)
    return other_best - label_logit


def _negative_logit(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Minus the label's raw logit; targeted, this raises the target's pre-softmax score."""
    one_hot = tf.one_hot(labels, tf.shape(logits)[-1], dtype=logits.dtype)
    return -tf.reduce_sum(logits * one_hot, axis=-1)


#: Loss name -> per-example loss(logits, labels). Untargeted attacks raise it for the true
#: label; targeted attacks lower it for the target label (the sign of the objective flips).
LOSSES: dict[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]] = {
    "ce": _cross_entropy,
    "margin": _margin,
    "logit": _negative_logit,
}


# --- Input validation -------------------------------------------------------------------
def validate_images(model: keras.Model, x: np.ndarray | tf.Tensor) -> np.ndarray:
    """Return ``x`` as float32 numpy after checking rank, shape, finiteness and [0, 1] range."""
    array = np.asarray(x)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"images must be a numeric array, got dtype {array.dtype}")
    expected = tuple(model.input_shape[1:])
    if array.ndim != len(expected) + 1:
        raise ValueError(
            f"images must have rank {len(expected) + 1} (N, {', '.join(map(str, expected))}), "
            f"got shape {array.shape}; for one image use x[None] or x[i:i+1]"
        )
    if tuple(array.shape[1:]) != expected:
        raise ValueError(f"images must have shape (N, {', '.join(map(str, expected))}), got {array.shape}")
    array = array.astype(np.float32, copy=False)
    if array.size and not np.isfinite(array).all():
        raise ValueError("images contain NaN or infinite pixels")
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ValueError(
            f"pixels must lie in [0, 1], got range [{array.min():.4g}, {array.max():.4g}]"
            " (divide uint8 images by 255)"
        )
    return array


def validate_labels(model: keras.Model, y: object, count: int, what: str = "labels") -> np.ndarray:
    """Return labels as int64 (count,), accepting one int for all; ValueError if invalid."""
    num_classes = int(model.output_shape[-1])
    array = np.asarray(y)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer)
        or (np.issubdtype(array.dtype, np.floating) and np.all(np.mod(array, 1) == 0))
    ):
        raise ValueError(f"{what} must be integers, got {array.dtype} {array.ravel()[:5]}")
    if array.ndim == 0:
        array = np.full(count, int(array))
    if array.ndim != 1 or len(array) != count:
        raise ValueError(f"{what} must be one integer or {count} integers (one per image), got shape {array.shape}")
    if count and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"{what} must lie in [0, {num_classes - 1}], got {array.min()}..{array.max()}")
    return array.astype(np.int64)


def validate_number(value: object, name: str, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float after checking it is a real number >= 0 (finite unless allowed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number


def validate_steps(steps: object) -> int:
    """Return ``steps`` as an int after checking it is a whole number >= 0."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ValueError(f"steps must be a whole number, got {steps!r}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    return int(steps)


def _norm(name: str) -> Norm:
    if name not in NORMS:
        raise ValueError(f"unknown norm {name!r}; choose one of {sorted(NORMS)}")
    return NORMS[name]


def _loss(name: str) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name]


# --- A faster gradient for a first convolution on 1-channel images ----------------------
# The slowest single operation of a PGD step on the tutorial CNN (on CPU) is TensorFlow's
# gradient of the first convolution with respect to its 1-channel input: a transposed
# convolution with one output channel, which oneDNN runs about as slowly as one with 16.
# The same numbers come ~4x faster from a depthwise convolution of the upstream gradient with
# the spatially flipped kernel, summed over its channels. Only the input gradient changes
# (float rounding: about 1e-6 relative); forward values are TensorFlow's own convolution.

#: Use the fast input gradient when a model qualifies (see :func:`_fast_first_conv`).
#: Private switch for tests and benchmarks: loops built without it are cached separately.
_FAST_FIRST_CONV = True


def _same_padding(size: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of a stride-1 convolution with a ``size`` kernel."""
    return (size - 1) // 2, size - 1 - (size - 1) // 2


def _one_channel_input_gradient(upstream: tf.Tensor, kernel: tf.Tensor, padding: str) -> tf.Tensor:
    """Gradient, with respect to a 1-channel input, of a stride-1 ``conv2d(input, kernel)``.

    ``upstream``: (N, H', W', C) gradient of the convolution's output; ``kernel``: (kh, kw,
    1, C). A depthwise convolution of ``upstream`` with the flipped kernel, summed over C.
    """
    kernel_h, kernel_w = int(kernel.shape[0]), int(kernel.shape[1])
    if padding == "SAME":  # the input gradient pads the other way round: (after, before)
        pad_h, pad_w = _same_padding(kernel_h)[::-1], _same_padding(kernel_w)[::-1]
    else:  # VALID: a "full" correlation
        pad_h, pad_w = (kernel_h - 1,) * 2, (kernel_w - 1,) * 2
    flipped = tf.reshape(tf.reverse(kernel, axis=[0, 1]), (kernel_h, kernel_w, -1, 1))
    if pad_h[0] == pad_h[1] == kernel_h // 2 and pad_w[0] == pad_w[1] == kernel_w // 2:
        per_channel = tf.nn.depthwise_conv2d(upstream, flipped, [1, 1, 1, 1], "SAME")  # odd kernel, SAME
    else:
        per_channel = tf.nn.depthwise_conv2d(upstream, flipped, [1, 1, 1, 1],
                                             [[0, 0], list(pad_h), list(pad_w), [0, 0]])
    return tf.reduce_sum(per_channel, axis=-1, keepdims=True)


def _one_channel_conv(padding: str) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """``conv2d(x, kernel)`` (stride 1, ``padding``) whose input gradient takes the fast route.

    The kernel is an explicit argument (not a captured variable), and its gradient is
    TensorFlow's own: inside a ``tf.function`` it is pruned when nobody asks for it.
    """

    @tf.custom_gradient
    def conv(x, kernel):
        def gradient(upstream):
            grad_x = _one_channel_input_gradient(upstream, kernel, padding)
            grad_kernel = tf.raw_ops.Conv2DBackpropFilter(
                input=x, filter_sizes=tf.shape(kernel), out_backprop=upstream, strides=[1, 1, 1, 1],
                padding=padding)
            return grad_x, grad_kernel

        return tf.nn.conv2d(x, kernel, strides=1, padding=padding), gradient

    return conv


_CONVS = {padding: _one_channel_conv(padding) for padding in ("SAME", "VALID")}


def _fast_first_conv(model: keras.Model) -> bool:
    """Whether ``model`` can take the fast input gradient: a Sequential (a plain chain of
    layers) whose first layer is a plain Keras Conv2D on 1-channel float32 images, with
    stride 1, dilation 1, one group, "same" or "valid" padding and channels last."""
    if not isinstance(model, keras.Sequential) or not model.layers:
        return False
    layer = model.layers[0]
    if type(layer) is not keras.layers.Conv2D or not layer.built:  # not a subclass with its own call
        return False
    try:
        kernel_shape = tuple(layer.kernel.shape)
    except Exception:  # noqa: BLE001 - an unusual (e.g. quantized) layer: take the plain path
        return False
    return (
        layer.data_format == "channels_last"
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and (getattr(layer, "groups", 1) or 1) == 1
        and layer.padding in ("same", "valid")
        and len(kernel_shape) == 4
        and kernel_shape[2] == 1
        and getattr(layer, "quantization_mode", None) is None
        and not getattr(layer, "lora_enabled", False)
        and layer.compute_dtype == "float32"
        and layer.kernel.dtype == "float32"
        and tuple(model.input_shape[1:])[-1:] == (1,)
    )


def _model_forward(model: keras.Model, fast: bool) -> Callable[[tf.Tensor], tf.Tensor]:
    """``x -> model(x, training=False)``; for a qualifying model (and ``fast``), the first
    convolution is computed with :func:`_one_channel_conv`, the other layers one by one."""
    if not (fast and _fast_first_conv(model)):
        return lambda x: model(x, training=False)
    first, rest = model.layers[0], model.layers[1:]
    conv = _CONVS[first.padding.upper()]

    def forward(x: tf.Tensor) -> tf.Tensor:
        hidden = conv(x, tf.convert_to_tensor(first.kernel))  # read each call: training moves it
        if first.use_bias:
            hidden = tf.nn.bias_add(hidden, tf.convert_to_tensor(first.bias))
        if first.activation is not None:
            hidden = first.activation(hidden)
        for layer in rest:
            hidden = layer(hidden, training=False)
        return hidden

    return forward


# --- The loop ---------------------------------------------------------------------------
#: Compute each step's logits and gradient in a function of their own that TensorFlow does not
#: inline into the loop (see :func:`_build_loop`). Private switch for tests and benchmarks.
_GRADIENT_FUNCTION = True

_LOOPS: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()


def _build_loop(model: keras.Model, norm: Norm, loss: Callable, image_shape: tuple[int, ...],
                output: str, freeze_saturated: bool, fast_first_conv: bool = True,
                gradient_function: bool = True) -> Callable:
    """Compile one ascent loop for a model, norm, loss, image shape and output (traced once).

    With ``fast_first_conv`` a qualifying model's first convolution gets the fast input
    gradient (:func:`_model_forward`); the iterates agree with the plain path's to float rounding.

    With ``gradient_function`` the forward and backward pass of each step run in a separate
    ``tf.function`` marked not to be inlined. Same operations, same numbers, but TensorFlow's
    oneDNN rewrite, which skips the max-pooling gradients when they sit inside the loop's body
    (they then run as slow generic kernels, about a quarter of a step), applies to them there.
    """
    forward = _model_forward(model, fast_first_conv)

    def logits_and_gradient(x, labels, sign):
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = forward(x)
            objective = sign * loss(logits, labels)
        return logits, tape.gradient(objective, x)

    if gradient_function:
        logits_and_gradient = tf.function(logits_and_gradient, jit_compile=False,
                                          experimental_attributes={"_noinline": True})
    image_spec = tf.TensorSpec((None, *image_shape), tf.float32)
    scalar = tf.TensorSpec((), tf.float32)
    per_example = [-1] + [1] * len(image_shape)

    @tf.function(
        input_signature=[image_spec, image_spec, tf.TensorSpec((None,), tf.int64), scalar, scalar,
                         tf.TensorSpec((), tf.int32), scalar, scalar],
        jit_compile=False,
    )
    def loop(x_orig, x_start, labels, eps, step_size, steps, sign, step_decay):
        x = x_start
        frames = tf.TensorArray(tf.float32, size=steps + 1 if output == "frames" else 1)
        frames = frames.write(0, x)
        best, found = x, tf.zeros(tf.shape(labels), tf.bool)
        for i in tf.range(steps):
            logits, grad = logits_and_gradient(x, labels, sign)
            if output == "first_success":  # remember the first iterate that fooled the model
                predicted = tf.argmax(logits, axis=-1)
                success = tf.where(sign > 0, predicted != labels, predicted == labels)
                best = tf.where(tf.reshape(success & ~found, per_example), x, best)
                found = found | success
            if freeze_saturated:  # pixels at 0 or 1 that the step would push further out
                pushed_out = ((x <= 0.0) & (grad < 0.0)) | ((x >= 1.0) & (grad > 0.0))
                grad = tf.where(pushed_out, tf.zeros_like(grad), grad)
            size = step_size / (1.0 + step_decay * tf.cast(i, tf.float32))
            x = x + norm.step(grad, size)
            x = x_orig + norm.project(x - x_orig, eps)
            x = tf.clip_by_value(x, 0.0, 1.0)
            if output == "frames":
                frames = frames.write(i + 1, x)
        if output == "frames":
            return frames.stack()
        if output == "first_success":
            return tf.where(tf.reshape(found, per_example), best, x)
        return x

    return loop


LOOP_OUTPUTS = ("last", "frames", "first_success")


def ascent_loop(model: keras.Model, norm: str, loss: str, image_shape: tuple[int, ...],
                output: str = "last", freeze_saturated: bool = False) -> Callable:
    """The compiled steepest-ascent loop shared by PGD and class traversal (cached per model).

    The returned ``tf.function`` takes ``(x_orig, x_start, labels, eps, step_size, steps, sign,
    step_decay)`` as tensors: it starts at ``x_start`` and repeats ``steps`` times: step up
    ``sign * loss`` by ``step_size / (1 + step_decay * i)``, project onto the ``eps`` ball
    around ``x_orig``, clip pixels to [0, 1]. With ``freeze_saturated``, pixels already at 0
    or 1 get no push further out, so the step's length goes to pixels that can still move.

    ``output``: "last" returns the last image; "frames" all ``steps + 1`` frames (frame 0 =
    ``x_start``); "first_success" returns, per image, the first iterate the model got wrong
    (untargeted, ``sign`` > 0) or classified as the label (targeted), else the last one.

    For a Sequential model whose first layer is a stride-1 convolution of 1-channel images
    (the tutorial CNN), the gradient of that convolution with respect to the pixels takes a
    faster route (a depthwise convolution; equal to TensorFlow's up to float rounding).
    """
    if output not in LOOP_OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {list(LOOP_OUTPUTS)}")
    switches = {"fast_first_conv": bool(_FAST_FIRST_CONV), "gradient_function": bool(_GRADIENT_FUNCTION)}
    cache = _LOOPS.setdefault(model, {})
    key = (norm, loss, tuple(image_shape), output, freeze_saturated)
    key += tuple(name for name, on in switches.items() if not on)  # the usual loop: the usual key
    if key not in cache:
        cache[key] = _build_loop(model, _norm(norm), _loss(loss), tuple(image_shape), output,
                                 freeze_saturated, **switches)
    return cache[key]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def pgd(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | int,
    *,
    eps: float,
    step_size: float,
    steps: int,
    norm: str = "l2",
    random_start: bool = False,
    targeted: bool = False,
    loss: str = "ce",
    seed: int | np.random.Generator | None = None,
    keep_first_success: bool = False,
) -> np.ndarray:
    """Projected gradient descent (Madry et al. 2018) within an ``eps`` ball.

    Repeats ``steps`` times: one steepest-ascent step of length ``step_size`` on the loss,
    then a projection back into the ball of radius ``eps`` (``norm`` "l2" or "linf") around
    ``x``, then a clip to [0, 1]. Untargeted (``y`` = true labels) it raises the loss of the
    true label; ``targeted`` (``y`` = target labels) it lowers the loss of the target.
    ``loss`` is "ce" (cross-entropy), "margin" (Carlini-Wagner) or "logit" (raw score).
    ``random_start`` begins at a random point of the ball (drawn with ``seed``).
    ``keep_first_success`` returns, per image, the first iterate that already fooled the model
    (for evaluation: a later step cannot undo a success); otherwise the last iterate.

    ``x``: (N, 28, 28, 1) in [0, 1]; ``y``: N ints or one int. Returns numpy float32 of ``x``'s
    shape, in [0, 1], within ``eps`` of ``x``. See notebook ``02_pgd.ipynb``.
    """
    norm_spec = _norm(norm)
    _loss(loss)
    eps = validate_number(eps, "eps")
    step_size = validate_number(step_size, "step_size")
    steps = validate_steps(steps)
    images = validate_images(model, x)
    labels = validate_labels(model, y, len(images))
    if len(images) == 0:
        return images.copy()
    start = images
    if random_start and eps > 0:
        start = np.clip(images + norm_spec.random_start(images.shape, eps, _rng(seed)), 0.0, 1.0)
    loop = ascent_loop(model, norm, loss, images.shape[1:],
                       output="first_success" if keep_first_success else "last")
    result = loop(
        tf.constant(images), tf.constant(start, tf.float32), tf.constant(labels),
        tf.constant(eps, tf.float32), tf.constant(step_size, tf.float32),
        tf.constant(steps, tf.int32), tf.constant(-1.0 if targeted else 1.0),
        tf.constant(0.0),
    )
    return result.numpy()


def fgsm(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | int,
    eps: float,
    *,
    norm: str = "linf",
    targeted: bool = False,
) -> np.ndarray:
    """Fast gradient (sign) method (Goodfellow et al. 2015): one step of length ``eps``.

    With ``norm="linf"`` every pixel moves by ``eps`` in the direction that raises the loss
    (the sign of the gradient); with ``"l2"`` the image moves ``eps`` along the gradient.
    Pixels are clipped to [0, 1]. Same shapes and checks as :func:`pgd`. See notebook
    ``01_adversarial_examples.ipynb``.
    """
    return pgd(model, x, y, eps=eps, step_size=eps, steps=1, norm=norm, targeted=targeted)


def attack_loss(model: keras.Model, x: np.ndarray, y: np.ndarray | int, loss: str = "ce") -> np.ndarray:
    """Per-example value of ``loss`` ("ce", "margin", "logit") for images ``x`` and labels ``y``."""
    images = validate_images(model, x)
    labels = validate_labels(model, y, len(images))
    logits = model(tf.constant(images), training=False)
    return _loss(loss)(logits, tf.constant(labels)).numpy()


def input_gradient(model: keras.Model, x: np.ndarray, y: np.ndarray | int, loss: str = "ce") -> np.ndarray:
    """Gradient of the per-example ``loss`` with respect to the pixels, shaped like ``x``.

    Positive where brightening a pixel would raise the loss. With ``loss="logit"`` it is
    minus the gradient of the label's raw score. See notebook ``01_adversarial_examples.ipynb``.
    """
    images = tf.constant(validate_images(model, x))
    labels = tf.constant(validate_labels(model, y, int(images.shape[0])))
    with tf.GradientTape() as tape:
        tape.watch(images)
        values = _loss(loss)(model(images, training=False), labels)
    return tape.gradient(values, images).numpy()


def perturbation_norm(x_adv: np.ndarray, x: np.ndarray, norm: str = "l2") -> np.ndarray:
    """Per-example size of ``x_adv - x`` measured in ``norm`` ("l2" or "linf"), float64 (N,)."""
    return _norm(norm).measure(np.asarray(x_adv) - np.asarray(x))


@dataclass(frozen=True)
class PGDAttack:
    """A PGD attack with fixed settings, callable as ``attack(model, x, y, rng)``.

    This is the ``attack`` parameter of :func:`helpers.training.run_epoch` and
    :func:`helpers.training.fit` (``None`` there means natural training).
    """

    eps: float
    step_size: float
    steps: int
    norm: str = "l2"
    random_start: bool = True
    loss: str = "ce"

    def __call__(self, model: keras.Model, x: np.ndarray, y: np.ndarray,
                 rng: int | np.random.Generator | None = None) -> np.ndarray:
        return pgd(model, x, y, eps=self.eps, step_size=self.step_size, steps=self.steps,
                   norm=self.norm, random_start=self.random_start, loss=self.loss, seed=rng)
