"""Scoring traversals: the benchmark split, nearest-real-digit distance, judge success, matrices."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.judging import (benchmark_split, judge_probability, nearest_distance, nearest_reference, score,
                             shift_starts, success_matrix, walk_scores)
from helpers.data import shift_images
from helpers.traversal import traverse


def test_benchmark_split_sends_every_start_to_every_other_digit(mnist_test):
    x, y = mnist_test
    bench = benchmark_split(x, y, per_digit=3)
    assert len(bench.targets) == 3 * 10 * 9 == len(bench.images) == len(bench.sources)
    assert np.all(bench.sources != bench.targets)
    assert np.array_equal(bench.sources, y[bench.start_index])
    np.testing.assert_array_equal(bench.images, x[bench.start_index])
    for digit in range(10):  # the first three images of each digit, nine targets each
        chosen = np.unique(bench.start_index[bench.sources == digit])
        np.testing.assert_array_equal(chosen, np.flatnonzero(y == digit)[:3])
        assert sorted(set(bench.targets[bench.sources == digit])) == [t for t in range(10) if t != digit]
    # the reference set is everything else: no start image is in it
    assert len(bench.reference_labels) == len(y) - 30
    starts = x[np.unique(bench.start_index)].reshape(30, -1)
    reference = bench.reference_images.reshape(len(bench.reference_images), -1)
    assert nearest_distance(starts, y[np.unique(bench.start_index)], bench.reference_images,
                            bench.reference_labels).min() > 0
    assert reference.shape[0] == len(bench.reference_labels)


def test_report_split_is_disjoint_from_the_choose_split_and_spread_over_the_set(mnist_test):
    x, y = mnist_test
    choose = np.unique(benchmark_split(x, y, per_digit=10).start_index)
    report = benchmark_split(x, y, per_digit=10, split="report")
    starts = np.unique(report.start_index)
    assert len(starts) == 100 and not set(starts) & set(choose)
    assert len(report.targets) == 900 and np.all(report.sources != report.targets)
    for digit in range(10):  # ten of each digit, from the start of the set to its end
        mine = starts[y[starts] == digit]
        assert len(mine) == 10 and mine.max() > 0.9 * len(y) and mine.min() < 0.2 * len(y)
    keep = np.isin(np.arange(len(y)), starts, invert=True)  # the reference set: every image but the starts
    np.testing.assert_array_equal(report.reference_labels, y[keep])


def test_benchmark_split_rejects_an_unknown_split(mnist_test):
    x, y = mnist_test
    with pytest.raises(ValueError, match="unknown split 'test'"):
        benchmark_split(x, y, 3, split="test")


@pytest.mark.parametrize("per_digit, message", [(0, "positive whole number"), (2.5, "positive whole"),
                                                (2000, "only .* images of digit")])
def test_benchmark_split_rejects_bad_sizes(mnist_test, per_digit, message):
    x, y = mnist_test
    with pytest.raises(ValueError, match=message):
        benchmark_split(x, y, per_digit)


def test_nearest_distance_matches_brute_force_and_respects_the_class():
    rng = np.random.default_rng(0)
    reference = rng.random((50, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 3, 50)
    images = rng.random((7, 28, 28, 1), dtype=np.float32)
    classes = np.array([0, 1, 2, 0, 1, 2, 0])
    got = nearest_distance(images, classes, reference, labels, batch=2)
    for i, c in enumerate(classes):
        pool = reference[labels == c].reshape(-1, 784)
        want = np.sqrt(((pool - images[i].reshape(784)) ** 2).sum(1)).min()
        assert got[i] == pytest.approx(want, rel=1e-5)
    distances, indices = nearest_reference(images, classes, reference, labels)
    np.testing.assert_allclose(distances, got)
    assert np.all(labels[indices] == classes)
    np.testing.assert_allclose(np.sqrt(((reference[indices] - images) ** 2).reshape(7, -1).sum(1)), got, rtol=1e-5)
    # an image that is itself a reference image of its class is at distance 0
    assert nearest_distance(reference[:1], labels[:1], reference, labels)[0] == pytest.approx(0, abs=1e-3)
    with pytest.raises(ValueError, match="no reference image of class 5"):
        nearest_distance(images[:1], np.array([5]), reference, labels)
    with pytest.raises(ValueError, match="one class per image"):
        nearest_distance(images, classes[:3], reference, labels)


def test_score_success_size_and_probability(small_model, held_out, mnist_test):
    x, y = held_out
    targets = y[:20]  # the "final frames" are real digits of the target class: mostly success
    result = score(small_model, x[20:40], x[:20], targets, *mnist_test)
    assert set(result) == {"probability", "success", "realism", "size"}
    assert np.all((result["probability"] >= 0) & (result["probability"] <= 1))
    np.testing.assert_array_equal(result["success"], result["probability"] >= 0.5)
    assert result["success"].mean() > 0.8
    np.testing.assert_allclose(result["size"], np.sqrt(((x[:20] - x[20:40]) ** 2).reshape(20, -1).sum(1)),
                               rtol=1e-5)
    np.testing.assert_allclose(result["realism"], 0, atol=1e-3)  # each final frame is in the reference set
    probs = judge_probability(small_model, x[:20], targets)
    np.testing.assert_allclose(probs, result["probability"])
    with pytest.raises(ValueError, match="differ in shape"):
        score(small_model, x[:3], x[:4], targets[:4], *mnist_test)
    with pytest.raises(ValueError, match="threshold"):
        score(small_model, x[:3], x[:3], targets[:3], *mnist_test, threshold=1.5)
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        judge_probability(small_model, x[:2], 12)


def test_walk_scores_summarise_the_final_frames_of_the_walks(small_model, mnist_test):
    x, y = mnist_test
    bench = benchmark_split(x[:2000], y[:2000], per_digit=1)
    settings = dict(objective="ce", freeze_saturated=True, steps=5, step_size=0.5, eps=1.5)
    result = walk_scores(small_model, small_model, bench, yardstick=4.0, **settings)
    finals = traverse(small_model, bench.images, bench.targets, **settings)[-1]
    expected = score(small_model, bench.images, finals, bench.targets, bench.reference_images, bench.reference_labels)
    assert result == pytest.approx({"success": expected["success"].mean(), "realism": expected["realism"].mean(),
                                    "realism_ratio": expected["realism"].mean() / 4.0,
                                    "size": expected["size"].mean()})
    assert 0 < result["size"] <= 1.5 + 1e-4  # the ball holds every walk
    with pytest.raises(ValueError, match="yardstick"):
        walk_scores(small_model, small_model, bench, yardstick=0.0, **settings)


def test_shift_starts_moves_each_start_its_own_way_and_back(mnist_test):
    x, y = mnist_test
    bench = benchmark_split(x, y, per_digit=1)
    moved = shift_starts(bench.images, bench.start_index, 2)
    for image, original, index in zip(moved[:18], bench.images[:18], bench.start_index[:18]):
        right, down = [(1, 0), (0, 1), (-1, 0), (0, -1)][index % 4]
        np.testing.assert_array_equal(image, shift_images(original[None], 2 * right, 2 * down)[0])
    clear = bench.images[:, :3, :3].max() == 0  # (MNIST's corners are empty)
    assert clear and np.array_equal(shift_starts(bench.images, bench.start_index, 0), bench.images)
    back = shift_starts(moved, bench.start_index, 2, back=True)
    kept = np.abs(back - bench.images).reshape(len(back), -1).sum(1) == 0
    assert kept.mean() > 0.9  # only digits touching an edge lose pixels on the way
    for bad in (-1, 1.5, 28):
        with pytest.raises(ValueError, match="shift"):
            shift_starts(bench.images, bench.start_index, bad)
    with pytest.raises(ValueError, match="start index"):
        shift_starts(bench.images, bench.start_index[:3], 1)


def test_walk_scores_of_shifted_starts_score_the_frame_moved_back(small_model, mnist_test):
    x, y = mnist_test
    bench = benchmark_split(x[:2000], y[:2000], per_digit=1)
    settings = dict(objective="ce", freeze_saturated=True, steps=3, step_size=0.5, eps=1.5)
    result = walk_scores(small_model, small_model, bench, yardstick=4.0, shift=3, **settings)
    starts = shift_starts(bench.images, bench.start_index, 3)
    finals = traverse(small_model, starts, bench.targets, **settings)[-1]
    back = shift_starts(finals, bench.start_index, 3, back=True)
    expected = score(small_model, bench.images, back, bench.targets, bench.reference_images, bench.reference_labels)
    assert result["success"] == pytest.approx(expected["success"].mean())
    assert result["realism"] == pytest.approx(expected["realism"].mean())
    assert result["size"] == pytest.approx(np.sqrt(((finals - starts) ** 2).reshape(len(starts), -1).sum(1)).mean())


def test_success_matrix():
    sources = np.array([0, 0, 1, 1, 1])
    targets = np.array([1, 1, 0, 2, 2])
    matrix = success_matrix(sources, targets, np.array([True, False, True, True, True]))
    assert matrix.shape == (10, 10)
    assert matrix[0, 1] == 0.5 and matrix[1, 0] == 1.0 and matrix[1, 2] == 1.0
    assert np.isnan(matrix[0, 0]) and np.isnan(matrix[5, 6])
    with pytest.raises(ValueError, match="same length"):
        success_matrix(sources, targets[:2], np.ones(5, bool))
