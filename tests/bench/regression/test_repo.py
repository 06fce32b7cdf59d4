"""Git plumbing: the measured tree's commit and changed model files, checkouts of other commits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.regression.repo import GitError, head, require_repository, resolve, worktree


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "architectures").mkdir(parents=True)
    (root / "architectures" / "m.py").write_text("A = 1\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    return root


def test_head_names_the_commit_and_changed_model_files_only(repo: Path) -> None:
    assert head(repo) == (_git(repo, "rev-parse", "HEAD"), [])
    (repo / "architectures" / "m.py").write_text("A = 2\n")
    (repo / "notes.txt").write_text("not a model\n")
    assert head(repo)[1] == ["architectures/m.py"]
    assert head(repo.parent) == ("", [])  # outside git


def test_a_worktree_holds_the_commit_and_is_removed(repo: Path) -> None:
    commit = _git(repo, "rev-parse", "HEAD")
    (repo / "architectures" / "m.py").write_text("A = 2\n")
    with worktree(repo, "HEAD") as tree:
        assert (tree / "architectures" / "m.py").read_text() == "A = 1\n"
        assert _git(tree, "rev-parse", "HEAD") == commit
    assert not tree.exists()


def test_refusals_name_the_option_or_the_revision(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(GitError, match="--repo .*: no such folder"):
        require_repository(tmp_path / "none")
    with pytest.raises(GitError, match="not a git repository"):
        require_repository(tmp_path)
    require_repository(repo)
    with pytest.raises(GitError, match="'nope' is not a commit"):
        resolve(repo, "nope")
