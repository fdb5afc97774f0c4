"""Slides from the notebooks: slide metadata by one rule, and an export that works offline.

    python tools/slides.py mark                      # notebooks/ and solutions/: set every cell's slide type
    python tools/slides.py mark notebooks/05_*.ipynb # or just some notebooks (safe to re-run)
    python tools/slides.py fetch-assets              # online, once: reveal.js & co. into wheelhouse/slides-assets
    python tools/slides.py export notebooks/01_adversarial_examples.ipynb   # offline: slides/01_....slides.html

``mark`` writes ``metadata.slideshow.slide_type`` on every cell, the field that JupyterLab's
property inspector, RISE (``jupyterlab-rise``) and ``jupyter nbconvert --to slides`` read. The
rule, in order (the first that applies wins):

1. a cell tagged ``slides-keep`` keeps the type it has (a hand-made exception);
2. the navigation lines (tagged ``navigation``) and the Setup code cell (the one that calls
   ``quiet_tensorflow()``) are ``skip``: run them before presenting, show them never;
3. a markdown cell with a level-1 or level-2 heading (``#``, ``##``) starts a ``slide``;
4. a markdown cell with a level-3 heading (``###``), an "If you like the maths" box, or a
   markdown cell that follows a code cell starts a ``subslide`` (reveal.js: the down arrow), so
   each paragraph arrives with the code it explains and a long section does not overflow;
5. everything else (``-``) joins the slide above it.

Only metadata changes: sources and outputs stay as they are, and a notebook whose slide types
are already right is not written at all, so running it twice changes nothing.

``export`` runs nbconvert's slides exporter with every script pointed at local copies (by
default nbconvert loads reveal.js, require.js, jQuery, MathJax and the widget renderer from
CDNs), and copies those copies next to the slides, so the ``slides/`` folder opens from a USB
stick in a browser with no network. ``fetch-assets`` gets them once, with npm (the official
packages, pinned below), into ``wheelhouse/slides-assets`` so they travel with the wheelhouse.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import nbformat

from helpers import reports

ROOT = reports.REPO_DIR
FOLDERS = (reports.NOTEBOOKS_DIR, reports.SOLUTIONS_DIR)
SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
KEEP_TAG = "slides-keep"
DEFAULT_ASSETS = ROOT / "wheelhouse" / "slides-assets"
DEFAULT_OUT = ROOT / "slides"

# npm package -> the folder it unpacks to under the assets folder. Versions: what nbconvert's
# reveal template is written for (reveal.js 4, MathJax 2, requirejs) and ipywidgets 8's renderer.
ASSET_PACKAGES = {
    "reveal.js@4.0.2": "reveal.js",
    "requirejs@2.3.6": "requirejs",
    "jquery@3.5.1": "jquery",
    "mathjax@2.7.7": "mathjax",
    "@jupyter-widgets/html-manager@1.0.15": "html-manager",
}
# Parts of the npm packages that slides never load (MathJax's unpacked sources and legacy font
# formats, reveal.js' build sources): left out to keep the assets small.
ASSET_SKIP = re.compile(r"^(mathjax/(unpacked|fonts/HTML-CSS/[^/]+/(eot|otf|svg|png))|mathjax/docs|"
                        r"reveal\.js/(js|css|test|examples|gulpfile)|html-manager/(lib|src))(/|$)")
# The files nbconvert's template asks for, relative to the assets folder.
ASSET_URLS = {
    "reveal_url_prefix": "reveal.js",
    "require_js_url": "requirejs/require.js",
    "jquery_url": "jquery/dist/jquery.min.js",
    "mathjax_url": "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "widget_renderer_url": "html-manager/dist/embed-amd.js",
}

# Every file a deck loads from the assets folder. The reveal.js theme is "white": its fonts ship with
# reveal.js, while nbconvert's default, "simple", loads Google Fonts.
ASSET_FILES = (
    "reveal.js/dist/reveal.css", "reveal.js/dist/reveal.js", "reveal.js/dist/theme/white.css",
    "reveal.js/plugin/notes/notes.js", *(url.split("?")[0] for name, url in ASSET_URLS.items() if name != "reveal_url_prefix"),
)

_HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _heading_level(source: str) -> int | None:
    """The highest-ranking heading level in a markdown source (1 for ``#``), outside code fences."""
    levels = [len(match.group(1)) for match in _HEADING.finditer(_FENCE.sub("", source))]
    return min(levels) if levels else None


def _is_setup(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and "quiet_tensorflow()" in cell.source


def slide_type(cell: nbformat.NotebookNode, previous: nbformat.NotebookNode | None) -> str:
    """The slide type the rule gives ``cell``, whose predecessor in the notebook is ``previous``."""
    tags = cell.get("metadata", {}).get("tags", [])
    if "navigation" in tags or _is_setup(cell):
        return "skip"
    if cell.cell_type == "markdown":
        level = _heading_level(cell.source)
        if level is not None and level <= 2:
            return "slide"
        if level == 3 or cell.source.lstrip().startswith("> **If you like the maths"):
            return "subslide"
        if previous is not None and previous.cell_type == "code" and not _is_setup(previous):
            return "subslide"
    return "-"


def mark(notebook: nbformat.NotebookNode) -> bool:
    """Set every cell's slide type by the rule; True if anything changed."""
    changed, previous = False, None
    for cell in notebook.cells:
        current = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        keep = KEEP_TAG in cell.get("metadata", {}).get("tags", []) and current in SLIDE_TYPES
        wanted = current if keep else slide_type(cell, previous)
        if current != wanted:
            cell.metadata.setdefault("slideshow", nbformat.NotebookNode())["slide_type"] = wanted
            changed = True
        previous = cell
    return changed


def notebook_paths(folders: Iterable[Path] = FOLDERS) -> list[Path]:
    """Every notebook of the series and of its solutions (what ``mark`` does without arguments)."""
    return sorted(path for folder in folders for path in reports.notebook_paths(folder))


def mark_files(paths: Sequence[Path]) -> list[Path]:
    """Mark each notebook file in place; returns the files that changed."""
    changed = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        if mark(notebook):
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


def fetch_assets(dest: Path = DEFAULT_ASSETS) -> None:
    """Download reveal.js and the other scripts of an nbconvert slide deck with npm (online, once)."""
    if shutil.which("npm") is None:
        raise SystemExit("npm not found: install Node.js, or present with RISE (docs/workshop.md)")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["npm", "pack", "--silent", *ASSET_PACKAGES], cwd=scratch, check=True,
                       stdout=subprocess.DEVNULL)
        for tarball, folder in zip(sorted(Path(scratch).glob("*.tgz"), key=_package_order), ASSET_PACKAGES.values()):
            if (dest / folder).exists():
                shutil.rmtree(dest / folder)
            with tarfile.open(tarball) as archive:
                for member in archive.getmembers():
                    relative = f"{folder}/{member.name.split('/', 1)[1]}" if "/" in member.name else folder
                    if member.isfile() and not ASSET_SKIP.match(relative):
                        target = dest / relative
                        target.parent.mkdir(parents=True, exist_ok=True)
                        source = archive.extractfile(member)
                        assert source is not None
                        target.write_bytes(source.read())
    missing = [file for file in ASSET_FILES if not (dest / file).exists()]
    if missing:
        raise SystemExit(f"the npm packages changed shape: {missing} not found in {dest}")


def _package_order(tarball: Path) -> int:
    """Position of an ``npm pack`` tarball's package in ASSET_PACKAGES (npm names them its own way)."""
    stem = tarball.name.removesuffix(".tgz")
    for index, spec in enumerate(ASSET_PACKAGES):
        name, version = spec.rsplit("@", 1)
        if stem == f"{name.lstrip('@').replace('/', '-')}-{version}":
            return index
    raise SystemExit(f"unexpected npm tarball {tarball.name}")


def export(paths: Sequence[Path], assets: Path = DEFAULT_ASSETS, out: Path = DEFAULT_OUT) -> list[Path]:
    """Write ``out/NAME.slides.html`` for each notebook, with every script loaded from ``out/assets``."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    missing = [file for file in ASSET_FILES if not (assets / file).exists()]
    if missing:
        raise SystemExit(f"{assets} lacks {missing}: run `python tools/slides.py fetch-assets` once, online")
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "assets").exists():
        shutil.copytree(assets, out / "assets")
    # The widget renderer looks for its icon fonts next to the page, not next to itself.
    fonts = [f for f in (out / "assets" / "html-manager" / "dist").glob("*") if f.suffix in {".woff2", ".woff", ".ttf", ".eot"}]
    for folder in (out / "@jupyter-widgets", out / "@jupyter-widgets" / "html-manager" / "dist"):
        folder.mkdir(parents=True, exist_ok=True)
        for font in fonts:
            shutil.copyfile(font, folder / font.name)
    config = Config()
    config.SlidesExporter.reveal_theme = "white"  # "simple" and most others load Google Fonts
    for option, url in ASSET_URLS.items():
        setattr(config.SlidesExporter, option, f"assets/{url}")
    config.SlidesExporter.jupyter_widgets_base_url = "assets/"
    (out / "assets" / "no-mermaid.mjs").write_text("export default { initialize() {} };\n")
    written = []
    for path in paths:
        exporter = SlidesExporter(config=config)
        exporter.mermaid_js_url = "assets/no-mermaid.mjs"  # not a config option; the series draws no diagrams
        body, _ = exporter.from_filename(str(path))
        target = out / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    mark_parser = commands.add_parser("mark", help="set the slide type of every cell (default: notebooks/, solutions/)")
    mark_parser.add_argument("paths", nargs="*", type=Path)
    fetch_parser = commands.add_parser("fetch-assets", help="online, once: get reveal.js & co. with npm")
    fetch_parser.add_argument("--dest", type=Path, default=DEFAULT_ASSETS)
    export_parser = commands.add_parser("export", help="offline slide decks (default: every notebook in notebooks/)")
    export_parser.add_argument("paths", nargs="*", type=Path)
    export_parser.add_argument("--assets", type=Path, default=DEFAULT_ASSETS)
    export_parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.command == "mark":
        for path in mark_files(args.paths or notebook_paths()):
            print(f"updated {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    elif args.command == "fetch-assets":
        fetch_assets(args.dest)
        print(f"assets in {args.dest}")
    else:
        for path in export(args.paths or notebook_paths(FOLDERS[:1]), args.assets, args.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
