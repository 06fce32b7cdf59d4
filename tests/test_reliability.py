"""``bench.receptive_field``: bad arguments exit 2 in one line before any model runs, ``--help``
exits 0, a second run leaves one consistent set."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bench import receptive_field
from bench.report import publish as result_set
from tests.tiny_models import register_tiny

TINY = "tiny-reliability"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny() -> str:
    return register_tiny(TINY, (32, 32))


def _exit(main, argv: list[str], capsys) -> tuple[int, list[str]]:
    """(exit status, stderr lines) of ``main(argv)``."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.fixture
def rf_image(tmp_path) -> Path:
    import cv2

    path = tmp_path / "person.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (40, 30, 3), dtype=np.uint8))
    return path


def test_receptive_field_bad_arguments_exit_2_before_any_model_runs(
    tiny, rf_image, tmp_path, monkeypatch, capsys
):
    def ran(*args, **kwargs):
        raise AssertionError("a model ran before the checks passed")

    monkeypatch.setattr(receptive_field, "receptive_field_maps", ran)
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    out = tmp_path / "rf"
    base = ["--model", TINY, "--image", str(rf_image), "--device", "cpu"]
    cases = [
        ([*base], "--out"),  # no default any more: results/ is written only when asked
        ([*base, "--out", str(out), "--keypoint", "Nose"], "Nose"),
        ([*base, "--out", str(out), "--window", "0"], "--window"),
        ([*base, "--out", str(out), "--window", "99"], "--window 99"),
        ([*base, "--out", str(out), "--stride", "-1"], "--stride"),
        ([*base, "--out", str(out), "--batch-size", "0"], "--batch-size"),
        ([*base, "--out", str(out), "--seed", str(2**70)], "--seed"),
        ([*base, "--out", str(out), "--device", "meta"], "'meta'"),
        ([*base, "--out", str(out), "--measure", "l2"], "l2"),
        ([*base, "--out", str(out), "--checkpoint", "/no/such.pt"], "/no/such.pt"),
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
        code, err = _exit(receptive_field.main, argv, capsys)
        assert (code, len(err)) == (2, 1), (argv, err)
        assert named in err[0], (argv, err)
    assert not out.exists()


def test_help_exits_0(capsys):
    for main in (receptive_field.main,):
        with pytest.raises(SystemExit) as info:
            main(["--help"])
        assert info.value.code == 0


def test_receptive_field_second_run_is_one_set(tiny, rf_image, tmp_path):
    out = tmp_path / "rf"
    argv = [
        "--model",
        TINY,
        "--image",
        str(rf_image),
        "--device",
        "cpu",
        "--out",
        str(out),
        "--stride",
        "11",
        "--batch-size",
        "4",
    ]
    assert receptive_field.main([*argv, "--keypoint", "R_Hip", "L_Elbow"]) == 0
    assert (out / f"{TINY}_L_Elbow.png").is_file()
    shutil.copy(rf_image, out / "input.png")  # a file the tool did not write stays
    assert receptive_field.main([*argv, "--keypoint", "R_Hip"]) == 0
    assert not (out / f"{TINY}_L_Elbow.png").exists() and (out / "input.png").is_file()
    assert result_set.verify(out) == []
