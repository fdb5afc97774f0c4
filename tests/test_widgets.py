"""The logic behind every slider, tested without a browser."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.widgets import (
    epsilon_panel, fgsm_view, pgd_panel, pgd_view, traversal_panel, traversal_view,
)


@pytest.fixture(scope="module")
def models(small_model, blind_model):
    return {"small": small_model, "blind": blind_model}


def test_fgsm_view_at_zero_changes_nothing(models, held_out):
    x, y = held_out
    view = fgsm_view(models, x[0], int(y[0]), 0.0)
    assert set(view) == {"small", "blind"}
    np.testing.assert_array_equal(view["small"]["adversarial"], x[0])
    assert view["small"]["prediction"] == int(np.argmax(view["small"]["logits"]))
    assert 0.0 < view["small"]["confidence"] <= 1.0


def test_fgsm_view_flips_the_small_model_at_a_large_epsilon(models, held_out):
    x, y = held_out
    flipped = [fgsm_view(models, x[i], int(y[i]), 0.3)["small"]["prediction"] != y[i] for i in range(10)]
    assert sum(flipped) >= 5


def test_pgd_view_respects_the_budget(models, held_out):
    x, y = held_out
    view = pgd_view(models, x[1], int(y[1]), eps=1.0, step_size=0.25, steps=10, norm="l2")
    change = view["small"]["adversarial"] - x[1]
    assert np.sqrt((change ** 2).sum()) <= 1.0 + 1e-5


def test_traversal_view_frames_and_probabilities(models, held_out):
    x, _ = held_out
    view = traversal_view(models, x[2], 0, steps=12, step_size=0.3)
    small = view["small"]
    assert small["frames"].shape == (13, 28, 28, 1) and small["logits"].shape == (13, 10)
    assert small["target_probability"][-1] > small["target_probability"][0]
    assert np.all((0 <= small["target_probability"]) & (small["target_probability"] <= 1))


def test_views_validate_input(models, held_out):
    x, y = held_out
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        fgsm_view(models, x[0], 12, 0.1)
    with pytest.raises(ValueError, match="target"):
        traversal_view(models, x[0], 10, steps=2, step_size=0.1)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        pgd_view(models, x[0], int(y[0]), eps=-1.0, step_size=0.1, steps=2)
    with pytest.raises(ValueError, match="rank 4"):
        fgsm_view(models, x[:2], int(y[0]), 0.1)
    with pytest.raises(ValueError, match="at least one model"):
        fgsm_view({}, x[0], int(y[0]), 0.1)


def test_epsilon_slider_reruns_the_attack(models, held_out):
    x, y = held_out
    panel = epsilon_panel(models, x[3], int(y[3]), eps=0.0, eps_max=0.4)
    assert panel.controls["eps"].continuous_update is False
    assert panel.state["eps"] == 0.0
    first_figure = panel.state["figure"]
    panel.controls["eps"].value = 0.3
    assert panel.state["eps"] == pytest.approx(0.3)
    change = panel.state["view"]["small"]["adversarial"] - x[3]
    assert np.abs(change).max() == pytest.approx(0.3, abs=1e-5)
    assert panel.state["figure"] is not first_figure  # redrawn
    assert "0.300" in panel.state["figure"]._suptitle.get_text()
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()


def test_pgd_panel_sliders_and_norm_switch(models, held_out):
    x, y = held_out
    panel = pgd_panel(models, x[4], int(y[4]), norm="l2", steps=5)
    assert all(panel.controls[k].continuous_update is False for k in ("eps", "step_size", "steps"))
    panel.controls["steps"].value = 7
    assert panel.state["steps"] == 7 and panel.state["norm"] == "l2"
    assert panel.state["step_size"] == pytest.approx(0.25)  # 2.5 * eps / 20 by default
    panel.controls["norm"].value = "linf"
    assert panel.state["norm"] == "linf"
    assert panel.controls["eps"].max == pytest.approx(0.5) and panel.state["eps"] == pytest.approx(0.2)
    change = panel.state["view"]["small"]["adversarial"] - x[4]
    assert np.abs(change).max() <= 0.2 + 1e-5


def test_pgd_panel_starting_values_and_bad_norm(models, held_out):
    x, y = held_out
    panel = pgd_panel(models, x[4], int(y[4]), norm="linf", eps=0.1, step_size=0.02, steps=3)
    assert (panel.state["eps"], panel.state["step_size"], panel.state["steps"]) == pytest.approx((0.1, 0.02, 3))
    with pytest.raises(ValueError, match="unknown norm"):
        pgd_panel(models, x[4], int(y[4]), norm="l1")


def test_traversal_panel_pickers_and_frame_slider(models, held_out):
    x, y = held_out
    panel = traversal_panel(models, x[:6], y[:6], source=1, target=0, steps=8, step_size=0.3)
    assert panel.controls["frame"].max == 8 and panel.state["frame"] == 8
    panel.controls["frame"].value = 3
    assert panel.state["frame"] == 3
    assert "step 3" in panel.state["figure"].axes[0].get_title()
    panel.controls["target"].value = 7
    assert panel.state["target"] == 7 and panel.state["frame"] == 8
    panel.controls["steps"].value = 12
    assert panel.controls["frame"].max == 12 and panel.controls["play"].max == 12
    assert panel.state["view"]["small"]["frames"].shape == (13, 28, 28, 1)
    panel.controls["source"].value = 4
    np.testing.assert_array_equal(panel.state["view"]["small"]["frames"][0], x[4])
