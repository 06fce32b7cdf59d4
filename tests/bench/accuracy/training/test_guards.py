"""Checks before a training run works: paths exist, the model takes the size, --out is claimed."""

from __future__ import annotations

from pathlib import Path

import pytest

from architectures.errors import InputFileError, UsageError
from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training.guards import LOG_NAME, claim_output, preflight
from tests.helpers import cpu_train_config


def test_preflight_names_the_missing_path(tmp_path: Path) -> None:
    cfg = cpu_train_config("gcpm-baseline", tmp_path / "none", tmp_path / "out")
    with pytest.raises(InputFileError, match="--root .*none: no such folder"):
        preflight(cfg)
    cfg = cpu_train_config("gcpm-baseline", tmp_path, tmp_path / "o", resume=tmp_path / "x.pt")
    with pytest.raises(InputFileError, match="--resume .*x.pt: no such file"):
        preflight(cfg)
    cfg = cpu_train_config("gcpm-baseline", tmp_path, tmp_path / "o", input_size=(60, 60))
    with pytest.raises(UsageError, match="multiples of 8"):
        preflight(cfg)


def test_restart_removes_the_previous_runs_files_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in (ckpt.LAST, ckpt.BEST, LOG_NAME, "notes.txt"):
        (out / name).write_text("x")
    cfg = cpu_train_config("gcpm-baseline", tmp_path, out, auto_resume=False)
    with claim_output(cfg):
        pass
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["notes.txt"]


def test_a_failed_run_takes_away_the_folder_it_created(tmp_path: Path) -> None:
    out = tmp_path / "new"
    with pytest.raises(RuntimeError), claim_output(cpu_train_config("m", tmp_path, out)):
        assert out.is_dir()
        raise RuntimeError("failed before writing")
    assert not out.exists()
