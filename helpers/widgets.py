"""Slider panels for the notebooks, built on small functions that are tested without a browser.

Used in notebooks ``01`` (epsilon slider), ``02`` (PGD sliders) and ``04`` (traversal).

Each panel has a pure *view* function that computes what to show (:func:`fgsm_view`,
:func:`pgd_view`, :func:`traversal_view`) and a *panel* function that wires ipywidgets 8
controls (``continuous_update=False``: the work runs when the reader lets go of a slider)
to it. A panel is a :class:`Panel`: display it in a cell; its ``controls``, ``output`` and
``state`` (the last computed view) are there for tests and the curious.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable, Mapping

import ipywidgets as widgets
import keras
import numpy as np
from IPython.display import Image, display
from matplotlib.figure import Figure

from helpers.attacks import fgsm, pgd
from helpers.validation import validate_images, validate_labels
from helpers.evaluation import predict, softmax
from helpers.plotting import CORRECT_COLOUR, WRONG_COLOUR, draw_change, draw_digit, finish, prediction_text
from helpers.traversal import DEFAULT_STEP_SIZE, DEFAULT_STEPS, traverse

__all__ = [
    "Panel",
    "fgsm_view",
    "pgd_view",
    "traversal_view",
    "draw_attack_view",
    "draw_traversal_frame",
    "epsilon_panel",
    "pgd_panel",
    "traversal_panel",
]

#: Slider ranges and starting values per norm: (eps max, eps start, step max, step start).
#: The starting step is 2.5 * eps / 20, so 20 steps can cross the whole ball.
NORM_RANGES = {"linf": (0.5, 0.2, 0.1, 0.025), "l2": (5.0, 2.0, 1.0, 0.25)}


@dataclass
class Panel:
    """A displayed group of controls plus the output area they redraw."""

    widget: widgets.Widget
    controls: dict[str, widgets.Widget]
    output: widgets.Output
    state: dict = field(default_factory=dict)
    refresh: Callable[[], None] = lambda: None

    def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
        """Display as the panel's widget (Jupyter calls this)."""
        return self.widget._repr_mimebundle_(**kwargs)


def _one_image(models: Mapping[str, keras.Model], image: np.ndarray, label: int | None,
               what: str = "label") -> tuple[np.ndarray, np.ndarray | None]:
    """Check ``image`` (28, 28, 1) and ``label`` against the first model: a batch of one image
    (1, 28, 28, 1) float32 in [0, 1] and the label as (1,) int64 (None if not given)."""
    if not models:
        raise ValueError("give at least one model, e.g. {'natural': natural, 'robust': robust}")
    model = next(iter(models.values()))
    batch = validate_images(model, np.asarray(image)[None])
    labels = None if label is None else validate_labels(model, label, 1, what=what)
    return batch, labels


def _summarise(model: keras.Model, adversarial: np.ndarray) -> dict:
    """What a panel shows of one model's result on a batch of one image (1, 28, 28, 1): the
    image, its logits (10,), the predicted digit and the confidence in it (in [0, 1])."""
    logits = predict(model, adversarial)[0]
    probabilities = softmax(logits)
    return {"adversarial": adversarial[0], "logits": logits, "prediction": int(logits.argmax()),
            "confidence": float(probabilities.max())}


def fgsm_view(models: Mapping[str, keras.Model], image: np.ndarray, label: int, eps: float,
              norm: str = "linf") -> dict[str, dict]:
    """FGSM on one image (28, 28, 1) for each model: name -> {adversarial, logits, prediction,
    confidence}."""
    batch, labels = _one_image(models, image, label)
    return {name: _summarise(model, fgsm(model, batch, labels, eps, norm=norm))
            for name, model in models.items()}


def pgd_view(models: Mapping[str, keras.Model], image: np.ndarray, label: int, *, eps: float,
             step_size: float, steps: int, norm: str = "l2") -> dict[str, dict]:
    """PGD on one image for each model; same result layout as :func:`fgsm_view`."""
    batch, labels = _one_image(models, image, label)
    return {name: _summarise(model, pgd(model, batch, labels, eps=eps, step_size=step_size,
                                        steps=steps, norm=norm))
            for name, model in models.items()}


def traversal_view(models: Mapping[str, keras.Model], image: np.ndarray, target: int, *,
                   steps: int, step_size: float, **options: object) -> dict[str, dict]:
    """A traversal of one image for each model: name -> {frames (T, 28, 28, 1), logits (T, 10),
    predictions (T,), target_probability (T,)}. ``options`` go to :func:`traverse`."""
    batch, targets = _one_image(models, image, target, what="target")
    views = {}
    for name, model in models.items():
        frames = traverse(model, batch, targets, steps=steps, step_size=step_size, **options)[:, 0]
        logits = predict(model, frames)
        views[name] = {"frames": frames, "logits": logits, "predictions": logits.argmax(axis=1),
                       "target_probability": softmax(logits)[:, int(targets[0])]}
    return views


def draw_attack_view(image: np.ndarray, view: Mapping[str, dict], label: int, title: str) -> Figure:
    """Original image (28, 28, 1) in [0, 1], then per model of ``view`` (as returned by
    :func:`fgsm_view`) the change (red brighter, blue darker) and the result, captioned green
    when the model still sees ``label`` and red when fooled."""
    figure = Figure(figsize=(2.0 * (1 + 2 * len(view)), 2.5))
    axes = figure.subplots(1, 1 + 2 * len(view))
    draw_digit(axes[0], image, f"original\n(label {label})")
    for index, (name, result) in enumerate(view.items()):
        draw_change(axes[1 + 2 * index], result["adversarial"] - np.asarray(image),
                    title="{name}: change\nL2 {l2:.2f}", name=name)
        fooled = result["prediction"] != label
        draw_digit(axes[2 + 2 * index], result["adversarial"], f"{name} sees {prediction_text(result['logits'])}",
                   colour=WRONG_COLOUR if fooled else CORRECT_COLOUR)
    return finish(figure, title)


def draw_traversal_frame(view: Mapping[str, dict], frame: int, target: int) -> Figure:
    """Frame number ``frame`` (the last one if there are fewer) of a traversal per model of
    ``view`` (as returned by :func:`traversal_view`), captioned with the model's prediction
    and its probability of ``target``."""
    figure = Figure(figsize=(2.4 * len(view), 2.7))
    axes = np.atleast_1d(figure.subplots(1, len(view)))
    for ax, (name, result) in zip(axes, view.items()):
        frame = min(frame, len(result["frames"]) - 1)
        draw_digit(ax, result["frames"][frame],
                   f"{name}, step {frame}\nsees {prediction_text(result['logits'][frame])}; "
                   f"P({target}) {result['target_probability'][frame]:.0%}")
    return finish(figure)


def _show(panel: Panel, figure: Figure) -> None:
    """Replace what the panel's output area shows with ``figure`` (kept in ``state["figure"]``).

    The figure is sent as a PNG image, so it shows whatever matplotlib backend is active.
    """
    panel.state["figure"] = figure
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
    output = panel.output
    with output:
        output.clear_output(wait=True)
        display(Image(data=buffer.getvalue(), format="png"))


def _slider(description: str, value: float, maximum: float, step: float) -> widgets.FloatSlider:
    """A slider from 0 to ``maximum`` that reports only when released."""
    return widgets.FloatSlider(value=value, min=0.0, max=maximum, step=step, description=description,
                               continuous_update=False, readout_format=".3f",
                               style={"description_width": "initial"})


def epsilon_panel(models: Mapping[str, keras.Model], image: np.ndarray, label: int, *,
                  norm: str = "linf", eps: float = 0.1, eps_max: float = 0.4) -> Panel:
    """An epsilon slider: FGSM on ``image`` for every model, redrawn when the slider moves."""
    output = widgets.Output()
    slider = _slider(f"epsilon ({'L-inf' if norm == 'linf' else 'L2'})", eps, eps_max, eps_max / 80)
    panel = Panel(widgets.VBox([slider, output]), {"eps": slider}, output)

    def refresh(*_: object) -> None:
        """Run FGSM at the slider's epsilon and redraw."""
        view = fgsm_view(models, image, label, slider.value, norm=norm)
        panel.state = {"eps": slider.value, "view": view}
        _show(panel, draw_attack_view(image, view, label, f"FGSM, epsilon {slider.value:.3f}"))

    slider.observe(refresh, names="value")
    panel.refresh = refresh
    refresh()
    return panel


def pgd_panel(models: Mapping[str, keras.Model], image: np.ndarray, label: int, *,
              norm: str = "l2", steps: int = 20, eps: float | None = None,
              step_size: float | None = None) -> Panel:
    """Sliders for epsilon, step size and steps and a norm chooser, redrawing PGD's result.

    ``eps`` and ``step_size`` set the starting values (default: :data:`NORM_RANGES`); after
    a switch of norm both jump to that norm's defaults.
    """
    if norm not in NORM_RANGES:
        raise ValueError(f"unknown norm {norm!r}; choose one of {sorted(NORM_RANGES)}")
    output = widgets.Output()
    eps_max, eps_start, step_max, step_start = NORM_RANGES[norm]
    eps_start = eps_start if eps is None else eps
    step_start = step_start if step_size is None else step_size
    controls = {
        "norm": widgets.ToggleButtons(options=[("L2", "l2"), ("L-infinity", "linf")], value=norm,
                                      description="norm"),
        "eps": _slider("epsilon", eps_start, eps_max, eps_max / 100),
        "step_size": _slider("step size", step_start, step_max, step_max / 100),
        "steps": widgets.IntSlider(value=steps, min=0, max=100, description="steps",
                                   continuous_update=False),
    }
    panel = Panel(widgets.VBox([*controls.values(), output]), controls, output)
    busy = {"switching": False}

    def refresh(*_: object) -> None:
        """Run PGD with the current settings and redraw (not while the norm is switching)."""
        if busy["switching"]:
            return
        settings = {k: controls[k].value for k in ("eps", "step_size", "steps", "norm")}
        view = pgd_view(models, image, label, **settings)
        panel.state = {**settings, "view": view}
        _show(panel, draw_attack_view(
            image, view, label, f"PGD ({settings['norm']}), epsilon {settings['eps']:.3f}, "
                                f"{settings['steps']} steps of {settings['step_size']:.3f}"))

    def switch_norm(change: dict) -> None:
        """Move both sliders to the new norm's range and starting value, then redraw once."""
        busy["switching"] = True  # set the ranges first, then draw once
        eps_max, eps_start, step_max, step_start = NORM_RANGES[change["new"]]
        for key, maximum, start in (("eps", eps_max, eps_start), ("step_size", step_max, step_start)):
            controls[key].max = maximum
            controls[key].step = maximum / 100
            controls[key].value = start
        busy["switching"] = False
        refresh()

    for key in ("eps", "step_size", "steps"):
        controls[key].observe(refresh, names="value")
    controls["norm"].observe(switch_norm, names="value")
    panel.refresh = refresh
    refresh()
    return panel


def traversal_panel(models: Mapping[str, keras.Model], images: np.ndarray, labels: np.ndarray, *,
                    source: int = 0, target: int = 0, steps: int = DEFAULT_STEPS,
                    step_size: float = DEFAULT_STEP_SIZE,
                    **options: object) -> Panel:
    """Pickers for the source image, target digit, step size and steps, plus a frame slider
    (and a play button) that moves through the traversal of every model side by side."""
    output = widgets.Output()
    choices = [(f"#{i}: a {int(labels[i])}", i) for i in range(len(images))]
    controls = {
        "source": widgets.Dropdown(options=choices, value=source, description="start from"),
        "target": widgets.Dropdown(options=list(range(10)), value=target, description="target digit"),
        "step_size": _slider("step size", step_size, 1.0, 0.01),
        "steps": widgets.IntSlider(value=steps, min=1, max=200, description="steps", continuous_update=False),
        "frame": widgets.IntSlider(value=steps, min=0, max=steps, description="frame", continuous_update=True),
        "play": widgets.Play(value=steps, min=0, max=steps, interval=120, description="play"),
    }
    widgets.jslink((controls["play"], "value"), (controls["frame"], "value"))
    panel = Panel(widgets.VBox([widgets.HBox([controls["source"], controls["target"]]),
                                widgets.HBox([controls["step_size"], controls["steps"]]),
                                widgets.HBox([controls["play"], controls["frame"]]), output]),
                  controls, output)

    updating = {"now": False}

    def redraw(*_: object) -> None:
        """Draw the chosen frame of the traversal already computed."""
        if updating["now"]:
            return
        frame = controls["frame"].value
        panel.state["frame"] = frame
        _show(panel, draw_traversal_frame(panel.state["view"], frame, controls["target"].value))

    def recompute(*_: object) -> None:
        """Recompute the traversals for the chosen settings and show their last frame."""
        settings = {k: controls[k].value for k in ("source", "target", "steps", "step_size")}
        view = traversal_view(models, images[settings["source"]], settings["target"],
                              steps=settings["steps"], step_size=settings["step_size"], **options)
        panel.state = {**settings, "view": view}
        updating["now"] = True  # move the frame controls to the new last frame, then draw once
        for key in ("frame", "play"):
            controls[key].max = settings["steps"]
            controls[key].value = settings["steps"]
        updating["now"] = False
        redraw()

    controls["frame"].observe(redraw, names="value")
    for key in ("source", "target", "step_size", "steps"):
        controls[key].observe(recompute, names="value")
    panel.refresh = recompute
    recompute()
    return panel
