"""Atomic writes: a file or a whole folder appears complete or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from datasets.atomic import atomic_write, staging_folder, swap_folder, write_text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path) -> None:
    path = write_text(tmp_path / "a.txt", "old")

    def fail(handle) -> None:
        handle.write("half")
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        atomic_write(path, fail)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]


def test_a_new_file_has_the_mode_the_umask_gives(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        path = write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_swap_puts_a_whole_set_in_place_of_the_old_one(tmp_path) -> None:
    target = tmp_path / "set"
    target.mkdir()
    (target / "old.txt").write_text("old")
    left_by_a_killed_run = tmp_path / ".set.abc123.tmp"
    left_by_a_killed_run.mkdir()
    staging = staging_folder(target)
    assert not left_by_a_killed_run.exists()
    assert staging.parent == tmp_path and staging.name.startswith(".set.")
    write_text(staging / "new.txt", "new")
    swap_folder(staging, target)
    assert os.listdir(target) == ["new.txt"] and os.listdir(tmp_path) == ["set"]
