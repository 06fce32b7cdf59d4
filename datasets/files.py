"""The first check on a file a user names: a folder or a missing path is refused, naming both."""

from __future__ import annotations

from pathlib import Path

from .sample import AnnotationError


def require_file(path: Path, what: str, kind: str = "a file") -> Path:
    """``path`` when it is a file; a folder raises :class:`AnnotationError` and a missing path
    :class:`FileNotFoundError`, each as ``"{what} {path} ..."`` (``kind`` says what was wanted)."""
    if path.is_dir():
        raise AnnotationError(f"{what} {path} is a folder, not {kind}")
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    return path
