"""Find the commit that changed a model's gated figure: binary search over git worktrees.

Every step measures the candidate commit's models with this tree's measuring code (one pass of
the reference and the model). A commit counts as "changed" when its figure is closer, in log
terms, to BAD's than to GOOD's, as TorchBench's bisection does with its endpoints.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.regression.gitwalk import commits_between, resolve, subject, worktree
from bench.regression.measure import run_pass
from bench.regression.model import GateConfig, GateError

Measure = Callable[[str], float]


@dataclass
class BisectResult:
    good: float
    bad: float
    first_bad: str  # commit id
    steps: list[tuple[str, float]]  # (commit, figure) in the order measured


def figure_at(root: Path, config: GateConfig, model: str) -> Measure:
    """A function commit -> median gated figure of ``model`` measured at that commit."""
    names = list(dict.fromkeys([config.reference, model]))

    def measure(commit: str) -> float:
        with worktree(root, commit) as tree:
            result = run_pass(config, names, models_root=tree)
        return statistics.median(result.models[model].samples)

    return measure


def bisect(root: Path, good: str, bad: str, measure: Measure, floor: float) -> BisectResult:
    """First commit after ``good`` whose figure sides with ``bad``'s; one measure per step."""
    commits = commits_between(root, good, bad)
    if not commits:
        raise GateError(f"{good} and {bad} are the same commit: nothing to bisect")
    steps = [(resolve(root, good), measure(good)), (commits[-1], measure(bad))]
    f_good, f_bad = steps[0][1], steps[1][1]
    if abs(f_bad / f_good - 1) <= floor:
        raise GateError(
            f"the figure hardly differs between {good} ({f_good:.6g}) and {bad} "
            f"({f_bad:.6g}): under the {100 * floor:.0f} % floor, nothing to bisect"
        )
    lo, hi = -1, len(commits) - 1  # commits[lo] sides with good (-1: good itself), hi with bad
    while hi - lo > 1:
        mid = (lo + hi) // 2
        value = measure(commits[mid])
        steps.append((commits[mid], value))
        if abs(math.log(value / f_bad)) < abs(math.log(value / f_good)):
            hi = mid
        else:
            lo = mid
    return BisectResult(f_good, f_bad, commits[hi], steps)


def describe(root: Path, result: BisectResult) -> str:
    change = 100 * (result.bad / result.good - 1)
    return (
        f"first commit with the change ({change:+.1f} % from good to bad): "
        f"{subject(root, result.first_bad)}"
    )
