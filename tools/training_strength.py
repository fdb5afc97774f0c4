"""What does the attack's strength during training buy? A short, like-for-like comparison.

    python tools/training_strength.py            # 3 variants x 2 epochs, about 20 min on 2 cores

Trains the tutorial CNN with the robust recipe's settings (L2, eps 2.0, random start, Adam with
cosine decay) but a short schedule of ``EPOCHS`` epochs, once per number of PGD steps in
``STEPS`` (step size ``helpers.evaluation.madry_step_size``, capped at eps), and measures each on
the same test images with the same attack: clean accuracy on all 10,000 and accuracy at L2 eps
2.0 under :data:`PROTOCOL` (``helpers.evaluation.PGD_TABLE``, the protocol of the recorded table)
on the first ``ATTACK_IMAGES``. Writes ``models/training_strength.json`` and the table between its
markers in ``models/README.md``.
Needs the 60,000 training images (``MNIST_NPZ`` or Keras' download).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from helpers.attacks import PGDAttack  # noqa: E402
from helpers.data import load_mnist  # noqa: E402
from helpers.evaluation import PGD_TABLE, accuracy, madry_step_size, strongest_accuracy  # noqa: E402
from helpers.models import MODELS_DIR, build_cnn  # noqa: E402
from helpers.reports import rewrite_block, write_json  # noqa: E402
from helpers.train import RECIPES  # noqa: E402
from helpers.training import fit  # noqa: E402

STEPS = (1, 3, 10)
EPOCHS = 2
ATTACK_IMAGES = 500
PROTOCOL = PGD_TABLE
BLOCK = "training-strength"


def main() -> None:
    """Train the variants, measure them, write the JSON and the card's table."""
    recipe = RECIPES["robust"]
    eps = recipe.attack.eps
    (x_train, y_train), (x_test, y_test) = load_mnist()
    rows = []
    for steps in STEPS:
        keras.utils.set_random_seed(recipe.config.seed)
        model = build_cnn()
        config = type(recipe.config)(**{**recipe.config.__dict__, "epochs": EPOCHS})
        attack = PGDAttack(eps=eps, step_size=min(eps, madry_step_size(eps, steps)), steps=steps, norm="l2",
                           random_start=True)
        started = time.perf_counter()
        fit(model, x_train, y_train, config=config, attack=attack, progress=False)
        seconds = time.perf_counter() - started
        row = {"steps": steps, "step_size": attack.step_size, "epochs": EPOCHS, "train_seconds": seconds,
               "clean_10000": accuracy(model, x_test, y_test),
               "l2_2.0": strongest_accuracy(model, x_test[:ATTACK_IMAGES], y_test[:ATTACK_IMAGES], eps=eps,
                                            norm="l2", protocol=PROTOCOL), "protocol": PROTOCOL.name}
        print(row, flush=True)
        rows.append(row)
    write_json(MODELS_DIR / "training_strength.json", rows)
    lines = ["| PGD steps in training | step size | training time (2 epochs) | clean accuracy | "
             f"L2 eps 2.0, `{PROTOCOL.name}` |", "| ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['steps']} | {r['step_size']:.2f} | {r['train_seconds'] / 60:.1f} min | "
              f"{100 * r['clean_10000']:.1f}% | {100 * r['l2_2.0']:.1f}% |" for r in rows]
    lines.append(f"\nClean: 10,000 test images. Under attack: the first {ATTACK_IMAGES} test images, protocol "
                 f"{PROTOCOL.describe()}, every iterate counting. Made by `python tools/training_strength.py`.")
    rewrite_block(MODELS_DIR / "README.md", BLOCK, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    main()
