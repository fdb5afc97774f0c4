"""PGD throughput against ART's, the accuracy cross-check, and the machine's compute ceiling.

Sections ``pgd``, ``crosscheck`` and ``ceiling`` of ``benchmarks/run.py``. Run on its own
(``python -m benchmarks.bench_attacks [--repeats N]``), it compares the project's PGD with and
without the attack loop's two speed-ups (:func:`fast_gradient_speedup`).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from benchmarks.bench_common import import_art, rate_summary, summarise, timed

#: The budgets of the throughput runs and of the cross-check (steps of ``madry_step_size``).
EPS = {"l2": 1.5, "linf": 0.1}
ART_NORM = {"l2": 2, "linf": np.inf}


def _natural_model_and_data():
    from helpers.data import load_mnist_test
    from helpers.models import load_pretrained

    x, y = load_mnist_test()
    return load_pretrained("natural"), x, y


def _step_size(norm: str, steps: int) -> float:
    """The step size of every run here: Madry's rule for the norm's budget."""
    from helpers.evaluation import madry_step_size  # imports TensorFlow: only once the run starts

    return madry_step_size(EPS[norm], steps)


def _art_attacks(model, batch_size: int, steps_list, norms=("l2", "linf")) -> dict:
    """ART's ProjectedGradientDescent for every (norm, steps), on one TensorFlowV2Classifier that
    wraps the very same Keras 3 model object (no conversion, no copy of the weights)."""
    import tensorflow as tf

    TensorFlowV2Classifier, ProjectedGradientDescent = import_art()
    classifier = TensorFlowV2Classifier(
        model=model, nb_classes=10, input_shape=(28, 28, 1),
        loss_object=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), clip_values=(0.0, 1.0))
    return {
        (norm, steps): ProjectedGradientDescent(
            classifier, norm=ART_NORM[norm], eps=EPS[norm], eps_step=_step_size(norm, steps),
            max_iter=steps, targeted=False, num_random_init=0, batch_size=batch_size, verbose=False)
        for norm in norms for steps in steps_list
    }


def _tracing_counts(model) -> dict:
    """How many times each of the project's compiled loops for ``model`` was traced (1 = never re-traced)."""
    from helpers.attacks import compiled_loops

    return {"/".join(getattr(part, "name", getattr(part, "__name__", str(part))) for part in key):
            loop.experimental_get_tracing_count() for key, loop in compiled_loops(model).items()}


def pgd_throughput(settings: dict, log: Callable[[str], None]) -> dict:
    """Image-steps per second of the project's ``pgd`` and of ART's PGD, interleaved A, B, A, B."""
    from helpers.attacks import pgd

    model, x, y = _natural_model_and_data()
    batch, steps_list, repeats = settings["batch"], settings["pgd_steps"], settings["repeats"]
    images, labels = x[:batch], y[:batch]
    configs = [(norm, steps) for norm in ("l2", "linf") for steps in steps_list]

    def project(norm: str, steps: int) -> Callable[[], object]:
        return lambda: pgd(model, images, labels, eps=EPS[norm], step_size=_step_size(norm, steps),
                           steps=steps, norm=norm)

    runners: dict[str, dict] = {"project": {c: project(*c) for c in configs}}
    art_missing = None
    try:
        attacks = _art_attacks(model, batch, steps_list)
        runners["art"] = {c: (lambda a=attacks[c]: a.generate(images, labels)) for c in configs}
    except ImportError as error:
        art_missing = str(error)
        log(f"  ART part skipped: {art_missing}")

    log("  warming up (tracing) each implementation and setting")
    for implementation in runners.values():
        for run in implementation.values():
            run()
    seconds: dict = {name: {c: [] for c in configs} for name in runners}
    for repeat in range(repeats):
        for config in configs:
            for name in runners:  # A, B, A, B: machine noise hits both implementations alike
                seconds[name][config].append(timed(runners[name][config]))
        log(f"  repeat {repeat + 1}/{repeats} done")

    rows = []
    for norm, steps in configs:
        row = {"norm": norm, "steps": steps, "batch": batch, "eps": EPS[norm],
               "step_size": _step_size(norm, steps)}
        for name in runners:
            time_summary = summarise(seconds[name][(norm, steps)])
            row[name] = {"seconds": time_summary,
                         "image_steps_per_s": rate_summary(time_summary, batch * steps)}
        if "art" in runners:
            row["ratio_of_medians"] = (row["project"]["image_steps_per_s"]["median"]
                                       / row["art"]["image_steps_per_s"]["median"])
        rows.append(row)
    return {"rows": rows, "art_missing": art_missing, "project_loop_tracings": _tracing_counts(model),
            "notes": "project: helpers.attacks.pgd (numpy in, numpy out, one tf.function per norm); "
                     "art: ProjectedGradientDescent(...).generate on TensorFlowV2Classifier (eager, one "
                     "Python-level iteration per step; generate also predicts once at the end to log the "
                     "success rate). Same model object, images, eps, eps_step, max_iter, no random start, "
                     "untargeted, cross-entropy."}


def _accuracy(model, images: np.ndarray, labels: np.ndarray, batch: int = 500) -> tuple[float, np.ndarray]:
    """Accuracy straight from the model (no range check: ART's float rounding may leave 1 + 1e-7)."""
    import tensorflow as tf

    predictions = np.concatenate([model(tf.constant(images[i:i + batch]), training=False).numpy().argmax(1)
                                  for i in range(0, len(images), batch)])
    return float(np.mean(predictions == labels)), predictions


def crosscheck(settings: dict, log: Callable[[str], None]) -> dict:
    """The natural model's accuracy under the project's PGD and under ART's, same images and settings."""
    from helpers.attacks import perturbation_norm, pgd

    model, x, y = _natural_model_and_data()
    count, steps = settings["crosscheck_images"], settings["crosscheck_steps"]
    images, labels = x[:count], y[:count]
    try:
        attacks = _art_attacks(model, 128, [steps])
    except ImportError as error:
        return {"skipped": str(error)}
    clean, _ = _accuracy(model, images, labels)
    rows = []
    for norm in ("l2", "linf"):
        log(f"  {norm}: eps {EPS[norm]}, {steps} steps of {_step_size(norm, steps):.4g}, {count} images")
        ours = pgd(model, images, labels, eps=EPS[norm], step_size=_step_size(norm, steps), steps=steps, norm=norm)
        theirs = attacks[(norm, steps)].generate(images, labels)
        ours_accuracy, ours_predicted = _accuracy(model, ours, labels)
        theirs_accuracy, theirs_predicted = _accuracy(model, theirs, labels)
        difference = 100.0 * (ours_accuracy - theirs_accuracy)
        rows.append({
            "norm": norm, "eps": EPS[norm], "steps": steps, "step_size": _step_size(norm, steps),
            "images": count, "clean_accuracy": clean, "project_accuracy": ours_accuracy,
            "art_accuracy": theirs_accuracy, "difference_points": difference,
            "agree_within_1_point": abs(difference) <= 1.0 + 1e-9,
            "predictions_that_differ": int(np.sum(ours_predicted != theirs_predicted)),
            "max_pixel_difference": float(np.abs(ours - theirs).max()),
            "project_max_perturbation": float(perturbation_norm(ours, images, norm).max()),
            "art_max_perturbation": float(perturbation_norm(np.clip(theirs, 0, 1), images, norm).max()),
        })
    return {"rows": rows, "agree": all(r["agree_within_1_point"] for r in rows),
            "notes": "untargeted, cross-entropy, no random start, last iterate for both. The two differ in "
                     "one detail: ART clips to [0, 1] before projecting, the project after."}


# --- the ceiling ------------------------------------------------------------------------------
def count_pgd_flops(model) -> dict:
    """Floating-point operations of one PGD step per image: the forward pass plus the backward
    pass to the input, counted analytically from the layer shapes (multiply-adds x 2)."""
    import keras

    shape = tuple(model.input_shape[1:])
    layers = []
    for layer in model.layers:
        out = tuple(layer.compute_output_shape((1, *shape))[1:])
        if isinstance(layer, keras.layers.Conv2D):
            kernel_h, kernel_w = layer.kernel_size
            groups = getattr(layer, "groups", 1) or 1
            macs = math.prod(out) * kernel_h * kernel_w * shape[-1] // groups
            kind = f"conv {kernel_h}x{kernel_w}, {shape[-1]} -> {out[-1]} channels"
        elif isinstance(layer, keras.layers.Dense):
            macs = math.prod(shape[:-1]) * shape[-1] * layer.units
            kind = f"dense {shape[-1]} -> {layer.units}"
        else:
            macs, kind = 0, type(layer).__name__
        if macs:
            layers.append({"layer": layer.name, "kind": kind, "output_shape": list(out),
                           "multiply_adds": macs, "forward_flops": 2 * macs,
                           "backward_to_input_flops": 2 * macs})
        shape = out
    forward = sum(r["forward_flops"] for r in layers)
    backward = sum(r["backward_to_input_flops"] for r in layers)
    return {"layers": layers, "forward_flops": forward, "backward_to_input_flops": backward,
            "flops_per_image_step": forward + backward,
            "counted": "For every conv and dense layer: forward multiply-adds x 2, and the same again for "
                       "the gradient with respect to the layer's input (a transposed convolution, or the "
                       "product with the transposed weight matrix: the same multiply-adds). The first "
                       "conv's input gradient is counted, since PGD needs the gradient on the pixels. Not "
                       "counted: weight gradients (PGD does not need them; ordinary training would add "
                       "2 x multiply-adds per layer), biases, ReLU, max-pooling, the softmax "
                       "cross-entropy and the step / projection / clip (elementwise, under 1% of the total)."}


def ceiling(settings: dict, log: Callable[[str], None]) -> dict:
    """Large float32 matrix products (the machine's practical limit) and the bare model gradient."""
    import tensorflow as tf

    from helpers.speedups import model_forward

    model, x, y = _natural_model_and_data()
    forward = model_forward(model, fast_first_conv=True)  # as PGD computes it: with the fast first-conv gradient
    flops = count_pgd_flops(model)
    n, repeats = settings["matmul_size"], settings["repeats"]
    generator = tf.random.Generator.from_seed(0)
    a, b = generator.normal((n, n)), generator.normal((n, n))

    @tf.function(input_signature=[tf.TensorSpec((n, n), tf.float32)] * 2)
    def product(left, right):
        return tf.reduce_sum(tf.linalg.matmul(left, right))  # a scalar out: the product must finish

    batch = settings["batch"]
    images, labels = tf.constant(x[:batch]), tf.constant(y[:batch])

    @tf.function(input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32), tf.TensorSpec((None,), tf.int64)])
    def gradient(inputs, targets):  # what one PGD step cannot do without: forward + backward to the input
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=forward(inputs))
        return tape.gradient(loss, inputs)

    calls = settings["gradient_calls"]

    def gradients():
        for _ in range(calls):
            result = gradient(images, labels)
        return result.numpy()

    log(f"  warming up: {n}x{n} matmul, model gradient at batch {batch}")
    for _ in range(2):
        product(a, b).numpy()
        gradients()
    product_seconds, gradient_seconds = [], []
    for repeat in range(max(repeats, settings["matmul_repeats"])):
        product_seconds.append(timed(lambda: product(a, b).numpy()))
        gradient_seconds.append(timed(gradients))
    product_summary = summarise(product_seconds)
    matmul_flops = 2.0 * n**3
    gradient_summary = summarise(gradient_seconds)
    gradient_rate = rate_summary(gradient_summary, batch * calls)
    ceiling_rate = matmul_flops / product_summary["median"]
    return {
        "flop_count": flops,
        "matmul": {"size": n, "flops": matmul_flops, "seconds": product_summary,
                   "flops_per_s": rate_summary(product_summary, matmul_flops)},
        "model_gradient": {
            "batch": batch, "calls_per_sample": calls, "seconds": gradient_summary,
            "image_steps_per_s": gradient_rate,
            "flops_per_s_median": gradient_rate["median"] * flops["flops_per_image_step"],
            "fraction_of_matmul": gradient_rate["median"] * flops["flops_per_image_step"] / ceiling_rate,
            "notes": "forward + input gradient only, in one tf.function, no step or projection, computed "
                     "as the project's PGD computes it (fast input gradient of the first convolution): the "
                     "fastest the project's PGD on this model can go here (its loop overhead aside)"},
    }


# --- the attack loop's speed-ups, on and off ---------------------------------------------------
#: Variants of the project's loop: (fast first-conv input gradient, separate gradient function).
LOOP_VARIANTS = {"plain": (False, False), "fast_first_conv": (True, False), "gradient_function": (False, True),
                 "fast": (True, True)}


def _speed_path(variant: str):
    from helpers.speedups import SpeedPath

    fast_first_conv, gradient_function = LOOP_VARIANTS[variant]
    return SpeedPath(fast_first_conv=fast_first_conv, gradient_function=gradient_function)


def fast_gradient_speedup(settings: dict, log: Callable[[str], None], variants=tuple(LOOP_VARIANTS)) -> dict:
    """The project's PGD with and without its two loop speed-ups (``helpers.speedups.SpeedPath``:
    ``fast_first_conv``, ``gradient_function``), interleaved in one process (the order turns
    every repeat), on the natural model: image-steps/s of each and its speed-up over "plain"
    (both off: the loop as it was), and how far each one's images are from plain's."""
    from helpers.attacks import pgd
    from helpers.speedups import fast_first_conv_applies

    model, x, y = _natural_model_and_data()
    batch, steps_list, repeats = settings["batch"], settings["pgd_steps"], settings["repeats"]
    images, labels = x[:batch], y[:batch]
    configs = [(norm, steps) for norm in ("l2", "linf") for steps in steps_list]
    variants = ["plain"] + [v for v in variants if v != "plain"]

    def attack(variant: str, norm: str, steps: int) -> np.ndarray:
        return pgd(model, images, labels, eps=EPS[norm], step_size=_step_size(norm, steps), steps=steps,
                   norm=norm, speed=_speed_path(variant))

    log(f"  warming up (tracing) {', '.join(variants)} for every setting")
    difference = {}
    for config in configs:
        plain = attack("plain", *config)
        difference[config] = {v: float(np.abs(attack(v, *config) - plain).max()) for v in variants}
    seconds: dict = {v: {c: [] for c in configs} for v in variants}
    for repeat in range(repeats):
        order = variants[repeat % len(variants):] + variants[:repeat % len(variants)]
        for config in configs:
            for variant in order:
                seconds[variant][config].append(timed(lambda: attack(variant, *config)))
        log(f"  repeat {repeat + 1}/{repeats} done")
    rows = []
    for norm, steps in configs:
        plain = summarise(seconds["plain"][(norm, steps)])
        for variant in variants:
            times = summarise(seconds[variant][(norm, steps)])
            rows.append({"variant": variant, "norm": norm, "steps": steps, "batch": batch,
                         "image_steps_per_s": rate_summary(times, batch * steps),
                         "speedup_ratio_of_medians": plain["median"] / times["median"],
                         "speedup_paired": summarise([a / b for a, b in zip(plain["samples"], times["samples"])]),
                         "max_pixel_difference_from_plain": difference[(norm, steps)][variant]})
    return {"rows": rows, "fast_first_conv_applies": fast_first_conv_applies(model),
            "notes": "plain: both speed-ups off (TensorFlow's own gradient of the first convolution, the step's "
                     "gradient computed inline in the loop; whether TensorFlow then runs the max-pooling "
                     "gradients with oneDNN varies from process to process); fast: both on (the default). Same "
                     "model, images and settings as the pgd section."}


def _main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.bench_attacks``: the speed-up table, printed."""
    import argparse

    from benchmarks.run import FULL
    from helpers.environment import quiet_tensorflow

    parser = argparse.ArgumentParser(description="PGD with and without the attack loop's speed-ups")
    parser.add_argument("--repeats", type=int, default=FULL["repeats"])
    parser.add_argument("--steps", default=",".join(map(str, FULL["pgd_steps"])), help="comma-separated")
    parser.add_argument("--batch", type=int, default=FULL["batch"])
    args = parser.parse_args(argv)
    quiet_tensorflow()
    settings = {"repeats": args.repeats, "batch": args.batch,
                "pgd_steps": [int(s) for s in args.steps.split(",") if s.strip()]}
    result = fast_gradient_speedup(settings, lambda text: print(text, flush=True))
    print(f"fast first-conv gradient applies to the natural model: {result['fast_first_conv_applies']}")
    print("variant            norm  steps  batch  image-steps/s [min-max]   speedup over plain (medians, paired)"
          "  max |diff| from plain")
    for row in result["rows"]:
        rate = row["image_steps_per_s"]
        print(f"{row['variant']:18} {row['norm']:5} {row['steps']:5} {row['batch']:6}  "
              f"{rate['median']:6.0f} [{rate['min']:.0f}-{rate['max']:.0f}]  "
              f"{row['speedup_ratio_of_medians']:12.3f}x, {row['speedup_paired']['median']:.3f}x"
              f"{'':22}{row['max_pixel_difference_from_plain']:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
