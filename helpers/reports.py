"""Plumbing shared by ``tools/`` and ``benchmarks/``: generated blocks, the notebooks, the machine.

The scripts that measure something and write it into the repository's markdown all need the
same few pieces, defined here once:

- :func:`replace_block` / :func:`rewrite_block`: replace what stands between two marker lines
  (``<!-- NAME:start -->`` ... ``<!-- NAME:end -->``, see :func:`markers`) of a markdown file;
- :func:`notebook_paths`: the series' notebooks in reading order (``NN_name.ipynb``);
- :func:`describe_machine` (every detail a timing depends on) and :func:`machine_line` (one
  line for a model card or a results file); :func:`library_versions` and :func:`cpu_line` are
  their common parts, also used by :func:`helpers.environment.describe_environment`;
- :func:`write_json` / :func:`read_json` and :func:`command_line` (the command that made a file).

Nothing here imports TensorFlow at import time.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["REPO_DIR", "NOTEBOOKS_DIR", "SOLUTIONS_DIR", "markers", "replace_block", "rewrite_block",
           "notebook_paths", "library_versions", "cpu_line", "machine_line", "describe_machine",
           "load_average", "write_json", "read_json", "command_line"]

REPO_DIR = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_DIR / "notebooks"
SOLUTIONS_DIR = REPO_DIR / "solutions"
#: The series' notebooks are the numbered ones; the number gives the reading order.
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
#: Environment variables that change how many threads the numeric libraries use.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_VERBOSE", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                    "TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES")
VECTOR_EXTENSIONS = frozenset({"avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile",
                               "avx_vnni"})


# --- generated blocks in markdown -------------------------------------------------------------
def markers(name: str) -> tuple[str, str]:
    """The start and end marker lines of the generated block ``name`` (HTML comments)."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_block(text: str, start: str, end: str, body: str) -> str:
    """Replace what stands between two marker lines (markers kept); ``text`` unchanged if absent."""
    pattern = re.escape(start) + ".*?" + re.escape(end)
    return re.sub(pattern, lambda _: f"{start}\n{body}\n{end}", text, flags=re.DOTALL)


def rewrite_block(path: Path, name: str, body: str) -> bool:
    """Replace the block ``name`` of the file at ``path`` by ``body``; True if the file changed.

    Raises ``ValueError`` if the file has no such block (a silent no-op would hide a typo).
    """
    start, end = markers(name)
    text = Path(path).read_text()
    if start not in text or end not in text:
        raise ValueError(f"{path} has no block {start} ... {end}")
    new = replace_block(text, start, end, body)
    if new != text:
        Path(path).write_text(new)
    return new != text


# --- the series ---------------------------------------------------------------------------------
def notebook_paths(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) of ``folder``, in reading order."""
    return sorted(Path(folder).glob(NOTEBOOK_PATTERN))


# --- the machine ----------------------------------------------------------------------------------
def library_versions() -> dict[str, str]:
    """Python, TensorFlow, Keras and NumPy versions (imports TensorFlow)."""
    import keras
    import numpy as np
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__}


def cpu_line() -> str:
    """The system and its cores in a few words: ``"Linux x86_64, 2 CPU cores"``."""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores"


def _gpus() -> list[str]:
    import tensorflow as tf

    return [device.name for device in tf.config.list_physical_devices("GPU")]


def machine_line() -> str:
    """One line for a model card or a results file: cores, GPUs, TensorFlow and Keras versions."""
    versions = library_versions()
    return (f"{cpu_line()}, {len(_gpus())} GPU(s), TensorFlow {versions['tensorflow']}, "
            f"Keras {versions['keras']}")


def _proc_fields(name: str) -> dict[str, str]:
    """``key: value`` lines of ``/proc/NAME`` (first occurrence of each key); empty if unreadable."""
    fields: dict[str, str] = {}
    try:
        text = (Path("/proc") / name).read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        if ":" in line:
            key, value = (part.strip() for part in line.split(":", 1))
            fields.setdefault(key, value)  # /proc/cpuinfo: the first processor's entry
    return fields


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages, or None where there are none (Windows)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _art_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("adversarial-robustness-toolbox")
    except PackageNotFoundError:
        return None


def describe_machine() -> dict[str, Any]:
    """CPU, cores, memory, library versions and thread settings: what timings depend on."""
    import tensorflow as tf

    cpu = _proc_fields("cpuinfo")
    memory = _proc_fields("meminfo").get("MemTotal", "").split()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every system
        usable = os.cpu_count()
    return {
        "cpu_model": cpu.get("model name", platform.processor() or platform.machine()),
        "cpu_mhz": cpu.get("cpu MHz"),
        "vector_extensions": sorted(VECTOR_EXTENSIONS & set(cpu.get("flags", "").split())),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "cores_per_socket": cpu.get("cpu cores"),
        "memory_gib": round(int(memory[0]) / 1024**2, 1) if memory else None,
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        **library_versions(),
        "art": _art_version(),
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "gpus": _gpus(),
        "environment": {key: os.environ[key] for key in THREAD_VARIABLES if key in os.environ},
    }


# --- files and commands -------------------------------------------------------------------------
def write_json(path: Path, data: Any, *, indent: int = 2) -> Path:
    """Write ``data`` as JSON (a final newline; values JSON lacks, such as paths, as text)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent, default=str) + "\n")
    return path


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` if there is no such file."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else default


def command_line(program: str, argv: Sequence[object] = ()) -> str:
    """The command that reproduces a run, for a results file: ``python PROGRAM ARGS...``.

    ``program`` is a script path or ``-m package.module``; the interpreter is named as it was
    called (``python``, ``python3.11``...).
    """
    python = Path(sys.executable).name if sys.executable else "python"
    return shlex.join([python, *shlex.split(program), *map(str, argv)])
