"""A canvas to sketch a digit on, with live predictions and a clean-up button (notebook 06).

Explained in notebook ``06_robust_models_draw.ipynb``.

The sketch pad (:class:`SketchPad`) is an anywidget: a few lines of JavaScript, shipped inside
this module (no download, so it works offline), that draw soft strokes on a 28 x 28 picture
shown at 280 x 280 pixels and send its 784 pixels to Python each time the mouse is released.
JupyterLab 4 and Jupyter Notebook 7 show it once ``anywidget`` is installed; VS Code's notebooks
and Google Colab show anywidgets too (Colab may first ask to allow third-party widgets).

As for the slider panels (:mod:`helpers.widgets`), the logic is in pure functions tested without
a browser: :func:`sketch_image` (pixels to a centred image), :func:`sketch_view` (every model's
reading), :func:`clean_up_sketch` (the robust model's tidy-up, :func:`helpers.drawing.clean_up`);
:func:`canvas_panel` only wires them to the controls.
"""

from __future__ import annotations

import html
from typing import Mapping, Sequence

import anywidget
import ipywidgets as widgets
import keras
import numpy as np
import traitlets

from helpers.data import IMAGE_SHAPE
from helpers.drawing import clean_up
from helpers.evaluation import predict, softmax
from helpers.widgets import Panel

__all__ = ["SketchPad", "sketch_image", "sketch_view", "clean_up_sketch", "describe_view", "canvas_panel"]

PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]

_ESM = """
function render({ model, el }) {
  const size = 28, scale = 10;
  const canvas = document.createElement("canvas");
  canvas.width = size * scale; canvas.height = size * scale;
  canvas.className = "sketchpad-canvas";
  canvas.style.cssText = "background:#000;cursor:crosshair;touch-action:none;border:1px solid #888";
  el.appendChild(canvas);
  const context = canvas.getContext("2d");
  const small = document.createElement("canvas");
  small.width = size; small.height = size;
  const smallContext = small.getContext("2d");
  let pixels = Float32Array.from(model.get("pixels"));
  let drawing = false, last = null;
  function paint() {
    const data = smallContext.createImageData(size, size);
    for (let i = 0; i < size * size; i++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i] || 0)));
      data.data.set([v, v, v, 255], 4 * i);
    }
    smallContext.putImageData(data, 0, 0);
    context.imageSmoothingEnabled = false;
    context.drawImage(small, 0, 0, size * scale, size * scale);
  }
  function stamp(x, y) {
    const radius = model.get("brush");
    for (let row = Math.floor(y - 2 * radius); row <= y + 2 * radius; row++) {
      for (let col = Math.floor(x - 2 * radius); col <= x + 2 * radius; col++) {
        if (row < 0 || col < 0 || row >= size || col >= size) continue;
        const d2 = (row + 0.5 - y) ** 2 + (col + 0.5 - x) ** 2;
        const ink = Math.exp(-d2 / (2 * radius * radius));
        pixels[row * size + col] = Math.min(1, pixels[row * size + col] + 0.6 * ink);
      }
    }
  }
  function position(event) {
    const box = canvas.getBoundingClientRect();
    return [size * (event.clientX - box.left) / box.width, size * (event.clientY - box.top) / box.height];
  }
  function stroke(event) {
    const [x, y] = position(event);
    const [x0, y0] = last || [x, y];
    const parts = Math.max(1, Math.ceil(2 * Math.hypot(x - x0, y - y0)));
    for (let k = 1; k <= parts; k++) stamp(x0 + (x - x0) * k / parts, y0 + (y - y0) * k / parts);
    last = [x, y];
    paint();
  }
  canvas.addEventListener("pointerdown", (e) => { drawing = true; last = null; stroke(e); });
  canvas.addEventListener("pointermove", (e) => { if (drawing) stroke(e); });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    model.set("pixels", Array.from(pixels));
    model.save_changes();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointerleave", finish);
  model.on("change:pixels", () => { pixels = Float32Array.from(model.get("pixels")); paint(); });
  paint();
}
export default { render };
"""


class SketchPad(anywidget.AnyWidget):
    """A 28 x 28 drawing surface: ``pixels`` (784 numbers in [0, 1], row by row) is synced both
    ways: the browser sets it when a stroke ends, Python may set it to show a picture."""

    _esm = _ESM
    pixels = traitlets.List(traitlets.Float(), default_value=[0.0] * PIXELS).tag(sync=True)
    brush = traitlets.Float(0.9).tag(sync=True)  # stroke radius in MNIST pixels


def sketch_image(pixels: Sequence[float] | np.ndarray, *, centre: bool = True) -> np.ndarray:
    """784 pixels (or a 28 x 28 picture) as one image (1, 28, 28, 1) in [0, 1].

    With ``centre`` the ink's centre of mass is moved to the middle, as MNIST's digits were
    prepared, so a digit sketched in a corner is read like one sketched in the centre.
    """
    array = np.asarray(pixels, np.float32)
    if array.size != PIXELS or not np.isfinite(array).all():
        raise ValueError(f"a sketch needs {PIXELS} finite pixel values (28 x 28), got {array.size}")
    image = np.clip(array.reshape(IMAGE_SHAPE[:2]), 0.0, 1.0)
    if centre and image.sum() > 0:
        rows, cols = np.indices(image.shape)
        shift = [int(round(13.5 - (axis * image).sum() / image.sum())) for axis in (rows, cols)]
        image = np.roll(image, shift, axis=(0, 1))
    return image.reshape(1, *IMAGE_SHAPE)


def sketch_view(models: Mapping[str, keras.Model], image: np.ndarray) -> dict[str, dict]:
    """Every model's reading of one image (1, 28, 28, 1): name -> {prediction, confidence,
    probabilities (10,)}."""
    view = {}
    for name, model in models.items():
        probabilities = softmax(predict(model, image)[0])
        view[name] = {"prediction": int(probabilities.argmax()), "confidence": float(probabilities.max()),
                      "probabilities": probabilities}
    return view


def clean_up_sketch(model: keras.Model, image: np.ndarray, *, target: int | None, budget: float) -> np.ndarray:
    """One image (1, 28, 28, 1) cleaned up by ``model`` within L2 ``budget`` (towards ``target``,
    or the model's own reading if None): :func:`helpers.drawing.clean_up` with its defaults."""
    return clean_up(model, image, target=target, budget=budget)


def describe_view(view: Mapping[str, dict]) -> str:
    """The readings of :func:`sketch_view` as a short HTML text (one line per model)."""
    lines = [f"<b>{html.escape(name)}</b> model sees a <b class='sketch-prediction'>{result['prediction']}</b> "
             f"({result['confidence']:.0%} sure)" for name, result in view.items()]
    return "<div class='sketch-readings' style='font-size:1.2em;line-height:1.8'>" + "<br>".join(lines) + "</div>"


def canvas_panel(models: Mapping[str, keras.Model], *, cleaner: str = "robust", budget: float = 3.0) -> Panel:
    """Sketch pad, every model's live reading, and a button that lets ``models[cleaner]`` clean
    the sketch up (into its own reading or a chosen digit) within an L2 budget set by a slider."""
    if cleaner not in models:
        raise ValueError(f"cleaner must name one of the models {sorted(models)}, got {cleaner!r}")
    pad = SketchPad()
    readings = widgets.HTML(value="<i>Draw a digit with the mouse.</i>")
    controls = {
        "pad": pad,
        "target": widgets.Dropdown(options=[("its own reading", -1)] + [(str(d), d) for d in range(10)],
                                   value=-1, description="make it"),
        "budget": widgets.FloatSlider(value=budget, min=0.0, max=8.0, step=0.25, description="budget (L2)",
                                      continuous_update=False),
        "clean": widgets.Button(description=f"let the {cleaner} model clean up", button_style="primary",
                                layout=widgets.Layout(width="auto")),
        "clear": widgets.Button(description="clear"),
    }
    output = widgets.Output()
    layout = widgets.VBox([widgets.HBox([pad, readings]), widgets.HBox([controls["target"], controls["budget"]]),
                           widgets.HBox([controls["clean"], controls["clear"]]), output])
    panel = Panel(layout, {**controls, "readings": readings}, output)

    def read(*_: object) -> None:
        """Show every model's reading of the current sketch."""
        image = sketch_image(pad.pixels, centre=False)
        if image.sum() == 0:
            readings.value = "<i>Draw a digit with the mouse.</i>"
            panel.state = {"image": image, "view": None}
            return
        image = sketch_image(pad.pixels)
        panel.state = {"image": image, "view": sketch_view(models, image)}
        readings.value = describe_view(panel.state["view"])

    def tidy(*_: object) -> None:
        """Clean the (centred) sketch up and show the result on the pad."""
        image = sketch_image(pad.pixels)
        if image.sum() == 0:
            return
        target = None if controls["target"].value < 0 else int(controls["target"].value)
        cleaned = clean_up_sketch(models[cleaner], image, target=target, budget=controls["budget"].value)
        pad.pixels = [float(v) for v in cleaned.ravel()]

    pad.observe(read, names="pixels")
    controls["clean"].on_click(tidy)
    controls["clear"].on_click(lambda _: setattr(pad, "pixels", [0.0] * PIXELS))
    panel.refresh = read
    clean_up_sketch(models[cleaner], np.zeros((1, *IMAGE_SHAPE), np.float32), target=0, budget=0.1)  # warm up
    return panel
