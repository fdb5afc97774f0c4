"""Notebook set-up: a quiet TensorFlow start, one seed for everything, an environment check.

Used in the Setup cell of every notebook (``00_start_here.ipynb`` explains it). Nothing here
runs on import: call the functions.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
from typing import Iterator

import numpy as np

__all__ = ["quiet_tensorflow", "set_seed", "describe_environment"]


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Send the process's own stderr (file descriptor 2) to /dev/null for a moment.

    TensorFlow's C++ start-up lines bypass Python and land in notebook outputs otherwise.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some IDEs): nothing to silence
        yield
        return
    try:
        sys.stderr.flush()
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def quiet_tensorflow() -> str:
    """Import TensorFlow without its start-up log lines; returns its version.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` (errors still show) unless already set, silences the
    lines TensorFlow prints before that setting takes effect, and keeps TensorFlow's Python
    logger to errors (its "tf.function retracing" notice counts the series' several compiled
    loops as retraces of one). Call it before other helpers.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_silenced():
        import tensorflow as tf

        tf.constant(0.0) + 1.0  # first op: the remaining one-off start-up lines happen here
    tf.get_logger().setLevel("ERROR")
    return tf.__version__


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, so a notebook gives the same numbers each run."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def describe_environment() -> dict[str, str]:
    """Versions and devices, for the environment check in notebook 00.

    The same parts as the machine descriptions of the tools and benchmarks
    (:mod:`helpers.reports`), in the few words a reader needs.
    """
    import tensorflow as tf

    from helpers.reports import cpu_line, library_versions

    gpus = tf.config.list_physical_devices("GPU")
    return {
        **library_versions(),
        "machine": cpu_line(),
        "gpu": ", ".join(gpu.name for gpu in gpus) if gpus else "none (CPU only: that is fine here)",
    }
