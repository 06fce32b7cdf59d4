"""The project's atomic writers: a temporary file (or folder) beside the target, then a rename.

A reader (or an interrupted run) never sees a half-written file: either the previous file stays
intact or the new one is complete. Files get the mode the umask gives a new file (``mkstemp`` alone
would leave them 0600, unreadable to other users). Temporary files are named
``.<name>.<random>.tmp``; :func:`bench.report.files.prepare_output` removes ones a killed run left
behind.

It lives here, in the lowest layer that writes files (generated data sets), so that ``datasets``
never imports ``bench``; :mod:`bench.report.files` builds its CSV, Markdown, JSON, PNG and
checkpoint writers on it.
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
    """The mode ``open()`` would give a new file under the current umask."""
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
    """A new empty hidden folder beside ``target`` (``.<name>.<random>.tmp``), on the same file
    system, to build a whole set in before :func:`swap_folder` puts it in place. Folders of this
    kind that a killed run left beside ``target`` are removed first."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*"):
        if stale.is_dir() and stale.name.endswith((TMP_SUFFIX, ".old")):
            shutil.rmtree(stale, ignore_errors=True)
    folder = tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=TMP_SUFFIX)
    os.chmod(folder, 0o777 & ~_umask())  # as mkdir would make it; mkdtemp's 0700 hides it
    return Path(folder)


def swap_folder(staging: PathLike, target: PathLike) -> None:
    """Put the folder ``staging`` at ``target`` by renames, removing what was there.

    The old folder is first renamed aside (a hidden name beside it), so a run killed at any point
    leaves ``target`` holding the old set whole, the new set whole, or nothing; never a mix.
    """
    staging, target = Path(staging), Path(target)
    aside = None
    if target.exists():
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
        os.replace(target, aside / target.name)
    os.replace(staging, target)
    if aside is not None:
        shutil.rmtree(aside)
