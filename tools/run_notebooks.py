"""Run notebooks top to bottom and save them with their outputs (what readers see on GitHub).

    python tools/run_notebooks.py                 # every notebook in notebooks/
    python tools/run_notebooks.py notebooks/01_adversarial_examples.ipynb

Each notebook runs in a fresh kernel in ``notebooks/`` (execution counts 1..N), with the
widget state stored. The run fails if a cell raises or writes to stderr, or prints a
TensorFlow warning (log noise in a saved output), and prints each notebook's time and size.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.reports import notebook_paths


def run(path: Path, timeout: int = 900) -> float:
    """Run one notebook in a fresh kernel, save it with its outputs; returns the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - started
    noisy = [(i, o.get("text", "")[:300]) for i, c in enumerate(notebook.cells)
             for o in c.get("outputs", []) if o.get("output_type") == "stream"
             and (o.get("name") == "stderr" or "WARNING:tensorflow" in o.get("text", ""))]
    if noisy:
        raise SystemExit(f"{path.name}: stderr in saved outputs (cell index, text): {noisy}")
    nbformat.write(notebook, path)
    return seconds


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        raise SystemExit(__doc__)
    paths = [Path(p) for p in sys.argv[1:]] or notebook_paths()
    for path in paths:
        seconds = run(path.resolve())
        print(f"{path.name}: {seconds:.1f} s, {path.stat().st_size / 1e6:.2f} MB")
