"""The gate's subcommands, named as on the command line; each returns the exit status. A pass
shows a progress bar on stderr: one step per model, named in its description."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from architectures import list_models
from architectures.registry import import_model_modules
from bench.regression import bisect as bis
from bench.regression import history as hist
from bench.regression.gate import comparable, compare, missing_models, require_comparable
from bench.regression.measure import OnModel, fingerprint, run_pass
from bench.regression.model import (
    TOLERANCE,
    TOOL_ROOT,
    UPDATE,
    GateConfig,
    GateError,
    NoComparableBaseline,
    Pass,
    load_baseline,
    merge,
)
from bench.regression.repo import GitError, require_repository, worktree
from bench.report import files as io

EXIT_PASS, EXIT_REGRESSED = 0, 1


def progress(total: int, unit: str = "model") -> tqdm:
    return tqdm(total=total, unit=unit, file=sys.stderr, disable=None)


def following(bar: tqdm, label: str) -> OnModel:
    """A ``run_pass`` callback: the model in the description as it starts, a step as it ends."""
    return lambda name, done: bar.update() if done else bar.set_description(f"{label}: {name}")


def resolve_names(
    models: Sequence[str], reference: str, models_from: Sequence[str] = ()
) -> list[str]:
    """Reference first, then ``models`` (default: every registered model, those of the modules
    ``models_from`` included); unknown ones refused."""
    import_model_modules(models_from)
    known = list_models()
    names = list(models) or list(known)
    unknown = ", ".join(repr(n) for n in [*names, reference] if n not in known)
    if unknown:
        raise GateError(f"unknown model(s) {unknown}; known models: {', '.join(known)}")
    return [reference] + [n for n in dict.fromkeys(names) if n != reference]


def _remeasured_baseline(baseline: Pass, names: Sequence[str], source: Path, bar: tqdm) -> Pass:
    """The baseline's own commit measured on this machine, for a check on another fingerprint."""
    commit, redo = baseline.commit[:10], f"re-baseline with {UPDATE}"
    if not commit:
        raise NoComparableBaseline(f"{source} records no commit to re-measure here; {redo}")
    if baseline.dirty:
        raise NoComparableBaseline(
            f"{source} was measured with uncommitted changes in {', '.join(baseline.dirty)}, "
            f"so its commit {commit} cannot reproduce it; {redo} on a clean tree"
        )
    bar.write(f"note: measuring the baseline's commit {commit} here (git worktree)", sys.stdout)
    try:
        with worktree(TOOL_ROOT, baseline.commit) as tree:
            on_model = following(bar, f"baseline {commit}")
            return run_pass(baseline.config, names, tree, on_model=on_model)
    except GitError as exc:
        raise NoComparableBaseline(f"cannot check out {commit} ({exc}); {redo}") from None


def check(args: argparse.Namespace) -> int:
    started = time.time()
    baseline = load_baseline(args.baseline)
    given = {"repeats": args.repeats, "tolerance": args.tolerance}
    config = replace(baseline.config, **{k: v for k, v in given.items() if v is not None})
    names = resolve_names(args.models, config.reference, args.models_from)
    not_run = ", ".join(n for n, _ in args.inject_slowdown if n not in names)
    if not_run:
        raise GateError(f"--inject-slowdown {not_run}: this check does not run it (see --models)")
    if args.report is not None:
        io.prepare_output(args.report.parent, "--report")
    here = fingerprint()
    reasons = comparable(baseline, config, here)
    if reasons and args.other_machine == "refuse":
        require_comparable(baseline, config, here, str(args.baseline))
    again = [n for n in names if n in baseline.models] if reasons else []
    with progress(len(again) + len(names)) as bar:
        if reasons:
            bar.write(f"note: another fingerprint ({'; '.join(reasons)})", sys.stdout)
            baseline = _remeasured_baseline(baseline, again, args.baseline, bar)
        slowdowns = dict(args.inject_slowdown)
        now = following(bar, "now")
        current = run_pass(
            config, names, slowdowns=slowdowns, on_model=now, models_from=args.models_from
        )
    gone = [] if args.models else missing_models(baseline, list_models())
    table = compare(baseline, current, [*names, *gone], config.tolerance)
    failed = table.verdict.str.startswith("FAIL")
    h, w = config.input_size
    title = f"Latency regression gate (instructions, {h}x{w}, {config.repeats} repeats)"
    print(io.to_markdown(table, title))
    if args.report is not None:
        io.write_markdown(table, args.report, title)
    verdict, took = "FAILED" if failed.any() else "passed", time.time() - started
    print(f"{verdict}: {failed.sum()} of {len(table)} models regressed ({took:.0f} s)")
    return EXIT_REGRESSED if failed.any() else EXIT_PASS


def _config_for(args: argparse.Namespace, path: Path) -> GateConfig:
    """The previous baseline's settings (defaults without one), overridden by the options."""
    try:
        base = load_baseline(path).config
    except GateError:
        base = GateConfig()  # no or unreadable baseline: update replaces it anyway
    given = {k: getattr(args, k) for k in ("reference", "repeats", "tolerance")}
    given["input_size"] = tuple(args.size) if args.size else None
    return replace(base, **{k: v for k, v in given.items() if v is not None})


def update(args: argparse.Namespace) -> int:
    config = _config_for(args, args.baseline)
    if args.passes < 1:
        raise GateError(f"--passes must be >= 1, got {args.passes}")
    names = resolve_names([], config.reference, args.models_from)
    io.prepare_output(args.baseline.parent, "--baseline")
    with progress(args.passes * len(names)) as bar:
        runs = [following(bar, f"pass {i + 1}/{args.passes}") for i in range(args.passes)]
        passes = [run_pass(config, names, on_model=r, models_from=args.models_from) for r in runs]
        baseline = merge(passes)
    io.write_json(baseline.to_json(), args.baseline)
    table = hist.rows_of(baseline)[["model", "figure", "value", "samples", "params", "flops"]]
    print(io.to_markdown(table, f"New regression baseline: {args.baseline}"))
    if baseline.dirty:  # a check on another machine could not re-measure its commit
        print(f"warning: uncommitted changes in {', '.join(baseline.dirty)}: commit, then update")
    print(f"commit the baseline: git add {args.baseline}")
    return EXIT_PASS


def record(args: argparse.Namespace) -> int:
    config = _config_for(args, args.baseline)
    names = resolve_names(args.models, config.reference, args.models_from)
    io.prepare_output(args.history.parent, "--history")
    if args.history.exists():
        hist.read_history(args.history)  # refuse a malformed file before measuring
    with progress(len(names)) as bar:
        on_model = following(bar, "this tree")
        rows = hist.rows_of(
            run_pass(config, names, on_model=on_model, models_from=args.models_from)
        )
    frame = hist.append(args.history, rows)
    title = f"Recorded into {args.history} ({len(frame)} rows)"
    print(io.to_markdown(rows[["commit", "model", "figure", "value", "samples"]], title))
    return EXIT_PASS


def history(args: argparse.Namespace) -> int:
    frame = hist.read_history(args.history)
    per_model = hist.series(frame)
    unknown = ", ".join(m for m in args.models if m not in per_model)
    if unknown:
        raise GateError(f"no history for {unknown}; recorded models: {', '.join(per_model)}")
    per_model = {m: per_model[m] for m in args.models or per_model}
    if args.plot.is_dir():
        raise GateError(f"--plot {args.plot}: is a folder; give the PNG file to write")
    io.prepare_output(args.plot.parent, "--plot")
    tolerance = GateConfig(tolerance=args.tolerance or TOLERANCE).tolerance  # checked as in check
    changes = hist.change_table(per_model, tolerance)
    hist.plot(per_model, changes, args.plot)
    table = io.to_markdown(changes.drop(columns="pass"), "Change points")
    print(f"{table if len(changes) else 'no change points'}\ntrend plot: {args.plot}")
    return EXIT_PASS


def bisect(args: argparse.Namespace) -> int:
    config = _config_for(args, args.baseline)
    resolve_names([args.model], config.reference)
    require_repository(args.repo)
    with progress(2 + bis.expected_steps(args.repo, args.good, args.bad), unit="commit") as bar:
        step = following(bar, f"bisect {args.model}")
        on_step = lambda commit, figure: step(commit[:10], figure is not None)
        result = bis.bisect(args.repo, args.good, args.bad, config, args.model, on_step)
        bar.total = bar.n  # git's estimate of the steps, now the count
        bar.refresh()
    steps = pd.DataFrame([{"commit": c[:10], "figure": f} for c, f in result.steps])
    print(io.to_markdown(steps, f"Bisect of {args.model} (instructions)"))
    change = 100 * (result.bad / result.good - 1)
    print(f"first commit with the change ({change:+.1f} % from good to bad): {result.first_bad}")
    return EXIT_PASS
