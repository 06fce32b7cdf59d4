"""Git plumbing of the gate: the measured tree's commit, and checkouts of other commits."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench.regression.model import GateError

# A measured commit's models; the measuring code is always the running tree's (see worker.py).
CODE_PATHS = ("architectures",)


class GitError(GateError):
    """A git command failed on the user's input (unknown commit, not a repository)."""


def git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if out.returncode != 0:
        message = (out.stderr.strip().splitlines() or ["failed"])[-1]
        raise GitError(f"git {' '.join(args)}: {message}")
    return out.stdout.rstrip()  # not lstrip: status lines start with a space


def head(root: Path) -> tuple[str, list[str]]:
    """HEAD's commit id and the code paths with uncommitted changes ("" and [] outside git)."""
    try:
        commit = git(root, "rev-parse", "HEAD")
        status = git(root, "status", "--porcelain", "--", *CODE_PATHS)
    except GitError:
        return "", []
    return commit, sorted(line[3:] for line in status.splitlines() if line.strip())


def require_repository(root: Path) -> None:
    if not root.is_dir():
        raise GitError(f"--repo {root}: no such folder")
    try:
        git(root, "rev-parse", "--git-dir")
    except GitError:
        raise GitError(f"--repo {root}: not a git repository") from None


def resolve(root: Path, rev: str) -> str:
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except GitError:
        raise GitError(f"{rev!r} is not a commit of the repository at {root}") from None


@contextmanager
def worktree(root: Path, commit: str) -> Iterator[Path]:
    """A detached checkout of ``commit`` in a temporary folder, removed afterwards."""
    commit = resolve(root, commit)
    with tempfile.TemporaryDirectory(prefix="gate-worktree-") as tmp:
        path = Path(tmp) / "tree"
        git(root, "worktree", "add", "--detach", "--quiet", str(path), commit)
        try:
            yield path
        finally:
            with suppress(GitError):
                git(root, "worktree", "remove", "--force", str(path))
