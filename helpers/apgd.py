"""APGD: PGD that chooses its own step size, the attack behind the series' strongest figures.

Explained in notebook ``02_pgd.ipynb`` (section "The attack we trusted first"); used by
:func:`helpers.evaluation.strongest_mask`. After Croce and Hein (2020), "Reliable evaluation of
adversarial robustness with an ensemble of diverse parameter-free attacks" (AutoAttack), written
anew for this series.

Plain PGD takes many steps of one small, fixed size. That is a known way to under-attack: the
path crawls, and stops short of the ball's far corners. APGD changes three things:

1. **Large steps first.** The first step is twice the radius of the ball; the projection brings
   the image back inside.
2. **Halve the step when progress stalls.** At checkpoints (after 22%, then 19%, 17%, ... of the
   steps) the attack asks: did the loss rise in at least 75% of the steps since the last
   checkpoint, and did the best loss improve? If not, the step halves and the walk restarts
   from the best point found so far.
3. **Momentum**: each move mixes the new step (75%) with the previous move (25%).
4. **The whole budget on pixels that can move.** After a step, pixels are first put back into
   [0, 1], then the change is shrunk back into the ball (:func:`project_into`). The other order
   (ball, then [0, 1], as plain PGD does) spends part of the budget pushing black pixels below 0
   and white ones above 1, and that part is lost at the clip. On MNIST, where most pixels are
   0 or 1, this matters: an independent AutoAttack run found it (``benchmarks/autoattack_crosscheck.md``).

Every iterate counts: an image is lost as soon as any iterate fools the model. Two losses are
used: the cross-entropy, and a *targeted* DLR loss (the difference of logits ratio: the target's
lead over the true class, divided by the spread of the top logits, so that scaling the logits
changes nothing) aimed at the most likely wrong classes one at a time.
"""

from __future__ import annotations

import math
import weakref
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from helpers.attacks import LOSSES, Loss
from helpers.norms import Norm, get_norm
from helpers.speedups import FAST, SpeedPath, gradient_step

__all__ = ["targeted_dlr", "checkpoints", "project_into", "apgd", "APGD_LOSSES", "MOMENTUM", "PROGRESS_RATE"]

#: Each move is MOMENTUM of the new projected step plus (1 - MOMENTUM) of the previous move.
MOMENTUM = 0.75
#: At a checkpoint the step halves unless the loss rose in at least this share of the steps.
PROGRESS_RATE = 0.75


def targeted_dlr(logits: tf.Tensor, pairs: tf.Tensor) -> tf.Tensor:
    """Targeted difference-of-logits-ratio loss, per example; the attacker raises it.

    ``pairs``: (N, 2) int64, each row (true label, target). The value is the target's logit
    minus the true label's, over the gap between the highest logit and the mean of the third
    and fourth highest (Croce and Hein's DLR-T): > 0 once the target beats the true label.
    """
    true_logit = tf.gather(logits, pairs[:, 0], axis=1, batch_dims=1)
    target_logit = tf.gather(logits, pairs[:, 1], axis=1, batch_dims=1)
    ranked = tf.sort(logits, axis=-1, direction="DESCENDING")
    spread = ranked[:, 0] - 0.5 * (ranked[:, 2] + ranked[:, 3]) + 1e-12
    return (target_logit - true_logit) / spread


#: The losses APGD can use: the attack module's (labels (N,)) and the targeted DLR (pairs (N, 2)).
APGD_LOSSES: dict[str, Loss] = {"ce": LOSSES["ce"], "margin": LOSSES["margin"], "dlr_targeted": targeted_dlr}

_GRADIENTS: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()


def _gradient(model: keras.Model, loss: str, speed: SpeedPath) -> Callable:
    """The compiled (x, labels, sign) -> (logits, gradient) step of ``loss``, cached per model.

    Its input signature accepts any batch size, so the batch can shrink as images are fooled.
    """
    cache = _GRADIENTS.setdefault(model, {})
    if (loss, speed) not in cache:
        labels = tf.TensorSpec((None, 2) if loss == "dlr_targeted" else (None,), tf.int64)
        images = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
        cache[(loss, speed)] = tf.function(gradient_step(model, APGD_LOSSES[loss], speed),
                                           input_signature=[images, labels, tf.TensorSpec((), tf.float32)])
    return cache[(loss, speed)]


def checkpoints(steps: int) -> list[int]:
    """The iterations where APGD checks its progress: ceil(p * steps) for p = 0.22, 0.41, 0.57, ...

    Each gap is the previous one minus 0.03, but at least 0.06 (Croce and Hein's schedule).
    """
    fractions = [0.0, 0.22]
    while fractions[-1] + max(fractions[-1] - fractions[-2] - 0.03, 0.06) <= 1:
        fractions.append(fractions[-1] + max(fractions[-1] - fractions[-2] - 0.03, 0.06))
    marks = {math.ceil(round(f * steps, 9)) for f in fractions[1:]}  # (round: no float noise in ceil)
    return sorted(m for m in marks if 0 < m <= steps)


def project_into(x: np.ndarray, x_orig: np.ndarray, eps: float, norm: "str | Norm" = "l2") -> np.ndarray:
    """The point ``x`` brought back to a valid image within ``eps`` of ``x_orig`` (both in [0, 1]).

    First every pixel into [0, 1], then the change ``x - x_orig`` shrunk into the ``norm`` ball.
    Shrinking moves each pixel towards its original value, so the result stays in [0, 1], and no
    part of the budget is left on pixels pushed past black or white (the last clip only removes
    rounding). For L-infinity both orders give the same image.
    """
    norm = get_norm(norm)
    inside = np.clip(np.asarray(x, np.float32), 0.0, 1.0)
    delta = norm.project(tf.constant(inside - x_orig), tf.constant(eps, tf.float32)).numpy()
    return np.clip(x_orig + delta, 0.0, 1.0).astype(np.float32)


def _per_image(flags: np.ndarray) -> np.ndarray:
    """(N,) flags shaped (N, 1, 1, 1) to select whole images."""
    return flags[:, None, None, None]


class _Walk:
    """The state of one APGD run on the images of a batch that are still standing."""

    def __init__(self, x: np.ndarray, start: np.ndarray, fed: np.ndarray, eps: float, norm: Norm):
        self.index = np.arange(len(x))  # which of the batch's images these are
        self.x_orig, self.fed, self.eps, self.norm = x, fed, eps, norm
        self.current, self.previous = start, start
        self.step = np.full((len(x),) + (1,) * (x.ndim - 1), 2.0 * eps, np.float32)
        self.best_loss, self.last_loss = np.full(len(x), -np.inf), np.full(len(x), np.inf)
        self.best_x, self.best_grad = start, np.zeros_like(start)
        self.rises, self.mark_step, self.mark_best = np.zeros(len(x)), self.step.copy(), self.best_loss.copy()

    def keep(self, chosen: np.ndarray) -> None:
        """Go on with the ``chosen`` images only (the others are fooled: nothing left to find)."""
        for name in ("index", "x_orig", "fed", "current", "previous", "step", "best_loss", "last_loss", "best_x",
                     "best_grad", "rises", "mark_step", "mark_best"):
            setattr(self, name, getattr(self, name)[chosen])

    def project(self, x: np.ndarray) -> np.ndarray:
        """Into [0, 1], then back into the ball around the original image (:func:`project_into`)."""
        return project_into(x, self.x_orig, self.eps, self.norm)

    def move(self, grad: np.ndarray, first: bool) -> None:
        """One step of the current sizes along ``grad``, mixed with the previous move (momentum)."""
        step = self.norm.step(tf.constant(grad), tf.constant(self.step)).numpy()
        z = self.project(self.current + step)
        if not first:
            z = self.project(self.current + MOMENTUM * (z - self.current)
                             + (1 - MOMENTUM) * (self.current - self.previous))
        self.previous, self.current = self.current, z.astype(np.float32)

    def remember(self, loss: np.ndarray, grad: np.ndarray) -> None:
        """Count a rise of the loss, and keep the best point (and its gradient) so far."""
        self.rises += loss > self.last_loss
        better = loss > self.best_loss
        self.last_loss, self.best_loss = loss, np.where(better, loss, self.best_loss)
        self.best_x = np.where(_per_image(better), self.current, self.best_x)
        self.best_grad = np.where(_per_image(better), grad, self.best_grad)

    def checkpoint(self, steps_since: int, grad: np.ndarray) -> np.ndarray:
        """Halve the step where progress stalled, back to the best point there; the gradient to use."""
        stalled = (self.rises < PROGRESS_RATE * steps_since) | (
            (self.mark_step.ravel() == self.step.ravel()) & (self.mark_best == self.best_loss))
        self.mark_step, self.mark_best, self.rises = self.step.copy(), self.best_loss.copy(), np.zeros(len(stalled))
        self.step[stalled] /= 2.0
        self.current = np.where(_per_image(stalled), self.best_x, self.current)
        self.previous = self.current.copy()
        return np.where(_per_image(stalled), self.best_grad, grad)


def apgd(model: keras.Model, x: np.ndarray, labels: np.ndarray, *, eps: float, norm: "str | Norm" = "l2",
         steps: int = 100, loss: str = "ce", targets: Optional[np.ndarray] = None,
         start: Optional[np.ndarray] = None, speed: SpeedPath = FAST) -> tuple[np.ndarray, np.ndarray]:
    """One APGD run on checked images ``x`` (float32 in [0, 1]) with true ``labels`` (int64).

    ``loss`` is "ce", "margin" or "dlr_targeted" (then ``targets`` gives each image's target
    class). Starts at ``start`` (default: ``x``). Returns ``(adversarial, fooled)``: per image
    the first iterate that fooled the model (else the best-loss point), and whether any did.
    """
    norm = get_norm(norm)
    if loss not in APGD_LOSSES:
        raise ValueError(f"unknown APGD loss {loss!r}; choose one of {sorted(APGD_LOSSES)}")
    if (loss == "dlr_targeted") != (targets is not None):
        raise ValueError("targets are needed with loss='dlr_targeted', and only with it")
    fed = np.stack([labels, targets], axis=1) if targets is not None else labels
    gradient, loss_fn = _gradient(model, loss, speed), APGD_LOSSES[loss]
    walk = _Walk(x, x if start is None else start, fed, eps, norm)
    fooled, result = np.zeros(len(x), bool), np.array(x if start is None else start, copy=True)
    marks, last_mark = checkpoints(steps), 0
    for k in range(steps + 1):
        logits, grad = gradient(tf.constant(walk.current), tf.constant(walk.fed), tf.constant(1.0))
        value = loss_fn(logits, tf.constant(walk.fed)).numpy().astype(np.float64)
        wrong, grad = logits.numpy().argmax(axis=1) != labels[walk.index], grad.numpy()
        result[walk.index[wrong]], fooled[walk.index[wrong]] = walk.current[wrong], True  # every iterate counts
        walk.remember(value, grad)
        result[walk.index[~wrong]] = walk.best_x[~wrong]  # not fooled (yet): the best point so far
        if k == steps or wrong.all():
            break
        if k in marks:
            grad, last_mark = walk.checkpoint(k - last_mark, grad), k
        walk.keep(~wrong)
        walk.move(grad[~wrong], first=k == 0)
    return result, fooled
