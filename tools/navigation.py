"""Write the navigation line at the top and bottom of every notebook (safe to re-run).

    python tools/navigation.py

Each notebook in ``notebooks/`` (``NN_name.ipynb``, in file-name order) gets a first and a
last markdown cell tagged ``navigation``: ``< previous | contents | next >``. Cells already
tagged are rewritten in place, so running it again never duplicates them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from helpers.reports import NOTEBOOKS_DIR, notebook_paths

TAG = "navigation"
CONTENTS = "[contents](../README.md#the-notebooks)"


def navigation_line(paths: list[Path], index: int) -> str:
    """``< previous | contents | next >`` for the notebook at ``index`` of ``paths``."""
    previous = f"[< {paths[index - 1].stem}]({paths[index - 1].name})" if index > 0 else "< (first)"
    following = f"[{paths[index + 1].stem} >]({paths[index + 1].name})" if index + 1 < len(paths) else "(last) >"
    return f"{previous} | {CONTENTS} | {following}"


def _nav_cell(text: str) -> nbformat.NotebookNode:
    """A markdown cell holding a navigation line, tagged and never shown as a slide."""
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [TAG]
    cell.metadata["slideshow"] = {"slide_type": "skip"}
    return cell


def add_navigation(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Rewrite the navigation cells of every notebook; returns the notebooks changed."""
    paths = notebook_paths(folder)
    changed = []
    for index, path in enumerate(paths):
        notebook = nbformat.read(path, as_version=4)
        text = navigation_line(paths, index)
        body = [c for c in notebook.cells if TAG not in c.get("metadata", {}).get("tags", [])]
        cells = [_nav_cell(text), *body, _nav_cell(text)]
        if [c.source for c in cells] != [c.source for c in notebook.cells]:
            notebook.cells = cells
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        raise SystemExit(__doc__)
    for path in add_navigation(Path(sys.argv[1]) if len(sys.argv) > 1 else NOTEBOOKS_DIR):
        print(f"updated {path.name}")
