"""Training throughput, natural and PGD, through the project's own loop (section ``training``)."""

from __future__ import annotations

import contextlib
import json
from typing import Callable, Iterator

from bench_common import REPO, rate_summary, summarise, timed

TRAIN_IMAGES = 60_000


def robust_recipe_attack():
    """The attack the shipped robust model was trained with (helpers.train's recipe)."""
    from helpers.train import RECIPES

    return RECIPES["robust"].attack


@contextlib.contextmanager
def op_determinism(enabled: bool) -> Iterator[bool]:
    """Turn TensorFlow's op determinism on or off for a moment (helpers.train turns it on).

    TensorFlow has no public switch back off, so this uses the flag behind
    ``tf.config.experimental.enable_op_determinism``; yields False if it is not there."""
    try:
        from tensorflow.python.util import _pywrap_determinism as flag
    except ImportError:
        yield False
        return
    before = flag.is_enabled()
    flag.enable(enabled)
    try:
        yield True
    finally:
        flag.enable(before)


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


def training(settings: dict, log: Callable[[str], None]) -> dict:
    """Images per second of one optimisation step, natural and with the robust recipe's PGD,
    through ``helpers.training.run_epoch`` (validation, shuffling, batching, attack, train step)."""
    import dataclasses

    import keras

    from helpers.data import load_mnist_test
    from helpers.models import build_cnn
    from helpers.training import TrainConfig, make_optimizer, run_epoch

    attack = robust_recipe_attack()
    if settings.get("train_attack_steps"):  # the smoke run: a couple of steps only
        attack = dataclasses.replace(attack, steps=settings["train_attack_steps"])
    batch, batches = settings["train_batch"], settings["train_batches"]
    x, y = load_mnist_test()
    images, labels = x[: batch * batches], y[: batch * batches]
    keras.utils.set_random_seed(0)
    model = build_cnn()  # the shipped architecture, trainable (the shipped copies are frozen)
    optimizer = make_optimizer(TrainConfig(batch_size=batch), -(-TRAIN_IMAGES // batch))
    modes = {"natural": None, "pgd": attack}
    determinism = {name: value for name, value in (("off", False), ("on (as helpers.train)", True))
                   if name.split()[0] in settings.get("train_determinism", ["off", "on"])}

    def epoch(mode: str, seed: int) -> Callable[[], object]:
        return lambda: run_epoch(model, images, labels, batch_size=batch, attack=modes[mode],
                                 optimizer=optimizer, rng=seed, progress=False)

    log(f"  warming up (tracing): {batches} batches of {batch}, attack {attack}")
    run_epoch(model, images[:batch], labels[:batch], batch_size=batch, attack=attack, optimizer=optimizer,
              progress=False)
    run_epoch(model, images[:batch], labels[:batch], batch_size=batch, optimizer=optimizer, progress=False)
    seconds = {(m, d): [] for d in determinism for m in modes}
    switch_available = True
    for repeat in range(settings["repeats"]):
        for d_name, d_value in determinism.items():
            with op_determinism(d_value) as available:
                switch_available = switch_available and available
                for mode in modes:
                    seconds[(mode, d_name)].append(timed(epoch(mode, repeat)))
        log(f"  repeat {repeat + 1}/{settings['repeats']} done")
    rows = []
    for (mode, d_name), samples in seconds.items():
        if not switch_available and d_name != "off":
            continue
        time_summary = summarise(samples)
        rate = rate_summary(time_summary, len(images))
        rows.append({"mode": mode, "op_determinism": d_name, "images": len(images), "batch": batch,
                     "attack": dataclasses.asdict(attack) if modes[mode] else None,
                     "seconds": time_summary, "images_per_s": rate,
                     "estimated_epoch_seconds": TRAIN_IMAGES / rate["median"]})
    return {"rows": rows, "shipped_models": shipped_training_times(),
            "notes": "a fresh helpers.models.build_cnn() and the recipes' Adam with cosine decay; "
                     "estimated epoch = 60,000 images at the median rate (the per-epoch evaluation "
                     "of helpers.training.fit not included)"}
