"""ART's AutoAttack on the shipped models: the independent half of the robustness cross-check.

    pip install -r benchmarks/requirements.txt
    python -m benchmarks.autoattack_art --models robust judge --every 50
    python -m benchmarks.autoattack_art --models judge --offset 25 --out benchmarks/autoattack_art_offset25.json

Runs the Adversarial Robustness Toolbox's ``AutoAttack`` attacks (ART's standard list: APGD with
the cross-entropy loss and with the DLR loss, 100 iterations and 5 random starts each, DeepFool,
and the Square attack with 5,000 queries; ART has no FAB) at L2 eps 2.0 on every ``every``-th
test image, and writes, per model, which images stayed correct and how long it took to
``benchmarks/autoattack_art.json``. One deviation, for time: Square runs ``--square-restarts``
times (default 1) instead of ART's 5; each later attack, as in AutoAttack, only attacks the
images still standing, and the progress is saved after each attack. ``python -m benchmarks.autoattack_crosscheck`` compares
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


def art_autoattack(model, eps: float, batch_size: int, square_restarts: int = 5):
    """ART's AutoAttack with its default attacks, L2, around ``model`` (a Keras model); the Square
    attack with ``square_restarts`` restarts (ART's default: 5)."""
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
    attack = AutoAttack(classifier, norm=2, eps=eps, eps_step=2 * eps, batch_size=batch_size)
    attack.attacks[-1].set_params(nb_restarts=square_restarts)  # the Square attack comes last
    return attack


def run_model(name: str, indices: np.ndarray, x: np.ndarray, y: np.ndarray, batch_size: int,
              square_restarts: int, save) -> dict:
    """AutoAttack's attacks one after the other on the images still standing, for one shipped model;
    ``save(row)`` is called after each attack with the per-image result so far."""
    from art.attacks.evasion import AutoAttack

    model = load_pretrained(name)
    images, labels = x[indices], y[indices]
    full = art_autoattack(model, EPS, batch_size, square_restarts)
    standing = predict(model, images).argmax(axis=1) == labels
    row = {"model": name, "sha256": recorded_sha256()[PRETRAINED[name]], "eps": EPS, "norm": "l2",
           "indices": indices.tolist(), "clean_accuracy": float(standing.mean()), "seconds": 0.0,
           "attacks": [], "broken_by": {}, "square_restarts": square_restarts}
    for attack in full.attacks:
        label = f"{type(attack).__name__}({getattr(attack, 'loss_type', '') or ''})".replace("()", "")
        index = np.flatnonzero(standing)
        started = time.perf_counter()
        if len(index):
            single = AutoAttack(full.estimator, norm=2, eps=EPS, eps_step=2 * EPS, attacks=[attack],
                                batch_size=batch_size)
            adversarial = np.clip(single.generate(images[index], labels[index]), 0.0, 1.0).astype(np.float32)
            size = np.sqrt(((adversarial - images[index]) ** 2).reshape(len(index), -1).sum(axis=1))
            broken = (predict(model, adversarial).argmax(axis=1) != labels[index]) & (size <= EPS + 1e-4)
            standing[index[broken]] = False
            row["broken_by"][label] = int(broken.sum())
        row["seconds"] += time.perf_counter() - started
        row["attacks"].append(label)
        row.update(robust=standing.astype(int).tolist(), robust_accuracy=float(standing.mean()),
                   load_average_after=load_average())
        print(f"  {label}: {standing.mean():.1%} still standing ({row['seconds'] / 60:.1f} min)", flush=True)
        save(row)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["robust", "judge"])
    parser.add_argument("--every", type=int, default=50, help="every N-th test image (50: 200 images)")
    parser.add_argument("--offset", type=int, default=0, help="start at this test image (other images, same spacing)")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--square-restarts", type=int, default=1, help="ART's default is 5 (about 5x the time)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    x, y = load_mnist_test()
    indices = test_sample(every=args.every, offset=args.offset)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"models": {}}
    results["machine"] = describe_machine()
    for name in args.models:
        print(f"AutoAttack (ART) on {name}: {len(indices)} images", flush=True)

        def save(row: dict, name: str = name) -> None:
            results["models"][name] = row
            args.out.write_text(json.dumps(results, indent=1) + "\n")

        run_model(name, indices, x, y, args.batch_size, args.square_restarts, save)


if __name__ == "__main__":
    main()
