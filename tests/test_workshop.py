"""The workshop kit: wheelhouse logic (no network), slide metadata, worked answers, the guide."""

from __future__ import annotations

import copy
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
from packaging.tags import Tag

from helpers.reports import notebook_paths

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
try:
    import slides
    import wheelhouse
finally:
    sys.path.pop(0)

CHAPTERS = notebook_paths()
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
ALL_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + SOLUTIONS
FIRST_CHAPTERS = ["00_start_here", "01_adversarial_examples", "02_pgd", "03_adversarial_training",
                  "04_class_traversal", "05_better_traversals", "06_robust_models_draw"]


# --------------------------------------------------------------------------------------------
# tools/wheelhouse.py


def _requirement_names(lines: list[str]) -> set[str]:
    return {re.split(r"[~=<>!\[; ]", line)[0].lower() for line in lines}


@pytest.mark.parametrize("target, tensorflow", [("linux-x86_64", "tensorflow-cpu"), ("windows-x86_64", "tensorflow-cpu"),
                                                ("macos-arm64", "tensorflow"), ("linux-aarch64", "tensorflow")])
def test_each_target_gets_its_own_tensorflow(target, tensorflow):
    lines = wheelhouse.read_requirement_lines(ROOT / "requirements.txt") + wheelhouse.build_requirements()
    names = _requirement_names(wheelhouse.requirements_for(lines, wheelhouse.TARGETS[target], "3.11"))
    other = {"tensorflow", "tensorflow-cpu"} - {tensorflow}
    assert tensorflow in names and not names & other
    assert {"keras", "numpy", "jupyterlab", "nbval", "setuptools", "wheel"} <= names
    assert not any(name.startswith("-") for name in names)  # `-e .` is built from source, not downloaded


def test_requirement_files_are_read_like_pip_reads_them(tmp_path):
    (tmp_path / "other.txt").write_text("tqdm~=4.70.0  # a comment\n")
    (tmp_path / "main.txt").write_text("# heading\n-r other.txt\n\nnumpy~=2.4.0\n-e .\n--index-url https://example.org\n")
    assert wheelhouse.read_requirement_lines(tmp_path / "main.txt") == ["tqdm~=4.70.0", "numpy~=2.4.0"]


def test_markers_are_evaluated_for_the_target_not_this_machine():
    lines = ['pywinpty>=2; os_name == "nt"', 'appnope; platform_system == "Darwin"',
             'exceptiongroup; python_version < "3.11"', 'numpy']
    windows, mac = wheelhouse.TARGETS["windows-x86_64"], wheelhouse.TARGETS["macos-arm64"]
    assert wheelhouse.requirements_for(lines, windows, "3.11") == ["pywinpty>=2", "numpy"]
    assert wheelhouse.requirements_for(lines, mac, "3.10") == ["appnope", "exceptiongroup", "numpy"]


def test_build_requirements_come_from_pyproject():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert set(requires) <= set(wheelhouse.build_requirements())


def test_target_tags():
    linux = wheelhouse.TARGETS["linux-x86_64"].tags("3.11")
    assert Tag("cp311", "cp311", "manylinux_2_17_x86_64") in linux
    assert Tag("cp311", "abi3", "manylinux_2_28_x86_64") in linux
    assert Tag("py3", "none", "manylinux2010_x86_64") in linux  # libclang's wheel (py2.py3-none-manylinux2010)
    assert Tag("py3", "none", "any") in linux
    assert Tag("cp312", "cp312", "manylinux_2_17_x86_64") not in linux
    mac = wheelhouse.TARGETS["macos-arm64"].tags("3.12")
    assert Tag("cp312", "cp312", "macosx_11_0_arm64") in mac and Tag("cp312", "cp312", "macosx_11_0_universal2") in mac
    assert Tag("cp312", "cp312", "macosx_14_0_arm64") not in mac  # newer than the oldest macOS the kit supports
    assert Tag("cp311", "cp311", "win_amd64") in wheelhouse.TARGETS["windows-x86_64"].tags("3.11")


def test_download_command_names_every_platform_tag(tmp_path):
    target = wheelhouse.TARGETS["linux-x86_64"]
    command = wheelhouse.pip_download_command(tmp_path / "r.txt", tmp_path, target, "3.12", tmp_path / "c.txt")
    assert command[1:4] == ["-m", "pip", "download"] and "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == "3.12"
    assert [command[i + 1] for i, word in enumerate(command) if word == "--platform"] == list(target.platforms)
    assert command[-2:] == ["-c", str(tmp_path / "c.txt")]


def test_an_unsupported_target_says_why_before_downloading(tmp_path):
    with pytest.raises(SystemExit, match="no macOS x86-64"):
        wheelhouse.build(tmp_path, [wheelhouse.TARGETS["macos-x86_64"]], ["3.11"], [ROOT / "requirements.txt"])
    assert not list(tmp_path.iterdir())


def _fake_wheel(folder: Path, name: str, version: str, tag: str, requires: tuple[str, ...] = ()) -> Path:
    path = folder / f"{name}-{version}-{tag}.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {line}\n" for line in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata)
    return path


def test_walk_follows_the_targets_markers_and_extras(tmp_path):
    _fake_wheel(tmp_path, "app", "1.0", "py3-none-any",
                ('helper>=2', 'winonly; sys_platform == "win32"', 'fancy; extra == "extras"', 'old; python_version < "3.11"'))
    _fake_wheel(tmp_path, "helper", "1.0", "py3-none-any")
    _fake_wheel(tmp_path, "helper", "2.0", "cp311-cp311-win_amd64")
    _fake_wheel(tmp_path, "helper", "2.1", "cp311-cp311-manylinux_2_17_x86_64")
    wheels = wheelhouse.wheels_in(tmp_path)
    linux, windows = wheelhouse.TARGETS["linux-x86_64"], wheelhouse.TARGETS["windows-x86_64"]

    on_linux = wheelhouse.walk(["app"], wheels, linux, "3.11")
    assert on_linux.missing == [] and str(on_linux.chosen["helper"].version) == "2.1"
    on_windows = wheelhouse.walk(["app[extras]"], wheels, windows, "3.11")
    assert sorted(r.name for r in on_windows.missing) == ["fancy", "winonly"]
    assert str(on_windows.chosen["helper"].version) == "2.0"  # the Linux wheel is newer but does not install there
    assert [r.name for r in wheelhouse.walk(["app"], wheels, linux, "3.12").missing] == ["helper"]  # no cp312 wheel

    _fake_wheel(tmp_path, "winonly", "1.0", "py3-none-any")
    _fake_wheel(tmp_path, "fancy", "0.1", "py3-none-any")
    assert wheelhouse.walk(["app[extras]"], wheelhouse.wheels_in(tmp_path), windows, "3.11").missing == []


def test_check_reports_a_complete_and_an_incomplete_wheelhouse(tmp_path, capsys):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text('app\ntensorflow-cpu; sys_platform == "linux"\n')
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[build-system]\nrequires = ["setuptools>=65"]\n')
    for name, version in (("app", "1.0"), ("tensorflow_cpu", "1.0"), ("setuptools", "70.0"), ("wheel", "0.45")):
        _fake_wheel(tmp_path, name, version, "py3-none-any")
    mac, linux = wheelhouse.TARGETS["macos-arm64"], wheelhouse.TARGETS["linux-x86_64"]
    assert wheelhouse.check(tmp_path, [mac, linux], ["3.11"], [requirements], pyproject)
    (tmp_path / "tensorflow_cpu-1.0-py3-none-any.whl").unlink()
    assert wheelhouse.check(tmp_path, [mac], ["3.11"], [requirements], pyproject)  # macOS never needed it
    assert not wheelhouse.check(tmp_path, [linux], ["3.11"], [requirements], pyproject)
    assert "MISSING ['tensorflow-cpu']" in capsys.readouterr().out


def test_workshop_requirements_are_pinned_and_the_wheelhouse_is_ignored():
    lines = wheelhouse.read_requirement_lines(ROOT / "requirements-workshop.txt")
    assert lines and all("~=" in line for line in lines) and "jupyterlab-rise" in lines[0]
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "wheelhouse/" in ignored and "slides/" in ignored


# --------------------------------------------------------------------------------------------
# tools/slides.py and the slide metadata


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_cell_has_slide_metadata_by_the_rule(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        assert cell.metadata.get("slideshow", {}).get("slide_type") in slides.SLIDE_TYPES, (
            f"cell {index} has no slide type: run python tools/slides.py mark")
    assert not slides.mark(copy.deepcopy(notebook)), "slide types out of date: run python tools/slides.py mark"
    assert notebook.cells[1].metadata.slideshow.slide_type == "slide"  # the title


def _notebook() -> nbformat.NotebookNode:
    navigation = nbformat.v4.new_markdown_cell("< | contents | >")
    navigation.metadata["tags"] = ["navigation"]
    kept = nbformat.v4.new_markdown_cell("A note I want as a fragment.")
    kept.metadata.update(tags=["slides-keep"], slideshow={"slide_type": "fragment"})
    code = nbformat.v4.new_code_cell("show()", execution_count=2)
    code.outputs = [nbformat.v4.new_output("stream", text="shown\n")]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        navigation,
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_markdown_cell("## Setup\n\nTools first."),
        nbformat.v4.new_code_cell("from helpers.environment import quiet_tensorflow\nquiet_tensorflow()"),
        nbformat.v4.new_markdown_cell("Some text before a heading.\n\n## 1. Section"),
        code,
        nbformat.v4.new_markdown_cell("What to look at: the output."),
        nbformat.v4.new_markdown_cell("More text."),
        nbformat.v4.new_markdown_cell("### A smaller heading"),
        nbformat.v4.new_markdown_cell("> **If you like the maths.** $x^2$"),
        nbformat.v4.new_markdown_cell("```python\n# not a heading\n```"),
        kept,
    ]
    return notebook


def test_the_slide_rule():
    notebook = _notebook()
    assert slides.mark(notebook)
    assert [c.metadata.slideshow.slide_type for c in notebook.cells] == [
        "skip", "slide", "slide", "skip", "slide", "-", "subslide", "-", "subslide", "subslide", "-", "fragment"]
    assert notebook.cells[5].outputs[0].text == "shown\n" and notebook.cells[5].execution_count == 2
    assert not slides.mark(notebook)  # idempotent


def test_mark_files_writes_only_what_changed(tmp_path):
    path = tmp_path / "05_new.ipynb"
    nbformat.write(_notebook(), path)
    assert slides.mark_files([path]) == [path]
    before = path.read_text()
    assert slides.mark_files([path]) == [] and path.read_text() == before


def test_slide_export_loads_nothing_from_the_network(tmp_path):
    assets = tmp_path / "assets-source"
    for name in slides.ASSET_FILES:
        file = assets / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("// stand-in")
    notebook = _notebook()
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "state": {}}}
    slides.mark(notebook)
    nbformat.write(notebook, tmp_path / "deck.ipynb")
    [html_path] = slides.export([tmp_path / "deck.ipynb"], assets, tmp_path / "out")
    html = html_path.read_text()
    loaded = re.findall(r'<script[^>]*\bsrc="([^"]*)"', html) + re.findall(r'<link[^>]*\bhref="([^"]*)"', html)
    loaded += re.findall(r"import \w+ from '([^']*)'", html) + re.findall(r'"([^"]*\.js)",?\s*$', html, re.MULTILINE)
    loaded += re.findall(r"var widgetRendererSrc = '([^']*)'", html)
    assert loaded and all(url.startswith("assets/") for url in loaded), loaded
    assert not re.search(r"https?://(unpkg|cdnjs|cdn\.jsdelivr)", html.split("<main>")[0] + html.split("</main>")[-1])
    for url in loaded:
        assert (tmp_path / "out" / url.split("?")[0]).exists(), url


# --------------------------------------------------------------------------------------------
# solutions/


def test_every_chapter_has_worked_answers_and_pytest_runs_them():
    assert [p.stem for p in SOLUTIONS] == [f"{name}_solutions" for name in FIRST_CHAPTERS]
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    assert "solutions" in testpaths


@pytest.mark.parametrize("path", [p for p in CHAPTERS if (ROOT / "solutions" / f"{p.stem}_solutions.ipynb").exists()],
                         ids=lambda p: p.stem)
def test_try_it_yourself_links_to_the_answers(path):
    notebook = nbformat.read(path, as_version=4)
    section = next(c.source for c in notebook.cells if c.cell_type == "markdown"
                   and re.match(r"^#+ .*Try it yourself", c.source))
    assert f"](../solutions/{path.stem}_solutions.ipynb)" in section


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_answers_saved_from_one_clean_run_in_the_series_style(path):
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "re-run: python tools/run_notebooks.py solutions/*.ipynb"
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", cell.source[:200]
            assert not (output.output_type == "stream" and output.name == "stderr"), output.text[:300]
    assert "quiet_tensorflow()" in code[0].source and "set_seed(0)" in code[0].source
    text = "\n".join(c.source for c in notebook.cells)
    assert "../shared" not in text and "MNIST_NPZ" not in text and "load_mnist_test" in text
    assert text.count("# Check exercise") >= 2  # the chapter's checks, so the answers are verified
    for cell in (notebook.cells[0], notebook.cells[-1]):
        assert "navigation" in cell.metadata.get("tags", [])
    for cell in notebook.cells:
        for target in re.findall(r"\]\(([^)#\s]+)", cell.source) if cell.cell_type == "markdown" else []:
            if not re.match(r"[a-z]+:", target):
                assert (path.parent / target).exists(), f"broken link {target}"
    assert path.stat().st_size < 1_000_000


# --------------------------------------------------------------------------------------------
# docs/workshop.md and the README


def _local_links(markdown: str) -> list[str]:
    return [t for t in re.findall(r"\]\(([^)#\s]+)", markdown) if not re.match(r"[a-z]+:", t)]


def test_the_facilitators_guide():
    guide = (ROOT / "docs" / "workshop.md").read_text()
    for target in _local_links(guide):
        assert (ROOT / "docs" / target).exists(), f"broken link {target}"
    for heading in ("Learning objectives", "90 minutes", "Half a day", "Discussion questions", "Without Wi-Fi",
                    "Presenting", "Common questions"):
        assert re.search(rf"^#+ .*{heading}", guide, re.MULTILINE | re.IGNORECASE), heading
    assert "05" in guide and "optional" in guide.lower()
    assert "python tools/wheelhouse.py build" in guide and "--no-index --find-links wheelhouse" in guide


def test_readme_troubleshooting_and_guide_link():
    readme = (ROOT / "README.md").read_text()
    assert "](docs/workshop.md)" in readme
    assert re.search(r"^## Troubleshooting", readme, re.MULTILINE)
    for target in _local_links(readme):
        assert (ROOT / target).exists(), f"broken link {target}"
