"""The fast-training table marks rows that an older version of the strongest evaluation measured."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from helpers.evaluation import STRONGEST

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import fast_training  # noqa: E402


def _row(attack: str) -> dict:
    return {"description": "a recipe", "epochs_run": 1, "best_epoch": 1, "passes_training": 3,
            "passes_with_guard": 3.2, "train_minutes": 1.0, "clean_10000": 0.99, "robust_l2_2.0": 0.6,
            "robust_images": 2000, "robust_attack": attack}


def test_rows_measured_by_an_older_evaluation_are_marked(tmp_path, monkeypatch):
    out = tmp_path / "fast_training.json"
    out.write_text(json.dumps({"machine": "test", "recipes": {
        "current": _row(STRONGEST.describe()), "older": _row("strongest: APGD, 100 steps, ...")}}))
    monkeypatch.setattr(fast_training, "OUT_JSON", out)
    monkeypatch.setattr(fast_training, "OUT_MD", tmp_path / "fast_training.md")
    lines = fast_training.report().splitlines()
    assert next(line for line in lines if line.startswith("| current |")).endswith("| 60.0% |")
    assert next(line for line in lines if line.startswith("| older |")).endswith("| 60.0% † |")
    assert any(line.startswith("† older: measured by an earlier version") for line in lines)
    assert fast_training._measured_now(_row(STRONGEST.describe()))
    assert not fast_training._measured_now({"robust_attack": STRONGEST.describe()})  # no figure yet
