"""The speed path of the attack loop: the same numbers as the plain path, computed faster.

Nothing here is needed to understand an attack (read :mod:`helpers.attacks` for that); it is
where the loop's forward-and-backward pass is built. Two measured speed-ups
(``benchmarks/RESULTS.md``), chosen with an explicit :class:`SpeedPath` (no global switch):

* ``fast_first_conv``: the slowest single operation of a PGD step on the tutorial CNN (on CPU)
  is TensorFlow's gradient of the first convolution with respect to its 1-channel input, a
  transposed convolution with one output channel that oneDNN runs about as slowly as one with
  16. The same numbers come about 4x faster from a depthwise convolution of the upstream
  gradient with the spatially flipped kernel, summed over its channels. Only the input
  gradient changes (float rounding: about 1e-6 relative); it applies only to models that
  qualify (:func:`fast_first_conv_applies`), the others take the plain path.
* ``gradient_function``: each step's forward and backward pass runs in a ``tf.function`` of
  its own that TensorFlow does not inline into the loop. Same operations, same numbers, but
  oneDNN's rewrite, which skips the max-pooling gradients when they sit inside the loop's body
  (they then run as slow generic kernels, about a quarter of a step), applies to them there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import keras
import tensorflow as tf

__all__ = ["SpeedPath", "FAST", "PLAIN", "fast_first_conv_applies", "model_forward", "gradient_step"]

Loss = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


@dataclass(frozen=True)
class SpeedPath:
    """Which speed-ups the attack loop uses (both change no number beyond float rounding)."""

    fast_first_conv: bool = True
    gradient_function: bool = True


#: The default: both speed-ups (where a model qualifies). ``PLAIN``: TensorFlow's own path.
FAST = SpeedPath()
PLAIN = SpeedPath(fast_first_conv=False, gradient_function=False)


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


def fast_first_conv_applies(model: keras.Model) -> bool:
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


def model_forward(model: keras.Model, fast_first_conv: bool = True) -> Callable[[tf.Tensor], tf.Tensor]:
    """``x -> model(x, training=False)``; for a qualifying model (and ``fast_first_conv``), the
    first convolution is computed with the fast input gradient, the other layers one by one."""
    if not (fast_first_conv and fast_first_conv_applies(model)):
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


def gradient_step(model: keras.Model, loss: Loss, speed: SpeedPath = FAST) -> Callable:
    """``(x, labels, sign) -> (logits, gradient of sign * loss(logits, labels) w.r.t. x)``.

    The one forward-and-backward pass of an attack step, built on the ``speed`` path: the
    function the attack loop (:func:`helpers.attacks.ascent_loop`) and the evaluation's
    APGD call once per step.
    """
    forward = model_forward(model, speed.fast_first_conv)

    def logits_and_gradient(x, labels, sign):
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = forward(x)
            objective = sign * loss(logits, labels)
        return logits, tape.gradient(objective, x)

    if speed.gradient_function:
        return tf.function(logits_and_gradient, jit_compile=False, experimental_attributes={"_noinline": True})
    return logits_and_gradient
