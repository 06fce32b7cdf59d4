"""Bisection with ``git bisect`` on a tiny git repository whose "figure" is a number in a file:
the ends measured first, the steps git chooses, the first changed commit, skipped commits and
the refusals."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.regression import bisect as bis
from bench.regression.measure import MeasureError
from bench.regression.model import GateConfig, GateError

CONFIG = GateConfig(reference="ref")


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    """Nine commits; the figure (first line of cost.txt) rises 10 % at the seventh."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    commits = []
    for i in range(9):
        (root / "cost.txt").write_text(f"{1.10 if i >= 6 else 1.00}\n{i}\n")
        _git(root, "add", "cost.txt")
        _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"step {i}")
        commits.append(_git(root, "rev-parse", "HEAD"))
    return root, commits


def _cost(config: GateConfig, model: str, tree: Path) -> float:
    return float((tree / "cost.txt").read_text().split()[0])


@pytest.fixture
def file_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bis, "figure_at", _cost)


@pytest.mark.usefixtures("file_figures")
def test_git_bisect_finds_the_commit_in_log2_steps(repo) -> None:
    root, commits = repo
    seen = []
    result = bis.bisect(root, commits[0], commits[-1], CONFIG, "net", lambda *s: seen.append(s))
    assert result.first_bad.endswith("step 6")
    assert (result.good, result.bad) == (1.0, 1.1)
    assert [c for c, _ in result.steps[:2]] == [commits[0], commits[-1]]
    assert 2 < len(result.steps) <= 2 + bis.expected_steps(root, commits[0], commits[-1])
    assert [s for s in seen if s[1] is not None] == result.steps  # each step reported as it ends
    assert _git(root, "rev-parse", "HEAD") == commits[-1]  # the user's checkout untouched
    assert "tree" not in _git(root, "worktree", "list").split("\n", 1)[-1]


@pytest.mark.usefixtures("file_figures")
def test_unrelated_unchanged_or_unknown_ends_are_refused(repo) -> None:
    root, commits = repo
    with pytest.raises(GateError, match="not an ancestor"):
        bis.bisect(root, commits[5], commits[2], CONFIG, "net")
    with pytest.raises(GateError, match="nothing to bisect"):
        bis.bisect(root, commits[0], commits[3], CONFIG, "net")
    with pytest.raises(GateError, match="both ends"):
        bis.bisect(root, commits[3], commits[3], CONFIG, "net")
    with pytest.raises(GateError, match="not a commit"):
        bis.bisect(root, "nope", commits[3], CONFIG, "net")


def test_the_expected_steps_are_log2_of_the_commits(repo) -> None:
    root, commits = repo
    assert bis.expected_steps(root, commits[0], commits[-1]) == 3  # 8 commits after good
    assert bis.expected_steps(root, commits[0], commits[1]) == 0


def test_a_figure_sides_with_the_end_it_is_closer_to_in_log_terms() -> None:
    assert bis.sides_with_bad(1.06, good=1.0, bad=1.1)
    assert not bis.sides_with_bad(1.04, good=1.0, bad=1.1)
    assert not bis.sides_with_bad(1.0, good=1.0, bad=1.1)


def test_a_commit_whose_models_fail_is_skipped(repo, monkeypatch) -> None:
    root, commits = repo

    tried = []

    def figure(config: GateConfig, model: str, tree: Path) -> float:
        tried.append(_git(tree, "rev-parse", "HEAD"))
        if tried[-1] == commits[4]:
            raise MeasureError("the model does not build at this commit")
        return _cost(config, model, tree)

    monkeypatch.setattr(bis, "figure_at", figure)
    result = bis.bisect(root, commits[0], commits[-1], CONFIG, "net")
    assert result.first_bad.endswith("step 6")
    assert commits[4] in tried and commits[4] not in [c for c, _ in result.steps]
