"""``python -m bench.regression check|update|record|history|bisect``: the CI latency gate.

Exit status: 0 passed, 1 regressed, 2 usage error, 3 internal error, 4 no comparable baseline.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from architectures.errors import ArgumentParser, error_boundary, fail
from bench.regression.model import BASELINE, HISTORY, PROG, TOOL_ROOT, NoComparableBaseline

EXIT_NO_BASELINE = 4


def parse_slowdown(text: str) -> tuple[str, float]:
    """``NAME=+PERCENT%``: work calibrated to PERCENT of the model's own count."""
    match = re.fullmatch(r"(.+)=\+?(\d+(?:\.\d*)?)%", text)
    if match is None or not 0 < float(match[2]) <= 1000:
        raise argparse.ArgumentTypeError(
            f"--inject-slowdown wants NAME=+PERCENT% (0 < PERCENT <= 1000), got {text!r}"
        )
    return match[1], float(match[2])


_OPTIONS: dict[str, dict] = {
    "--models": {"nargs": "+", "default": [], "help": "default: every registered model"},
    "--models-from": {
        "nargs": "+",
        "default": [],
        "metavar": "MODULE",
        "help": "import these modules first: models they register join the gate",
    },
    "--reference": {"help": "unset: the baseline's"},
    # values are checked by GateConfig, which also refuses a hand-edited baseline's
    "--size": {"type": int, "nargs": 2, "metavar": ("H", "W"), "help": "multiples of 64"},
    "--repeats": {"type": int, "help": "counted forwards per model (unset: the baseline's)"},
    "--tolerance": {"type": float, "help": "relative change that fails (0.03: 3 %%)"},
    "--history": {"type": Path, "default": HISTORY, "help": "the history CSV"},
    "--repo": {"type": Path, "default": TOOL_ROOT, "help": "git repository (default: this one)"},
}
_PASS = ("--reference", "--size", "--repeats", "--tolerance")
_SUBCOMMANDS = {
    "check": ("measure and compare with the baseline", ("--models", "--models-from", *_PASS[2:])),
    "update": ("measure unchanged passes and write the baseline", (*_PASS, "--models-from")),
    "record": (
        "append this tree's pass to the history",
        (*_PASS, "--models", "--models-from", "--history"),
    ),
    "history": ("trend plot and change points", ("--history", "--models", "--tolerance")),
    "bisect": ("find the commit that changed a model's figure", (*_PASS, "--repo")),
}


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    where = f"default {BASELINE}; give it before the subcommand: `{PROG} --baseline FILE check`"
    p.add_argument("--baseline", type=Path, default=BASELINE, help=where)
    sub = p.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    s = {}
    for name, (text, options) in _SUBCOMMANDS.items():
        s[name] = sub.add_parser(name, help=text)
        for option in options:  # --floor: the tolerance's earlier name, still accepted
            aliases = ("--floor",) if option == "--tolerance" else ()
            s[name].add_argument(option, *aliases, **_OPTIONS[option])
    slowdown = {"type": parse_slowdown, "action": "append", "default": [], "metavar": "NAME=+PCT%"}
    s["check"].add_argument("--inject-slowdown", **slowdown, help="demo: slow one model down")
    other = "a baseline of another fingerprint: refuse (exit 4) or measure its commit here"
    ways = ("refuse", "remeasure")
    s["check"].add_argument("--other-machine", choices=ways, default="refuse", help=other)
    s["check"].add_argument("--report", type=Path, help="also write the table (Markdown)")
    s["update"].add_argument("--passes", type=int, default=1, help="passes merged (>= 1)")
    s["history"].add_argument("--plot", type=Path, default=HISTORY.with_suffix(".png"), help="PNG")
    s["bisect"].add_argument("good")
    s["bisect"].add_argument("bad")
    s["bisect"].add_argument("--model", required=True, help="the model whose figure changed")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with error_boundary(PROG):
        from bench.regression import commands  # after parsing: it imports torch and pandas

        try:
            return getattr(commands, args.command)(args)
        except NoComparableBaseline as exc:
            fail(PROG, str(exc), EXIT_NO_BASELINE)
    return 0  # not reached: error_boundary exits


if __name__ == "__main__":
    sys.exit(main())
