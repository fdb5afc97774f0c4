"""Measure the shipped models and write the table of the model cards.

    python tools/evaluate_models.py            # natural and robust, full settings (about 20 min on 2 quiet cores)
    python tools/evaluate_models.py --quick    # a smoke run on 100 images, 10 steps
    python tools/evaluate_models.py --models judge   # one model; rows of the others are kept

Clean accuracy is measured on all 10,000 test images; accuracy under attack on the first
1,000, with PGD from ``helpers.evaluation.robust_accuracy``: the worst case per image over
the cross-entropy and the margin (CW) loss, each from the clean image and from random starts,
every iterate counting. The results go to ``models/evaluation.json`` and replace the table
between the markers in ``models/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from helpers.data import load_mnist_test  # noqa: E402
from helpers.evaluation import accuracy, robust_accuracy  # noqa: E402
from helpers.models import MODELS_DIR, load_pretrained  # noqa: E402

L2_EPSILONS = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
LINF_EPSILONS = [0.1, 0.2, 0.3]
TABLE = dict(steps=100, restarts=1, losses=("ce", "margin"))  # every cell of the table
HEADLINE = dict(steps=100, restarts=5, losses=("ce", "margin"))  # L2 eps 2.0: the target figure
START, END = "<!-- evaluation-table:start -->", "<!-- evaluation-table:end -->"


def replace_block(text: str, start: str, end: str, body: str) -> str:
    """Replace what stands between two marker lines (markers kept); text unchanged if absent."""
    return re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: f"{start}\n{body}\n{end}", text,
                  flags=re.DOTALL)


def model_facts(name: str, directory: Path = MODELS_DIR) -> str:
    """The model card's facts for one model, from ``models/NAME.json`` (written by training)."""
    card = json.loads((directory / f"{name}.json").read_text())
    size = (directory / card["file"]).stat().st_size / 1e6
    attack = card["attack"]
    attack_text = ("none (natural training)" if attack is None else
                   f"PGD, {attack['norm'].upper()} eps {attack['eps']}, {attack['steps']} steps of "
                   f"{attack['step_size']}, random start: {attack['random_start']}, loss: {attack['loss']}")
    config = card["config"]
    check = card["eval_attack"]
    lines = [
        f"- File: `models/{card['file']}`, {size:.1f} MB, SHA-256 `{card['sha256']}`",
        f"- Command: `{card['command']}` (with `MNIST_NPZ` set, or internet for Keras' download)",
        f"- Configuration: {config['epochs']} epochs, batch {config['batch_size']}, Adam, learning rate "
        f"{config['learning_rate']} with cosine decay to {config['final_lr_fraction']} of it, seed {config['seed']}",
        f"- Training attack: {attack_text}" + (
            f", growing over the first {config['attack_warmup_epochs']} epochs"
            if config.get("attack_warmup_epochs") else ""),
        f"- Training time: {card['training_seconds_total'] / 60:.1f} minutes on {card['machine']}",
        "",
        f"| epoch | training loss | training accuracy | clean accuracy (1,000 test) | under the per-epoch check | seconds |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for record in card["history"]:
        lines.append(
            f"| {record['epoch']} | {record['train_loss']:.4f} | {100 * record['train_accuracy']:.2f}% | "
            f"{100 * record.get('eval_clean_accuracy', float('nan')):.1f}% | "
            f"{100 * record.get('eval_adversarial_accuracy', float('nan')):.1f}% | {record['seconds']:.0f} |")
    lines.append("")
    lines.append(f"The per-epoch check is a quick, weak attack (L2 PGD, eps {check['eps']}, {check['steps']} steps of "
                 f"{check['step_size']}, cross-entropy, no restarts) on the first 1,000 test images; "
                 "the table above has the strong figures.")
    return "\n".join(lines)


def refresh_card(results: dict | None, directory: Path = MODELS_DIR) -> None:
    """Rewrite the generated blocks of ``models/README.md`` (facts per model, evaluation table)."""
    readme = directory / "README.md"
    text = readme.read_text()
    for name in ("natural", "robust", "judge"):
        if (directory / f"{name}.json").is_file():
            text = replace_block(text, f"<!-- facts:{name}:start -->", f"<!-- facts:{name}:end -->",
                                  model_facts(name, directory))
    if results is not None:
        text = replace_block(text, START, END, markdown_table(results))
    readme.write_text(text)


def evaluate(names: list[str], count: int, table: dict, headline: dict) -> dict:
    x, y = load_mnist_test()
    results: dict = {"attack_images": count, "table_attack": table, "headline_attack": headline,
                     "models": {}}
    for name in names:
        model = load_pretrained(name)
        row: dict = {"clean_10000": accuracy(model, x, y)}
        started = time.perf_counter()
        for norm, epsilons in (("l2", L2_EPSILONS), ("linf", LINF_EPSILONS)):
            for eps in epsilons:
                row[f"{norm}_{eps}"] = robust_accuracy(model, x[:count], y[:count], eps=eps, norm=norm, **table)
                print(f"{name} {norm} eps {eps}: {row[f'{norm}_{eps}']:.3f}", flush=True)
        row["l2_2.0_headline"] = robust_accuracy(model, x[:count], y[:count], eps=2.0, norm="l2", **headline)
        row["seconds"] = time.perf_counter() - started
        print(f"{name} L2 eps 2.0, strongest: {row['l2_2.0_headline']:.3f} ({row['seconds']:.0f} s)", flush=True)
        results["models"][name] = row
    return results


def markdown_table(results: dict) -> str:
    columns = [("clean_10000", "clean")] + [(f"l2_{e}", f"L2 {e}") for e in L2_EPSILONS] + \
              [(f"linf_{e}", f"Linf {e}") for e in LINF_EPSILONS] + [("l2_2.0_headline", "L2 2.0, strongest")]
    lines = ["| model | " + " | ".join(title for _, title in columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    for name, row in results["models"].items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * row[key]:.1f}" for key, _ in columns) + " |")
    table, headline = results["table_attack"], results["headline_attack"]

    def starts(count: int) -> str:
        return ("from the clean image" if count == 1 else
                f"x {count} starts (the clean image, then random points of the ball)")

    lines += [
        "",
        f"Accuracy in %. Clean: all 10,000 test images. Under attack: the first {results['attack_images']:,} test "
        f"images, PGD with {table['steps']} steps of 2.5 * eps / {table['steps']}, the worst case per image over "
        f"the {' and '.join(table['losses'])} losses {starts(table['restarts'])}, every iterate counting. "
        f"'L2 2.0, strongest': the worst case over the {' and '.join(headline['losses'])} losses "
        f"{starts(headline['restarts'])}: {headline['restarts'] * len(headline['losses'])} runs of "
        f"{headline['steps']} steps per image. Made by `python tools/evaluate_models.py`.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["natural", "robust"])
    parser.add_argument("--quick", action="store_true", help="100 images, 10 steps: a smoke run")
    parser.add_argument("--out-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--card-only", action="store_true",
                        help="only rewrite models/README.md from models/*.json and models/evaluation.json")
    args = parser.parse_args()
    if args.card_only:
        saved = args.out_dir / "evaluation.json"
        refresh_card(json.loads(saved.read_text()) if saved.is_file() else None)
        return
    table, headline, count = TABLE, HEADLINE, 1000
    if args.quick:
        table = headline = dict(steps=10, restarts=1, losses=("ce", "margin"))
        count = 100
    results = evaluate(args.models, count, table, headline)
    saved = args.out_dir / "evaluation.json"
    if saved.is_file():  # keep the other models' rows when they were measured the same way
        old = json.loads(saved.read_text())
        same = all(json.loads(json.dumps(results[key])) == old.get(key)
                   for key in ("attack_images", "table_attack", "headline_attack"))
        if same:
            results["models"] = {**{k: v for k, v in old["models"].items() if k not in results["models"]},
                                 **results["models"]}
    (args.out_dir / "evaluation.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.out_dir == MODELS_DIR:
        refresh_card(results)
    print(markdown_table(results))


if __name__ == "__main__":
    main()
