"""``python -m bench.tables``: GCPM Tables 3-5 (Osokin 2019) beside ours (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from architectures.errors import ArgumentParser, UsageError, check_range, error_boundary

PRODUCER = "bench.tables"
DESCRIPTION = "The GCPM paper's Tables 3-5 beside latency measured on this machine."
REFERENCE = "hourglass-8stack"
DEFAULT_OUT = Path("runs/tables")
# --iters has no time cap: 10^4 fp32 forwards of CPM (0.69 s on 2 CPU cores) take ~2 h alone.
MAX_ITERS = 10_000


@dataclass(frozen=True)
class TablesConfig:
    device: str = "auto"
    models: tuple[str, ...] = ()  # empty: every model with a Table 4 or Table 5 row
    models_from: tuple[str, ...] = ()  # modules whose import registers more models
    reference: str = REFERENCE
    out: Path = DEFAULT_OUT
    speed: str = "auto"  # "quick", "full", or "auto": full on a GPU, quick elsewhere
    iters: int | None = None
    modes: tuple[str, ...] = ()  # empty: the preset's (quick on a CPU skips bf16 / fp16)
    profile: bool = True
    checkpoints: tuple[tuple[str, Path], ...] = ()  # (model, weights) pairs
    data_roots: tuple[Path, ...] = ()  # one per dataset of the checkpoints
    progress: bool = True
    runtimes: tuple[str, ...] = ()  # runtime specs; empty: every one available; ("none",): none


def _checkpoint(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--checkpoint wants NAME=PATH, got {text!r}")
    return name, Path(path)


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m bench.tables", description=DESCRIPTION)
    # Options whose default the help states in words (argparse would print None or []).
    p.set_defaults(models=[], models_from=[], iters=None, modes=[], runtimes=[], speed="auto")
    p.set_defaults(checkpoints=[], data_roots=[], profile=True, progress=True)
    opt = functools.partial(p.add_argument, default=argparse.SUPPRESS)
    speed = p.add_mutually_exclusive_group()
    # fmt: off
    p.add_argument("--device", default="auto", help="cuda, cuda:1, cpu; auto: cuda if available")
    opt("--models", nargs="+", metavar="NAME", help="registered models to measure (default: "
        "every model of a Table 4/5 row and every user model)")
    opt("--models-from", nargs="+", metavar="MODULE", help="import these modules first: models "
        "they register can be measured (default: none)")
    p.add_argument("--reference", default=REFERENCE, help="speed-up reference, measured too")
    opt("--iters", type=int, help=f"timed fp32 iterations per model, 1 to {MAX_ITERS}, no time "
        "cap (default: the preset's)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder; --out results "
                   "replaces the committed reference set")
    speed.add_argument("--quick", dest="speed", action="store_const", const="quick",
                       default=argparse.SUPPRESS, help="short run (default without a GPU): fp32 "
                       "rows valid, 64 samples; about 6 min on 2 CPU cores")
    speed.add_argument("--full", dest="speed", action="store_const", const="full",
                       default=argparse.SUPPRESS, help="long run (default on a GPU): 200 fp32 "
                       "iterations, 2 s minimum")
    opt("--modes", nargs="+", metavar="MODE", help="latency modes besides fp32, which is always "
        "measured (default: all in a full run, none in a quick run)")
    opt("--no-profile", dest="profile", action="store_false", help="skip the runtime-by-layer-"
        "type profile (default: profiled)")
    opt("--checkpoint", dest="checkpoints", type=_checkpoint, action="append", metavar="NAME=PATH",
        help="trained weights whose val accuracy to show beside the paper's; once per model "
        "(default: none)")
    opt("--data-root", dest="data_roots", type=Path, nargs="+", metavar="ROOT", help="dataset "
        "roots for --checkpoint, one per dataset (LIP, MPII): each model is scored on the first "
        "that holds its dataset (default: none)")
    opt("--runtimes", nargs="+", metavar="NAME[:PRECISION]", help="deployment runtimes for "
        "runtimes.* and cpu_realtime.md, for every model when named; 'none' skips them (default: "
        "every one available; a quick run leaves out compile and int8 and times the real-time "
        "networks only)")
    opt("--no-progress", dest="progress", action="store_false", help="no progress bar on stderr "
        "(default: a bar when stderr is a terminal)")
    # fmt: on
    return p


def config_from_args(args: argparse.Namespace) -> TablesConfig:
    return TablesConfig(
        device=args.device,
        models=tuple(args.models),
        models_from=tuple(args.models_from),
        reference=args.reference,
        out=args.out,
        speed=args.speed,
        iters=args.iters,
        modes=tuple(args.modes),
        profile=args.profile,
        checkpoints=tuple(args.checkpoints),
        data_roots=tuple(args.data_roots),
        progress=args.progress,
        runtimes=tuple(args.runtimes),
    )


def check_config(config: TablesConfig):
    """Every check that can fail, before anything slow; returns (device, names, presets,
    each checkpointed dataset's root)."""
    from architectures.registry import import_model_modules, require_models
    from bench.measure.devices import resolve_device
    from bench.measure.latency import MODES
    from bench.measure.presets import presets_for
    from bench.measure.runtimes.timing import runtime_spec
    from bench.measure.suite import calibrates, check_checkpoints
    from bench.report import publish
    from bench.report.paper_tables import default_models
    from bench.report.tables_outputs import OUTPUT_NAMES

    check_range("--iters", config.iters, low=1, high=MAX_ITERS)
    if unknown := [n for n in config.modes if n not in MODES]:
        raise UsageError(f"--modes: unknown {unknown[0]!r}; known: {', '.join(MODES)}")
    for spec in config.runtimes:
        try:
            runtime_spec(spec)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--runtimes: {exc}") from None
    import_model_modules(config.models_from)
    device = resolve_device(config.device, "--device")
    # The speed-up reference first.
    names = require_models([config.reference, *(config.models or default_models())])
    names = [config.reference] + [n for n in names if n != config.reference]
    presets = presets_for(
        config.speed, device.type, config.iters, config.modes, models_named=bool(config.models)
    )
    calibrate = bool(config.checkpoints) and calibrates(config.runtimes, presets, device)
    roots = check_checkpoints(config.checkpoints, config.data_roots, names, calibrate)
    publish.check_owner(config.out, PRODUCER, OUTPUT_NAMES)
    publish.recover(config.out)
    return device, names, presets, roots


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from bench.report import publish
    from bench.report.files import prepare_output

    # claim: another tool's set is refused first; a failed run removes an --out it created.
    with error_boundary(parser), publish.claim(args.out, PRODUCER):
        prepare_output(args.out, "--out")
        config = config_from_args(args)
        device, names, presets, roots = check_config(config)
        from bench.measure import suite
        from bench.report.notes import summary_line
        from bench.report.tables_outputs import OUTPUT_NAMES, outputs

        run_id, started = publish.new_run_id(), time.time()
        m = suite.measure(
            names,
            device,
            presets,
            runtimes=config.runtimes,
            profile=config.profile,
            checkpoints=config.checkpoints,
            data_roots=roots,
            progress=config.progress,
        )
        m.env.update(models=names, run_id=run_id, wall_time_s=round(time.time() - started, 1))
        files = outputs(m, names, config.reference)
        written = publish.publish(config.out, files, OUTPUT_NAMES, PRODUCER, run_id)
        print(summary_line(len(written), str(args.out), m.env))
    return 0


if __name__ == "__main__":
    sys.exit(main())
