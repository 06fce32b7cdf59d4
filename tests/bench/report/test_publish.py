"""A result set stays one set, inside its folder and its tool.

Publishing stages, swaps by renames and writes the manifest last: a fault or a kill half way
leaves (or gives back at the next start) the previous set; two runs into one folder take turns;
another tool's set, stray copies of a tool's outputs and manifest names that lead outside the
folder are refused before anything is moved.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from architectures.errors import InputFileError, OutputError, UsageError
from bench.report import files as io
from bench.report import publish

ROOT = Path(__file__).resolve().parents[3]
OWNED = ("a.csv", "b.md", "c.png", "d.md", "env.json")


def _writers(*names: str, text: str = "new") -> dict:
    return {n: (lambda path, n=n: io.write_text(path, f"{text} {n}")) for n in names}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != publish.LOCK
    }


@pytest.fixture
def previous(tmp_path) -> Path:
    """A set of ``tool`` beside another command's file."""
    folder = tmp_path / "set"
    publish.publish(folder, _writers("a.csv", "b.md", "d.md", text="old"), OWNED, "tool")
    (folder / "other.txt").write_text("another command's file")
    return folder


def test_a_new_set_replaces_the_old_as_a_whole_and_says_so(previous):
    said = []
    written = publish.publish(previous, _writers("d.md", "c.png"), OWNED, "tool", say=said.append)
    assert sorted(written) == ["c.png", "d.md", "manifest.json"]
    assert not (previous / "a.csv").exists() and (previous / "other.txt").is_file()
    assert publish.verify(previous) == []
    assert len(said) == 1 and "(3 files)" in said[0] and str(previous) in said[0]


def test_a_fault_while_writing_names_the_file_and_keeps_the_previous_set(previous):
    before = _snapshot(previous)

    def full_disk(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError, match=r"c\.png: No space left .* unchanged"):
        publish.publish(previous, {**_writers("a.csv"), "c.png": full_disk}, OWNED, "tool")
    assert _snapshot(previous) == before


@pytest.mark.parametrize("fault_at", [1, 3, 5, 6])
def test_a_fault_while_swapping_puts_the_previous_set_back(previous, monkeypatch, fault_at):
    before = _snapshot(previous)
    real_move, moves = publish._move, []

    def failing(source, target):
        moves.append(target)
        if len(moves) == fault_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_move(source, target)

    monkeypatch.setattr(publish, "_move", failing)
    with pytest.raises(OSError):
        publish.publish(previous, _writers("d.md", "a.csv", "c.png"), OWNED, "tool")
    assert _snapshot(previous) == before


_KILLED_MID_SWAP = """
import os, sys
from pathlib import Path
from bench.report import files as io
from bench.report import publish
folder, kill_at = Path(sys.argv[1]), int(sys.argv[2])
old = {n: (lambda p, n=n: io.write_text(p, "old " + n)) for n in ("a.csv", "b.md", "d.md")}
publish.publish(folder, old)
(folder / "other.txt").write_text("another command's file")
moves = []
real = publish._move
def killed(source, target):
    moves.append(target)
    if len(moves) == kill_at:
        os._exit(137)
    real(source, target)
publish._move = killed
new = {n: (lambda p, n=n: io.write_text(p, "new " + n)) for n in ("d.md", "a.csv", "c.png")}
publish.publish(folder, new)
"""


@pytest.mark.slow  # a fresh interpreter per case
@pytest.mark.parametrize("kill_at", [1, 3, 5, 8])  # of 4 moves out, 3 in, the manifest
def test_killed_mid_swap_is_undone_at_the_next_start(tmp_path, kill_at):
    """A process killed between two renames of the swap (no Python cleanup runs)."""
    folder = tmp_path / "set"
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_SWAP, str(folder), str(kill_at)],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 137, done.stderr.decode()
    assert publish.verify(folder)  # half swapped: not one consistent set
    assert publish.recover(folder)
    assert _snapshot(folder) == {
        "a.csv": b"old a.csv",
        "b.md": b"old b.md",
        "d.md": b"old d.md",
        "other.txt": b"another command's file",
        "manifest.json": (folder / "manifest.json").read_bytes(),
    }
    assert publish.verify(folder) == []


def test_a_half_done_swap_is_undone_at_the_next_start(previous):
    """The state a kill after two of the old files and one new file moved leaves behind."""
    before = _snapshot(previous)
    staging = previous / f"{publish.STAGING}run2"
    backup = previous / f"{publish.PREVIOUS}run2"
    staging.mkdir()
    backup.mkdir()
    for name in ("d.md", "c.png"):
        (staging / name).write_text(f"new {name}")
    (staging / publish.MANIFEST).write_text(json.dumps({"files": {"a.csv": {"sha256": "x"},
        "d.md": {"sha256": "x"}, "c.png": {"sha256": "x"}}}))  # fmt: skip
    for name in (publish.MANIFEST, "a.csv"):
        os.replace(previous / name, backup / name)
    (previous / "a.csv").write_text("new a.csv")  # moved in before the kill
    assert publish.recover(previous)[0].startswith("restored the previous set")
    assert _snapshot(previous) == before and publish.verify(previous) == []


def test_two_runs_into_one_folder_take_turns(previous):
    """While one run holds the folder's lock, another's publication waits for it."""
    held = publish._lock(previous)
    held.acquire()
    done = threading.Event()

    def second() -> None:
        publish.publish(previous, _writers("c.png"), OWNED, "tool", say=lambda _: None)
        done.set()

    thread = threading.Thread(target=second)
    thread.start()
    try:
        assert not done.wait(1.0)  # blocked on the lock, nothing swapped
        assert (previous / "a.csv").is_file() and not (previous / "c.png").exists()
    finally:
        held.release()
    thread.join()
    assert done.is_set() and publish.verify(previous) == []


def test_another_tools_set_is_refused_untouched(previous):
    before = _snapshot(previous)
    with pytest.raises(UsageError, match="written by tool.*choose another --out"):
        publish.publish(previous, _writers("x.csv"), producer="other")
    with pytest.raises(UsageError):
        publish.check_owner(previous, "other")
    assert _snapshot(previous) == before


def test_stray_copies_of_our_outputs_are_refused(tmp_path):
    (tmp_path / "b.md").write_text("copied from elsewhere")
    (tmp_path / "notes.txt").write_text("the user's")
    with pytest.raises(UsageError, match="b.md") as info:
        publish.check_owner(tmp_path, "tool", OWNED)
    assert "notes.txt" not in str(info.value)
    publish.check_owner(tmp_path, "tool", ())  # names it does not write are not its business


def _escaping_names(tmp_path: Path) -> list[str]:
    outside = tmp_path / "victim.txt"
    outside.write_text("keep")
    return ["../victim.txt", str(outside), "sub/../../victim.txt", "..", "link.txt"]


@pytest.mark.parametrize("index", range(5))
def test_a_manifest_name_outside_the_folder_is_refused(tmp_path, index):
    name = _escaping_names(tmp_path)[index]
    out = tmp_path / "out"
    out.mkdir()
    (out / "link.txt").symlink_to(tmp_path / "victim.txt")  # a link leading out of the folder
    manifest = out / publish.MANIFEST
    manifest.write_text(json.dumps({"run_id": "x", "files": {name: {"sha256": "x"}}}))
    with pytest.raises(InputFileError) as info:
        publish.publish(out, _writers("a.csv"), OWNED, "tool")
    assert str(manifest) in str(info.value) and repr(name) in str(info.value)
    assert (tmp_path / "victim.txt").read_text() == "keep"  # never moved, never replaced
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["link.txt", "manifest.json", publish.LOCK]
    )


MALFORMED = {
    "entry-not-object": ('{"files": {"a": 1}}', "files['a']"),
    "no-sha": ('{"files": {"a": {"bytes": 5}}}', "files['a']"),
    "files-a-list": ('{"files": ["a"]}', "'files'"),
    "no-files": ('{"run_id": "x"}', "'files'"),
    "outputs-not-names": ('{"files": {}, "outputs": [1]}', "'outputs'"),
    "top-level-list": ("[1, 2]", "top level"),
    "truncated": ('{"files": {"a": {', "not a valid JSON"),
    "binary": (b"\x80\xff\x00garbage", "not a valid JSON"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_manifest_is_named_with_its_field(tmp_path, case):
    content, field = MALFORMED[case]
    path = tmp_path / publish.MANIFEST
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputFileError) as info:
        publish.read_manifest(tmp_path)
    assert str(path) in str(info.value) and field in str(info.value)


def test_verify_names_changed_missing_and_foreign_files(previous):
    assert publish.verify(previous) == []
    (previous / "a.csv").write_text("edited")
    (previous / "b.md").unlink()
    (previous / "c.png").write_text("no run wrote this")
    problems = publish.verify(previous)
    assert any("a.csv" in p and "changed" in p for p in problems)
    assert any("b.md" in p and "missing" in p for p in problems)
    assert any("c.png" in p and "foreign" in p for p in problems)
    assert not any("other.txt" in p for p in problems)  # no tool's: ignored


def test_claim_removes_an_out_the_failed_run_created(tmp_path):
    out = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError), publish.claim(out, "tool"):
        out.mkdir(parents=True)
        raise RuntimeError
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_file_modes_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        published = publish.publish(tmp_path / "set", _writers("a.csv"))
    finally:
        os.umask(old)
    assert all(p.stat().st_mode & 0o777 == mode for p in published.values())
