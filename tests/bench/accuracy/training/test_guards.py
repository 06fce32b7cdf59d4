"""Checks before a training run works: paths exist, the model takes the size, --out is claimed
and locked (the lock names its holder and dies with its process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from architectures.errors import InputFileError, OutputError, UsageError
from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training.guards import LOCK_NAME, LOG_NAME, claim_output, output_lock, preflight
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


ROOT = Path(__file__).resolve().parents[4]


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    with output_lock(tmp_path) as lock:
        assert lock.read_text().split()[0] == str(os.getpid())
        with (
            pytest.raises(
                OutputError, match=f"in use by another training run \\(pid {os.getpid()}"
            ),
            output_lock(tmp_path),
        ):
            pass
    with output_lock(tmp_path):  # released: the next run takes it
        pass


def test_a_lock_file_left_by_a_killed_run_does_not_block(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text("999999999 some-host\n")  # no process holds it
    with output_lock(tmp_path) as lock:
        assert lock.read_text().split()[0] == str(os.getpid())


@pytest.mark.slow  # a second interpreter that imports torch
def test_another_process_holding_it_is_named(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match=f"pid {holder.pid} on "), output_lock(tmp_path):
            pass
    finally:
        holder.kill()
        holder.wait()
    with output_lock(tmp_path):  # a killed holder's lock is gone with it
        pass


def test_an_unusable_folder_is_one_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    refused = pytest.raises(OutputError, match=f"--out {blocker}: cannot create a lock file")
    with refused, output_lock(blocker):
        pass


_HOLD = """
import sys, time
from pathlib import Path
from bench.accuracy.training.guards import output_lock
with output_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""
