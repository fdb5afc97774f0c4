"""Build a wheelhouse for a workshop room: every dependency, for every common laptop, offline.

Online, once (the facilitator, from the repository's root; a few GB, see docs/workshop.md):

    python tools/wheelhouse.py build                   # Linux x86-64, Windows x86-64, macOS arm64; Python 3.11, 3.12
    python tools/wheelhouse.py build --target linux-x86_64 --python 3.11    # just one

Copy the repository (with ``wheelhouse/`` in it) to a USB stick. Then on each laptop, with no
network, in a fresh virtual environment and the repository's root:

    python -m pip install --no-index --find-links wheelhouse -r requirements.txt

``check`` verifies, offline, that the wheelhouse holds a complete set for every target;
``requirements`` prints one target's top-level requirement set.

Why a script and not one ``pip download``: ``pip download --platform ...`` chooses wheels for the
target platform, but it evaluates environment markers (``sys_platform == "win32"``,
``python_version < "3.11"``...) against the interpreter running it, both in requirements.txt
(which picks tensorflow-cpu or tensorflow by platform) and in the packages' own dependencies
(Windows-only ``pywinpty`` and ``colorama``, for example; pip issues 4304, 6117 and 11664). So
this script evaluates the markers itself for each target: it writes the target's top-level
requirement set, lets pip download it, then walks the downloaded wheels' own requirements with
the target's markers and downloads whatever the target needs that pip left out, until nothing
is missing. The project itself (``-e .`` in requirements.txt) is built from the repository's
source at install time, so its build backend (setuptools, from pyproject.toml) and ``wheel``
go into the wheelhouse too.
"""

from __future__ import annotations

import argparse
import email.parser
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / "wheelhouse"
DEFAULT_REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-workshop.txt")
DEFAULT_PYTHONS = ("3.11", "3.12")
BUILD_TOOLS = ("wheel",)  # with setuptools (read from pyproject.toml): builds `-e .` offline


def _manylinux(arch: str, newest_glibc_minor: int = 28) -> tuple[str, ...]:
    """manylinux tags from glibc 2.<newest> down to 2.5: what a Linux with glibc >= 2.28 runs.

    pip expands ``--platform manylinux2014_x86_64`` to the older legacy tags, but not a PEP 600
    tag such as ``manylinux_2_28_x86_64`` to ``manylinux_2_27``..., so every one is listed.
    """
    return tuple(f"manylinux_2_{minor}_{arch}" for minor in range(newest_glibc_minor, 4, -1)) + tuple(
        f"{legacy}_{arch}" for legacy in ("manylinux2014", "manylinux2010", "manylinux1"))


@dataclass(frozen=True)
class Target:
    """A kind of laptop: the platform tags pip may choose wheels for, and its marker values."""

    name: str
    platforms: tuple[str, ...]
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    default: bool = True
    unsupported: str = ""  # why this target cannot be built with the pinned versions, if it cannot

    def environment(self, python: str) -> dict[str, str]:
        """PEP 508 marker values on this target for Python ``python`` ("3.11")."""
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{python}.0",
            "os_name": self.os_name,
            "platform_machine": self.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": self.platform_system,
            "platform_version": "",
            "python_full_version": f"{python}.0",
            "python_version": python,
            "sys_platform": self.sys_platform,
        }

    def tags(self, python: str) -> frozenset[Tag]:
        """Every wheel tag that CPython ``python`` on this target installs."""
        version = tuple(int(part) for part in python.split("."))
        platforms = list(self.platforms)
        if self.sys_platform == "darwin":  # macOS: older releases' wheels and universal2 wheels run too
            major, minor, arch = self.platforms[0].split("_")[1:4]
            platforms = list(mac_platforms((int(major), int(minor)), arch))
        abi = f"cp{version[0]}{version[1]}"
        return frozenset([*cpython_tags(version, abis=[abi], platforms=platforms),
                          *compatible_tags(version, interpreter=abi, platforms=platforms)])


TARGETS: dict[str, Target] = {target.name: target for target in (
    Target("linux-x86_64", _manylinux("x86_64"), "linux", "Linux", "x86_64", "posix"),
    Target("windows-x86_64", ("win_amd64",), "win32", "Windows", "AMD64", "nt"),
    Target("macos-arm64", ("macosx_12_0_arm64",), "darwin", "Darwin", "arm64", "posix"),
    Target("linux-aarch64", _manylinux("aarch64"), "linux", "Linux", "aarch64", "posix", default=False),
    Target("macos-x86_64", ("macosx_12_0_x86_64",), "darwin", "Darwin", "x86_64", "posix", default=False,
           unsupported="TensorFlow publishes no macOS x86-64 (Intel Mac) wheels after 2.16.2, and the "
                       "series pins tensorflow~=2.21.0: on an Intel Mac use a cloud notebook or a Linux VM"),
)}


# ---------------------------------------------------------------------------------------------
# Requirements: what each target needs at the top level


def read_requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file, following ``-r`` includes.

    Comments, blank lines and pip options (``-e .``, ``--index-url``...) are left out.
    """
    lines: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            lines += read_requirement_lines(path.parent / line.split(maxsplit=1)[1])
        elif not line.startswith("-"):
            lines.append(line)
    return lines


def build_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """What ``pip install -e .`` needs offline: the build backend's requirements, and wheel."""
    build_system = tomllib.loads(pyproject.read_text()).get("build-system", {})
    return [*build_system.get("requires", ["setuptools"]), *BUILD_TOOLS]


def requirements_for(lines: Iterable[str], target: Target, python: str) -> list[str]:
    """The requirements (markers removed) that apply on ``target`` with Python ``python``.

    >>> requirements_for(['tensorflow-cpu~=2.21.0; sys_platform == "linux"', 'numpy'],
    ...                  TARGETS["macos-arm64"], "3.11")
    ['numpy']
    """
    environment = target.environment(python)
    chosen = []
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({**environment, "extra": ""}):
            requirement.marker = None
            chosen.append(str(requirement))
    return chosen


# ---------------------------------------------------------------------------------------------
# The wheels in a wheelhouse, and what they require


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: NormalizedName
    version: Version
    tags: frozenset[Tag]

    @classmethod
    def from_path(cls, path: Path) -> "Wheel":
        name, version, _build, tags = parse_wheel_filename(path.name)
        return cls(path, name, version, frozenset(tags))

    def requires(self) -> list[Requirement]:
        """The wheel's ``Requires-Dist`` lines (read from its METADATA, without installing it)."""
        with zipfile.ZipFile(self.path) as archive:
            metadata = next(n for n in archive.namelist()
                            if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            message = email.parser.Parser().parsestr(archive.read(metadata).decode("utf-8"))
        requirements = []
        for line in message.get_all("Requires-Dist") or []:
            try:
                requirements.append(Requirement(line))
            except InvalidRequirement:  # a malformed line in someone's metadata: pip skips it too
                continue
        return requirements


def wheels_in(folder: Path) -> list[Wheel]:
    return [Wheel.from_path(path) for path in sorted(folder.glob("*.whl"))]


@dataclass
class Walk:
    """The outcome of following requirements through a wheelhouse for one target."""

    chosen: dict[NormalizedName, Wheel] = field(default_factory=dict)
    missing: list[Requirement] = field(default_factory=list)


def _applies(requirement: Requirement, environment: dict[str, str], extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in ("", *extras))


def walk(roots: Sequence[str], wheels: Sequence[Wheel], target: Target, python: str) -> Walk:
    """Follow ``roots`` and every requirement of the wheels chosen for them, as pip would offline.

    For each package the newest wheel that installs on the target and satisfies the requirement
    is chosen (pip's choice with ``--no-index``, barring backtracking); a requirement that no
    wheel satisfies is reported as missing. Markers are evaluated for the target, with the
    extras that were asked for.
    """
    environment, tags = target.environment(python), target.tags(python)
    installable: dict[NormalizedName, list[Wheel]] = {}
    for wheel in wheels:
        if wheel.tags & tags:
            installable.setdefault(wheel.name, []).append(wheel)
    result = Walk()
    extras_seen: dict[NormalizedName, set[str]] = {}
    queue: list[tuple[Requirement, frozenset[str]]] = [(Requirement(line), frozenset()) for line in roots]
    while queue:
        requirement, parent_extras = queue.pop(0)
        if not _applies(requirement, environment, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        candidates = sorted((w for w in installable.get(name, []) if requirement.specifier.contains(
            w.version, prereleases=True)), key=lambda w: w.version, reverse=True)
        if name in result.chosen and result.chosen[name] in candidates:
            pass  # the wheel already chosen fits this requirement too
        elif candidates:  # a new package, or a requirement that narrows the choice: take the newest
            result.chosen[name] = candidates[0]
            extras_seen.pop(name, None)  # and follow its own requirements
        else:
            result.missing.append(requirement)
            continue
        new_extras = set(requirement.extras) - extras_seen.get(name, set())
        if name in extras_seen and not new_extras:
            continue
        extras_seen.setdefault(name, set()).update(requirement.extras)
        wanted = frozenset(canonicalize_name(extra) for extra in extras_seen[name])
        queue += [(dependency, wanted) for dependency in result.chosen[name].requires()]
    return result


# ---------------------------------------------------------------------------------------------
# Downloading


def pip_download_command(requirements_file: Path, dest: Path, target: Target, python: str,
                         constraints_file: Path | None = None) -> list[str]:
    """The ``pip download`` command that fetches wheels for ``target`` into ``dest``."""
    command = [sys.executable, "-m", "pip", "download", "--dest", str(dest), "--only-binary=:all:",
               "--implementation", "cp", "--python-version", python, "-r", str(requirements_file)]
    for platform in target.platforms:
        command += ["--platform", platform]
    if constraints_file is not None:
        command += ["-c", str(constraints_file)]
    return command


def _without_marker(requirement: Requirement) -> str:
    """A requirement whose marker was already evaluated for the target (pip would evaluate it for this machine)."""
    bare = Requirement(str(requirement))
    bare.marker = None
    return str(bare)


def _run(command: list[str]) -> None:
    print("$", " ".join(command[2:]), flush=True)
    subprocess.run(command, check=True)


def _all_lines(requirement_files: Sequence[Path], pyproject: Path) -> list[str]:
    return [line for path in requirement_files for line in read_requirement_lines(path)] + build_requirements(pyproject)


def build(dest: Path, targets: Sequence[Target], pythons: Sequence[str], requirement_files: Sequence[Path],
          pyproject: Path = ROOT / "pyproject.toml", max_rounds: int = 6) -> None:
    """Download a complete set of wheels for every target and Python version into ``dest``."""
    for target in targets:
        if target.unsupported:
            raise SystemExit(f"{target.name}: {target.unsupported}")
    dest.mkdir(parents=True, exist_ok=True)
    lines = _all_lines(requirement_files, pyproject)
    for target in targets:
        for python in pythons:
            roots = requirements_for(lines, target, python)
            print(f"\n== {target.name}, Python {python}: {len(roots)} top-level requirements", flush=True)
            with tempfile.TemporaryDirectory() as scratch:
                request, pins = Path(scratch) / "requirements.txt", None
                request.write_text("\n".join(roots) + "\n")
                for _ in range(max_rounds):
                    _run(pip_download_command(request, dest, target, python, pins))
                    result = walk(roots, wheels_in(dest), target, python)
                    if not result.missing:
                        break
                    print(f"   pip left out what {target.name} needs: {[str(r) for r in result.missing]}")
                    request.write_text("".join(f"{_without_marker(r)}\n" for r in result.missing))
                    pins = Path(scratch) / "constraints.txt"
                    pins.write_text("".join(f"{w.name}=={w.version}\n" for w in result.chosen.values()))
                else:
                    raise SystemExit(f"{target.name}, Python {python}: still missing after {max_rounds} rounds: "
                                     f"{[str(r) for r in result.missing]}")
    (dest / "README.txt").write_text(
        "Wheels for the Robustness, Explained workshop, built by tools/wheelhouse.py for\n"
        f"{', '.join(t.name for t in targets)}; Python {', '.join(pythons)}. Install offline, from the\n"
        "repository's root, in a fresh virtual environment:\n\n"
        "    python -m pip install --no-index --find-links wheelhouse -r requirements.txt\n")


def check(dest: Path, targets: Sequence[Target], pythons: Sequence[str], requirement_files: Sequence[Path],
          pyproject: Path = ROOT / "pyproject.toml") -> bool:
    """Report, offline, whether ``dest`` holds a complete set for every target; True if it does."""
    lines = _all_lines(requirement_files, pyproject)
    wheels, complete = wheels_in(dest), True
    for target in targets:
        for python in pythons:
            result = walk(requirements_for(lines, target, python), wheels, target, python)
            size = sum(w.path.stat().st_size for w in result.chosen.values()) / 1e6
            status = "complete" if not result.missing else f"MISSING {[str(r) for r in result.missing]}"
            print(f"{target.name:>15}, Python {python}: {len(result.chosen)} wheels, {size:,.0f} MB: {status}")
            complete &= not result.missing
    return complete


def _folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("build", "check", "requirements"))
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="the wheelhouse folder (default: wheelhouse/)")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS),
                        help="repeat for several (default: %s)" % ", ".join(t.name for t in TARGETS.values() if t.default))
    parser.add_argument("--python", action="append", help="repeat for several (default: %s)" % ", ".join(DEFAULT_PYTHONS))
    parser.add_argument("--requirements", action="append", type=Path,
                        help="requirements files (default: requirements.txt and requirements-workshop.txt)")
    args = parser.parse_args(argv)
    targets = [TARGETS[name] for name in args.target] if args.target else [t for t in TARGETS.values() if t.default]
    pythons = args.python or list(DEFAULT_PYTHONS)
    files = args.requirements or [path for path in DEFAULT_REQUIREMENTS if path.exists()]
    if args.command == "requirements":
        lines = _all_lines(files, ROOT / "pyproject.toml")
        for target in targets:
            for python in pythons:
                print(f"# {target.name}, Python {python}" + (f" (unsupported: {target.unsupported})"
                                                             if target.unsupported else ""))
                print("\n".join(requirements_for(lines, target, python)))
        return 0
    if args.command == "build":
        started = time.perf_counter()
        build(args.dest, targets, pythons, files)
        print(f"\nwheelhouse {args.dest}: {len(list(args.dest.glob('*.whl')))} wheels, "
              f"{_folder_size(args.dest) / 1e9:.2f} GB, built in {(time.perf_counter() - started) / 60:.1f} min")
    return 0 if check(args.dest, targets, pythons, files) else 1


if __name__ == "__main__":
    sys.exit(main())
