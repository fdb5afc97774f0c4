"""One loop that trains and evaluates, clean or adversarial: the attack is a parameter.

Explained in notebook ``03_adversarial_training.ipynb``.

:func:`run_epoch` makes one pass over the data (training when given an optimizer, evaluating
otherwise; on attacked images when given an attack). :func:`fit` repeats it for several
epochs, shows a progress bar, logs clean and adversarial accuracy per epoch, writes a
checkpoint after every epoch and, when started again with the same checkpoint folder,
**resumes** after the last finished epoch. Runs are seeded: the same seed and data give the
same weights, interrupted or not.

Fast recipes (:mod:`helpers.fast_training`): a one-cycle learning rate, and a guard against
*catastrophic overfitting* (a per-epoch PGD check on held-out training images, :func:`hold_out`;
``restore_best`` ends on the best epoch, ``stop_drop`` stops a collapse). With a ``strategy``
every replica of a ``tf.distribute.Strategy`` attacks and learns from its share of each batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from helpers.distributed import distributed_train_step, split_across_replicas
from helpers.fast_training import OneCycle, ascent_plan, hold_out, scaled_attack
from helpers.validation import validate_images, validate_labels, validate_number

__all__ = ["TrainConfig", "Attack", "run_epoch", "fit", "make_optimizer", "load_checkpoint", "warmed_up", "hold_out"]
LR_SCHEDULES = ("cosine", "one_cycle")

#: An attack as the training loop sees it: (model, images, labels, rng) -> attacked images.
Attack = Callable[[keras.Model, np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run, in one readable place.

    ``learning_rate`` is Adam's starting rate; it follows a cosine decay to
    ``learning_rate * final_lr_fraction`` over all the run's batches.
    ``attack_warmup_epochs``: during the first epochs the training attack's radius (and step)
    grow in equal parts, ``(epoch + 1) / (attack_warmup_epochs + 1)`` of the full size, so a
    network that cannot learn against the full attack from scratch gets a foothold first.
    ``lr_schedule``: "cosine" (above) or "one_cycle" (:class:`OneCycle`: up from
    ``learning_rate * final_lr_fraction`` to ``learning_rate`` over the first ``peak_at`` of
    the run, then down again). ``restore_best``: end on the epoch with the best per-epoch
    adversarial check; ``stop_drop``: stop once that check is this far below its best.
    """

    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 1e-3
    final_lr_fraction: float = 0.01
    seed: int = 0
    eval_size: int = 1000  # test images used for the per-epoch clean / adversarial check
    attack_warmup_epochs: int = 0
    lr_schedule: str = "cosine"
    peak_at: float = 0.3
    restore_best: bool = False
    stop_drop: Optional[float] = None

    def __post_init__(self) -> None:
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; choose one of {list(LR_SCHEDULES)}")
        if not 0 < validate_number(self.peak_at, "peak_at") < 1:
            raise ValueError(f"peak_at must lie strictly between 0 and 1, got {self.peak_at!r}")
        if self.stop_drop is not None and not 0 < validate_number(self.stop_drop, "stop_drop") <= 1:
            raise ValueError(f"stop_drop must be in (0, 1] or None, got {self.stop_drop!r}")


def warmed_up(attack: Optional[Attack], epoch: int, warmup_epochs: int) -> Optional[Attack]:
    """The training attack of (0-based) ``epoch``: ``attack`` scaled down during the warm-up.

    A :class:`helpers.attacks.PGDAttack` (``eps`` and ``step_size``) or an
    :class:`helpers.fast_training.NFGSMAttack` can be scaled; any other attack with a warm-up
    is a ``ValueError``.
    """
    if attack is None or warmup_epochs <= 0 or epoch >= warmup_epochs:
        return attack
    return scaled_attack(attack, (epoch + 1) / (warmup_epochs + 1))


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Adam with the configuration's learning-rate schedule over the whole run."""
    total = max(1, config.epochs * steps_per_epoch)
    if config.lr_schedule == "one_cycle":
        schedule = OneCycle(config.learning_rate, total, config.peak_at, config.final_lr_fraction)
    else:
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=config.learning_rate, decay_steps=total, alpha=config.final_lr_fraction)
    return keras.optimizers.Adam(learning_rate=schedule)


def _step_functions(model: keras.Model, optimizer: Optional[keras.optimizers.Optimizer]):
    """Compiled per-batch functions: (images, labels) -> (summed loss, number correct)."""
    spec = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32), tf.TensorSpec((None,), tf.int64)]

    def loss_and_correct(logits: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        correct = tf.reduce_sum(tf.cast(tf.argmax(logits, axis=-1) == labels, tf.float32))
        return losses, correct

    @tf.function(input_signature=spec)
    def evaluate(images, labels):
        losses, correct = loss_and_correct(model(images, training=False), labels)
        return tf.reduce_sum(losses), correct

    if optimizer is None:
        return evaluate

    @tf.function(input_signature=spec)
    def train(images, labels):
        with tf.GradientTape() as tape:
            losses, correct = loss_and_correct(model(images, training=True), labels)
            mean_loss = tf.reduce_mean(losses)
        grads = tape.gradient(mean_loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return tf.reduce_sum(losses), correct

    return train


_STEP_CACHE: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()


def _cached_step(model, optimizer, attack, strategy) -> Callable:
    """The compiled step for this model, optimizer (and, distributed, attack and strategy)."""
    per_model = _STEP_CACHE.setdefault(model, {})
    key = optimizer if strategy is None else (optimizer, attack, id(strategy))
    if key not in per_model:
        per_model[key] = (_step_functions(model, optimizer) if strategy is None
                          else distributed_train_step(model, optimizer, attack, strategy))
    return per_model[key]


def run_epoch(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 128,
    attack: Optional[Attack] = None,
    optimizer: Optional[keras.optimizers.Optimizer] = None,
    rng: int | np.random.Generator | None = 0,
    progress: bool = True,
    description: str = "",
    strategy: Optional[tf.distribute.Strategy] = None,
) -> dict[str, float]:
    """One pass over ``(x, y)``; returns ``{"loss": mean loss, "accuracy": fraction correct}``.

    With an ``optimizer`` it trains (data shuffled with ``rng``), otherwise it only evaluates.
    With an ``attack`` every batch is first replaced by its attacked version (``None``: clean).
    With a ``strategy`` (training only; the model and optimizer made in its scope) each
    replica attacks and learns from its share of every batch: the attack must be a
    ``PGDAttack`` or an ``NFGSMAttack`` (its random start is drawn here, the steps run on the
    replicas). ``x``: (N, 28, 28, 1) in [0, 1]; ``y``: N ints.
    """
    images = validate_images(model, x)
    labels = validate_labels(model, y, len(images))
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
    if strategy is not None and optimizer is None:
        raise ValueError("a strategy is for training: pass an optimizer made in strategy.scope()")
    start_points = None if strategy is None or attack is None else ascent_plan(attack).start
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    order = generator.permutation(len(images)) if optimizer is not None else np.arange(len(images))
    step = _cached_step(model, optimizer, attack, strategy)
    total_loss = total_correct = 0.0
    batches = range(0, len(images), batch_size)
    bar = tqdm(batches, desc=description, disable=not progress, leave=False, unit="batch")
    for start in bar:
        index = order[start:start + batch_size]
        batch_x, batch_y = images[index], labels[index]
        if strategy is not None:
            starts = batch_x if start_points is None else start_points(batch_x, generator)
            loss, correct = step(*split_across_replicas(strategy, (batch_x, starts, batch_y)))
        else:
            if attack is not None:
                batch_x = attack(model, batch_x, batch_y, generator)
            loss, correct = step(tf.constant(batch_x), tf.constant(batch_y))
        total_loss += float(loss)
        total_correct += float(correct)
        bar.set_postfix(loss=f"{total_loss / (start + len(index)):.3f}",
                        acc=f"{total_correct / (start + len(index)):.3f}", refresh=False)
    count = max(1, len(images))
    return {"loss": total_loss / count, "accuracy": total_correct / count}


# --- Checkpoints ------------------------------------------------------------------------
_WEIGHTS = "weights.weights.h5"
_OPTIMIZER = "optimizer.npz"
_STATE = "state.json"
_BEST = "best.weights.h5"  # the weights of the epoch with the best adversarial check


def _save_checkpoint(folder: Path, model: keras.Model, optimizer: keras.optimizers.Optimizer,
                     state: dict) -> None:
    """Write weights, optimizer variables and progress; the state file is written last."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_weights(folder / _WEIGHTS)
    np.savez(folder / _OPTIMIZER, *[v.numpy() for v in optimizer.variables])
    temporary = folder / (_STATE + ".tmp")
    temporary.write_text(json.dumps(state, indent=2))
    os.replace(temporary, folder / _STATE)  # atomic: a crash never leaves a half-written state


def load_checkpoint(folder: str | os.PathLike[str], model: keras.Model,
                    optimizer: keras.optimizers.Optimizer) -> Optional[dict]:
    """Restore ``model`` and ``optimizer`` from ``folder``; returns its state, or None if empty."""
    folder = Path(folder)
    if not (folder / _STATE).is_file():
        return None
    state = json.loads((folder / _STATE).read_text())
    model.load_weights(folder / _WEIGHTS)
    optimizer.build(model.trainable_variables)
    with np.load(folder / _OPTIMIZER, allow_pickle=False) as saved:
        values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    if len(values) != len(optimizer.variables):
        raise ValueError(f"checkpoint in {folder} does not match this optimizer; delete it to start over")
    for variable, value in zip(optimizer.variables, values):
        variable.assign(value)
    return state


def _check(model: keras.Model, config: TrainConfig, x_eval: np.ndarray, y_eval: np.ndarray,
           eval_attack: Optional[Attack], epoch: int) -> dict[str, float]:
    """The per-epoch check on the first ``config.eval_size`` of ``(x_eval, y_eval)``."""
    subset_x, subset_y = x_eval[: config.eval_size], y_eval[: config.eval_size]
    record = {"eval_clean_accuracy": run_epoch(model, subset_x, subset_y, progress=False)["accuracy"]}
    if eval_attack is not None:
        record["eval_adversarial_accuracy"] = run_epoch(
            model, subset_x, subset_y, attack=eval_attack,
            rng=np.random.default_rng([config.seed, epoch, 1]), progress=False)["accuracy"]
    return record


def _keep_best(model: keras.Model, state: dict, record: dict, folder: Optional[Path], best: dict) -> None:
    """Remember the epoch with the best adversarial check (weights in ``best`` and the folder)."""
    score = record["eval_adversarial_accuracy"]
    if state.get("best_epoch") is None or score > state["best_score"]:
        state["best_epoch"], state["best_score"] = record["epoch"], score
        best["weights"] = model.get_weights()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            model.save_weights(folder / _BEST)
    record["best_epoch"] = state["best_epoch"]


def _restore_best(model: keras.Model, state: dict, folder: Optional[Path], best: dict,
                  log: Callable[[str], None]) -> None:
    """Load the best epoch's weights back into ``model`` (if it is not the last epoch)."""
    if state.get("best_epoch") is None or state["best_epoch"] == state["history"][-1]["epoch"]:
        return
    if "weights" in best:
        model.set_weights(best["weights"])
    else:
        model.load_weights(folder / _BEST)
    log(f"restored epoch {state['best_epoch']} (best check: {state['best_score']:.4f})")


def _start_state(config: TrainConfig, folder: Optional[Path], model: keras.Model,
                 optimizer: keras.optimizers.Optimizer, log: Callable[[str], None]) -> dict:
    """The saved state to resume from (after checking its configuration), or a fresh one."""
    state = load_checkpoint(folder, model, optimizer) if folder is not None else None
    if state is None:
        return {"config": asdict(config), "epochs_done": 0, "history": []}
    saved = {**asdict(TrainConfig()), **state["config"]}  # older checkpoints lack newer fields
    if saved != asdict(config):
        raise ValueError(f"checkpoint in {folder} was made with another configuration: "
                         f"{state['config']}; delete the folder to start over")
    log(f"resuming from {folder} after epoch {state['epochs_done']}")
    return state


def fit(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    config: TrainConfig = TrainConfig(),
    attack: Optional[Attack] = None,
    x_eval: Optional[np.ndarray] = None,
    y_eval: Optional[np.ndarray] = None,
    eval_attack: Optional[Attack] = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    strategy: Optional[tf.distribute.Strategy] = None,
) -> list[dict]:
    """Train ``model`` for ``config.epochs`` epochs (natural when ``attack`` is None).

    After each epoch it logs training loss and accuracy, and clean and adversarial accuracy
    on the first ``config.eval_size`` of ``(x_eval, y_eval)`` (adversarial with
    ``eval_attack``, defaulting to ``attack``), then saves a checkpoint in ``checkpoint_dir``.
    Started again with the same folder, it loads the checkpoint and continues after the last
    finished epoch. With ``config.restore_best`` (the guard against catastrophic overfitting:
    pass held-out training images, see :func:`hold_out`) the model ends with the weights of
    the epoch whose adversarial check was best, and ``config.stop_drop`` ends the run early
    once the check falls that far below its best. ``strategy``: see :func:`run_epoch` (build
    the model in ``strategy.scope()``). Returns the per-epoch records (seconds included).
    """
    eval_attack = eval_attack or attack
    if (config.restore_best or config.stop_drop) and (x_eval is None or y_eval is None or eval_attack is None):
        raise ValueError("restore_best and stop_drop need x_eval, y_eval and an attack for the check")
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        optimizer = make_optimizer(config, -(-len(x_train) // config.batch_size))
        folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
        state = _start_state(config, folder, model, optimizer, log)
    best: dict = {}
    for epoch in range(state["epochs_done"], config.epochs):
        if state.get("stopped_after") is not None:
            break
        started = time.perf_counter()
        record = {"epoch": epoch + 1}
        epoch_attack = warmed_up(attack, epoch, config.attack_warmup_epochs)
        if epoch_attack is not attack:
            record["attack_eps"] = epoch_attack.eps
        train = run_epoch(model, x_train, y_train, batch_size=config.batch_size, attack=epoch_attack,
                          optimizer=optimizer, rng=np.random.default_rng([config.seed, epoch]), progress=progress,
                          description=f"epoch {epoch + 1}/{config.epochs}", strategy=strategy)
        record.update(train_loss=train["loss"], train_accuracy=train["accuracy"])
        if x_eval is not None and y_eval is not None:
            record.update(_check(model, config, x_eval, y_eval, eval_attack, epoch))
        if config.restore_best or config.stop_drop:
            _keep_best(model, state, record, folder, best)
            if config.stop_drop and record["eval_adversarial_accuracy"] < state["best_score"] - config.stop_drop:
                state["stopped_after"] = epoch + 1
                log(f"catastrophic overfitting: the check fell from {state['best_score']:.4f} to "
                    f"{record['eval_adversarial_accuracy']:.4f}; stopping after epoch {epoch + 1}")
        record["seconds"] = time.perf_counter() - started
        state["history"].append(record)
        state["epochs_done"] = epoch + 1
        if folder is not None:
            _save_checkpoint(folder, model, optimizer, state)
        log(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
    if config.restore_best or config.stop_drop:
        _restore_best(model, state, folder, best, log)
    return state["history"]
