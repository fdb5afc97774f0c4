"""How long each notebook takes a reader, and how easy its prose is: the table behind the README's times.

    pip install -r benchmarks/requirements.txt      # textstat, for the reading ease
    python tools/reading_time.py                    # writes results/reading_time.md
    python tools/reading_time.py --run              # also runs every notebook, for its running time

For every numbered notebook: the words of its prose (markdown cells, with maths, code spans and
link targets left out) and of its code; the reading time at 200 words a minute (prose and code
alike); the Flesch reading ease of the prose (textstat; 60-70 is plain English, at least 50 is
the series' floor for 00-02); and, with ``--run``, the seconds a fresh kernel takes to run it
on this machine (``tools/run_notebooks.py``, which also saves the outputs). The exercises
are not timed: a learner's own tries take as long as they take.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from helpers.reports import REPO_DIR, notebook_paths

WORDS_PER_MINUTE = 200
OUT = REPO_DIR / "results" / "reading_time.md"


def prose_and_code(path: Path) -> tuple[str, str]:
    """A notebook's prose (markdown, without maths, code spans, link targets and markup) and its code."""
    cells = json.loads(path.read_text())["cells"]
    prose, code = [], []
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            text = re.sub(r"\$[^$]*\$", " ", text)  # maths
            text = re.sub(r"`[^`]*`", "code", text)  # a code span reads as one word
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # keep a link's words, not its target
            text = re.sub(r"<[^>]+>|[#>*_|]", " ", text)  # html tags and markdown markup
            prose.append(text)
        elif cell["cell_type"] == "code":
            code.append(text)
    return "\n\n".join(prose), "\n\n".join(code)


def measure(path: Path, run: bool = False) -> dict:
    """Words, reading minutes, reading ease (and running seconds, with ``run``) of one notebook."""
    import textstat

    prose, code = prose_and_code(path)
    words = {"prose": len(prose.split()), "code": len(code.split())}
    row = {"notebook": path.stem, "prose_words": words["prose"], "code_words": words["code"],
           "reading_minutes": (words["prose"] + words["code"]) / WORDS_PER_MINUTE,
           "reading_ease": float(textstat.flesch_reading_ease(prose))}
    if run:
        from run_notebooks import run as run_notebook  # tools/ is the script's folder: sys.path[0]

        row["run_seconds"] = run_notebook(path)
    return row


def table(rows: list[dict]) -> str:
    """The markdown table of ``rows`` (from :func:`measure`)."""
    timed = all("run_seconds" in row for row in rows)
    lines = ["| notebook | prose words | code words | reading (min) | reading ease |" + (" running (s) |" if timed else ""),
             "| --- | ---: | ---: | ---: | ---: |" + (" ---: |" if timed else "")]
    for row in rows:
        lines.append(f"| {row['notebook']} | {row['prose_words']:,} | {row['code_words']:,} | "
                     f"{row['reading_minutes']:.0f} | {row['reading_ease']:.0f} |"
                     + (f" {row['run_seconds']:.0f} |" if timed else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="also run every notebook and time it")
    args = parser.parse_args(argv)
    rows = [measure(path, args.run) for path in notebook_paths()]
    text = ("# Reading the series: words, minutes and reading ease\n\n"
            f"Made by `python tools/reading_time.py{' --run' if args.run else ''}`. Reading at "
            f"{WORDS_PER_MINUTE} words a minute, prose and code; reading ease: Flesch (textstat), "
            "higher is easier, 60-70 is plain English. The time a learner spends on the exercises is not included.\n\n" + table(rows) + "\n")
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
