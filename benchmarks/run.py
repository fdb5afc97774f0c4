"""Benchmarks of the series: attacks against ART, the machine's limit, training, notebooks, sliders.

    pip install -r benchmarks/requirements.txt     # ART, a benchmark-only dependency
    python -m benchmarks.run                       # everything (tens of minutes on 2 cores)
    python -m benchmarks.run --only pgd,ceiling    # some sections (comma-separated)
    python -m benchmarks.run --quick               # smoke run: tiny settings, seconds

Run from the repository's root (``benchmarks`` is a package next to ``helpers``, which comes
from the installed project: ``pip install -e .``).

Writes ``benchmarks/RESULTS.md`` (the machine, the date, the command, medians with [min-max])
and ``benchmarks/results.json`` (every sample). A run with ``--only`` keeps the other sections
of an existing results.json from the same machine. ``--quick`` writes to a temporary folder
(printed at the end) unless ``--out`` is given, so it never replaces real results.

Sections: pgd (throughput, project vs ART), crosscheck (robust accuracy under both, within 1
point), ceiling (FLOPs of a PGD step, the matmul FLOP rate), training (images/s, natural and
PGD), notebooks (the series headless), sliders (slider callbacks). Run it on a quiet machine:
the load average is recorded, and RESULTS.md warns when something else was using the CPU.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from helpers.reports import command_line, describe_machine, load_average, read_json, write_json  # noqa: E402

HERE = Path(__file__).resolve().parent

SECTIONS = ("pgd", "crosscheck", "ceiling", "training", "notebooks", "sliders")

#: Full settings, and the smoke run's (a couple of steps, batch 8, one repeat).
FULL = {"repeats": 5, "batch": 128, "pgd_steps": [10, 40], "crosscheck_images": 500, "crosscheck_steps": 40,
        "matmul_size": 4096, "matmul_repeats": 10, "gradient_calls": 10, "train_batch": 128,
        "train_batches": 8, "train_attack_steps": None, "notebook_repeats": 3, "slider_repeats": 7,
        "slider_image": 0, "slider_pgd_steps": 20, "traversal_steps": 40, "warm_up": True,
        "train_determinism": ["off", "on"]}
QUICK = {"repeats": 1, "batch": 8, "pgd_steps": [2], "crosscheck_images": 16, "crosscheck_steps": 2,
         "matmul_size": 256, "matmul_repeats": 1, "gradient_calls": 1, "train_batch": 8, "train_batches": 2,
         "train_attack_steps": 2, "notebook_repeats": 1, "slider_repeats": 1, "slider_image": 0,
         "slider_pgd_steps": 2, "traversal_steps": 2, "warm_up": False, "train_determinism": ["off"]}


def _section_functions() -> dict[str, Callable[[dict, Callable[[str], None]], dict]]:
    """Section name -> the function that measures it (imported late: they import TensorFlow)."""
    from benchmarks import bench_attacks, bench_series, bench_training

    return {"pgd": bench_attacks.pgd_throughput, "crosscheck": bench_attacks.crosscheck,
            "ceiling": bench_attacks.ceiling, "training": bench_training.training,
            "notebooks": bench_series.notebooks, "sliders": bench_series.sliders}


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    return names


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: tiny settings, one repeat, no notebooks unless --only names them")
    parser.add_argument("--repeats", type=int, help=f"timed repeats of every measurement (default {FULL['repeats']}; "
                             f"sliders {FULL['slider_repeats']}, matmul {FULL['matmul_repeats']})")
    parser.add_argument("--notebook-repeats", type=int,
                        help=f"runs of the whole notebook series (default {FULL['notebook_repeats']})")
    parser.add_argument("--only", type=_names, help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--skip", type=_names, default=[], help="comma-separated sections to leave out")
    parser.add_argument("--out", type=Path, help="folder for RESULTS.md and results.json (default benchmarks/)")
    args = parser.parse_args(argv)
    for name in ("repeats", "notebook_repeats"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def settings_for(args: argparse.Namespace) -> dict:
    settings = dict(QUICK if args.quick else FULL)
    if args.repeats:
        settings.update(repeats=args.repeats, slider_repeats=args.repeats, matmul_repeats=args.repeats)
    if args.notebook_repeats:
        settings["notebook_repeats"] = args.notebook_repeats
    return settings


def selected_sections(args: argparse.Namespace) -> list[str]:
    if args.only:
        chosen = args.only
    else:  # the smoke run leaves out the notebooks (minutes) unless asked for
        chosen = [s for s in SECTIONS if not (args.quick and s == "notebooks")]
    return [s for s in SECTIONS if s in chosen and s not in args.skip]


def write_results(results: dict, out: Path) -> tuple[Path, Path]:
    """Write results.json and RESULTS.md into ``out`` (created if needed)."""
    from benchmarks import bench_report

    results["derived"] = bench_report.derive(results)
    json_path = write_json(out / "results.json", results)
    markdown_path = out / "RESULTS.md"
    markdown_path.write_text(bench_report.render(results))
    return markdown_path, json_path


def _previous_sections(out: Path, machine: dict, quick: bool) -> dict:
    """Sections of an earlier results.json in ``out`` worth keeping: same machine, same kind of run."""
    from benchmarks.bench_common import same_machine

    path = out / "results.json"
    try:
        previous = read_json(path)
    except ValueError:
        return {}
    if previous is None:
        return {}
    if not same_machine(previous.get("machine"), machine) or bool(previous.get("quick")) != quick:
        print(f"note: {path} came from another machine or kind of run; its sections are not kept")
        return {}
    return previous.get("sections", {})


def _log(text: str) -> None:
    print(text, flush=True)


def run_section(name: str, function: Callable[[dict, Callable[[str], None]], dict], settings: dict,
                stamp: dict) -> dict:
    """One section's entry for results.json: its result (or the error it raised) and its seconds."""
    _log(f"[{name}]")
    started = time.perf_counter()
    entry: dict = dict(stamp)
    try:
        entry["result"] = function(settings, _log)
    except Exception as error:  # record it, go on with the other sections
        import traceback

        traceback.print_exc()
        entry["error"] = f"{type(error).__name__}: {error}"
    entry["seconds"] = time.perf_counter() - started
    _log(f"[{name}] {entry['seconds']:.1f} s" + (f"  FAILED: {entry['error']}" if "error" in entry else ""))
    return entry


def _start(args: argparse.Namespace, shown: list[str], sections: list[str]) -> dict:
    """The results' header (command, date, settings, machine), with warnings about the machine."""
    command = command_line("-m benchmarks.run", shown)
    date = datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")
    results = {"suite": "Robustness, Explained benchmarks", "schema": 1, "command": command, "date": date,
               "quick": args.quick, "settings": settings_for(args), "load_average_start": load_average()}
    _log(f"{command}\nsections: {', '.join(sections)}; load average {results['load_average_start']}")
    results["machine"] = describe_machine()
    if {"pgd", "crosscheck"} & set(sections) and results["machine"]["art"] is None:
        from benchmarks.bench_common import ART_INSTALL_HINT

        _log(f"note: {ART_INSTALL_HINT}\n      Without it the comparison with ART and the cross-check are skipped.")
    if not args.quick and results["load_average_start"] and results["load_average_start"][0] > 0.5:
        _log("warning: the machine is busy (1-minute load average above 0.5): timings will be noisy")
    return results


def _report(results: dict, quick: bool) -> bool:
    """Print the targets; True if the cross-check failed (a real run only)."""
    if quick and results["derived"]["targets"]:
        print("targets (a smoke run: tiny settings, these say nothing about speed):")
    for target in results["derived"]["targets"]:
        print(f"  {'met    ' if target['met'] else 'NOT MET'}  {target['target']}: {target['measured']}")
    crosscheck = (results["sections"].get("crosscheck") or {}).get("result") or {}
    if crosscheck.get("rows") and not crosscheck.get("agree") and not quick:
        print("FAILED: the project's PGD and ART's disagree by more than 1 point (see RESULTS.md)")
        return True
    return False


def main(argv: Optional[list[str]] = None) -> int:
    """Run the chosen sections, write RESULTS.md and results.json; 1 if anything failed."""
    args = parse_args(argv)
    from helpers.environment import quiet_tensorflow

    quiet_tensorflow()  # TensorFlow's start-up lines would only clutter the log
    started = time.perf_counter()
    sections = selected_sections(args)
    out = args.out or (Path(tempfile.gettempdir()) / "robustness-benchmarks-quick" if args.quick else HERE)
    results = _start(args, sys.argv[1:] if argv is None else list(argv), sections)
    results["sections"] = {k: v for k, v in _previous_sections(out, results["machine"], args.quick).items()
                           if k not in sections} if args.only else {}
    functions = _section_functions()
    stamp = {"date": results["date"], "command": results["command"]}
    for name in sections:
        results["sections"][name] = run_section(name, functions[name], results["settings"], stamp)
    results["load_average_end"] = load_average()
    results["wall_seconds"] = time.perf_counter() - started
    markdown, data = write_results(results, out)
    print(f"wrote {markdown} and {data}")
    failed = any("error" in results["sections"][name] for name in sections)
    return 1 if _report(results, args.quick) or failed else 0


if __name__ == "__main__":
    sys.exit(main())
