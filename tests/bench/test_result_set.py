"""``python -m bench.result_set FOLDER``: the verdict on a folder, exit 0, 1 or 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import result_set
from bench.report import files as io
from bench.report import publish


def _run(argv: list[str], capsys) -> tuple[int, list[str], list[str]]:
    capsys.readouterr()
    try:
        code = result_set.main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out.strip().splitlines(), captured.err.strip().splitlines()


@pytest.fixture
def one_set(tmp_path) -> Path:
    writers = {n: (lambda p, n=n: io.write_text(p, n)) for n in ("a.csv", "b.md")}
    publish.publish(tmp_path / "set", writers, ("a.csv", "b.md", "c.png"), "tool")
    return tmp_path / "set"


def test_one_consistent_set_exits_0(one_set, capsys):
    (one_set / "input.png").write_text("the user's picture")  # no tool's file: ignored
    code, out, _ = _run([str(one_set)], capsys)
    assert code == 0 and "one consistent set" in out[-1] and "2 files" in out[-1]


def test_a_mixed_set_exits_1_naming_each_file(one_set, capsys):
    (one_set / "b.md").write_text("an older table")
    (one_set / "c.png").write_text("not from this run")
    code, out, _ = _run([str(one_set)], capsys)
    assert code == 1 and len(out) == 2
    assert "b.md" in out[0] and "changed" in out[0] and "c.png" in out[1]


def test_a_missing_manifest_is_a_verdict(tmp_path, capsys):
    (tmp_path / "a.csv").write_text("a")
    code, out, _ = _run([str(tmp_path)], capsys)
    assert code == 1 and "missing" in out[0]


def test_no_folder_a_file_or_a_corrupt_manifest_exit_2(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "bad" / publish.MANIFEST).mkdir(parents=True)
    for argv, named in [
        ([str(tmp_path / "nowhere")], "no such folder"),
        ([str(tmp_path / "file.txt")], "not a folder"),
        ([str(tmp_path / "bad")], "is a folder"),
    ]:
        code, _, err = _run(argv, capsys)
        assert code == 2 and len(err) == 1 and named in err[0], err
