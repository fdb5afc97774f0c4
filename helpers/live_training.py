"""The two short training runs notebook 03 makes live, one function each.

Both train the tutorial CNN on MNIST *training* images with the project's one loop
(:func:`helpers.training.fit`), with the guard against catastrophic overfitting: a PGD check on
held-out training images after every epoch, ending on the best epoch.

- :func:`fast_robust_run`: a genuinely robust model in a few minutes on a laptop CPU: the
  ``pgd2`` recipe of ``tools/fast_training.py`` (two L2 PGD steps of 1.25 x eps from a random
  start, a one-cycle learning rate) for one epoch: 3 forward-backward passes per image.
- :func:`collapse_run`: catastrophic overfitting on purpose. FGSM with a random start and step
  1.25 x eps (Wong, Rice and Kolter 2020) at L-infinity eps 0.3 on 10,000 images: the check
  climbs for two epochs, then falls to almost nothing within one epoch while the accuracy on
  the training attack keeps rising; the guard stops the run and restores the best epoch.
  (At L2 eps 2 and 3 plain FGSM did not collapse within 3 epochs: ``results/fast_training.json``.)

``tools/fast_training.py live`` runs both and ships their logs (``results/live_training.json``),
which notebook 03 shows where the training images are not available.
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np

from helpers.attacks import PGDAttack
from helpers.fast_training import fgsm_rs, hold_out
from helpers.models import build_cnn
from helpers.training import TrainConfig, fit

__all__ = ["FAST_ATTACK", "FAST_GUARD", "GUARD_IMAGES", "COLLAPSE_ATTACK", "COLLAPSE_GUARD", "fast_config",
           "fast_robust_run", "collapse_run"]

#: The fast recipe's training attack (``pgd2``) and its guard: 10-step L2 PGD at eps 2.0 on
#: ``GUARD_IMAGES`` held-out training images. ``tools/fast_training.py`` uses the same three.
FAST_ATTACK = PGDAttack(eps=2.0, step_size=2.5, steps=2, norm="l2", random_start=True)
FAST_GUARD = PGDAttack(eps=2.0, step_size=0.5, steps=10, norm="l2", random_start=False)
GUARD_IMAGES = 1000
#: The collapse: FGSM-RS at L-infinity eps 0.3 (step 0.375), and a 10-step L-infinity PGD guard.
COLLAPSE_ATTACK = fgsm_rs(0.3, norm="linf")
COLLAPSE_GUARD = PGDAttack(eps=0.3, step_size=0.075, steps=10, norm="linf", random_start=False)


def _checked(x_train: np.ndarray, y_train: np.ndarray, least: int) -> tuple[np.ndarray, np.ndarray]:
    x_train, y_train = np.asarray(x_train, np.float32), np.asarray(y_train)
    if x_train.ndim != 4 or x_train.shape[1:] != (28, 28, 1) or y_train.shape != (len(x_train),):
        raise ValueError(f"need images (N, 28, 28, 1) and N labels, got {x_train.shape} and {y_train.shape}")
    if len(x_train) < least:
        raise ValueError(f"need at least {least:,} training images, got {len(x_train):,}")
    return x_train, y_train


def fast_config(epochs: int, **changes: object) -> TrainConfig:
    """The fast recipes' training configuration for ``epochs`` epochs: batch 128, a one-cycle rate
    peaking at 2e-3 after 30% of the run, and the guard (the best epoch kept, the run stopped
    once the check falls 20 points below its best); ``changes`` replace any field."""
    settings = dict(epochs=epochs, batch_size=128, learning_rate=2e-3, lr_schedule="one_cycle", peak_at=0.3,
                    seed=0, eval_size=GUARD_IMAGES, restore_best=True, stop_drop=0.2)
    return TrainConfig(**{**settings, **changes})


def fast_robust_run(x_train: np.ndarray, y_train: np.ndarray, *, epochs: int = 1, progress: bool = True,
                    log: Callable[[str], None] = print) -> tuple[keras.Model, list[dict]]:
    """Train a robust tutorial CNN with the fast recipe; returns the model and its epoch records.

    1,000 training images are held out for the guard (10-step L2 PGD at eps 2.0, after every
    epoch); the model ends on the epoch the guard liked best. Seeded: the same run each time.
    """
    x_train, y_train = _checked(x_train, y_train, 2 * GUARD_IMAGES)
    x_fit, y_fit, x_guard, y_guard = hold_out(x_train, y_train, GUARD_IMAGES, seed=0)
    keras.utils.set_random_seed(0)
    model = build_cnn("fast_robust")
    history = fit(model, x_fit, y_fit, config=fast_config(epochs), attack=FAST_ATTACK, x_eval=x_guard, y_eval=y_guard,
                  eval_attack=FAST_GUARD, progress=progress, log=log)
    return model, history


def collapse_run(x_train: np.ndarray, y_train: np.ndarray, *, images: int = 10_000, progress: bool = True,
                 log: Callable[[str], None] = print) -> list[dict]:
    """Catastrophic overfitting, caught: FGSM-RS at L-infinity eps 0.3 on the first ``images``
    training images (500 more held out for the guard), a one-cycle schedule planned for 6 epochs.

    The guard (10-step L-infinity PGD) stops the run once its check falls 15 points below its
    best and restores the best epoch. Returns the epoch records: ``train_accuracy`` is accuracy
    on the FGSM-RS images, ``eval_adversarial_accuracy`` the guard's check.
    """
    x_train, y_train = _checked(x_train, y_train, images + 500)
    x_fit, y_fit, x_guard, y_guard = hold_out(x_train[:images + 500], y_train[:images + 500], 500, seed=0)
    keras.utils.set_random_seed(0)
    config = TrainConfig(epochs=6, batch_size=128, learning_rate=2e-3, lr_schedule="one_cycle", eval_size=500,
                         restore_best=True, stop_drop=0.15)
    return fit(build_cnn("collapse"), x_fit, y_fit, config=config, attack=COLLAPSE_ATTACK, x_eval=x_guard,
               y_eval=y_guard, eval_attack=COLLAPSE_GUARD, progress=progress, log=log)
