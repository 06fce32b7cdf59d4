"""Check test isolation at collection: every test module collects the same cases alone as in
the full run. A module whose parametrisation depends on what other modules did at
import (e.g. registered a model) collects a different set alone.

    python tests/check_collection.py    # a table; exit 1 if a module differs or fails to collect

Each module is collected in its own ``pytest --collect-only`` process, so this takes roughly
(number of modules + 1) interpreter start-ups; it is not part of the test run.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def collect(*args: str) -> tuple[list[str], set[str]]:
    """Node ids ``pytest --collect-only -q`` reports for ``args``, and the modules that errored."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--continue-on-collection-errors",
        *args,
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = done.stdout.splitlines()
    errors = {line.split()[1] for line in lines if line.startswith("ERROR tests/")}
    return [line for line in lines if "::" in line], errors


def by_module(node_ids: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for node in node_ids:
        grouped[node.split("::", 1)[0]].append(node)
    return grouped


def main() -> int:
    nodes, full_errors = collect()
    full = by_module(nodes)
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py"))
    bad = 0
    print(f"{'module':40} {'alone':>6} {'full run':>9}")
    for module in modules:
        alone, errors = collect(module)
        in_full = full.get(module, [])
        verdict = ""
        if errors or module in full_errors:
            verdict = "  COLLECTION ERROR"
        elif sorted(alone) != sorted(in_full):
            verdict = "  DIFFERENT"
        bad += bool(verdict)
        print(f"{module:40} {len(alone):6d} {len(in_full):9d}{verdict}")
    print(f"{'total':40} {sum(len(v) for v in full.values()):16d}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
