"""Time-to-target of PGD adversarial training: can a cheaper recipe match the shipped robust model?

    MNIST_NPZ=/path/to/mnist.npz python -m benchmarks.time_to_target            # every candidate
    MNIST_NPZ=/path/to/mnist.npz python -m benchmarks.time_to_target steps3     # one candidate

Each candidate is the shipped robust recipe (``helpers.train.RECIPES["robust"]``: L2 eps 2.0,
random start, Adam with cosine decay) with a cheaper training attack or schedule. It trains from
scratch with the project's own loop (checkpoints in ``checkpoints/time_to_target/NAME``, so an
interrupted run resumes), then is measured like the shipped model: clean accuracy on all 10,000
test images, and accuracy at L2 eps 2.0 under :data:`PROTOCOL` on the first ``ATTACK_IMAGES``
(``helpers.evaluation.PGD_TABLE``: the protocol the recorded candidates were measured with, so
old and new rows compare). The target is the shipped robust model's figures under the same
protocol minus ``TOLERANCE``: read from ``models/evaluation.json`` when that file was measured
the same way, else measured here. Results are added to ``benchmarks/time_to_target.json``,
which ``python -m benchmarks.run`` puts into ``RESULTS.md``. Training takes tens of minutes per
candidate on 2 cores: it is not part of ``benchmarks.run``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from helpers.data import load_mnist  # noqa: E402
from helpers.environment import quiet_tensorflow  # noqa: E402
from helpers.evaluation import PGD_TABLE, Protocol, accuracy, madry_step_size, strongest_accuracy  # noqa: E402
from helpers.models import load_pretrained  # noqa: E402
from helpers.reports import REPO_DIR, read_json, write_json  # noqa: E402
from helpers.train import RECIPES  # noqa: E402
from helpers.training import fit  # noqa: E402

HERE = Path(__file__).resolve().parent

TOLERANCE = 0.01  # "the same accuracy": within 1 point of the shipped model
ROBUST = RECIPES["robust"]
#: name -> (what changes, training attack, configuration)
CANDIDATES = {
    "steps3": ("3 PGD steps of 1.67 instead of 10 of 0.5, same 12 epochs",
               replace(ROBUST.attack, steps=3, step_size=round(madry_step_size(ROBUST.attack.eps, 3), 3)), ROBUST.config),
    "steps5-8epochs": ("5 PGD steps of 1.0, 8 epochs",
                       replace(ROBUST.attack, steps=5, step_size=1.0), replace(ROBUST.config, epochs=8)),
}
OUT = HERE / "time_to_target.json"
#: How the L2 eps 2.0 figure is measured, for the candidates and the shipped model alike.
PROTOCOL: Protocol = PGD_TABLE
ATTACK_IMAGES = 1000


def measure(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict:
    """Clean accuracy on all of ``x`` and accuracy at L2 eps 2.0 under :data:`PROTOCOL` on the first images."""
    return {"clean_10000": accuracy(model, x, y),
            "l2_2.0": strongest_accuracy(model, x[:ATTACK_IMAGES], y[:ATTACK_IMAGES], eps=2.0, norm="l2",
                                         protocol=PROTOCOL),
            "protocol": PROTOCOL.describe(), "attack_images": ATTACK_IMAGES}


def shipped_figures(x: np.ndarray, y: np.ndarray) -> dict:
    """The shipped robust model's figures under :data:`PROTOCOL`: from ``models/evaluation.json``
    if it was measured that way on the same images, else measured now."""
    saved = read_json(REPO_DIR / "models" / "evaluation.json", default={})
    robust = saved.get("models", {}).get("robust", {})
    if saved.get("protocol", {}).get("name") == PROTOCOL.name and saved.get("sample") == f"first {ATTACK_IMAGES}":
        return {"clean_10000": robust["clean_10000"], "l2_2.0": robust["l2_2.0"]}
    figures = measure(load_pretrained("robust"), x, y)
    return {"clean_10000": figures["clean_10000"], "l2_2.0": figures["l2_2.0"]}


def main(names: list[str]) -> None:
    """Train and measure each named candidate; add the rows to :data:`OUT`."""
    quiet_tensorflow()
    shipped_log = read_json(REPO_DIR / "models" / "robust.json")
    results = read_json(OUT, default={})
    (x_train, y_train), (x_test, y_test) = load_mnist()
    results["shipped"] = {"description": "the shipped robust recipe (10 steps of 0.5, 12 epochs)",
                          "train_seconds": shipped_log["training_seconds_total"], **shipped_figures(x_test, y_test)}
    target = {key: results["shipped"][key] - TOLERANCE for key in ("clean_10000", "l2_2.0")}
    results["target"] = target
    for name in names:
        description, attack, config = CANDIDATES[name]
        keras.utils.set_random_seed(config.seed)
        model = ROBUST.build()
        history = fit(model, x_train, y_train, config=config, attack=attack, x_eval=x_test, y_eval=y_test,
                      eval_attack=ROBUST.eval_attack, progress=False,
                      checkpoint_dir=REPO_DIR / "checkpoints" / "time_to_target" / name)
        row = {"description": description, "attack": asdict(attack), "epochs": config.epochs,
               "train_seconds": sum(r["seconds"] for r in history), **measure(model, x_test, y_test)}
        row["reaches_target"] = all(row[key] >= target[key] for key in target)
        results[name] = row
        print(name, row, flush=True)
        write_json(OUT, results)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", nargs="*", metavar="NAME",
                        help=f"candidates to train (default: all of {', '.join(CANDIDATES)})")
    chosen = parser.parse_args().candidates or list(CANDIDATES)
    if [name for name in chosen if name not in CANDIDATES]:
        parser.error(f"unknown candidates {[n for n in chosen if n not in CANDIDATES]}; choose from {list(CANDIDATES)}")
    main(chosen)
