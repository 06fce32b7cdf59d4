"""Atomic writers for the harness outputs (CSV, Markdown, JSON, PNG).

Every file is written to a temporary file in the destination folder and moved into place with
``os.replace``, so a reader (or an interrupted run) never sees a half-written table: either the
previous file stays intact or the new one is complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Union

import pandas as pd
from matplotlib.figure import Figure

PathLike = Union[str, os.PathLike]


def atomic_write(path: PathLike, write: Callable[[Any], None], binary: bool = False) -> Path:
    """Call ``write(handle)`` on a temp file beside ``path``, then ``os.replace`` it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
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


def write_csv(df: pd.DataFrame, path: PathLike) -> Path:
    return atomic_write(path, lambda f: df.to_csv(f, index=False, lineterminator="\n"))


def format_number(value: object) -> object:
    """Readable precision: 3 significant digits, but never scientific notation below 1e6."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if not isinstance(value, float):
        return value
    magnitude = abs(value)
    if magnitude >= 100 or magnitude == 0:
        return f"{value:.0f}" if magnitude < 1e6 else f"{value:.3g}"
    return f"{value:.1f}" if magnitude >= 10 else f"{value:.3g}"


def to_markdown(df: pd.DataFrame, title: str = "", notes: str = "",
                empty: str = "(no rows)") -> str:
    """A Markdown document: optional ``# title``, the table, optional notes below it."""
    parts = [f"# {title}\n"] if title else []
    if df.empty:
        parts.append(empty)
    else:
        shown = df.astype(object).map(format_number)
        parts.append(shown.to_markdown(index=False, disable_numparse=True))
    if notes:
        parts.append("\n" + notes.strip())
    return "\n".join(parts) + "\n"


def write_markdown(df: pd.DataFrame, path: PathLike, title: str = "", notes: str = "",
                   empty: str = "(no rows)") -> Path:
    return write_text(path, to_markdown(df, title, notes, empty))


def write_json(obj: Any, path: PathLike) -> Path:
    # default=str: versions, devices and paths serialise as their readable form.
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_figure(fig: Figure, path: PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib Figure as PNG (the Agg canvas is attached by the caller or here)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi), binary=True)
