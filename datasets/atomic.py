"""Atomic writers: a temporary ``.<name>.<random>.tmp`` beside the target, then a rename, so no
reader sees a half-written file; :mod:`bench.report.files` builds on them.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

PathLike = str | os.PathLike
TMP_SUFFIX = ".tmp"


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def file_mode() -> int:
    """The mode ``open()`` gives a new file (``mkstemp`` alone would leave it 0600)."""
    return 0o666 & ~_umask()


def atomic_write(path: PathLike, write: Callable[[Any], None], binary: bool = False) -> Path:
    """Call ``write(handle)`` on a temp file beside ``path``, then ``os.replace`` it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        os.fchmod(fd, file_mode())
        mode, encoding = ("wb", None) if binary else ("w", "utf-8")
        with os.fdopen(fd, mode, encoding=encoding) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # BaseException too: a Ctrl-C mid-write must not leave a stray temp file behind.
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: PathLike, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text))


def write_bytes(path: PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data), binary=True)


def staging_folder(target: PathLike) -> Path:
    """A new hidden folder beside ``target`` for :func:`swap_folder` (stale ones removed first)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*"):
        if stale.is_dir() and stale.name.endswith((TMP_SUFFIX, ".old")):
            shutil.rmtree(stale, ignore_errors=True)
    folder = tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=TMP_SUFFIX)
    os.chmod(folder, 0o777 & ~_umask())  # as mkdir would make it; mkdtemp's 0700 hides it
    return Path(folder)


def swap_folder(staging: PathLike, target: PathLike) -> None:
    """Rename ``staging`` to ``target``, the old set aside first: a kill leaves one whole set."""
    staging, target = Path(staging), Path(target)
    aside = None
    if target.exists():
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
        os.replace(target, aside / target.name)
    os.replace(staging, target)
    if aside is not None:
        shutil.rmtree(aside)
