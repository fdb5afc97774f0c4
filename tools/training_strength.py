"""What does the attack's strength during training buy? A short, like-for-like comparison.

    python tools/training_strength.py            # 3 variants x 2 epochs, about 20 min on 2 cores

Trains the tutorial CNN with the robust recipe's settings (L2, eps 2.0, random start, Adam with
cosine decay) but a short schedule of ``EPOCHS`` epochs, once per number of PGD steps in
``STEPS`` (step size 2.5 * eps / steps, capped at eps), and measures each on the same test images
with the same attack: clean accuracy on all 10,000 and accuracy under 100-step L2 PGD at eps 2.0
(cross-entropy and margin, worst case per image) on the first ``ATTACK_IMAGES``. Writes
``models/training_strength.json`` and the table between its markers in ``models/README.md``.
Needs the 60,000 training images (``MNIST_NPZ`` or Keras' download).
"""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from helpers.attacks import PGDAttack  # noqa: E402
from helpers.data import load_mnist  # noqa: E402
from helpers.evaluation import accuracy, robust_accuracy  # noqa: E402
from helpers.models import MODELS_DIR, build_cnn  # noqa: E402
from helpers.train import RECIPES  # noqa: E402
from helpers.training import fit  # noqa: E402

from evaluate_models import replace_block  # noqa: E402  (tools/ is on the path when run as a script)

STEPS = (1, 3, 10)
EPOCHS = 2
ATTACK_IMAGES = 500
START, END = "<!-- training-strength:start -->", "<!-- training-strength:end -->"


def main() -> None:
    recipe = RECIPES["robust"]
    eps = recipe.attack.eps
    (x_train, y_train), (x_test, y_test) = load_mnist()
    rows = []
    for steps in STEPS:
        keras.utils.set_random_seed(recipe.config.seed)
        model = build_cnn()
        config = type(recipe.config)(**{**recipe.config.__dict__, "epochs": EPOCHS})
        attack = PGDAttack(eps=eps, step_size=min(eps, 2.5 * eps / steps), steps=steps, norm="l2",
                           random_start=True)
        started = time.perf_counter()
        fit(model, x_train, y_train, config=config, attack=attack, progress=False)
        seconds = time.perf_counter() - started
        row = {"steps": steps, "step_size": attack.step_size, "epochs": EPOCHS, "train_seconds": seconds,
               "clean_10000": accuracy(model, x_test, y_test),
               "l2_2.0": robust_accuracy(model, x_test[:ATTACK_IMAGES], y_test[:ATTACK_IMAGES], eps=eps,
                                         norm="l2", steps=100, restarts=1, losses=("ce", "margin"))}
        print(row, flush=True)
        rows.append(row)
    (MODELS_DIR / "training_strength.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["| PGD steps in training | step size | training time (2 epochs) | clean accuracy | "
             "L2 eps 2.0, 100-step PGD |", "| ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['steps']} | {r['step_size']:.2f} | {r['train_seconds'] / 60:.1f} min | "
              f"{100 * r['clean_10000']:.1f}% | {100 * r['l2_2.0']:.1f}% |" for r in rows]
    lines.append(f"\nClean: 10,000 test images. Under attack: the first {ATTACK_IMAGES} test images, "
                 "worst case over the cross-entropy and margin losses from the clean image, every iterate "
                 "counting. Made by `python tools/training_strength.py`.")
    readme = MODELS_DIR / "README.md"
    readme.write_text(replace_block(readme.read_text(), START, END, "\n".join(lines)))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
