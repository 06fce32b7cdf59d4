"""Issue 12 replayed: bad arguments, interruption, full disk, unwritable output, reruns, mixed sets.

Every case asserts the exit status (2 usage, 3 bug, 130 Ctrl-C), the one line on stderr naming
what is wrong, and that the results of an earlier run are byte-identical afterwards. A tables run
here is the tiny model, quick preset, 2 fp32 iterations, no deployment runtimes, Table 3 stubbed.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench import tables
from bench.report import files as io
from bench.report import publish as result_set
from tests.helpers import half_written_figures, quick_tables_argv, stub_table3
from tests.tiny_models import TinyPose, register_tiny

TINY = "tiny-reliability"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny(monkeypatch) -> str:
    stub_table3(monkeypatch)
    return register_tiny(TINY, (32, 32))


def _tables(out: Path, *extra: str) -> list[str]:
    return quick_tables_argv(
        TINY, out, "--iters", "2", "--modes", "fp32", "--runtimes", "none", *extra
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) -> its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _exit(main, argv: list[str], capsys) -> tuple[int, list[str]]:
    """(exit status, stderr lines) of ``main(argv)``."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.fixture(scope="module")
def _previous_run(tmp_path_factory) -> Path:
    """One earlier tables run (with the layer profile) and files other commands committed."""
    out = tmp_path_factory.mktemp("previous") / "results"
    with pytest.MonkeyPatch.context() as monkeypatch:
        stub_table3(monkeypatch)
        register_tiny(TINY, (32, 32))
        assert tables.main(_tables(out)) == 0
    (out / "receptive_field").mkdir()
    (out / "receptive_field" / "receptive_field.csv").write_text("committed by another command\n")
    (out / "regression_baseline.json").write_text("{}\n")
    return out


@pytest.fixture
def previous(_previous_run, tiny, tmp_path) -> Path:
    """A copy of the earlier run for this test to damage."""
    return Path(shutil.copytree(_previous_run, tmp_path / "results"))


def _no_measuring(monkeypatch) -> None:
    def measured(*args, **kwargs):
        raise AssertionError("measured before the checks passed")

    monkeypatch.setattr(tables, "measure", measured)


# ---------------------------------------------------------------- bad arguments: exit 2, one line


def _bad_tables_args(tmp: Path) -> list[tuple[list[str], str]]:
    a_file = tmp / "a_file.txt"
    a_file.write_text("not a folder")
    empty = tmp / "empty.pt"
    empty.write_bytes(b"")
    other_model = tmp / "other.pt"
    torch.save({"model_name": "gcpm-baseline", "model": {"w": torch.zeros(1)}}, other_model)
    fits = tmp / "fits.pt"
    torch.save({"model": TinyPose().state_dict()}, fits)
    misfit = tmp / "misfit.pt"
    torch.save({"model": {"w": torch.zeros(1)}}, misfit)
    (tmp / "TrainVal_pose_annotations").mkdir()
    cases = [
        (["--iters", "0"], "--iters"),
        (["--iters", "two"], "--iters"),
        (["--device", "meta"], "'meta'"),
        (["--device", "garbage"], "'garbage'"),
        (["--device", "cuda:7"], "'cuda:7'"),
        (["--models", "no-such-net"], "no-such-net"),
        (["--modes", "fp64"], "fp64"),
        (["--out", str(a_file)], str(a_file)),
        (["--out", str(a_file / "sub")], str(a_file / "sub")),
        (["--checkpoint", f"{TINY}=/no/such.pt", "--data-root", str(tmp)], "/no/such.pt"),
        (["--checkpoint", f"{TINY}={empty}", "--data-root", str(tmp)], "empty"),
        (["--checkpoint", f"{TINY}={fits}", "--data-root", "/no/such/root"], "/no/such/root"),
        (["--checkpoint", f"{TINY}={fits}", "--data-root", str(tmp)], "lip_val_set.csv"),
        (["--checkpoint", f"{TINY}={a_file}"], "--data-root"),
        (["--checkpoint", f"{TINY}={a_file}", "--data-root", str(tmp)], "not a PyTorch"),
        (["--checkpoint", f"{TINY}={other_model}", "--data-root", str(tmp)], "'gcpm-baseline'"),
        (["--checkpoint", f"{TINY}={misfit}", "--data-root", str(tmp)], "does not fit"),
    ]
    if not torch.cuda.is_available():
        cases.append((["--device", "cuda"], "CUDA is not available"))
    return cases


def test_tables_bad_arguments_exit_2_naming_the_culprit_before_measuring(
    previous, tmp_path, monkeypatch, capsys
):
    before = _snapshot(previous)
    _no_measuring(monkeypatch)
    for extra, named in _bad_tables_args(tmp_path):
        argv = [*_tables(previous)[:-2], *extra] if "--out" in extra else _tables(previous, *extra)
        code, err = _exit(tables.main, argv, capsys)
        assert (code, len(err)) == (2, 1), (extra, err)
        assert named in err[0] and err[0].startswith("python -m bench.tables: error:"), (extra, err)
    assert _snapshot(previous) == before


def test_help_exits_0(capsys):
    for main in (tables.main, result_set.main):
        with pytest.raises(SystemExit) as info:
            main(["--help"])
        assert info.value.code == 0


# ---------------------------------------------------------------- interruption, full disk, bugs


def test_ctrl_c_between_two_files_leaves_the_previous_set(previous, monkeypatch, capsys):
    before = _snapshot(previous)
    real_write_csv = io.write_csv
    calls = []

    def interrupted_on_second(df, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C after one file of the new set is written
        return real_write_csv(df, path)

    monkeypatch.setattr(io, "write_csv", interrupted_on_second)
    code, err = _exit(tables.main, _tables(previous), capsys)
    assert code == 130 and len(err) == 1 and "interrupted" in err[0]
    assert _snapshot(previous) == before  # no staging folder, no temp file, nothing replaced


@pytest.mark.parametrize("fault_at", [1, 3, 6])
def test_fault_while_swapping_puts_the_previous_set_back(previous, monkeypatch, capsys, fault_at):
    before = _snapshot(previous)
    real_move = result_set._move
    moves = []

    def full_disk(source, target):
        moves.append(target)
        if len(moves) == fault_at:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_move(source, target)

    monkeypatch.setattr(result_set, "_move", full_disk)
    code, err = _exit(tables.main, _tables(previous, "--no-profile"), capsys)
    assert code == 2 and len(err) == 1 and "No space left on device" in err[0]
    assert _snapshot(previous) == before


def test_full_disk_while_writing_is_one_line_and_keeps_the_previous_set(
    previous, monkeypatch, capsys
):
    before = _snapshot(previous)

    monkeypatch.setattr(io, "write_figure", half_written_figures(errno.ENOSPC))
    code, err = _exit(tables.main, _tables(previous), capsys)
    expected = (
        f"python -m bench.tables: error: {previous}/latency_vs_gflops.png: No space left "
        "on device (nothing was replaced: the previous results are unchanged)"
    )
    assert code == 2 and err == [expected]
    assert _snapshot(previous) == before


def test_a_bug_exits_3_with_its_traceback_and_keeps_the_previous_set(previous, monkeypatch, capsys):
    before = _snapshot(previous)

    def bug(*args, **kwargs):
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(tables, "measure", bug)
    code, err = _exit(tables.main, _tables(previous), capsys)
    assert code == 3 and err[0] == "Traceback (most recent call last):"
    assert "internal error" in err[-1] and "ZeroDivisionError: injected" in err[-1]
    assert _snapshot(previous) == before


_KILLED_MID_SWAP = """
import os, sys
from pathlib import Path
from bench.report import files as io
from bench.report import publish as result_set
folder, kill_at = Path(sys.argv[1]), int(sys.argv[2])
old = {n: (lambda p, n=n: io.write_text(p, "old " + n)) for n in ("a.csv", "b.md", "d.md")}
result_set.publish(folder, old)
(folder / "other.txt").write_text("another command's file")
moves = []
real = result_set._move
def killed(source, target):
    moves.append(target)
    if len(moves) == kill_at:
        os._exit(137)
    real(source, target)
result_set._move = killed
new = {n: (lambda p, n=n: io.write_text(p, "new " + n)) for n in ("d.md", "a.csv", "c.png")}
result_set.publish(folder, new)
"""


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
    assert result_set.verify(folder)  # half swapped: not one consistent set
    assert result_set.recover(folder)
    assert _snapshot(folder) == {
        "a.csv": b"old a.csv",
        "b.md": b"old b.md",
        "d.md": b"old d.md",
        "other.txt": b"another command's file",
        "manifest.json": (folder / "manifest.json").read_bytes(),
    }
    assert result_set.verify(folder) == []


# ---------------------------------------------------------------- unwritable output


def test_unwritable_output_fails_before_measuring(tiny, tmp_path, monkeypatch, capsys):
    _no_measuring(monkeypatch)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    code, err = _exit(tables.main, _tables(blocker / "results"), capsys)
    assert code == 2 and len(err) == 1 and str(blocker / "results") in err[0]
    assert "cannot write" in err[0]

    def no_permission(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(io.tempfile, "mkstemp", no_permission)  # root ignores chmod: fake it
    code, err = _exit(tables.main, _tables(tmp_path / "locked"), capsys)
    expected = (
        f"python -m bench.tables: error: --out {tmp_path / 'locked'}: "
        "cannot write there (Permission denied)"
    )
    assert code == 2 and err == [expected]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder_fails_before_measuring(tiny, tmp_path, monkeypatch, capsys):
    _no_measuring(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, err = _exit(tables.main, _tables(locked), capsys)
    assert code == 2 and len(err) == 1 and str(locked) in err[0]


# ---------------------------------------------------------------- reruns and mixed sets


def test_second_run_replaces_the_set_and_nothing_else(previous, capsys):
    others = {
        k: v
        for k, v in _snapshot(previous).items()
        if k.startswith(("receptive_field", "regression"))
    }
    first = result_set.read_manifest(previous)
    assert "layer_profile.csv" in first["files"] and result_set.verify(previous) == []
    (previous / ".latency.csv.x1y2z3.tmp").write_text("left by a killed run")
    (previous / ".staging-20000101T000000Z-abcdef").mkdir()
    assert tables.main(_tables(previous, "--no-profile")) == 0
    second = result_set.read_manifest(previous)
    assert second["run_id"] != first["run_id"]
    assert not list(previous.glob("layer_profile.*"))  # the first run's, not produced now
    assert not list(previous.glob(".*"))  # stale temp file and staging folder gone
    assert result_set.verify(previous, tables.OUTPUT_NAMES) == []
    listed = set(second["files"]) | {"manifest.json"}
    assert {p.name for p in previous.iterdir() if p.is_file()} == listed | {
        "regression_baseline.json"
    }
    assert {k: v for k, v in _snapshot(previous).items() if k in others} == others
    env = (previous / "env.json").read_text()
    assert second["run_id"] in env  # every set says which run it is


def test_mixed_set_is_detected(previous, capsys):
    assert result_set.main([str(previous)]) == 0
    (previous / "latency.md").write_text("an older latency table")
    manifest = result_set.read_manifest(previous)
    del manifest["files"]["table3.csv"]
    io.write_json(manifest, previous / "manifest.json")
    problems = result_set.verify(previous, tables.OUTPUT_NAMES)
    assert any("latency.md" in p and "changed" in p for p in problems)
    assert any("table3.csv" in p and "not written by run" in p for p in problems)
    capsys.readouterr()
    assert result_set.main([str(previous)]) == 1
    code, err = _exit(result_set.main, [str(previous / "nowhere")], capsys)
    assert code == 2 and len(err) == 1 and "nowhere" in err[0]


def test_legacy_folder_without_manifest_loses_stale_outputs(tiny, tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    for name in ("layer_profile.csv", "layer_profile.png", "latency.md", "notes_of_mine.txt"):
        (out / name).write_text("from a run before manifests")
    assert tables.main(_tables(out, "--no-profile")) == 0
    assert not (out / "layer_profile.csv").exists() and not (out / "layer_profile.png").exists()
    assert (out / "notes_of_mine.txt").read_text() == "from a run before manifests"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_file_modes_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        written = io.write_text(tmp_path / "t.md", "x")
        published = result_set.publish(tmp_path / "set", {"a.csv": lambda p: io.write_text(p, "a")})
    finally:
        os.umask(old)
    assert written.stat().st_mode & 0o777 == mode
    assert all(p.stat().st_mode & 0o777 == mode for p in published.values())


def test_a_live_runs_staging_folder_survives_a_second_run(tmp_path):
    """Two runs into one folder: the second does not delete what the first is still writing."""
    import fcntl

    folder = tmp_path / "set"
    live = folder / f"{result_set.STAGING}20990101T000000Z-aaaaaa"
    live.mkdir(parents=True)
    (live / "half.csv").write_text("being written")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what the first run's publish holds while it writes
        result_set.publish(folder, {"a.csv": lambda p: io.write_text(p, "a")})
        assert (live / "half.csv").read_text() == "being written"
    finally:
        os.close(fd)  # the first run ends (or dies): its folder is stale now
    assert result_set.recover(folder) == [f"removed {live.name}"]
    assert result_set.verify(folder) == []
