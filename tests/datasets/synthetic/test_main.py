"""``python -m datasets.synthetic``: what it writes and replaces; user errors in one line."""

from __future__ import annotations

from datasets import LipReader, MpiiReader
from datasets.synthetic import __main__ as cli


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        cli.main(list(argv))
        code = 0
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_official_layouts_reproducibly(tmp_path, capsys):
    for run in ("a", "b"):
        cli.main(
            ["--format", "lip", "--out", str(tmp_path / run), "--num-images", "5", "--seed", "9"]
        )
    csv = "TrainVal_pose_annotations/lip_train_set.csv"
    assert (tmp_path / "a" / csv).read_text() == (tmp_path / "b" / csv).read_text()
    assert (
        len(LipReader(tmp_path / "a", "train")) == 4 and len(LipReader(tmp_path / "a", "val")) == 1
    )
    cli.main(["--format", "mpii", "--out", str(tmp_path / "m"), "--num-images", "4"])
    assert (tmp_path / "m" / "annotations" / "mpii_gt_val.mat").is_file()
    assert len(MpiiReader(tmp_path / "m", "train")) == 3
    assert "wrote 4 mpii images" in capsys.readouterr().out


def test_a_rerun_says_what_it_replaced(tmp_path, capsys):
    argv = ["--format", "lip", "--out", str(tmp_path / "r"), "--num-images", "4"]
    assert "replaced" not in _run(capsys, *argv)[1]
    code, out, _ = _run(capsys, *argv)
    assert code == 0 and f"replaced the earlier generated set in {tmp_path / 'r'}" in out


def test_no_train_split_and_a_folder_of_other_files_exit_2_in_one_line(tmp_path, capsys):
    argv = ["--format", "lip", "--num-images", "4"]
    code, _, err = _run(capsys, *argv, "--out", str(tmp_path / "r"), "--val-fraction", "1")
    assert code == 2 and len(err.splitlines()) == 1 and "train split" in err
    assert not (tmp_path / "r").exists()
    (tmp_path / "notes.txt").write_text("keep")
    code, _, err = _run(capsys, *argv, "--out", str(tmp_path))
    assert code == 2 and len(err.splitlines()) == 1 and "notes.txt" in err


def test_a_value_error_that_is_not_a_user_error_is_reported_as_a_bug(tmp_path, capsys, monkeypatch):
    def broken(config):
        raise ValueError("a bug")

    monkeypatch.setattr(cli, "generate", broken)
    code, _, err = _run(
        capsys, "--format", "lip", "--out", str(tmp_path / "r"), "--num-images", "4"
    )
    assert code == 3 and "Traceback" in err and "internal error" in err
