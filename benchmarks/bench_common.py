"""Shared pieces of the benchmark suite: timing statistics, the machine's description, ART.

Not a package: ``benchmarks/run.py`` puts this folder on ``sys.path`` and imports it.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent

ART_REQUIREMENT = "adversarial-robustness-toolbox~=1.20.1"
ART_INSTALL_HINT = (
    "The Adversarial Robustness Toolbox (ART) is not installed; it is a benchmark-only "
    "dependency. Install it with:  pip install -r benchmarks/requirements.txt"
)

#: Environment variables that change how many threads the numeric libraries use.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_VERBOSE", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                    "TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES")


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


# --- the machine ----------------------------------------------------------------------------
def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in text.splitlines():
        if ":" in line:
            key, value = (part.strip() for part in line.split(":", 1))
            info.setdefault(key, value)  # the first processor's entry
    return info


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):  # Windows has no load average
        return None


def art_version() -> str | None:
    """ART's version if it is installed, else None (importing nothing heavy)."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("adversarial-robustness-toolbox")
    except PackageNotFoundError:
        return None


def import_art():
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


def describe_machine() -> dict:
    """CPU, cores, memory, library versions and thread settings: what the numbers depend on."""
    import keras
    import numpy as np
    import tensorflow as tf

    cpu = _cpuinfo()
    flags = set(cpu.get("flags", "").split())
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_model": cpu.get("model name", platform.processor() or platform.machine()),
        "cpu_mhz": cpu.get("cpu MHz"),
        "vector_extensions": sorted(f for f in flags if f in {"avx", "avx2", "fma", "avx512f", "avx512_vnni",
                                                              "avx512_bf16", "amx_tile", "avx_vnni"}),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "cores_per_socket": cpu.get("cpu cores"),
        "memory_gib": None if _memory_gib() is None else round(_memory_gib(), 1),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "art": art_version(),
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "environment": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
    }


def same_machine(a: dict | None, b: dict | None) -> bool:
    keys = ("cpu_model", "logical_cpus", "tensorflow", "keras")
    return bool(a and b) and all(a.get(k) == b.get(k) for k in keys)


def python_command() -> str:
    return Path(sys.executable).name if sys.executable else "python"
