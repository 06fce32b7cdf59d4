"""``python -m bench.compare``: two hand-written result sets side by side, and its refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import compare
from bench.report.publish import read_manifest
from tests.bench.report.test_compare import ENV_A, ENV_B, LATENCY_A, two_sets, write_set

ROOT = Path(__file__).resolve().parents[2]


def _error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines  # one line, no traceback
    return lines[0]


def test_two_sets_are_published_as_one_set_and_summarised(tmp_path, capsys):
    a, b = two_sets(tmp_path)
    out = tmp_path / "out"
    assert compare.main([str(a), str(b), "--out", str(out), "--names", "A", "B"]) == 0
    printed = capsys.readouterr().out
    assert "10.00 ms · 2.00× · #1 ↑1" in printed and f"wrote 7 files to {out}" in printed
    manifest = read_manifest(out)
    assert manifest["producer"] == "bench.compare"
    assert set(manifest["files"]) == {
        "compare.md",
        "compare_latency.csv",
        "compare_runtimes.csv",
        "compare_env.csv",
        "compare_speedups.png",
        "compare.html",
    }


def test_the_default_output_is_under_runs_and_a_rerun_replaces_it(tmp_path, monkeypatch, capsys):
    a, b = two_sets(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert compare.main([str(a), str(b)]) == 0
    first = read_manifest(Path("runs/compare"))["run_id"]
    plain = [write_set(tmp_path / n, e, LATENCY_A) for n, e in (("c", ENV_A), ("d", ENV_B))]
    assert compare.main([str(p) for p in plain]) == 0  # no runtimes this time
    assert f"replaced the set of run {first} " in capsys.readouterr().out
    manifest = read_manifest(Path("runs/compare"))
    assert manifest["run_id"] != first and "compare_runtimes.csv" not in manifest["files"]
    assert not Path("runs/compare/compare_runtimes.csv").exists()


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["{a}"], "at least two RUN_DIRs"),
        (["{a}", "{a}"], "given twice"),
        (["{a}", "{b}", "--names", "x"], "--names gives 1 names"),
        (["{a}", "{b}", "--names", "x", "x"], "--names must be distinct"),
        (["{a}", "{b}", "--names", "x", "model"], "--names model"),
        (["{a}", "{missing}"], "{missing}: no such folder"),
        (["{a}", "{tmp}"], "{tmp}: not a result set"),
        (["{a}", "{b}", "--reference", "hourglas-8stack"], "--reference hourglas-8stack: no set"),
    ],
)
def test_usage_errors_are_one_line_naming_the_fault_exit_2(tmp_path, capsys, argv, named):
    a, b = two_sets(tmp_path / "sets")
    paths = {"a": a, "b": b, "missing": tmp_path / "missing", "tmp": tmp_path}
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        compare.main([arg.format(**paths) for arg in argv] + ["--out", str(out)])
    assert exit_.value.code == 2
    line = _error(capsys)
    assert line.startswith("python -m bench.compare: error:") and named.format(**paths) in line
    assert not out.exists()  # a refused run leaves no folder behind


def test_a_missing_file_and_sets_without_a_model_in_common_are_named(tmp_path, capsys):
    a, b = two_sets(tmp_path)
    (b / "latency.csv").unlink()
    with pytest.raises(SystemExit, match="2"):
        compare.main([str(a), str(b), "--out", str(tmp_path / "out")])
    assert f"{b / 'latency.csv'}" in _error(capsys)
    other = write_set(tmp_path / "other", ENV_A, {"fpd-4stack": 1.0, "cpm-original": 2.0})
    alone = write_set(tmp_path / "alone", ENV_B, {"hourglass-4stack": 1.0})
    with pytest.raises(SystemExit, match="2"):
        compare.main([str(other), str(alone), "--out", str(tmp_path / "out")])
    assert f"{alone} and {other} have no model in common" in _error(capsys)


def test_an_out_folder_holding_a_tables_set_is_refused_untouched(tmp_path, capsys):
    a, b = two_sets(tmp_path)
    before = sorted(p.name for p in a.iterdir())
    with pytest.raises(SystemExit, match="2"):
        compare.main([str(a), str(b), "--out", str(a)])
    assert "bench.tables" in _error(capsys)
    assert sorted(p.name for p in a.iterdir()) == before
    assert json.loads((a / "manifest.json").read_text())["producer"] == "bench.tables"


def test_an_out_folder_holding_files_of_no_set_is_refused_untouched(tmp_path, capsys):
    a, b = two_sets(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(SystemExit, match="2"):
        compare.main([str(a), str(b), "--out", str(mine)])
    assert "notes.txt" in _error(capsys)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


HEAVY = ("torch", "pandas", "matplotlib", "torchvision", "fvcore")


def test_help_and_usage_errors_import_nothing_heavy():
    """Whatever ``architectures.errors`` itself loads aside, the command adds none of them."""
    code = (
        "import sys\n"
        "from architectures import errors\n"
        "before = set(sys.modules)\n"
        "from bench.compare import main\n"
        "for argv in (['--help'], ['only-one']):\n"
        "    try:\n        main(argv)\n    except SystemExit as exit_:\n"
        "        print('EXIT', exit_.code)\n"
        f"print('HEAVY', *sorted(m for m in {HEAVY!r} if m in sys.modules and m not in before))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    lines = done.stdout.strip().splitlines()
    assert "usage:" in done.stdout and "at least two RUN_DIRs" in done.stderr
    assert [x for x in lines if x.startswith("EXIT")] == ["EXIT 0", "EXIT 2"]
    assert lines[-1] == "HEAVY"
