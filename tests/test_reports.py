"""helpers.reports: generated blocks, the notebook list, the machine description, JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import reports
from helpers.environment import describe_environment

ROOT = Path(__file__).resolve().parent.parent


def test_replace_block_keeps_the_markers_and_everything_around_them():
    start, end = reports.markers("table")
    assert (start, end) == ("<!-- table:start -->", "<!-- table:end -->")
    text = f"before\n{start}\nold\nlines\n{end}\nafter {start}?"
    assert reports.replace_block(text, start, end, "new") == f"before\n{start}\nnew\n{end}\nafter {start}?"
    assert reports.replace_block("no markers", start, end, "new") == "no markers"
    assert reports.replace_block(f"{start}\n{end}", start, end, r"a \1 backslash") == f"{start}\na \\1 backslash\n{end}"


def test_rewrite_block_writes_only_a_change_and_refuses_a_missing_block(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("# Title\n<!-- facts:start -->\nold\n<!-- facts:end -->\n")
    assert reports.rewrite_block(path, "facts", "new") is True
    assert path.read_text() == "# Title\n<!-- facts:start -->\nnew\n<!-- facts:end -->\n"
    assert reports.rewrite_block(path, "facts", "new") is False
    with pytest.raises(ValueError, match="no block"):
        reports.rewrite_block(path, "other", "x")


def test_notebook_paths_are_the_numbered_notebooks_in_order(tmp_path):
    for name in ("01_b.ipynb", "00_a.ipynb", "scratch.ipynb", "10_c.ipynb", "02_notes.md"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in reports.notebook_paths(tmp_path)] == ["00_a.ipynb", "01_b.ipynb", "10_c.ipynb"]
    series = reports.notebook_paths()
    assert series and series[0].name == "00_start_here.ipynb" and series[0].parent == ROOT / "notebooks"


def test_the_machine_described_in_full_and_in_one_line():
    machine = reports.describe_machine()
    for key in ("cpu_model", "logical_cpus", "usable_cpus", "python", "tensorflow", "keras", "numpy", "gpus"):
        assert key in machine
    assert machine["logical_cpus"] >= 1 and isinstance(machine["environment"], dict)
    line = reports.machine_line()
    assert line.startswith(reports.cpu_line()) and f"TensorFlow {machine['tensorflow']}" in line
    environment = describe_environment()  # notebook 00's check: the same parts
    assert environment["machine"] == reports.cpu_line()
    assert {k: environment[k] for k in reports.library_versions()} == reports.library_versions()
    load = reports.load_average()
    assert load is None or len(load) == 3


def test_json_round_trip_and_command_line(tmp_path):
    path = reports.write_json(tmp_path / "deep" / "out.json", {"path": tmp_path, "n": 1})
    assert path.read_text().endswith("}\n") and json.loads(path.read_text()) == {"path": str(tmp_path), "n": 1}
    assert reports.read_json(path) == {"path": str(tmp_path), "n": 1}
    assert reports.read_json(tmp_path / "missing.json", default={}) == {}
    command = reports.command_line("-m benchmarks.run", ["--only", "pgd,ceiling", "--out", "a b"])
    assert command.split()[1:4] == ["-m", "benchmarks.run", "--only"] and command.endswith("'a b'")
