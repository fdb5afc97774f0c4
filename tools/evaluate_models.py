"""Measure the shipped models and write the table of the model cards.

    python tools/evaluate_models.py                  # natural and robust (20+ minutes on 2 quiet cores)
    python tools/evaluate_models.py --models judge   # one model; the rows of the others are kept
    python tools/evaluate_models.py --compare-old    # also the robust model's old and new headline, timed
    python tools/evaluate_models.py --quick          # a smoke run (tiny attack), into a temporary folder
    python tools/evaluate_models.py --card-only      # only rewrite models/README.md from the JSON files
    python tools/evaluate_models.py --budgets l2_2.0 # some budgets only (the card shows the columns measured)

Clean accuracy is measured on all 10,000 test images; accuracy under attack on the series'
reporting sample, every fifth test image (``helpers.data.test_sample(every=5)``: 2,000 images
spread over the whole test set), under ``helpers.evaluation.STRONGEST`` (APGD, the worst case
per image over all its runs, every iterate counting). ``--compare-old`` also records, for the
robust model at L2 eps 2.0, how the headline figure moved: the old protocol
(``PGD_FIXED_STEPS``) on the first 1,000 test images, ``STRONGEST`` on the same 1,000, and
``STRONGEST`` on the sample, with the seconds each took (the old figure is taken from the earlier
card's record when it holds it, rather than measured again). The results go to
``models/evaluation.json`` and replace the generated blocks of ``models/README.md``; ``--quick``
writes to a temporary folder (printed) unless ``--out-dir`` is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from helpers.data import load_mnist_test, test_sample  # noqa: E402
from helpers.evaluation import PGD_FIXED_STEPS, STRONGEST, Protocol, accuracy, strongest_accuracy  # noqa: E402
from helpers.models import MODELS_DIR, load_pretrained  # noqa: E402
from helpers.reports import command_line, markers, read_json, replace_block, write_json  # noqa: E402

L2_EPSILONS = [1.0, 2.0, 3.0]  # (0.5, 1.5 and 2.5 left out to keep a full run near half an hour)
LINF_EPSILONS = [0.1, 0.2, 0.3]
CARD_MODELS = ("natural", "robust", "judge")
TABLE_BLOCK = "evaluation-table"  # the table, its caption and the comparison line
#: The smoke run's protocols: the same kinds of attack, a few steps.
QUICK = Protocol("quick", attack="apgd", steps=5, restarts=1, losses=("ce",), targets=1)
QUICK_OLD = Protocol("quick-pgd", attack="pgd", steps=5, restarts=1, losses=("ce", "margin"))


@dataclasses.dataclass(frozen=True)
class Sample:
    """Which test images are attacked: a name for the JSON, words for the caption, the indices."""

    name: str
    words: str
    index: np.ndarray

    @classmethod
    def first(cls, count: int) -> "Sample":
        return cls(f"first {count}", f"the first {count:,} test images", np.arange(count))

    @classmethod
    def every(cls, every: int) -> "Sample":
        index = test_sample(every=every)
        ordinal = "fifth" if every == 5 else f"{every}th"
        return cls(f"every {every}th", f"every {ordinal} test image ({len(index):,} images, spread over the "
                                       "whole test set)", index)


BUDGETS = [f"l2_{e}" for e in L2_EPSILONS] + [f"linf_{e}" for e in LINF_EPSILONS]


def measure_model(name: str, sample: Sample, protocol: Protocol, budgets: list[str] = BUDGETS) -> dict:
    """One row of the table: clean accuracy on all 10,000, each of ``budgets`` (keys such as
    ``"l2_2.0"``) under ``protocol`` on ``sample``."""
    x, y = load_mnist_test()
    model = load_pretrained(name)
    row: dict = {"clean_10000": accuracy(model, x, y)}
    started = time.perf_counter()
    images, labels = x[sample.index], y[sample.index]
    row["cell_seconds"] = {}
    for norm, epsilons in (("l2", L2_EPSILONS), ("linf", LINF_EPSILONS)):
        for eps in epsilons:
            if f"{norm}_{eps}" not in budgets:
                continue
            cell = time.perf_counter()
            row[f"{norm}_{eps}"] = strongest_accuracy(model, images, labels, eps=eps, norm=norm, protocol=protocol)
            row["cell_seconds"][f"{norm}_{eps}"] = time.perf_counter() - cell
            print(f"{name} {norm} eps {eps}: {row[f'{norm}_{eps}']:.3f}", flush=True)
    row["seconds"] = time.perf_counter() - started
    return row


def recorded_old_figure(saved: dict | None) -> float | None:
    """The robust model's old headline (``PGD_FIXED_STEPS`` at L2 eps 2.0 on the first 1,000 test
    images) as the earlier card recorded it, or None if ``saved`` does not hold it."""
    if not saved or saved.get("attack_images") != 1000 or "headline_attack" not in saved:
        return None
    attack = saved["headline_attack"]
    same = (attack.get("steps"), attack.get("restarts"), tuple(attack.get("losses", ()))) == (
        PGD_FIXED_STEPS.steps, PGD_FIXED_STEPS.restarts, tuple(PGD_FIXED_STEPS.losses))
    return saved.get("models", {}).get("robust", {}).get("l2_2.0_headline") if same else None


def compare_old(quick: bool = False, measured: dict | None = None, old_value: float | None = None) -> dict:
    """The robust model at L2 eps 2.0: the old headline (``old_value`` if recorded, else measured), the
    new protocol on the old images, the new figure (taken from ``measured``, the robust model's table
    row of this run, when it has it)."""
    x, y = load_mnist_test()
    model = load_pretrained("robust")
    old, new = (QUICK_OLD, QUICK) if quick else (PGD_FIXED_STEPS, STRONGEST)
    first, spread = (Sample.first(50), Sample.every(100)) if quick else (Sample.first(1000), Sample.every(5))
    runs = []
    for protocol, sample, label in ((old, first, "the old figure"), (new, first, "the new protocol, same images"),
                                    (new, spread, "the new figure")):
        started = time.perf_counter()
        if old_value is not None and protocol is old and not quick:  # the earlier card's own measurement
            value, seconds = old_value, None
        elif measured and sample is spread and "l2_2.0" in measured:  # the table's cell: the same measurement
            value, seconds = measured["l2_2.0"], measured["cell_seconds"]["l2_2.0"]
        else:
            value = strongest_accuracy(model, x[sample.index], y[sample.index], eps=2.0, norm="l2", protocol=protocol)
            seconds = time.perf_counter() - started
        runs.append({"label": label, "protocol": protocol.name, "sample": sample.name, "words": sample.words,
                     "accuracy": value, "seconds": seconds})
        print(f"robust L2 eps 2.0, {protocol.name} on {sample.name}: {value:.3f} ({_seconds(seconds)})", flush=True)
    return {"model": "robust", "norm": "l2", "eps": 2.0, "runs": runs}


def _seconds(seconds: float | None) -> str:
    return "as recorded by the earlier card, not timed again" if seconds is None else f"in {seconds:.0f} s"


def markdown_table(results: dict) -> str:
    """The accuracy table and its caption (which protocol, which images): the budgets every row has."""
    every = [(f"l2_{e}", f"L2 {e}") for e in L2_EPSILONS] + [(f"linf_{e}", f"Linf {e}") for e in LINF_EPSILONS]
    rows = results["models"].values()
    columns = [("clean_10000", "clean")] + [(k, t) for k, t in every if all(k in row for row in rows)]
    lines = ["| model | " + " | ".join(title for _, title in columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    for name, row in results["models"].items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * row[key]:.1f}" for key, _ in columns) + " |")
    lines += ["", f"Accuracy in %. Clean: all 10,000 test images. Under attack: {results['sample_words']}, "
                  f"the budget in the L2 or Linf norm; protocol {results['protocol_text']} "
                  "(`helpers.evaluation`), every iterate counting. Made by "
                  f"`{results.get('command', 'python tools/evaluate_models.py')}`."]
    return "\n".join(lines)


def comparison_line(comparison: dict | None) -> str:
    """The card's "How the figure changed" line, from ``--compare-old``'s record."""
    if not comparison:
        return "How the figure changed: not measured yet (`python tools/evaluate_models.py --compare-old`)."
    parts = [f"{run['label']}, {100 * run['accuracy']:.1f}% under `{run['protocol']}` on {run['words']} "
             f"{_seconds(run['seconds'])}" for run in comparison["runs"]]
    return (f"How the figure changed ({comparison['model']} model, {comparison['norm'].upper()} eps "
            f"{comparison['eps']}): " + "; ".join(parts) + ".")


def model_facts(name: str, directory: Path = MODELS_DIR) -> str:
    """The model card's facts for one model, from ``models/NAME.json`` (written by training)."""
    card = read_json(directory / f"{name}.json")
    size = (directory / card["file"]).stat().st_size / 1e6
    attack, config, check = card["attack"], card["config"], card["eval_attack"]
    attack_text = ("none (natural training)" if attack is None else
                   f"PGD, {attack['norm'].upper()} eps {attack['eps']}, {attack['steps']} steps of "
                   f"{attack['step_size']}, random start: {attack['random_start']}, loss: {attack['loss']}")
    warmup = config.get("attack_warmup_epochs")
    lines = [
        f"- File: `models/{card['file']}`, {size:.1f} MB, SHA-256 `{card['sha256']}`",
        f"- Command: `{card['command']}` (with `MNIST_NPZ` set, or internet for Keras' download)",
        f"- Configuration: {config['epochs']} epochs, batch {config['batch_size']}, Adam, learning rate "
        f"{config['learning_rate']} with cosine decay to {config['final_lr_fraction']} of it, seed {config['seed']}",
        f"- Training attack: {attack_text}" + (f", growing over the first {warmup} epochs" if warmup else ""),
        f"- Training time: {card['training_seconds_total'] / 60:.1f} minutes on {card['machine']}",
        "",
        "| epoch | training loss | training accuracy | clean accuracy (1,000 test) | under the per-epoch check | seconds |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for record in card["history"]:
        lines.append(
            f"| {record['epoch']} | {record['train_loss']:.4f} | {100 * record['train_accuracy']:.2f}% | "
            f"{100 * record.get('eval_clean_accuracy', float('nan')):.1f}% | "
            f"{100 * record.get('eval_adversarial_accuracy', float('nan')):.1f}% | {record['seconds']:.0f} |")
    lines += ["", f"The per-epoch check is a quick, weak attack (L2 PGD, eps {check['eps']}, {check['steps']} steps "
                  f"of {check['step_size']}, cross-entropy, no restarts) on the first 1,000 test images; "
                  "the table above has the strong figures."]
    return "\n".join(lines)


def refresh_card(results: dict | None, out: Path = MODELS_DIR) -> Path:
    """Rewrite the generated blocks of ``out/README.md`` (a copy of ``models/README.md`` if absent):
    each model's facts (from ``models/NAME.json``), the evaluation table and the comparison line."""
    readme = out / "README.md"
    if not readme.is_file():
        shutil.copyfile(MODELS_DIR / "README.md", readme)
    text = readme.read_text()
    for name in CARD_MODELS:
        if (MODELS_DIR / f"{name}.json").is_file():
            text = replace_block(text, *markers(f"facts:{name}"), model_facts(name))
    if results is not None:
        body = markdown_table(results)
        if results.get("compare_old"):
            body += "\n\n" + comparison_line(results["compare_old"])
        if results.get("earlier"):
            body += "\n\n" + earlier_table(results["earlier"])
        text = replace_block(text, *markers(TABLE_BLOCK), body)
    readme.write_text(text)
    return readme


def earlier_table(earlier: dict) -> str:
    """The earlier card's table (the first protocol, on the first 1,000 test images), labelled as such:
    kept for the budgets this card has not measured again."""
    keys = [k for k in next(iter(earlier["models"].values())) if k.startswith(("l2_", "linf_")) and
            not k.endswith("_headline")]
    lines = ["| model | clean | " + " | ".join(k.replace("_", " ").replace("l2", "L2").replace("linf", "Linf")
                                             for k in keys) + " |", "| --- |" + " ---: |" * (len(keys) + 1)]
    for name, row in earlier["models"].items():
        lines.append(f"| {name} | {100 * row['clean_10000']:.1f} | " + " | ".join(f"{100 * row[k]:.1f}" for k in keys)
                     + " |")
    return ("**Earlier figures, every budget** (kept until each budget is measured again with the protocol "
            "above): the first 1,000 test images, PGD with 100 fixed steps of 2.5 * eps / 100, the worst case "
            "over the ce and margin losses from the clean image. This weaker attack overstated robustness "
            "(the line above compares the two on the same images; notebook 02, section 7, tells why).\n\n"
            + "\n".join(lines))


def merge_saved(results: dict, saved: dict | None) -> dict:
    """Keep the saved rows of models not measured now, and the saved comparison, if measured the same way.

    An earlier card's record in the old format (no ``protocol``) is kept whole as ``earlier``."""
    if saved and "protocol" not in saved:
        return {**results, "earlier": saved}
    if saved and saved.get("earlier"):
        results = {**results, "earlier": saved["earlier"]}
    if not saved or saved.get("protocol") != results["protocol"] or saved.get("sample") != results["sample"]:
        return results
    models = {**{k: v for k, v in saved.get("models", {}).items() if k not in results["models"]}, **results["models"]}
    merged = {**results, "models": models}
    if "compare_old" not in merged and saved.get("compare_old"):
        merged["compare_old"] = saved["compare_old"]
    return merged


def evaluate(names: list[str], quick: bool, with_comparison: bool, budgets: list[str] = BUDGETS,
             saved: dict | None = None) -> dict:
    """Measure the named models (and the comparison) with the full or the smoke-run settings."""
    protocol, sample = (QUICK, Sample.first(100)) if quick else (STRONGEST, Sample.every(5))
    results: dict = {"clean_images": 10_000, "sample": sample.name, "sample_words": sample.words,
                     "attack_images": int(len(sample.index)), "protocol": dataclasses.asdict(protocol),
                     "protocol_text": protocol.describe(), "models": {}}
    for name in names:
        results["models"][name] = measure_model(name, sample, protocol, budgets)
        print(f"{name}: {results['models'][name]['seconds']:.0f} s", flush=True)
    if with_comparison:
        results["compare_old"] = compare_old(quick, results["models"].get("robust"), recorded_old_figure(saved))
    return results


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, measure, write ``evaluation.json`` and the card."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["natural", "robust"], choices=CARD_MODELS)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 100 images, a 5-step attack; into a temporary folder unless --out-dir")
    parser.add_argument("--compare-old", action="store_true",
                        help="also: the robust model's L2 2.0 figure under the old and the new protocol, timed")
    parser.add_argument("--out-dir", type=Path, help="folder for evaluation.json and README.md (default models/)")
    parser.add_argument("--budgets", nargs="+", default=BUDGETS, choices=BUDGETS,
                        help="the budgets to measure (default: all)")
    parser.add_argument("--card-only", action="store_true",
                        help="only rewrite README.md from models/*.json and evaluation.json")
    args = parser.parse_args(argv)
    out = args.out_dir or (Path(tempfile.gettempdir()) / "robustness-evaluation-quick" if args.quick else MODELS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    if args.card_only:
        print(f"wrote {refresh_card(read_json(out / 'evaluation.json'), out)}")
        return
    saved = read_json(out / "evaluation.json")
    results = merge_saved(evaluate(args.models, args.quick, args.compare_old, args.budgets, saved), saved)
    results["command"] = command_line("tools/evaluate_models.py", argv if argv is not None else sys.argv[1:])
    write_json(out / "evaluation.json", results)
    print(markdown_table(results) + "\n\n" + comparison_line(results.get("compare_old")))
    print(f"wrote {out / 'evaluation.json'} and {refresh_card(results, out)}")


if __name__ == "__main__":
    main()
