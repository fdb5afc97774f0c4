"""ART's AutoAttack on the shipped models: the independent half of the robustness cross-check.

    pip install -r benchmarks/requirements.txt
    python -m benchmarks.autoattack_art --models robust judge --every 50

Runs the Adversarial Robustness Toolbox's ``AutoAttack`` (its standard list: APGD with the
cross-entropy loss and with the DLR loss, 100 iterations and 5 random starts each, DeepFool,
and the Square attack with 5,000 queries and 5 restarts; ART has no FAB) at L2 eps 2.0 on every
``every``-th test image, and writes, per model, which images stayed correct and how long it took
to ``benchmarks/autoattack_art.json``. ``python -m benchmarks.autoattack_crosscheck`` compares
these figures with the project's own strongest evaluation on the same images.

This takes long (tens of minutes per model for 200 images on 2 cores: Square dominates), so it
runs on its own and its results are committed; a model whose SHA-256 changed is run again.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.bench_common import ART_INSTALL_HINT, describe_machine, load_average
from helpers.data import IMAGE_SHAPE, NUM_CLASSES, load_mnist_test, test_sample
from helpers.evaluation import predict
from helpers.models import PRETRAINED, load_pretrained, recorded_sha256

OUT = Path(__file__).resolve().parent / "autoattack_art.json"
EPS = 2.0


def art_autoattack(model, eps: float, batch_size: int):
    """ART's AutoAttack with its default attacks, L2, around ``model`` (a Keras model)."""
    import tensorflow as tf

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from art.attacks.evasion import AutoAttack
            from art.estimators.classification import TensorFlowV2Classifier
    except ImportError as error:
        raise ImportError(f"{ART_INSTALL_HINT} ({error})") from error
    classifier = TensorFlowV2Classifier(
        model=model, nb_classes=NUM_CLASSES, input_shape=IMAGE_SHAPE, clip_values=(0.0, 1.0),
        loss_object=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # eps_step is APGD's first step; Croce and Hein start at 2 * eps (ART's default is for L-inf)
    return AutoAttack(classifier, norm=2, eps=eps, eps_step=2 * eps, batch_size=batch_size)


def run_model(name: str, indices: np.ndarray, x: np.ndarray, y: np.ndarray, batch_size: int) -> dict:
    """AutoAttack on ``x[indices]`` for one shipped model: per-image robustness, time, which attack won."""
    model = load_pretrained(name)
    images, labels = x[indices], y[indices]
    attack = art_autoattack(model, EPS, batch_size)
    started = time.perf_counter()
    adversarial = attack.generate(images, labels)
    seconds = time.perf_counter() - started
    adversarial = np.clip(adversarial, 0.0, 1.0).astype(np.float32)
    size = np.sqrt(((adversarial - images) ** 2).reshape(len(images), -1).sum(axis=1))
    correct = predict(model, adversarial).argmax(axis=1) == labels
    # an "adversarial" image outside the ball does not count against the model
    robust = correct | (size > EPS + 1e-4)
    return {
        "model": name, "sha256": recorded_sha256()[PRETRAINED[name]], "eps": EPS, "norm": "l2",
        "indices": indices.tolist(), "robust": robust.astype(int).tolist(),
        "robust_accuracy": float(robust.mean()), "clean_accuracy": float(np.mean(
            predict(model, images).argmax(axis=1) == labels)),
        "seconds": seconds, "best_attack": [int(a) for a in attack.best_attacks],
        "attacks": [type(a).__name__ for a in attack.attacks],
        "load_average_after": load_average(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["robust", "judge"])
    parser.add_argument("--every", type=int, default=50, help="every N-th test image (50: 200 images)")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    x, y = load_mnist_test()
    indices = test_sample(every=args.every)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"models": {}}
    results["machine"] = describe_machine()
    for name in args.models:
        print(f"AutoAttack (ART) on {name}: {len(indices)} images", flush=True)
        results["models"][name] = run_model(name, indices, x, y, args.batch_size)
        row = results["models"][name]
        print(f"  robust accuracy {row['robust_accuracy']:.1%} in {row['seconds'] / 60:.1f} min", flush=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
