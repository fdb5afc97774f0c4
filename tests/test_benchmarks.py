"""Smoke test of the benchmark suite (``python -m benchmarks.run``): it runs, and it writes its results.

The benchmarks themselves are not part of the test run (minutes, and timing-dependent). This
runs every section but the notebooks once with tiny settings (batch 8, a couple of steps, one
repeat) into a temporary folder: the real benchmarks/RESULTS.md is never touched.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from benchmarks import bench_common
from benchmarks import run as benchmarks_run

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SMOKE_SECTIONS = "pgd,crosscheck,ceiling,training,sliders"  # the notebooks take minutes: not here


def _art_installed() -> bool:
    return importlib.util.find_spec("art") is not None


@pytest.fixture(scope="module")
def runner():
    return benchmarks_run


@pytest.fixture(scope="module")
def smoke_run(runner, tmp_path_factory):
    """One quick run of every section but the notebooks, written to a temporary folder."""
    real = BENCHMARKS / "RESULTS.md"
    before = real.read_bytes() if real.exists() else None
    out = tmp_path_factory.mktemp("benchmarks")
    status = runner.main(["--quick", "--only", SMOKE_SECTIONS, "--out", str(out)])
    after = real.read_bytes() if real.exists() else None
    assert before == after, "the smoke run must not touch benchmarks/RESULTS.md"
    return status, out, json.loads((out / "results.json").read_text())


def test_every_section_runs_and_is_written(smoke_run):
    status, out, results = smoke_run
    failures = {name: entry["error"] for name, entry in results["sections"].items() if "error" in entry}
    assert not failures
    assert status == 0
    assert set(results["sections"]) == set(SMOKE_SECTIONS.split(","))
    assert results["quick"] is True and results["command"].endswith(f"--out {out}")
    assert " -m benchmarks.run --quick" in results["command"]
    for key in ("cpu_model", "logical_cpus", "memory_gib", "tensorflow", "keras", "numpy"):
        assert results["machine"][key]
    markdown = (out / "RESULTS.md").read_text()
    for heading in ("## Machine", "## PGD throughput", "## The machine's limit", "## Training throughput",
                    "## Slider callbacks", "Smoke run"):
        assert heading in markdown


def test_project_pgd_throughput_is_measured_and_never_retraced(smoke_run):
    pgd = smoke_run[2]["sections"]["pgd"]["result"]
    assert {(r["norm"], r["steps"]) for r in pgd["rows"]} == {("l2", 2), ("linf", 2)}
    assert all(r["project"]["image_steps_per_s"]["median"] > 0 for r in pgd["rows"])
    assert set(pgd["project_loop_tracings"].values()) == {1}


def test_pgd_flop_count_of_the_tutorial_cnn(smoke_run):
    """Multiply-adds of conv1 (28*28*32*25), conv2 (14*14*64*25*32), dense1 (3136*1024) and the
    logits (1024*10), x 2 for FLOPs, x 2 again for the backward pass to the input."""
    ceiling = smoke_run[2]["sections"]["ceiling"]["result"]
    macs = 28 * 28 * 32 * 25 + 14 * 14 * 64 * 25 * 32 + 3136 * 1024 + 1024 * 10
    assert ceiling["flop_count"]["flops_per_image_step"] == 4 * macs
    assert ceiling["matmul"]["flops_per_s"]["median"] > 0
    assert smoke_run[2]["derived"]["fraction_of_ceiling"]


def test_training_and_slider_timings(smoke_run):
    sections = smoke_run[2]["sections"]
    assert {r["mode"] for r in sections["training"]["result"]["rows"]} == {"natural", "pgd"}
    events = {r["event"]: r for r in sections["sliders"]["result"]["rows"]}
    assert len(events) == 4 and all(r["total"]["median"] > 0 for r in events.values())


@pytest.mark.skipif(not _art_installed(), reason="ART is a benchmark-only dependency and is not installed "
                                                 "(pip install -r benchmarks/requirements.txt)")
def test_art_comparison_and_cross_check(smoke_run):
    sections = smoke_run[2]["sections"]
    assert all(r["art"]["image_steps_per_s"]["median"] > 0 and r["ratio_of_medians"] > 0
               for r in sections["pgd"]["result"]["rows"])
    rows = sections["crosscheck"]["result"]["rows"]
    assert {r["norm"] for r in rows} == {"l2", "linf"}
    assert all(0.0 <= r["art_accuracy"] <= 1.0 and 0.0 <= r["project_accuracy"] <= 1.0 for r in rows)


def test_results_writing_merges_sections_and_keeps_other_runs(runner, tmp_path):
    """A run with --only keeps the other sections of an earlier results.json from this machine."""
    machine = bench_common.describe_machine()
    earlier = {"command": "python -m benchmarks.run", "date": "2026-01-01T00:00:00+00:00", "quick": False,
               "machine": machine, "load_average_start": [0.0, 0.0, 0.0], "load_average_end": None,
               "sections": {"notebooks": {"date": "2026-01-01T00:00:00+00:00", "command": "python -m benchmarks.run",
                                          "result": {"rows": [{"notebook": "00_start_here.ipynb",
                                                               "seconds": bench_common.summarise([10.0, 12.0])}],
                                                     "series_seconds": bench_common.summarise([100.0, 200.0]),
                                                     "repeats": 2, "notes": "n"}}}}
    markdown, data = runner.write_results(earlier, tmp_path)
    assert json.loads(data.read_text())["derived"]["targets"][0]["met"] is True  # 150 s < 180 s
    assert "00_start_here.ipynb | 11 [10-12]" in markdown.read_text()
    kept = runner._previous_sections(tmp_path, machine, quick=False)
    assert set(kept) == {"notebooks"}
    assert runner._previous_sections(tmp_path, machine, quick=True) == {}


def test_command_line_rejects_unknown_sections(runner):
    with pytest.raises(SystemExit):
        runner.parse_args(["--only", "pgd,nonsense"])
    args = runner.parse_args(["--quick"])
    assert "notebooks" not in runner.selected_sections(args)
    assert runner.selected_sections(runner.parse_args(["--skip", "notebooks,sliders"])) == [
        "pgd", "crosscheck", "ceiling", "training"]
