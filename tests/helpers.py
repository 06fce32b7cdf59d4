"""Set-up several test modules share: generated data, a quick CPU training config, a quick
``bench.tables`` run, a failing writer (import as ``from helpers import ...``, like
``tiny_models``)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.accuracy.training.config import TrainConfig
from bench.measure import suite
from bench.regression import history as hist
from bench.report import files as io
from datasets.synthetic import SyntheticConfig, generate


def generated_root(
    factory: pytest.TempPathFactory, fmt: str, num_images: int, seed: int, **config: Any
) -> Path:
    """A fresh folder holding ``num_images`` generated ``fmt`` ("lip" / "mpii") images."""
    root = factory.mktemp(fmt)
    generate(SyntheticConfig(format=fmt, out=root, num_images=num_images, seed=seed, **config))
    return root


def cpu_train_config(model: str, root: Path, out: Path, **fields: Any) -> TrainConfig:
    """A training run for a test: on the CPU, data loaded in the main process, no progress bar,
    LIP unless ``fields`` says otherwise (``fields`` are the run's own: epochs, lr, seed...)."""
    quick = {"dataset": "lip", "workers": 0, "device": "cpu", "progress": False}
    return TrainConfig(model=model, root=root, out=out, **{**quick, **fields})


def half_written_figures(code: int = errno.ENOSPC) -> Callable[..., Path]:
    """A stand-in for :func:`bench.report.files.write_figure` that writes half a PNG through the
    real
    atomic writer, then fails with ``OSError(code)`` (a full disk by default)."""

    def write_figure(fig: object, path: io.PathLike, dpi: int = 120) -> Path:
        def write(handle) -> None:
            handle.write(b"half a png")
            raise OSError(code, os.strerror(code))

        return io.atomic_write(path, write, binary=True)

    return write_figure


def stub_table3(patch: pytest.MonkeyPatch) -> None:
    """Table 3 counts the real context modules (seconds); its content is test_complexity's."""
    patch.setattr(suite, "table3", lambda: pd.DataFrame({"module": ["stub"]}))


def quick_tables_argv(model: str, out: Path, *extra: str) -> list[str]:
    """``python -m bench.tables`` arguments: ``model`` alone (its own reference), quick preset, no
    progress bar, on the CPU (auto would pick a GPU where there is one); ``--out`` comes last."""
    fixed = ["--models", model, "--reference", model, "--quick", "--no-progress"]
    return [*fixed, "--device", "cpu", *extra, "--out", str(out)]


def history_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Regression-history rows (``bench.regression.history.COLUMNS``): each dict names what its
    test varies; every other field is a fixed, valid value."""
    fixed = {
        "recorded_at": "t",
        "commit": "c00",
        "dirty": False,
        "fingerprint_id": "fp",
        "cpu": "x",
        "torch": "t",
        "signal": "instructions",
        "input": "64x64",
        "model": "net",
        "figure": "ratio",
        "value": 1.0,
        "samples": 3,
        "params": 1,
        "flops": 1,
    }
    return pd.DataFrame([{**fixed, **row} for row in rows], columns=hist.COLUMNS)


def fresh_python(cwd: Path, path: list[Path], *args: str) -> subprocess.CompletedProcess:
    """Python in a fresh process, in ``cwd`` with ``PYTHONPATH`` = ``path``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))}
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def without_warnings(err: str) -> str:
    """A command's stderr less its ``prog: warning:`` lines (a model registered for the other
    dataset is warned about before the error that follows)."""
    return "".join(line for line in err.splitlines(True) if ": warning: " not in line)
