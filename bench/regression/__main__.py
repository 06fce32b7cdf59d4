"""``python -m bench.regression check|update|record|history|bisect``; exit codes in the README.

0 passed, 1 regressed, 2 usage error (one line), 3 internal error (traceback kept),
4 no comparable baseline (another fingerprint or settings: the line says what to run),
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from architectures.errors import ArgumentParser, error_boundary, fail
from bench.regression import commands
from bench.regression.history import HISTORY
from bench.regression.measure import TOOL_ROOT
from bench.regression.model import BASELINE, TOLERANCE, NoComparableBaseline
from bench.regression.slowdown import parse_slowdown

EXIT_NO_BASELINE = 4
PROG = "python -m bench.regression"


def _checked(kind: type, ok: Callable[[float], bool], wanted: str) -> Callable[[str], float]:
    """An argparse type: ``kind(text)`` when ``ok`` of it, else an error naming ``wanted``."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: must be {wanted}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text}: must be {wanted}")
        return value

    return parse


_fraction = _checked(float, lambda v: 0 < v < 1, "a fraction in (0, 1), e.g. 0.05")
_count = _checked(int, lambda v: 1 <= v <= 1000, "between 1 and 1000")
# one side of --size, checked here so that the message names the option
_side = _checked(int, lambda v: v > 0 and v % 64 == 0, "a positive multiple of 64, e.g. 64")


def _pass_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reference", help="unset: the baseline's")
    p.add_argument(
        "--size",
        type=_side,
        nargs=2,
        metavar=("H", "W"),
        help="input size, multiples of 64 (unset: the baseline's)",
    )
    p.add_argument(
        "--repeats", type=_count, help="counted forwards per model (unset: the baseline's)"
    )
    p.add_argument(
        "--tolerance",
        "--floor",
        type=_fraction,
        help="relative change of a model's figure that fails the gate",
    )


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--baseline",
        type=Path,
        default=BASELINE,
        help=f"baseline JSON (default {BASELINE}); give it before the subcommand: "
        f"`{PROG} --baseline FILE check`",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    c = sub.add_parser("check", help="measure and compare with the committed baseline")
    c.add_argument("--models", nargs="+", default=[], help="default: every registered model")
    c.add_argument("--repeats", type=_count, help="unset: the baseline's")
    c.add_argument("--tolerance", type=_fraction, help="instead of the baseline's (0.03: 3 %%)")
    c.add_argument(
        "--inject-slowdown",
        type=parse_slowdown,
        action="append",
        default=[],
        metavar="NAME=+PCT%|NAME=LAYERS",
        help="demo: work added to one model's forward",
    )
    c.add_argument(
        "--other-machine",
        choices=("refuse", "remeasure"),
        default="refuse",
        help="baseline from another fingerprint: refuse (exit 4) or measure the "
        "baseline's commit here in a git worktree and compare with that",
    )
    c.add_argument("--report", type=Path, help="also write the comparison table (Markdown)")

    u = sub.add_parser("update", help="measure unchanged passes and write the baseline")
    _pass_options(u)
    u.add_argument("--passes", type=_count, default=1, help="passes merged (counts repeat)")

    r = sub.add_parser("record", help="append a pass to the history (one row per model)")
    _pass_options(r)
    r.add_argument("--models", nargs="+", default=[])
    r.add_argument("--history", type=Path, default=HISTORY)
    r.add_argument(
        "--commits",
        nargs="+",
        default=[],
        metavar="REV",
        help="measure these commits (git worktrees, oldest first) instead of the "
        "working tree: backfills the history",
    )
    r.add_argument("--repo", type=Path, default=TOOL_ROOT, help="git repository of --commits")

    h = sub.add_parser("history", help="trend plot and change points of the history")
    h.add_argument("--history", type=Path, default=HISTORY)
    h.add_argument("--plot", type=Path, default=HISTORY.with_suffix(".png"))
    h.add_argument("--models", nargs="+", default=[])
    h.add_argument("--fingerprint", help="fingerprint id (default: the latest row's)")
    h.add_argument("--tolerance", "--floor", type=_fraction, default=TOLERANCE)

    b = sub.add_parser("bisect", help="find the commit that changed a model's figure")
    b.add_argument("good")
    b.add_argument("bad")
    b.add_argument("--model", required=True)
    b.add_argument(
        "--repo",
        type=Path,
        default=TOOL_ROOT,
        help="git repository to bisect (default: this one); its models are measured "
        "with this tree's code",
    )
    _pass_options(b)
    return p


_COMMANDS = {
    "check": commands.check,
    "update": commands.update,
    "record": commands.record,
    "history": commands.show_history,
    "bisect": commands.run_bisect,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with error_boundary(PROG):
        try:
            return _COMMANDS[args.command](args)
        except NoComparableBaseline as exc:
            fail(PROG, str(exc), EXIT_NO_BASELINE)
    return 0  # not reached: error_boundary exits


if __name__ == "__main__":
    sys.exit(main())
