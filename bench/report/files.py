"""Atomic writers for every file the project writes (CSV, Markdown, JSON, PNG, bytes, checkpoints).

Every writer goes through :func:`datasets.atomic.atomic_write` (re-exported here with
``write_text`` and ``write_bytes``): a temporary file in the destination folder
moved into place with ``os.replace``, so a reader (or an interrupted run) never sees a
half-written file, and files follow the umask. Temporary files are named
``.<name>.<random>.tmp``; :func:`prepare_output` removes ones a killed run left behind, and
:func:`removed_if_left_empty` takes away an output folder a failed run created and left empty.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from architectures.errors import InputFileError, OutputError

# Re-exported: every writer of the project is imported from here.
from datasets.atomic import TMP_SUFFIX, PathLike, atomic_write, write_bytes, write_text  # noqa: F401

if TYPE_CHECKING:  # light at import: the output checks of a command run before pandas loads
    import pandas as pd
    from matplotlib.figure import Figure


def torch_save(obj: Any, path: PathLike) -> Path:
    """``torch.save`` atomically (checkpoints)."""
    import torch

    return atomic_write(path, lambda f: torch.save(obj, f), binary=True)


def prepare_output(folder: PathLike, option: str = "--out") -> Path:
    """Create ``folder`` if needed and prove a file can be written there, before any work.

    Raises :class:`~architectures.errors.OutputError` naming ``option`` and the folder: a file in
    the way, no permission, a read-only file system. Temporary files of a killed earlier run
    (``.<name>.<random>.tmp``) are removed.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(errno.ENOTDIR, f"{option} {folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe.", suffix=TMP_SUFFIX)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(exc.errno, f"{option} {folder}: cannot write there ({reason})") from None
    remove_stale_temporaries(folder)
    return folder


@contextmanager
def removed_if_left_empty(folder: PathLike) -> Iterator[Path]:
    """Around a run that may create ``folder`` (and missing parents, as :func:`prepare_output`
    does): when the run raises or is interrupted, the folders it created are removed again if
    they are empty. A folder that existed before, or holds anything, is never touched."""
    folder = Path(folder)
    created = []  # deepest first
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    try:
        yield folder
    except BaseException:
        for path in created:
            try:
                path.rmdir()  # only succeeds on an empty folder
            except OSError:
                break
        raise


def readable_file(path: PathLike, what: str) -> Path:
    """``path`` if it is a file that opens and is not empty, else an
    :class:`~architectures.errors.InputFileError` whose message starts with ``what``."""

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{what}: {'is a folder' if path.is_dir() else 'no such file'}")
    try:
        with open(path, "rb") as handle:
            empty = not handle.read(1)
    except OSError as exc:
        raise InputFileError(f"{what}: cannot read ({exc.strerror or exc})") from None
    if empty:
        raise InputFileError(f"{what}: the file is empty")
    return path


def remove_stale_temporaries(folder: PathLike) -> list[Path]:
    """Delete ``.<name>.<random>.tmp`` files that a killed run left in ``folder``."""
    removed = []
    for path in Path(folder).glob(f".*{TMP_SUFFIX}"):
        if path.is_file() and path.name.count(".") >= 3:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def write_csv(df: pd.DataFrame, path: PathLike) -> Path:
    return atomic_write(path, lambda f: df.to_csv(f, index=False, lineterminator="\n"))


def to_markdown(
    df: pd.DataFrame,
    title: str = "",
    notes: str = "",
    empty: str = "(no rows)",
    floatfmt: Mapping[str, str] | None = None,
) -> str:
    """A Markdown document: optional ``# title``, the table, optional notes below it. Numbers
    are formatted once, per column (:func:`bench.report.views.as_text`; ``floatfmt``: column ->
    format spec)."""
    from bench.report.views import as_text

    parts = [f"# {title}\n"] if title else []
    if df.empty:
        parts.append(empty)
    else:
        parts.append(as_text(df, floatfmt).to_markdown(index=False, disable_numparse=True))
    if notes:
        parts.append("\n" + notes.strip())
    return "\n".join(parts) + "\n"


def write_markdown(
    df: pd.DataFrame,
    path: PathLike,
    title: str = "",
    notes: str = "",
    empty: str = "(no rows)",
    floatfmt: Mapping[str, str] | None = None,
) -> Path:
    return write_text(path, to_markdown(df, title, notes, empty, floatfmt))


def write_json(obj: Any, path: PathLike) -> Path:
    # default=str: versions, devices and paths serialise as their readable form.
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_figure(fig: Figure, path: PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib Figure as PNG (the Agg canvas is attached by the caller or here)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi), binary=True)
