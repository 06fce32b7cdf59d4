"""Mutation testing of the files listed in ``tools/mutation/targets.toml`` with mutmut.

Each target runs in its own scratch copy of the source tree (mutmut writes a ``mutants/`` folder
beside the code it mutates, and the working tree must stay untouched), with a ``[tool.mutmut]``
section that names only that file and its focused tests. A summary with every surviving
mutant's diff is printed and, with ``--out``, written to a Markdown file.

    python tools/mutation/run.py                          # every target
    python tools/mutation/run.py datasets/metrics.py --max-children 2 --timeout 900
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: mutmut depends on toml there, not on tomli
    import toml as tomllib

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("architectures", "datasets", "bench", "tests", "pyproject.toml", "README.md")
PYTEST_ARGS = ["-p", "no:randomly", "-p", "no:cacheprovider", "-q"]


def load_targets(path: Path) -> dict[str, dict]:
    """Target file -> its entry: ``tests`` (globs) and optional ``mutants`` (mutmut name globs)."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))["targets"]
    for name, entry in table.items():
        if not isinstance(entry.get("tests"), list):
            raise TypeError(f"target {name!r} has no tests = [...] list")
    return table


def focused_tests(patterns: list[str]) -> list[str]:
    found = {str(Path(p).relative_to(ROOT)) for pat in patterns for p in glob.glob(str(ROOT / pat))}
    return sorted(found)


def scratch_copy(work: Path, target: str, tests: list[str]) -> Path:
    """A copy of the source tree whose pyproject tells mutmut to mutate ``target`` only."""
    where = work / target.replace("/", "__").removesuffix(".py")
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "mutants")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, where / name, ignore=skip)
        elif source.exists():
            shutil.copy2(source, where / name)
    section = {
        "source_paths": ["architectures", "datasets", "bench"],
        "only_mutate": [target],
        "pytest_add_cli_args_test_selection": tests,
        "also_copy": ["tests"],
        "pytest_add_cli_args": PYTEST_ARGS,
        # Workers forked from a process that ran torch ops hang in OpenMP: fork them from a
        # server that only imported the tests (mutmut's advice for torch).
        "process_isolation": "forkserver",
    }
    lines = ["", "[tool.mutmut]"] + [
        f"{key} = {json.dumps(value)}" for key, value in section.items()
    ]
    with (where / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return where


def run_target(
    where: Path, max_children: int, timeout: float, mutants: list[str]
) -> tuple[int, str]:
    """Run mutmut in ``where`` (only ``mutants`` if given); returns its exit status (124 on
    timeout) and its output tail."""
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *mutants]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # one core per child
    try:
        done = subprocess.run(
            cmd, cwd=where, capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stdout or b"")[-2000:]
        return 124, tail.decode(errors="replace") if isinstance(tail, bytes) else tail
    return done.returncode, (done.stdout + done.stderr)[-2000:]


def survivors(where: Path) -> dict[str, str]:
    """Every mutant that is not killed, with its status (``survived``, ``timeout``, ...)."""
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results"],
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    result = {}
    for line in listing.splitlines():
        name, _, status = line.strip().partition(": ")
        if status:
            result[name] = status
    return result


def counts(where: Path) -> dict[str, int]:
    subprocess.run(
        [sys.executable, "-m", "mutmut", "export-cicd-stats"],
        cwd=where,
        capture_output=True,
        check=False,
    )
    stats = where / "mutants" / "mutmut-cicd-stats.json"
    return json.loads(stats.read_text()) if stats.exists() else {}


def diff(where: Path, name: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name],
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def report(target: str, tests: list[str], status: int, where: Path) -> str:
    stats = counts(where)
    # Mutants a target's ``mutants`` filter leaves out are "not checked": not survivors.
    every = survivors(where)
    left = {name: state for name, state in every.items() if state != "not checked"}
    unchecked = len(every) - len(left)
    head = [
        f"## {target}",
        "",
        f"tests: {', '.join(tests)}",
        f"mutmut exit status: {status}",
        f"counts: {json.dumps(stats)}",
        f"not checked (outside the target's mutants filter): {unchecked}",
        "",
    ]
    body = [
        f"### {name} ({state})\n\n```diff\n{diff(where, name)}\n```\n"
        for name, state in sorted(left.items())
    ]
    return "\n".join(head + body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "targets", nargs="*", help="files from tools/mutation/targets.toml (default all)"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=ROOT / "tools" / "mutation" / "targets.toml",
        help='TOML with a [targets."<file>"] table per file (tests = [...])',
    )
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutants (default 2)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800,
        help="seconds per target before mutmut is stopped (default 1800)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "runs" / "mutation",
        help="scratch folder for the copies (default runs/mutation)",
    )
    parser.add_argument("--out", type=Path, help="also write the summary to this Markdown file")
    args = parser.parse_args(argv)
    if args.max_children < 1 or args.timeout <= 0:
        parser.error("--max-children must be >= 1 and --timeout > 0")
    try:
        known = load_targets(args.config)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        parser.error(f"cannot read the targets from {args.config}: {exc}")
    unknown = [t for t in args.targets if t not in known]
    if unknown:
        parser.error(f"not in {args.config}: {', '.join(unknown)}; known: {', '.join(known)}")
    sections, failed = [], 0
    for target in args.targets or list(known):
        tests = focused_tests(known[target]["tests"])
        mutants = known[target].get("mutants", [])
        if not (ROOT / target).is_file() or not tests:
            sections.append(f"## {target}\n\nskipped: the file or all its tests are missing\n")
            continue
        where = scratch_copy(args.work, target, tests)
        status, tail = run_target(where, args.max_children, args.timeout, mutants)
        failed += status != 0
        sections.append(report(target, tests, status, where) + f"\n```\n{tail}\n```\n")
        print(sections[-1], flush=True)
        if args.out:  # after each target: a long run that is stopped keeps what it finished
            write_atomically(args.out, "\n".join(sections))
    return 1 if failed else 0


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
