"""bench.receptive_field: every argument is checked before a model runs (one line, exit status 2),
the maps and table are one published set that says what it replaced, a folder of another tool's
files is refused, and the default output goes under runs/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar, Self

import cv2
import numpy as np
import pytest

from bench import receptive_field
from bench.accuracy import receptive_field_outputs
from bench.accuracy.training.checkpoint import CheckpointError
from bench.report import files as io
from bench.report import publish
from tests.tiny_models import OneConv, register_test_model, register_tiny

TINY = "tiny-receptive-field"


@pytest.fixture
def tiny() -> str:
    return register_tiny(TINY, (32, 32))


@pytest.fixture
def rf_image(tmp_path) -> Path:
    path = tmp_path / "person.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (40, 30, 3), dtype=np.uint8))
    return path


@pytest.fixture
def no_measuring(monkeypatch) -> None:
    def measured(*args, **kwargs):
        raise AssertionError("measured although the run should have been refused")

    monkeypatch.setattr(receptive_field_outputs, "measure_model", measured)


def _exit(argv: list[str], capsys) -> tuple[int, list[str]]:
    """(exit status, stderr lines) of ``main(argv)``, which is expected to refuse."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        receptive_field.main(argv)
    return info.value.code, capsys.readouterr().err.strip().splitlines()


def _argv(image: Path, out: Path, *extra: str) -> list[str]:
    return ["--model", TINY, "--image", str(image), "--device", "cpu", "--out", str(out), *extra]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_the_parsers_defaults_are_the_librarys() -> None:
    from bench.accuracy.receptive_field import MEASURES, RFConfig

    args = receptive_field.build_parser().parse_args(["--model", "m", "--image", "i"])
    assert receptive_field.MEASURES == MEASURES and args.measure == RFConfig.measure
    assert (args.window, args.stride, args.batch_size, args.seed) == (
        RFConfig.window,
        RFConfig.stride,
        RFConfig.batch_size,
        RFConfig.seed,
    )
    assert args.out == Path("runs/receptive_field")


def test_bad_arguments_exit_2_before_any_model_runs(tiny, rf_image, tmp_path, no_measuring, capsys):
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    out = tmp_path / "rf"
    base = ["--model", TINY, "--image", str(rf_image), "--device", "cpu"]
    cases = [
        ([*base, "--out", str(out), "--keypoint", "Nose"], "Nose"),
        ([*base, "--out", str(out), "--window", "0"], "--window"),
        ([*base, "--out", str(out), "--window", "99"], "--window 99"),
        ([*base, "--out", str(out), "--stride", "-1"], "--stride"),
        ([*base, "--out", str(out), "--batch-size", "0"], "--batch-size"),
        ([*base, "--out", str(out), "--seed", str(2**70)], "--seed"),
        ([*base, "--out", str(out), "--device", "meta"], "'meta'"),
        ([*base, "--out", str(out), "--measure", "l2"], "l2"),
        ([*base, "--out", str(out), "--checkpoint", "/no/such.pt"], "/no/such.pt"),
        ([*base, "--out", str(out), "--models-from", "no_such_module"], "no_such_module"),
        (["--model", "no-such-net", "--image", str(rf_image), "--out", str(out)], "no-such-net"),
        (["--model", TINY, "--image", "/no/such.png", "--out", str(out)], "/no/such.png"),
        (["--model", TINY, "--image", str(not_image), "--out", str(out)], str(not_image)),
        ([*base, "--out", str(not_image)], str(not_image)),
        (
            [*base, "--out", str(out), "--model", TINY, TINY, "--checkpoint", str(not_image)],
            "--checkpoint",
        ),
    ]
    for argv, named in cases:
        code, err = _exit(argv, capsys)
        assert (code, len(err)) == (2, 1), (argv, err)
        assert named in err[0], (argv, err)
    assert not out.exists()


def test_a_truncated_jpeg_is_refused(tiny, rf_image, tmp_path, capsys) -> None:
    whole = tmp_path / "whole.jpg"
    cv2.imwrite(str(whole), np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[:600])
    code, err = _exit(_argv(cut, tmp_path / "rf"), capsys)
    assert code == 2 and len(err) == 1 and f"--image: cannot decode {cut} in full" in err[0]
    assert not (tmp_path / "rf").exists()


def test_writes_maps_and_table_and_says_what_it_replaced(tmp_path, capsys) -> None:
    name = register_test_model(
        "test-tiny-rf", lambda: OneConv(17, kernel=5), input_size=(48, 48), output_stride=4
    )
    image = tmp_path / "person.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (60, 40, 3), dtype=np.uint8))
    out = tmp_path / "rf"
    common = ["--model", name, "--image", str(image), "--out", str(out), "--device", "cpu"]
    assert receptive_field.main([*common, "--keypoint", "R_Hip", "L_Elbow", "--stride", "8"]) == 0
    assert "replaced" not in capsys.readouterr().out
    # hidden names: the folder's lock, which stays for the next writer
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "manifest.json",
        "receptive_field.csv",
        "receptive_field.md",
        f"{name}_L_Elbow.png",
        f"{name}_R_Hip.png",
    ]
    assert cv2.imread(str(out / f"{name}_R_Hip.png")).shape == (48, 48, 3)
    table = (out / "receptive_field.csv").read_text()
    assert "R_Hip" in table and "untrained" in table
    first = publish.read_manifest(out)["run_id"]
    shutil.copy(image, out / "input.png")  # a file the tool did not write stays
    assert receptive_field.main([*common, "--keypoint", "R_Hip"]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if "replaced" in line]
    assert said == [f"replaced the set of run {first} (4 files) in {out}"]
    assert not (out / f"{name}_L_Elbow.png").exists() and (out / "input.png").is_file()
    assert publish.verify(out) == []


def test_the_default_out_is_under_runs(tiny, rf_image, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["--model", TINY, "--image", str(rf_image), "--device", "cpu", "--stride", "16"]
    assert receptive_field.main(argv) == 0
    assert (tmp_path / "runs" / "receptive_field" / "receptive_field.csv").is_file()
    assert not (tmp_path / "results").exists()


def test_a_tables_set_is_refused(tiny, no_measuring, rf_image, tmp_path, capsys) -> None:
    out = tmp_path / "results"
    writers = {n: (lambda p, n=n: io.write_text(p, n)) for n in ("table3.csv", "env.json")}
    publish.publish(out, writers, ("table3.csv", "env.json"), "bench.tables")
    before = _snapshot(out)
    code, err = _exit(_argv(rf_image, out), capsys)
    assert code == 2 and len(err) == 1, err
    assert str(out) in err[0] and "bench.tables" in err[0] and "another --out" in err[0]
    assert _snapshot(out) == before


def test_a_folder_of_files_no_set_lists_is_refused(tiny, no_measuring, rf_image, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "latency.csv").write_text("someone else's table")
    code, err = _exit(_argv(rf_image, out), capsys)
    assert code == 2 and len(err) == 1 and "latency.csv" in err[0] and "--out" in err[0]
    assert _snapshot(out) == {"latency.csv": b"someone else's table"}


def test_a_refused_run_leaves_no_new_out_folder(tiny, rf_image, tmp_path, monkeypatch, capsys):
    def bad_checkpoint(*args, **kwargs):
        raise CheckpointError("--checkpoint garbage.pt: not a checkpoint")

    monkeypatch.setattr(receptive_field_outputs, "measure_model", bad_checkpoint)
    out = tmp_path / "new" / "rf"
    code, err = _exit(_argv(rf_image, out), capsys)
    assert code == 2 and "garbage.pt" in err[0]
    assert not (tmp_path / "new").exists()  # both folders the run created are gone


def test_models_from_brings_a_users_network(rf_image, tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "my_rf_nets.py").write_text(
        "from tests.tiny_models import register_tiny\nregister_tiny('my-rf-net', (32, 32))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["--model", "my-rf-net", "--image", str(rf_image), "--device", "cpu", "--stride", "16"]
    argv += ["--out", str(tmp_path / "rf"), "--models-from", "my_rf_nets"]
    assert receptive_field.main(argv) == 0
    assert "my-rf-net" in capsys.readouterr().out


def test_help_exits_0(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        receptive_field.main(["--help"])
    assert info.value.code == 0 and "--models-from" in capsys.readouterr().out


class _Bar:
    """Stands in for ``tqdm.tqdm``: records the total, the descriptions and the updates."""

    made: ClassVar[list[_Bar]] = []

    def __init__(self, *args, total=None, desc=None, disable=False, **kwargs) -> None:
        self.total, self.descriptions, self.updates, self.disable = total, [desc], 0, disable
        _Bar.made.append(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, n: int = 1) -> None:
        self.updates += n

    def set_description(self, desc: str) -> None:
        self.descriptions.append(desc)

    def reset(self, total=None) -> None:
        self.total = total


def test_progress_counts_every_batch_of_every_model(rf_image, tmp_path, monkeypatch) -> None:
    import tqdm

    other = register_tiny("tiny-receptive-field-64", (64, 64))
    monkeypatch.setattr(tqdm, "tqdm", _Bar)
    _Bar.made.clear()
    argv = _argv(rf_image, tmp_path / "rf", "--stride", "8", "--batch-size", "7")
    assert receptive_field.main([*argv[:1], register_tiny(TINY, (32, 32)), other, *argv[2:]]) == 0
    (bar,) = _Bar.made
    assert (
        bar.disable is None and bar.total == bar.updates == 3 + 10
    )  # 4 x 4 windows in 7s, 8 x 8 in 7s
    assert bar.descriptions[1:] == [f"receptive field {TINY}", f"receptive field {other}"]
