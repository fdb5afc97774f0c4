"""The tutorial CNN's architecture, and checked loading of the shipped models."""

from __future__ import annotations

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers.evaluation import accuracy
from helpers.models import (
    MODELS_DIR, PRETRAINED, ModelIntegrityError, build_cnn, build_judge, card_figures, crosscheck_figures, file_sha256,
    load_pretrained, recorded_sha256,
)

SHIPPED = ["natural", "robust"]


def test_build_cnn_is_the_tutorial_network():
    model = build_cnn()
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    denses = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [(c.filters, c.kernel_size, c.padding, c.activation.__name__) for c in convs] == [
        (32, (5, 5), "same", "relu"), (64, (5, 5), "same", "relu")]
    assert [p.pool_size for p in pools] == [(2, 2), (2, 2)]
    assert [(d.units, d.activation.__name__) for d in denses] == [(1024, "relu"), (10, "linear")]
    assert model.count_params() == 3_274_634
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)


def test_outputs_are_logits_not_probabilities():
    logits = build_cnn()(np.random.default_rng(0).uniform(size=(4, 28, 28, 1)).astype("float32")).numpy()
    assert not np.allclose(logits.sum(axis=1), 1.0)


def test_judge_is_a_different_architecture():
    judge = build_judge()
    assert judge.input_shape == (None, 28, 28, 1) and judge.output_shape == (None, 10)
    assert judge.count_params() != build_cnn().count_params()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_verified_and_is_accurate(name, mnist_test):
    path = MODELS_DIR / PRETRAINED[name]
    assert recorded_sha256()[path.name] == file_sha256(path)
    assert path.stat().st_size <= 15_000_000
    model = load_pretrained(name)
    x, y = mnist_test
    assert accuracy(model, x[:1000], y[:1000]) > 0.97


def test_models_folder_stays_small():
    total = sum(p.stat().st_size for p in MODELS_DIR.iterdir() if p.is_file())
    assert total <= 50_000_000


def _copy_models(tmp_path):
    for name in ("SHA256SUMS", PRETRAINED["natural"]):
        shutil.copy(MODELS_DIR / name, tmp_path / name)
    return tmp_path / PRETRAINED["natural"]


def test_changed_file_is_refused(tmp_path):
    path = _copy_models(tmp_path)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ModelIntegrityError, match="changed or truncated"):
        load_pretrained("natural", directory=tmp_path)


def test_truncated_file_is_refused(tmp_path):
    path = _copy_models(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelIntegrityError):
        load_pretrained("natural", directory=tmp_path)


def test_unrecorded_or_missing_files_are_refused(tmp_path):
    _copy_models(tmp_path)
    (tmp_path / "SHA256SUMS").write_text("")
    with pytest.raises(ModelIntegrityError, match="no SHA-256 recorded"):
        load_pretrained("natural", directory=tmp_path)
    (tmp_path / "SHA256SUMS").unlink()
    with pytest.raises(ModelIntegrityError, match="SHA256SUMS is missing"):
        load_pretrained("natural", directory=tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m helpers.train robust"):
        load_pretrained("robust", directory=tmp_path)


def test_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="unknown pretrained model 'robustest'"):
        load_pretrained("robustest")


def test_loading_uses_safe_mode(tmp_path):
    """A .keras file carrying a Lambda layer (arbitrary code) is refused by safe mode."""
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda t: t * 2.0),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    path = tmp_path / "natural.keras"
    model.save(path)
    (tmp_path / "SHA256SUMS").write_text(f"{file_sha256(path)}  natural.keras\n")
    with pytest.raises(ValueError, match="(?i)safe_mode|lambda"):
        load_pretrained("natural", directory=tmp_path)


def test_card_figures_are_the_card_table():
    figures = card_figures()
    card = (MODELS_DIR / "README.md").read_text()
    for name in ("natural", "robust"):
        row = figures["models"][name]
        assert 0.0 <= row["l2_2.0"] <= row["clean_10000"] <= 1.0
        assert f"| {name} | {100 * row['clean_10000']:.1f} |" in card  # the card prints this very row


def test_card_figures_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="evaluate_models"):
        card_figures(tmp_path)


def test_crosscheck_figures_are_the_crosschecks_table():
    figures = crosscheck_figures()
    table = (MODELS_DIR.parent / "benchmarks" / "autoattack_crosscheck.md").read_text()
    for name, row in figures["models"].items():
        assert f"| {name} | {row['images']} ({row['which_images']}) | {row['autoattack_percent']:.1f}% | " \
               f"{row['project_percent']:.1f}% |" in table
    with pytest.raises(FileNotFoundError, match="autoattack_crosscheck"):
        crosscheck_figures(Path("no") / "such.json")
