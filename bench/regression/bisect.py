"""Find the commit that changed a model's gated figure with ``git bisect`` in a temporary
worktree; a commit is bad when its figure is closer, in log terms, to BAD's (as TorchBench)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.regression.measure import MeasureError, run_pass
from bench.regression.model import GateConfig, GateError
from bench.regression.repo import GitError, git, resolve, worktree


@dataclass
class BisectResult:
    good: float
    bad: float
    first_bad: str  # "<short id> <subject>"
    steps: list[tuple[str, float]]  # (commit, figure) in the order measured


def figure_at(config: GateConfig, model: str, tree: Path) -> float:
    """Median gated figure of ``model`` measured in ``tree`` (one pass with the reference)."""
    names = list(dict.fromkeys([config.reference, model]))
    return statistics.median(run_pass(config, names, models_root=tree).models[model].samples)


def sides_with_bad(value: float, good: float, bad: float) -> bool:
    return abs(math.log(value / bad)) < abs(math.log(value / good))


def expected_steps(root: Path, good: str, bad: str) -> int:
    """Commits git bisect will test between ``good`` and ``bad`` (its own estimate, rounded up)."""
    good, bad = resolve(root, good), resolve(root, bad)
    count = int(git(root, "rev-list", "--count", "--ancestry-path", f"{good}..{bad}"))
    return math.ceil(math.log2(count)) if count > 1 else 0


def bisect(
    root: Path,
    good: str,
    bad: str,
    config: GateConfig,
    model: str,
    on_step: Callable[[str, float | None], None] = lambda commit, figure: None,
) -> BisectResult:
    """First commit after ``good`` whose figure sides with ``bad``'s; ``on_step`` sees each
    commit as its measuring starts (figure None) and ends."""
    good, bad = resolve(root, good), resolve(root, bad)
    if good == bad:
        raise GateError(f"{good[:10]} is both ends: nothing to bisect")
    if git(root, "merge-base", good, bad) != good:
        raise GitError(f"{good[:10]} is not an ancestor of {bad[:10]}")
    steps: list[tuple[str, float]] = []

    def measure(tree: Path) -> float:
        commit = git(tree, "rev-parse", "HEAD")
        on_step(commit, None)
        steps.append((commit, figure_at(config, model, tree)))
        on_step(*steps[-1])
        return steps[-1][1]

    for commit in (good, bad):
        with worktree(root, commit) as tree:
            measure(tree)
    f_good, f_bad = steps[0][1], steps[1][1]
    if abs(f_bad / f_good - 1) <= config.tolerance:
        raise GateError(
            f"the figure hardly differs between {good[:10]} ({f_good:.6g}) and {bad[:10]} "
            f"({f_bad:.6g}): within the {100 * config.tolerance:g} % tolerance, nothing to bisect"
        )
    with worktree(root, bad) as tree:
        said = git(tree, "bisect", "start", bad, good)
        while "is the first bad commit" not in said:
            try:
                value = measure(tree)
            except MeasureError:  # this commit's models do not build: neither good nor bad
                said = git(tree, "bisect", "skip")
                continue
            said = git(tree, "bisect", "bad" if sides_with_bad(value, f_good, f_bad) else "good")
        first_bad = git(tree, "log", "-1", "--format=%h %s", "refs/bisect/bad")
        git(tree, "bisect", "reset")
    return BisectResult(f_good, f_bad, first_bad, steps)
