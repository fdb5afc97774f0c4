"""Shared pieces of the benchmark suite: timing statistics, ART, whether two runs share a machine.

Part of the ``benchmarks`` package: import it as ``benchmarks.bench_common``. The machine's
description and the load average come from :mod:`helpers.reports` (re-exported here for the
benchmark scripts).
"""

from __future__ import annotations

import statistics
import time
import warnings
from typing import Any, Callable

from helpers.reports import REPO_DIR as REPO
from helpers.reports import describe_machine, load_average

__all__ = ["REPO", "ART_REQUIREMENT", "ART_INSTALL_HINT", "summarise", "timed", "rate_summary", "describe_machine",
           "load_average", "import_art", "same_machine"]

ART_REQUIREMENT = "adversarial-robustness-toolbox~=1.20.1"
ART_INSTALL_HINT = (
    "The Adversarial Robustness Toolbox (ART) is not installed; it is a benchmark-only "
    "dependency. Install it with:  pip install -r benchmarks/requirements.txt"
)


# --- statistics ---------------------------------------------------------------------------
def summarise(samples: list[float]) -> dict:
    """Median, min, max and interquartile range of repeated measurements (kept in full)."""
    values = sorted(float(v) for v in samples)
    if not values:
        raise ValueError("no samples to summarise")
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {"median": statistics.median(values), "min": values[0], "max": values[-1],
            "q1": q1, "q3": q3, "n": len(values), "samples": [float(v) for v in samples]}


def timed(function: Callable[[], object]) -> float:
    """Seconds one call of ``function`` takes (wall clock)."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def rate_summary(seconds: dict, work: float) -> dict:
    """Turn a summary of seconds into one of ``work / seconds`` (a rate; min and max swap)."""
    rates = [work / s for s in seconds["samples"]]
    return summarise(rates)


# --- ART and the machine -------------------------------------------------------------------
def import_art() -> tuple[Any, Any]:
    """Return (TensorFlowV2Classifier, ProjectedGradientDescent), or raise ImportError with the
    install command. ART warns on import that PyTorch is missing; that warning is irrelevant here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from art.attacks.evasion import ProjectedGradientDescent
            from art.estimators.classification import TensorFlowV2Classifier
    except ImportError as error:
        raise ImportError(f"{ART_INSTALL_HINT} ({error})") from error
    return TensorFlowV2Classifier, ProjectedGradientDescent


def same_machine(a: dict | None, b: dict | None) -> bool:
    """True if two machine descriptions name the same CPU, core count and TensorFlow and Keras versions."""
    keys = ("cpu_model", "logical_cpus", "tensorflow", "keras")
    return bool(a and b) and all(a.get(k) == b.get(k) for k in keys)
