"""The repository as a reader and CI find it: set-up commands, pins, notebooks, navigation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXPECTED_NOTEBOOKS = ["00_start_here", "01_adversarial_examples", "02_pgd", "03_adversarial_training",
                      "04_class_traversal", "05_better_traversals"]


def test_readme_gives_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -r requirements.txt && jupyter lab notebooks/00_start_here.ipynb" in readme
    assert "python -m pytest" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^python -m pytest$", ci, re.MULTILINE)
    assert "pip install" in ci and "-r requirements.txt" in ci


def test_requirements_are_pinned_compatibly_and_install_the_package():
    lines = [line.split(";")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    packages = [line for line in lines if line != "-e ."]
    assert "-e ." in lines
    assert packages and all("~=" in line for line in packages), packages
    names = {re.split(r"[~=<>\[]", line)[0] for line in packages}
    assert {"tensorflow-cpu", "tensorflow", "keras", "ipywidgets", "jupyterlab", "nbval", "pytest",
            "matplotlib", "numpy", "tqdm"} <= names
    assert "-r requirements.txt" in (ROOT / "environment.yml").read_text()


def test_importing_helpers_has_no_side_effects():
    code = ("import matplotlib, numpy as np; style = dict(matplotlib.rcParams); state = np.random.get_state()[1][:5].tolist();"
            "import helpers.data, helpers.models, helpers.attacks, helpers.training, helpers.evaluation, "
            "helpers.traversal, helpers.plotting, helpers.widgets, helpers.environment, helpers.train;"
            "assert dict(matplotlib.rcParams) == style; assert np.random.get_state()[1][:5].tolist() == state;"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def test_every_notebook_of_the_series_exists():
    assert [p.stem for p in NOTEBOOKS][: len(EXPECTED_NOTEBOOKS)] == EXPECTED_NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_saved_from_one_clean_run(path):
    notebook = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), "re-run top to bottom: python tools/run_notebooks.py"
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", cell.source[:200]
            assert not (output.output_type == "stream" and output.name == "stderr"), output.text[:300]
    assert path.stat().st_size < 3_000_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shape_and_navigation(path):
    notebook = nbformat.read(path, as_version=4)
    first, last = notebook.cells[0], notebook.cells[-1]
    for cell in (first, last):
        assert "navigation" in cell.metadata.get("tags", []), "run python tools/navigation.py"
        assert "contents" in cell.source
        for target in re.findall(r"\]\(([^)#]+)", cell.source):
            assert (path.parent / target).exists(), f"broken link {target}"
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for heading in ("Overview", "Setup", "Recap", "Try it yourself", "Next"):
        assert re.search(rf"^#+ .*{heading}", text, re.MULTILINE), f"missing section {heading}"
    setup = next(c for c in notebook.cells if c.cell_type == "code")
    assert "quiet_tensorflow()" in setup.source and "set_seed(0)" in setup.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_checks_read_as_part_of_the_lesson(path):
    """Output checks are cell tags, not comments, and a lesson cell makes at most one plain check,
    said in words on the line before it (exercise checks may give several hints)."""
    notebook = nbformat.read(path, as_version=4)
    for cell in (c for c in notebook.cells if c.cell_type == "code"):
        assert "NBVAL" not in cell.source, "use the cell tag nbval-check-output instead of a comment"
        if cell.source.startswith("# Check exercise") or "Not quite" in cell.source:
            continue  # an exercise's check: its hints are its words
        lines = cell.source.splitlines()
        asserts = [i for i, line in enumerate(lines) if line.lstrip().startswith("assert ")]
        assert len(asserts) <= 1, f"one check per lesson cell: {cell.source[:120]}"
        for i in asserts:  # a "# Check: ..." line above it, or a comment on its line
            said = any(line.lstrip().startswith("# Check") for line in lines[:i]) or "  # " in lines[i]
            assert said, f"say the check in words: {lines[i]}"


def test_navigation_script_is_idempotent(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import navigation
    finally:
        sys.path.pop(0)
    for name in ("00_a", "01_b"):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_markdown_cell(f"# {name}")]
        nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    assert len(navigation.add_navigation(tmp_path)) == 2
    assert navigation.add_navigation(tmp_path) == []
    cells = nbformat.read(tmp_path / "00_a.ipynb", as_version=4).cells
    assert len(cells) == 3 and "[01_b >](01_b.ipynb)" in cells[0].source and cells[0].source == cells[2].source


def test_no_large_or_generated_files_are_tracked():
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    for name in tracked:
        assert not re.search(r"(__pycache__|\.pyc$|checkpoints/|\.ipynb_checkpoints|\.hypothesis)", name), name
        path = ROOT / name
        if path.is_file() and not name.startswith(("models/", "data/")):
            assert path.stat().st_size < 5_000_000, name
    card = json.loads((ROOT / "models" / "natural.json").read_text())
    assert card["sha256"] in (ROOT / "models" / "SHA256SUMS").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_local_link_in_a_notebook_points_at_a_file(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for target in re.findall(r"\]\(([^)#\s]+)", cell.source):
            if not re.match(r"[a-z]+:", target):  # skip web links
                assert (path.parent / target).exists(), f"{path.name}: broken link {target}"
