"""One training run per output folder: the lock names its holder and dies with its process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from architectures.errors import OutputError
from bench.accuracy.training.lock import LOCK_NAME, output_lock

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
from bench.accuracy.training.lock import output_lock
with output_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""
