"""``python -m bench.compare RUN_DIR RUN_DIR [...]``: result sets side by side (docs/compare.md)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from architectures.errors import ArgumentParser, UsageError, error_boundary

PRODUCER = "bench.compare"
REFERENCE = "hourglass-8stack"
# The tables' own columns; a set's column beside them needs another name.
COLUMNS = ("model", "input", "runtime", "precision", "device", "threads", "setting")


def _parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m bench.compare",
        description="Result sets of bench.tables from several machines side by side: fp32 "
        "latency per model and the runtimes, each set's speed-ups, rank changes against the "
        "first set, and the settings in which the machines differ.",
        epilog="Writes compare.md, compare_*.csv, compare_speedups.png and compare.html into "
        "--out as one set (manifest.json) and prints a summary.",
    )
    # fmt: off
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="result sets of "
                   "bench.tables (two or more; the first is the one others are compared against)")
    p.add_argument("--out", type=Path, default=Path("runs/compare"), help="output folder")
    p.add_argument("--names", nargs="+", default=[], metavar="NAME", help="a label per RUN_DIR, "
                   "in order; without it, each set's GPU name or CPU model")
    p.add_argument("--reference", default=REFERENCE, help="model the speed-ups are relative to")
    # fmt: on
    return p


def check_args(runs: Sequence[Path], names: Sequence[str]) -> None:
    if len(runs) < 2:
        raise UsageError(f"give at least two RUN_DIRs to compare, got {len(runs)}")
    resolved = [p.resolve() for p in runs]
    twice = next((p for p, r in zip(runs, resolved) if resolved.count(r) > 1), None)
    if twice is not None:
        raise UsageError(f"RUN_DIR {twice} given twice")
    if names and len(names) != len(runs):
        raise UsageError(f"--names gives {len(names)} names for {len(runs)} RUN_DIRs: one each")
    if any(not n.strip() for n in names) or len(set(names)) != len(names):
        raise UsageError(f"--names must be distinct and not empty, got {' '.join(names)!r}")
    taken = [n for n in names if n in COLUMNS]
    if taken:
        raise UsageError(f"--names {taken[0]}: a column of the tables is called so; choose another")


def check_unlisted(out: Path) -> None:
    if out.is_dir() and not (out / "manifest.json").exists():
        found = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        if found:
            raise UsageError(
                f"--out {out} holds files no result set lists ({', '.join(found[:3])}"
                f"{', ...' if len(found) > 3 else ''}): choose a new or empty folder"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    with error_boundary(parser):
        check_args(args.runs, args.names)
        from bench.report import files as io
        from bench.report import publish
        from bench.report.compare import load_sets
        from bench.report.compare_outputs import OUTPUT_NAMES, compare, writers

        with publish.claim(args.out, PRODUCER, OUTPUT_NAMES):
            check_unlisted(args.out)
            sets = load_sets(args.runs, args.names)
            timed = sorted({m for one in sets for m in one.latency.model})
            if args.reference != REFERENCE and args.reference not in timed:  # a typo, likely
                named = ", ".join(timed)
                raise UsageError(f"--reference {args.reference}: no set timed it; timed: {named}")
            comparison = compare(sets, args.reference)
            io.prepare_output(args.out, "--out")
            # publish says in one line which set it replaced
            written = publish.publish(args.out, writers(comparison), OUTPUT_NAMES, PRODUCER)
    listed = "".join(f"\n  {p}" for p in written.values())
    print(f"{comparison.summary()}\n\nwrote {len(written)} files to {args.out}:{listed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
