"""Atomic writers for every file the project writes, and the checks of an output folder."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
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
    import torch

    return atomic_write(path, lambda f: torch.save(obj, f), binary=True)


def prepare_output(folder: PathLike, option: str = "--out") -> Path:
    """Create ``folder``, prove a file can be written there; removes a killed run's temporaries."""
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
    for stale in folder.glob(f".*{TMP_SUFFIX}"):
        if stale.is_file() and stale.name.count(".") >= 3:
            stale.unlink(missing_ok=True)
    return folder


@contextmanager
def removed_if_left_empty(folder: PathLike) -> Iterator[Path]:
    """When the run inside raises, the empty folders it created on the way to ``folder`` go."""
    folder = Path(folder)
    created = [p for p in (folder, *folder.parents) if not os.path.lexists(p)]  # deepest first
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


def write_csv(df: pd.DataFrame, path: PathLike) -> Path:
    return atomic_write(path, lambda f: df.to_csv(f, index=False, lineterminator="\n"))


def to_markdown(
    df: pd.DataFrame, title: str = "", notes: str = "", empty: str = "(no rows)"
) -> str:
    from bench.report.views import as_text

    parts = [f"# {title}\n"] if title else []
    parts.append(empty if df.empty else as_text(df).to_markdown(index=False, disable_numparse=True))
    if notes:
        parts.append("\n" + notes.strip())
    return "\n".join(parts) + "\n"


def write_markdown(df: pd.DataFrame, path: PathLike, *args: str, **kwargs: str) -> Path:
    return write_text(path, to_markdown(df, *args, **kwargs))


def write_json(obj: Any, path: PathLike) -> Path:
    # default=str: versions, devices and paths serialise as their readable form.
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_figure(fig: Figure, path: PathLike, dpi: int = 120) -> Path:
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi), binary=True)
