"""Training throughput, natural and PGD, through the project's own loop (section ``training``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Callable

from benchmarks.bench_common import REPO, rate_summary, summarise, timed

TRAIN_IMAGES = 60_000


def robust_recipe_attack():
    """The attack the shipped robust model was trained with (helpers.train's recipe)."""
    from helpers.train import RECIPES

    return RECIPES["robust"].attack


def shipped_training_times() -> dict:
    """What the shipped models' own logs (models/NAME.json) say their training took."""
    found = {}
    for path in sorted((REPO / "models").glob("*.json")):
        try:
            log = json.loads(path.read_text())
            found[path.stem] = {
                "training_seconds_total": log.get("training_seconds_total"),
                "epochs": (log.get("config") or {}).get("epochs"),
                "attack": log.get("attack"), "machine": log.get("machine"),
                "seconds_per_epoch": [round(r.get("seconds", 0.0), 1) for r in log.get("history", [])],
            }
        except (OSError, ValueError, AttributeError) as error:
            found[path.stem] = {"error": str(error)}
    return found


def _epoch_seconds(settings: dict, determinism: bool) -> dict:
    """Seconds of ``settings["repeats"]`` epochs of each mode ("natural", "pgd"), in this process.

    With ``determinism`` it first turns TensorFlow's op determinism on, as ``helpers.train``
    does: public API (``tf.config.experimental.enable_op_determinism``) has no switch back off,
    so :func:`training` runs that case in a process of its own.
    """
    import keras
    import tensorflow as tf

    from helpers.data import load_mnist_test
    from helpers.environment import quiet_tensorflow
    from helpers.models import build_cnn
    from helpers.training import TrainConfig, make_optimizer, run_epoch

    quiet_tensorflow()  # in a fresh process, TensorFlow's start-up lines would land in the log
    if determinism:
        tf.config.experimental.enable_op_determinism()
    attack = _attack(settings)
    batch, batches = settings["train_batch"], settings["train_batches"]
    x, y = load_mnist_test()
    images, labels = x[: batch * batches], y[: batch * batches]
    keras.utils.set_random_seed(0)
    model = build_cnn()  # the shipped architecture, trainable (the shipped copies are frozen)
    optimizer = make_optimizer(TrainConfig(batch_size=batch), -(-TRAIN_IMAGES // batch))
    modes = {"natural": None, "pgd": attack}
    for mode in modes.values():  # warming up (tracing)
        run_epoch(model, images[:batch], labels[:batch], batch_size=batch, attack=mode, optimizer=optimizer,
                  progress=False)
    seconds: dict = {mode: [] for mode in modes}
    for repeat in range(settings["repeats"]):
        for mode, mode_attack in modes.items():
            seconds[mode].append(timed(lambda: run_epoch(model, images, labels, batch_size=batch, attack=mode_attack,
                                                         optimizer=optimizer, rng=repeat, progress=False)))
    return {"seconds": seconds, "images": len(images)}


def _in_own_process(settings: dict, determinism: bool) -> dict:
    """:func:`_epoch_seconds` in a fresh Python process, so its settings do not outlive it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_epoch_seconds, settings, determinism).result()


def _attack(settings: dict):
    """The robust recipe's training attack (fewer steps in the smoke run)."""
    attack = robust_recipe_attack()
    if settings.get("train_attack_steps"):  # the smoke run: a couple of steps only
        attack = dataclasses.replace(attack, steps=settings["train_attack_steps"])
    return attack


def training(settings: dict, log: Callable[[str], None]) -> dict:
    """Images per second of one optimisation step, natural and with the robust recipe's PGD,
    through ``helpers.training.run_epoch`` (validation, shuffling, batching, attack, train step).

    Op determinism "off" is measured in this process, "on" (as helpers.train) in a process of
    its own (see :func:`_epoch_seconds`)."""
    attack, batch = _attack(settings), settings["train_batch"]
    wanted = settings.get("train_determinism", ["off", "on"])
    rows = []
    for name, determinism in (("off", False), ("on (as helpers.train)", True)):
        if name.split()[0] not in wanted:
            continue
        log(f"  op determinism {name}: {settings['train_batches']} batches of {batch}, attack {attack}")
        measured = _in_own_process(settings, True) if determinism else _epoch_seconds(settings, False)
        for mode, samples in measured["seconds"].items():
            time_summary = summarise(samples)
            rate = rate_summary(time_summary, measured["images"])
            rows.append({"mode": mode, "op_determinism": name, "images": measured["images"], "batch": batch,
                         "attack": dataclasses.asdict(attack) if mode == "pgd" else None,
                         "seconds": time_summary, "images_per_s": rate,
                         "estimated_epoch_seconds": TRAIN_IMAGES / rate["median"]})
    return {"rows": rows, "shipped_models": shipped_training_times(),
            "notes": "a fresh helpers.models.build_cnn() and the recipes' Adam with cosine decay; "
                     "estimated epoch = 60,000 images at the median rate (the per-epoch evaluation "
                     "of helpers.training.fit not included); op determinism on: measured after off, "
                     "in a process of its own (TensorFlow has no public switch to turn it back off)"}
