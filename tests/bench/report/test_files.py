"""Writers of every output: Markdown numbers formatted once per column, output folders probed
before any work and removed again when a failed run created them empty."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from architectures.errors import OutputError
from bench.report import files as io


def test_markdown_formats_each_float_column_once():
    df = pd.DataFrame({"ms": [0.5, 12.25], "params (M)": [40.5996, 1.0], "n": [3, 4]})
    text = io.to_markdown(df, "T", "a note")
    assert text.startswith("# T\n") and text.rstrip().endswith("a note")
    assert "40.60" in text and "0.500" in text and "12.250" in text
    assert io.to_markdown(df.iloc[:0], empty="(nothing)").strip() == "(nothing)"


def test_prepare_output_names_the_option_and_the_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=f"--out {blocker}: exists and is not a folder"):
        io.prepare_output(blocker, "--out")
    (tmp_path / "ok" / ".latency.csv.abc123.tmp").parent.mkdir()
    (tmp_path / "ok" / ".latency.csv.abc123.tmp").write_text("left by a killed run")
    assert io.prepare_output(tmp_path / "ok") == tmp_path / "ok"
    assert not list((tmp_path / "ok").iterdir())


def test_a_created_folder_that_is_not_empty_stays(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError), io.removed_if_left_empty(out):
        out.mkdir(parents=True)
        (out / "kept.txt").write_text("x")
        raise RuntimeError
    assert (out / "kept.txt").is_file()
    with pytest.raises(RuntimeError), io.removed_if_left_empty(tmp_path / "c" / "d"):
        (tmp_path / "c" / "d").mkdir(parents=True)
        (tmp_path / "c" / "other").mkdir()
        raise RuntimeError
    assert not (tmp_path / "c" / "d").exists() and (tmp_path / "c" / "other").is_dir()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_file_modes_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        written = io.write_text(tmp_path / "t.md", "x")
    finally:
        os.umask(old)
    assert written.stat().st_mode & 0o777 == mode
