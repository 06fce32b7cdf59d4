"""Regression history in commit order: passes recorded out of order (``record --commits`` of
older commits after newer ones) are plotted and searched for change points in the order of
their commits in git history; commits git does not know keep their record order."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from bench.regression import history as hist
from tests.helpers import history_frame


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    """A linear history of three commits whose committer dates run backwards (a rebase can
    leave that): parents must still come first."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    commits = []
    for i, date in enumerate(("2030-01-03T00:00:00", "2030-01-02T00:00:00", "2030-01-01T00:00")):
        env = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q"]
            + ["--allow-empty", "-m", f"step {i}"],
            cwd=root,
            check=True,
            env={**os.environ, **env},
        )
        commits.append(_git(root, "rev-parse", "HEAD"))
    return root, commits


def _history(
    passes: list[tuple[str, float]], models: tuple[str, ...] = ("net",), start: int = 0
) -> pd.DataFrame:
    """One row per model and pass, in the given (record) order, second ``start`` on."""
    return history_frame(
        [
            {
                "recorded_at": f"2030-02-01T00:00:{start + i:02d}+00:00",
                "commit": commit,
                "model": model,
                "value": value,
            }
            for i, (commit, value) in enumerate(passes)
            for model in models
        ]
    )


def test_git_positions_put_parents_first_whatever_the_dates(repo):
    root, (c0, c1, c2) = repo
    positions = hist.commit_positions(root)
    assert positions[c0] < positions[c1] < positions[c2]


def test_a_backfilled_older_commit_is_placed_before_the_newer_ones(repo, tmp_path):
    root, (c0, c1, c2) = repo
    # recorded: c2 at HEAD first, then `record --commits c0 c1`; the figure rose 20 % at c2
    frame = _history([(c2, 1.2), (c0, 1.0), (c1, 1.0)])
    g = hist.series(frame, repo=root)["net"]
    assert list(g.commit) == [c0, c1, c2] and list(g["pass"]) == [0, 1, 2]
    changes = hist.change_table({"net": g})
    assert list(changes["to commit"]) == [c2[:10]] and list(changes["pass"]) == [2]
    assert changes["change (%)"].iloc[0] == pytest.approx(20)
    # in record order the same rows showed a fall at c0, not the rise at c2
    plain = hist.series(frame, repo=tmp_path)["net"]  # not a git repository: record order
    assert list(plain.commit) == [c2, c0, c1]
    assert list(hist.change_table({"net": plain})["to commit"]) == [c0[:10]]


def test_unknown_commits_stay_after_the_pass_recorded_before_them(repo):
    root, (c0, c1, c2) = repo
    other = "f" * 40  # measured in another clone (`record --repo`)
    frame = _history([(c2, 1.0), (c0, 1.0), (other, 1.0), (c1, 1.0), (c0, 1.0)])
    g = hist.series(frame, repo=root)["net"]
    # c0's two passes keep their record order, the unknown one after the first c0 pass
    assert list(g.commit) == [c0, other, c0, c1, c2]
    assert [t[17:19] for t in g.recorded_at] == ["01", "02", "04", "03", "00"]


def test_the_plot_puts_each_model_at_its_pass_and_labels_the_commits_in_order(repo, tmp_path):
    root, (c0, c1, c2) = repo
    frame = _history([(c2, 1.0), (c0, 1.0), (c1, 1.0)], models=("a", "b"))
    frame = pd.concat([frame, _history([(c1, 1.1)], models=("a",), start=3)], ignore_index=True)
    per_model = hist.series(frame, repo=root)
    assert list(per_model["a"]["pass"]) == [0, 1, 2, 3]  # c0, c1, c1 again, c2
    assert list(per_model["b"]["pass"]) == [0, 1, 3]  # b was not in c1's second pass
    path = hist.plot(per_model, hist.change_table(per_model), tmp_path / "h.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
