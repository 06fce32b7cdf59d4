"""A careless user's inputs (REPORT-P findings 4c, 5, 8, 11-14): each ends in one line naming
the option, file or line that is wrong, with the documented exit status, before anything slow."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pytest

from bench import gpu_run, tables, train
from bench.regression import __main__ as gate_cli
from bench.regression import history as hist
from tests.helpers import history_frame


def _exit(
    main: Callable[[Sequence[str]], int], argv: list[str], capsys: pytest.CaptureFixture
) -> tuple[int, str]:
    """(exit status, stderr) of a main() that is expected to refuse ``argv``."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return exc.value.code, err


# ------------------------------------------------------------ bench.regression: the baseline


def test_a_binary_baseline_is_a_malformed_file_exit_2(tmp_path, capsys) -> None:
    path = tmp_path / "bl.json"
    path.write_bytes(bytes(range(128, 256)) * 4)
    code, err = _exit(gate_cli.main, ["--baseline", str(path), "check"], capsys)
    assert code == 2
    assert f"{path}: not a JSON text file (byte 0 is not UTF-8)" in err


@pytest.mark.parametrize("content", [[1, 2], {"format": 1}])
def test_json_that_is_no_baseline_at_all_is_exit_2_not_4(tmp_path, capsys, content) -> None:
    path = tmp_path / "bl.json"
    path.write_text(json.dumps(content))
    code, err = _exit(gate_cli.main, ["--baseline", str(path), "check"], capsys)
    assert code == 2
    assert f"{path}: not a regression baseline" in err


def test_a_baseline_of_another_format_version_stays_exit_4(tmp_path, capsys) -> None:
    path = tmp_path / "bl.json"
    path.write_text(json.dumps({"version": 1}))
    code, err = _exit(gate_cli.main, ["--baseline", str(path), "check"], capsys)
    assert code == gate_cli.EXIT_NO_BASELINE == 4
    assert "format version 1, expected 2" in err


@pytest.mark.parametrize("size", [["65", "64"], ["64", "0"], ["-64", "64"]])
def test_update_size_names_the_option(tmp_path, capsys, size) -> None:
    argv = ["--baseline", str(tmp_path / "bl.json"), "update", "--size", *size]
    code, err = _exit(gate_cli.main, argv, capsys)
    assert code == 2
    assert "argument --size" in err and "multiple of 64" in err
    assert not (tmp_path / "bl.json").exists()


def test_help_texts_of_the_gate(capsys) -> None:
    with pytest.raises(SystemExit):
        gate_cli.main(["--help"])
    top = " ".join(capsys.readouterr().out.split())
    assert "give it before the subcommand" in top
    with pytest.raises(SystemExit):
        gate_cli.main(["check", "--help"])
    check = capsys.readouterr().out
    assert "NAME=+PCT%|NAME=LAYERS" in check and "%%" not in check


# ------------------------------------------------------------ bench.regression: the history


def _history(path: Path) -> Path:
    rows = [{"commit": f"c{i}", "recorded_at": f"t{i}", "value": 1.0 + i} for i in range(3)]
    history_frame(rows).to_csv(path, index=False)
    return path


def test_a_history_cut_mid_row_is_refused_naming_the_line(tmp_path, capsys) -> None:
    path = _history(tmp_path / "h.csv")
    path.write_bytes(path.read_bytes()[:-6])  # the last row loses its flops and line end
    argv = ["history", "--history", str(path), "--plot", str(tmp_path / "h.png")]
    code, err = _exit(gate_cli.main, argv, capsys)
    assert code == 2
    assert f"{path}: line 4 is cut short" in err
    assert not (tmp_path / "h.png").exists()


def test_a_history_row_missing_its_last_fields_is_refused(tmp_path) -> None:
    path = _history(tmp_path / "h.csv")
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 2)[0]  # line 3 loses params and flops, line end kept
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(hist.GateError, match="line 3 is cut short"):
        hist.read_history(path)


def test_a_whole_history_reads(tmp_path) -> None:
    assert len(hist.read_history(_history(tmp_path / "h.csv"))) == 3


def test_history_plot_into_a_folder_names_plot_not_a_temporary(tmp_path, capsys) -> None:
    path = _history(tmp_path / "h.csv")
    folder = tmp_path / "plots"
    folder.mkdir()
    code, err = _exit(
        gate_cli.main, ["history", "--history", str(path), "--plot", str(folder)], capsys
    )
    assert code == 2
    assert f"--plot {folder}: is a folder" in err and ".tmp" not in err


# ------------------------------------------------------------ bench.regression: git


def test_bisect_outside_a_git_repository_says_so(tmp_path, capsys) -> None:
    argv = ["--baseline", str(tmp_path / "none.json"), "bisect", "HEAD~1", "HEAD"]
    argv += ["--model", "fpd-4stack", "--repo", str(tmp_path)]
    code, err = _exit(gate_cli.main, argv, capsys)
    assert code == 2
    assert f"--repo {tmp_path}: not a git repository" in err


# ------------------------------------------------------------ bench.tables


def test_the_same_model_checkpointed_twice_is_refused(tmp_path, capsys) -> None:
    name = "gcpm-ushaped-2stage"
    argv = ["--models", name, "--reference", name, "--out", str(tmp_path / "out")]
    argv += ["--data-root", str(tmp_path), "--no-profile", "--runtimes", "none"]
    argv += ["--checkpoint", f"{name}={tmp_path}/a.pt", "--checkpoint", f"{name}={tmp_path}/b.pt"]
    code, err = _exit(tables.main, argv, capsys)
    assert code == 2
    assert f"--checkpoint {name} given twice" in err
    assert not (tmp_path / "out").exists()


def test_iters_has_an_upper_bound(tmp_path, capsys) -> None:
    argv = ["--models", "fpd-4stack", "--iters", "1000000000", "--out", str(tmp_path / "o")]
    code, err = _exit(tables.main, argv, capsys)
    assert code == 2
    assert f"--iters must be between 1 and {tables.MAX_ITERS}, got 1000000000" in err


def test_help_texts_of_tables_and_train(capsys) -> None:
    for main in (tables.main, train.main):
        with pytest.raises(SystemExit):
            main(["--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert "--no-progress no progress" in out
    assert "bench.tables lists them" not in out
    assert "architectures.list_models()" in out


# ------------------------------------------------------------ bench.gpu_run --dry-run


@pytest.mark.parametrize(
    ("option", "named"),
    [
        (["--cap-s", "0"], "--cap-s 0: must be 60 to 590 s"),
        (["--cap-s", "1e9"], "--cap-s 1e+09: must be 60 to 590 s"),
        (["--cap-s", "nan"], "--cap-s nan"),
        (["--device", "cuda:abc"], "--device 'cuda:abc': not a device"),
    ],
)
def test_dry_run_checks_the_options(tmp_path, capsys, option, named) -> None:
    code, err = _exit(gpu_run.main, ["--dry-run", "--out", str(tmp_path / "g"), *option], capsys)
    assert code == 2
    assert named in err
    assert "plan" not in capsys.readouterr().out


def test_dry_run_checks_the_archive_path(tmp_path, capsys) -> None:
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    out = ["--dry-run", "--out", str(tmp_path / "g")]
    code, err = _exit(gpu_run.main, [*out, "--archive", str(afile / "x.tar.gz")], capsys)
    assert code == 2 and f"{afile} is not a folder" in err
    code, err = _exit(gpu_run.main, [*out, "--archive", str(tmp_path)], capsys)
    assert code == 2 and f"--archive {tmp_path}: is a folder" in err


def test_a_history_that_lost_only_its_last_line_end_is_refused(tmp_path) -> None:
    # Every field is there, yet a number may be cut short ("10" -> "1"): the lost line end says so.
    path = _history(tmp_path / "h.csv")
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    with pytest.raises(hist.GateError, match=r"h\.csv: line 4 is cut short"):
        hist.read_history(path)


@pytest.mark.parametrize("column", ["value", "samples", "params", "flops"])
def test_a_history_row_without_any_one_figure_is_refused(tmp_path, column) -> None:
    frame = pd.read_csv(_history(tmp_path / "h.csv"))
    frame[column] = frame[column].astype(object)
    frame.loc[0, column] = None  # line 2, the first row after the header
    frame.to_csv(tmp_path / "h.csv", index=False)
    with pytest.raises(hist.GateError, match="line 2 is cut short"):
        hist.read_history(tmp_path / "h.csv")


def test_a_history_with_its_header_only_reads_as_empty(tmp_path) -> None:
    path = tmp_path / "h.csv"
    history_frame([]).to_csv(path, index=False)
    assert hist.read_history(path).empty
