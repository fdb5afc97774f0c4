"""Time-to-target of PGD adversarial training: can a cheaper recipe match the shipped robust model?

    MNIST_NPZ=/path/to/mnist.npz python benchmarks/time_to_target.py            # every candidate
    MNIST_NPZ=/path/to/mnist.npz python benchmarks/time_to_target.py steps3     # one candidate

Each candidate is the shipped robust recipe (``helpers.train.RECIPES["robust"]``: L2 eps 2.0,
random start, Adam with cosine decay) with a cheaper training attack or schedule. It trains from
scratch with the project's own loop (checkpoints in ``checkpoints/time_to_target/NAME``, so an
interrupted run resumes), then is measured exactly like the shipped model's table row in
``models/README.md``: clean accuracy on all 10,000 test images, and accuracy under 100-step L2
PGD at eps 2.0 (cross-entropy and margin, from the clean image, worst case per image, every
iterate counting) on the first 1,000. The target is the shipped model's figures from
``models/evaluation.json`` minus ``TOLERANCE``. Results are added to
``benchmarks/time_to_target.json``, which ``benchmarks/run.py`` puts into ``RESULTS.md``.
Training takes tens of minutes per candidate on 2 cores: it is not part of ``run.py``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import keras  # noqa: E402

from helpers.attacks import PGDAttack  # noqa: E402
from helpers.data import load_mnist  # noqa: E402
from helpers.environment import quiet_tensorflow  # noqa: E402
from helpers.evaluation import accuracy, robust_accuracy  # noqa: E402
from helpers.train import RECIPES  # noqa: E402
from helpers.training import fit  # noqa: E402

TOLERANCE = 0.01  # "the same accuracy": within 1 point of the shipped model
ROBUST = RECIPES["robust"]
#: name -> (what changes, training attack, configuration)
CANDIDATES = {
    "steps3": ("3 PGD steps of 1.67 instead of 10 of 0.5, same 12 epochs",
               replace(ROBUST.attack, steps=3, step_size=round(2.5 * 2.0 / 3, 3)), ROBUST.config),
    "steps5-8epochs": ("5 PGD steps of 1.0, 8 epochs",
                       replace(ROBUST.attack, steps=5, step_size=1.0), replace(ROBUST.config, epochs=8)),
}
OUT = HERE / "time_to_target.json"


def measure(model: keras.Model, x, y) -> dict:
    """The table row's two figures, measured as ``tools/evaluate_models.py`` does."""
    return {"clean_10000": accuracy(model, x, y),
            "l2_2.0": robust_accuracy(model, x[:1000], y[:1000], eps=2.0, norm="l2", steps=100, restarts=1,
                                      losses=("ce", "margin"))}


def main(names: list[str]) -> None:
    quiet_tensorflow()
    shipped_log = json.loads((REPO / "models" / "robust.json").read_text())
    shipped_eval = json.loads((REPO / "models" / "evaluation.json").read_text())["models"]["robust"]
    results = json.loads(OUT.read_text()) if OUT.is_file() else {}
    results["shipped"] = {"description": "the shipped robust recipe (10 steps of 0.5, 12 epochs)",
                          "train_seconds": shipped_log["training_seconds_total"],
                          "clean_10000": shipped_eval["clean_10000"], "l2_2.0": shipped_eval["l2_2.0"]}
    target = {key: results["shipped"][key] - TOLERANCE for key in ("clean_10000", "l2_2.0")}
    results["target"] = target
    (x_train, y_train), (x_test, y_test) = load_mnist()
    for name in names:
        description, attack, config = CANDIDATES[name]
        keras.utils.set_random_seed(config.seed)
        model = ROBUST.build()
        history = fit(model, x_train, y_train, config=config, attack=attack, x_eval=x_test, y_eval=y_test,
                      eval_attack=ROBUST.eval_attack, progress=False,
                      checkpoint_dir=REPO / "checkpoints" / "time_to_target" / name)
        row = {"description": description, "attack": asdict(attack), "epochs": config.epochs,
               "train_seconds": sum(r["seconds"] for r in history), **measure(model, x_test, y_test)}
        row["reaches_target"] = all(row[key] >= target[key] for key in target)
        results[name] = row
        print(name, row, flush=True)
        OUT.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    chosen = sys.argv[1:] or list(CANDIDATES)
    unknown = [n for n in chosen if n not in CANDIDATES]
    if unknown:
        sys.exit(f"unknown candidates {unknown}; choose from {list(CANDIDATES)}")
    main(chosen)
