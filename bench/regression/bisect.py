"""Find the commit that changed a model's gated figure with ``git bisect run``.

Both ends are measured first; each step then measures a commit's models (checked out in a
temporary worktree) with this tree's code and answers "bad" when the figure is closer, in log
terms, to BAD's than to GOOD's (as TorchBench bisects); a commit whose models fail is skipped.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.regression.measure import MeasureError, run_pass
from bench.regression.model import TOOL_ROOT, GateConfig, GateError
from bench.regression.repo import GitError, git, resolve, worktree

GOOD, BAD, SKIP, ABORT = 0, 1, 125, 128  # git bisect run's exit codes
STEP = "gate-step"  # prefix of the lines a step prints: "gate-step COMMIT [FIGURE]"


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


def step_command(config: GateConfig, model: str, good: float, bad: float, tree: Path) -> list[str]:
    """What ``git bisect run`` runs: this module, from this tree (``cd``: ``python -m`` puts the
    working folder on the path), measuring ``tree``."""
    job = {"config": asdict(config), "model": model, "tree": str(tree), "good": good, "bad": bad}
    step = [sys.executable, "-m", "bench.regression.bisect", json.dumps(job)]
    return ["sh", "-c", 'cd "$0" && exec "$@"', str(TOOL_ROOT), *step]


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
    ends = []
    for commit in (good, bad):
        on_step(commit, None)
        with worktree(root, commit) as tree:
            ends.append((commit, figure_at(config, model, tree)))
        on_step(*ends[-1])
    f_good, f_bad = ends[0][1], ends[1][1]
    if abs(f_bad / f_good - 1) <= config.tolerance:
        raise GateError(
            f"the figure hardly differs between {good[:10]} ({f_good:.6g}) and {bad[:10]} "
            f"({f_bad:.6g}): within the {100 * config.tolerance:g} % tolerance, nothing to bisect"
        )
    with worktree(root, bad) as tree:
        git(tree, "bisect", "start", bad, good)
        command = step_command(config, model, f_good, f_bad, tree)
        proc = subprocess.Popen(
            ["git", "bisect", "run", *command],
            cwd=tree,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        steps, last = [], "no output"
        for line in proc.stdout:
            last, fields = line.rstrip(), line.split()
            if fields[:1] == [STEP]:
                figure = float(fields[2]) if len(fields) > 2 else None
                steps += [(fields[1], figure)] if figure is not None else []
                on_step(fields[1], figure)
        if proc.wait() != 0:
            raise GitError(f"git bisect run failed: {last}")
        first_bad = git(tree, "log", "-1", "--format=%h %s", "refs/bisect/bad")
        git(tree, "bisect", "reset")
    return BisectResult(f_good, f_bad, first_bad, ends + steps)


def main(argv: Sequence[str] | None = None) -> int:
    """One bisect step (``JOB_JSON`` from :func:`step_command`): git's answer as exit status."""
    job = json.loads((sys.argv[1:] if argv is None else argv)[0])
    tree = Path(job["tree"])
    commit = git(tree, "rev-parse", "HEAD")
    print(STEP, commit, flush=True)
    try:
        value = figure_at(GateConfig(**job["config"]), job["model"], tree)
    except MeasureError as exc:  # this commit's models do not build: neither good nor bad
        print(exc, file=sys.stderr)
        return SKIP
    except Exception as exc:  # noqa: BLE001 - stop the bisection rather than mislabel a commit
        print(f"bisect step failed: {exc!r}", file=sys.stderr)
        return ABORT
    print(STEP, commit, value, flush=True)
    return BAD if sides_with_bad(value, job["good"], job["bad"]) else GOOD


if __name__ == "__main__":
    sys.exit(main())
