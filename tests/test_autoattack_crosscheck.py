"""The AutoAttack cross-check's comparison (no ART needed) and, where ART is installed, a tiny run."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.autoattack_crosscheck import TARGET_POINTS, compare, report


def test_compare_counts_points_and_disagreements():
    art = np.array([1, 1, 0, 0, 1, 0, 1, 1, 0, 1], bool)  # 60% robust under AutoAttack
    ours = np.array([1, 0, 0, 0, 1, 0, 1, 1, 1, 1], bool)  # 60% too, but not on the same images
    row = compare(art, ours)
    assert row["autoattack_percent"] == pytest.approx(60) and row["project_percent"] == pytest.approx(60)
    assert row["worst_of_both_percent"] == pytest.approx(50)
    assert row["only_autoattack_broke"] == [8] and row["only_project_broke"] == [1]
    assert row["within_target"]
    weaker = compare(art, np.ones(10, bool))  # a weaker attack: 40 points above AutoAttack
    assert weaker["difference_points"] == pytest.approx(40) and not weaker["within_target"]
    assert TARGET_POINTS == 1.0


def test_compare_refuses_masks_of_different_length():
    with pytest.raises(ValueError, match="differ in shape"):
        compare(np.ones(3, bool), np.ones(4, bool))


def test_report_is_a_table_with_both_figures():
    row = {"model": "robust", "images": 200, "which_images": "every 50th test image", "eps": 2.0,
           "protocol": "strongest: APGD", "autoattack": "APGD + Square", "square_restarts": 1,
           "autoattack_seconds": 900.0, "project_seconds": 30.0}
    row.update(compare(np.array([1, 0, 1, 1], bool), np.array([1, 0, 1, 0], bool)))
    text = report({"models": {"robust": row}, "speed": {"model": "robust", "images": 4, "autoattack_seconds": 60.0,
                                                         "project_seconds": 2.0, "ratio": 30.0}})
    assert "| robust | 200 (every 50th test image) | 75.0% | 50.0% | -25.0 points |" in text
    assert "30x faster" in text


def test_art_autoattack_runs_on_a_few_images(small_model, held_out):
    pytest.importorskip("art", reason="ART is a benchmark-only dependency: pip install -r benchmarks/requirements.txt")
    pytest.importorskip("multiprocess", reason="ART's AutoAttack needs multiprocess (benchmarks/requirements.txt)")
    from benchmarks.autoattack_art import art_autoattack

    x, y = held_out
    attack = art_autoattack(small_model, 1.0, batch_size=4, square_restarts=1)
    for part in attack.attacks:  # a smoke run: a few iterations of each attack
        part.set_params(max_iter=2)
    adversarial = attack.generate(x[:4], y[:4])
    assert adversarial.shape == x[:4].shape
    assert np.sqrt(((adversarial - x[:4]) ** 2).reshape(4, -1).sum(axis=1)).max() <= 1.0 + 1e-3
