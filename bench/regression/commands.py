"""The gate's sub-commands; each returns the process exit status (see ``__main__``)."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd

from architectures import list_models
from bench.regression import history as hist
from bench.regression.bisecting import bisect, describe, figure_at
from bench.regression.gate import comparable, compare, missing_models, require_comparable
from bench.regression.gitwalk import GitError, require_repository, worktree
from bench.regression.measure import TOOL_ROOT, fingerprint_of, run_pass
from bench.regression.model import (
    GateConfig,
    GateError,
    NoComparableBaseline,
    Pass,
    load_baseline,
    merge,
)
from bench.regression.stats import tolerance as tolerance_of
from bench.report import files as io

EXIT_PASS, EXIT_REGRESSED = 0, 1


def resolve_names(models: Sequence[str], reference: str) -> list[str]:
    """Reference first, then ``models`` (default: every registered model); unknown ones refused."""
    known = list_models()
    names = list(models) or list(known)
    unknown = [n for n in [*names, reference] if n not in known]
    if unknown:
        raise GateError(
            f"unknown model(s) {', '.join(map(repr, unknown))}; known models: {', '.join(known)}"
        )
    return [reference] + [n for n in dict.fromkeys(names) if n != reference]


def _remeasured_baseline(baseline: Pass, names: Sequence[str], source: Path) -> Pass:
    """The baseline's own commit measured on this machine, for a check on another fingerprint."""
    if not baseline.commit:
        raise NoComparableBaseline(
            f"{source} records no commit to re-measure on this machine; "
            f"re-baseline with `python -m bench.regression update`"
        )
    if baseline.dirty:
        raise NoComparableBaseline(
            f"{source} was measured with uncommitted changes in {', '.join(baseline.dirty)}, "
            f"so its commit {baseline.commit[:10]} cannot reproduce it; re-baseline with "
            f"`python -m bench.regression update` on a clean tree"
        )
    ran = [n for n in names if n in baseline.models]
    try:
        with worktree(TOOL_ROOT, baseline.commit) as tree:
            return run_pass(baseline.config, ran, models_root=tree)
    except GitError as exc:
        raise NoComparableBaseline(
            f"cannot check out the baseline's commit "
            f"{baseline.commit[:10]} ({exc}); re-baseline with "
            f"`python -m bench.regression update`"
        ) from None


def check(args: argparse.Namespace) -> int:
    started = time.time()
    baseline = load_baseline(args.baseline)
    config = replace(baseline.config, repeats=args.repeats or baseline.config.repeats)
    names = resolve_names(args.models, config.reference)
    not_run = [n for n, _ in args.inject_slowdown if n not in names]
    if not_run:
        raise GateError(
            f"--inject-slowdown names {', '.join(not_run)}, which this check does "
            f"not run (--models {' '.join(names[1:])})"
        )
    if args.report is not None:
        io.prepare_output(args.report.parent, "--report")
    here = fingerprint_of(config)
    reasons = comparable(baseline, config, here)
    if reasons and args.other_machine == "refuse":
        require_comparable(baseline, config, here, str(args.baseline))
    if reasons:
        print(
            f"note: {args.baseline} was measured under another fingerprint "
            f"({'; '.join(reasons)}); measuring its commit {baseline.commit[:10]} on this "
            f"machine as the baseline (git worktree)",
            flush=True,
        )
        baseline = _remeasured_baseline(baseline, names, args.baseline)
    current = run_pass(config, names, slowdowns=dict(args.inject_slowdown))
    table = compare(baseline, current, names, args.tolerance)
    if not args.models:
        gone = missing_models(baseline, list_models())
        table = pd.concat(
            [table, pd.DataFrame([{"model": n, "verdict": "FAIL: missing"} for n in gone])],
            ignore_index=True,
        )
    failed = table.verdict.str.startswith("FAIL")
    title = (
        f"Latency regression gate ({config.signal}, {config.input_size[0]}x"
        f"{config.input_size[1]}, {config.repeats} repeats)"
    )
    print(io.to_markdown(table, title))
    if args.report is not None:
        io.write_markdown(table, args.report, title)
    print(
        f"{'FAILED' if failed.any() else 'passed'}: {int(failed.sum())} of {len(table)} "
        f"models regressed ({time.time() - started:.0f} s)"
    )
    return EXIT_REGRESSED if failed.any() else EXIT_PASS


def _config_for(args: argparse.Namespace, previous: Pass | None) -> GateConfig:
    base = previous.config if previous is not None else GateConfig()
    given = {
        k: getattr(args, k)
        for k in ("signal", "reference", "repeats", "floor")
        if getattr(args, k, None) is not None
    }
    if getattr(args, "size", None):
        given["input_size"] = tuple(args.size)
    return GateConfig(
        **{
            **asdict(base),
            **given,
            "input_size": tuple(given.get("input_size", base.input_size)),
            "models": (),
        }
    )


def _previous(path: Path) -> Pass | None:
    try:
        return load_baseline(path)
    except GateError:
        return None  # no or unreadable baseline: defaults (update replaces it anyway)


def update(args: argparse.Namespace) -> int:
    config = _config_for(args, _previous(args.baseline))
    names = resolve_names([], config.reference)
    io.prepare_output(args.baseline.parent, "--baseline")
    passes = [run_pass(config, names) for _ in range(args.passes)]
    baseline = merge(passes)
    io.write_json(baseline.to_json(), args.baseline)
    rows = [
        {
            "model": n,
            "figure": baseline.figure_of(n),
            "median": statistics.median(m.samples),
            "samples": len(m.samples),
            "tolerance (%)": 100 * tolerance_of(m.samples, config.repeats, config.floor),
            "params": m.params,
            "GFLOPs": m.flops / 1e9,
        }
        for n, m in baseline.models.items()
    ]
    print(io.to_markdown(pd.DataFrame(rows), f"New regression baseline: {args.baseline}"))
    if baseline.dirty:
        print(
            f"warning: measured with uncommitted changes in {', '.join(baseline.dirty)}; "
            f"commit them, then re-run update, so that a check on another machine can "
            f"re-measure the baseline's commit"
        )
    print(f"commit the baseline: git add {args.baseline}")
    return EXIT_PASS


def record(args: argparse.Namespace) -> int:
    config = _config_for(args, _previous(args.baseline))
    names = resolve_names(args.models, config.reference)
    io.prepare_output(args.history.parent, "--history")
    if args.history.exists():
        hist.read_history(args.history)  # refuse a malformed file before measuring
    if not args.commits:
        rows = hist.rows_of(run_pass(config, names))
    else:  # backfill: other commits' models, measured here by this tree's code
        require_repository(args.repo)
        passes = []
        for commit in args.commits:
            with worktree(args.repo, commit) as tree:
                passes.append(hist.rows_of(run_pass(config, names, models_root=tree)))
        rows = pd.concat(passes, ignore_index=True)
    frame = hist.append(args.history, rows)
    print(
        io.to_markdown(
            rows[["commit", "model", "figure", "value", "samples"]],
            f"Recorded into {args.history} ({len(frame)} rows)",
        )
    )
    return EXIT_PASS


def show_history(args: argparse.Namespace) -> int:
    frame = hist.read_history(args.history)
    per_model = hist.series(frame, args.fingerprint)
    if args.models:
        unknown = [m for m in args.models if m not in per_model]
        if unknown:
            raise GateError(
                f"no history for {', '.join(unknown)}; recorded models: {', '.join(per_model)}"
            )
        per_model = {m: per_model[m] for m in args.models}
    if args.plot.is_dir():
        raise GateError(f"--plot {args.plot}: is a folder; give the PNG file to write")
    io.prepare_output(args.plot.parent, "--plot")
    changes = hist.change_table(per_model, args.floor)
    hist.plot(per_model, changes, args.plot)
    print(
        io.to_markdown(changes.drop(columns="pass"), "Change points (ruptures PELT)")
        if len(changes)
        else "no change points"
    )
    print(f"trend plot: {args.plot}")
    return EXIT_PASS


def run_bisect(args: argparse.Namespace) -> int:
    config = _config_for(args, _previous(args.baseline))
    resolve_names([args.model], config.reference)
    require_repository(args.repo)
    result = bisect(
        args.repo, args.good, args.bad, figure_at(args.repo, config, args.model), config.floor
    )
    steps = pd.DataFrame([{"commit": c[:10], "figure": f} for c, f in result.steps])
    print(io.to_markdown(steps, f"Bisect of {args.model} ({config.signal})"))
    print(describe(args.repo, result))
    return EXIT_PASS
