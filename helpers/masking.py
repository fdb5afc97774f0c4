"""A "defence" that only hides its gradient: the lesson of notebook 02, section 8.

Explained in notebook ``02_pgd.ipynb``.

:func:`overconfident` multiplies a model's logits by a large factor. Every answer stays the same
(the largest score stays the largest), so the new model is exactly as easy to fool as the old
one. But its softmax saturates: on a confidently read picture the probability of the right digit
is exactly 1.0 in 32-bit arithmetic, so the cross-entropy loss and its gradient are exactly zero,
and an attack that climbs the cross-entropy sees a flat plain and changes nothing. Such *gradient
masking* made several published defences look robust until stronger attacks broke them
(Athalye, Carlini and Wagner, 2018, "Obfuscated Gradients Give a False Sense of Security"). The
margin loss compares scores, not probabilities; its gradient only grows by the same factor, and
an L2 step keeps only the gradient's direction, so margin PGD walks the same path as on the
original model and finds the same adversarial examples.
"""

from __future__ import annotations

import keras

from helpers.validation import validate_number

__all__ = ["overconfident"]


def overconfident(model: keras.Model, factor: float = 100.0) -> keras.Model:
    """``model`` with its logits multiplied by ``factor`` (> 1): same answers, masked gradients.

    The returned model shares ``model``'s layers and weights (nothing is copied or trained); it
    takes the same (N, 28, 28, 1) pictures and gives ``factor`` times the logits.
    """
    if validate_number(factor, "factor") <= 1:
        raise ValueError(f"factor must be above 1, got {factor!r}")
    inputs = keras.Input(model.input_shape[1:])
    scores = keras.layers.Rescaling(factor, name="times_factor")(model(inputs))
    return keras.Model(inputs, scores, name=f"overconfident_{model.name}")
