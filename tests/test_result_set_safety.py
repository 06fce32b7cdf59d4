"""``bench.receptive_field`` and result sets: another tool's set is refused, a user's file in its
set is left alone, a refused run leaves no new ``--out``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import receptive_field
from bench.accuracy.training.checkpoint import CheckpointError
from bench.report import files as io
from bench.report import publish as result_set
from bench.result_set import main as verify_main
from tests.tiny_models import register_tiny

TINY = "tiny-set-safety"


@pytest.fixture
def tiny() -> str:
    return register_tiny(TINY, (32, 32))


@pytest.fixture
def no_measuring(monkeypatch) -> None:
    def measured(*args, **kwargs):
        raise AssertionError("measured although the run should have been refused")

    monkeypatch.setattr(receptive_field, "measure_model", measured)


@pytest.fixture
def image(tmp_path) -> Path:
    import cv2

    path = tmp_path / "person.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (40, 30, 3), dtype=np.uint8))
    return path


def _rf_argv(image: Path, out: Path) -> list[str]:
    return ["--model", TINY, "--image", str(image), "--device", "cpu", "--out", str(out)]


def _exit(main, argv: list[str], capsys) -> tuple[int, list[str], list[str]]:
    """(exit status, stdout lines, stderr lines) of ``main(argv)``, which may return or exit."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out.strip().splitlines(), captured.err.strip().splitlines()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _text_writers(*names: str) -> dict:
    return {n: (lambda path, n=n: io.write_text(path, f"{n}\n")) for n in names}


def _tables_set(folder: Path) -> Path:
    names = ("table3.csv", "latency.md", "env.json")
    result_set.publish(folder, _text_writers(*names), names, "bench.tables")
    return folder


def _rf_set(folder: Path) -> Path:
    names = (f"{TINY}_R_Hip.png", *receptive_field.OUTPUT_NAMES)
    result_set.publish(
        folder, _text_writers(*names), receptive_field.OUTPUT_NAMES, receptive_field.PRODUCER
    )
    return folder


def test_receptive_field_refuses_a_tables_set(tiny, no_measuring, image, tmp_path, capsys):
    out = _tables_set(tmp_path / "results")
    before = _snapshot(out)
    code, _, err = _exit(receptive_field.main, _rf_argv(image, out), capsys)
    assert code == 2 and len(err) == 1, err
    assert str(out) in err[0] and "bench.tables" in err[0] and "another --out" in err[0]
    assert _snapshot(out) == before


def test_a_receptive_field_set_with_a_users_file_is_consistent(tmp_path, capsys):
    out = _rf_set(tmp_path / "rf")
    (out / "input.png").write_text("the user's picture")
    code, lines, _ = _exit(verify_main, [str(out)], capsys)
    assert code == 0 and "one consistent set" in lines[-1]


def test_a_refused_run_leaves_no_new_out_folder(tiny, image, tmp_path, monkeypatch, capsys):
    def bad_checkpoint(*args, **kwargs):
        raise CheckpointError("--checkpoint garbage.pt: not a checkpoint")

    monkeypatch.setattr(receptive_field, "measure_model", bad_checkpoint)
    out = tmp_path / "new" / "rf"
    code, _, err = _exit(receptive_field.main, _rf_argv(image, out), capsys)
    assert code == 2 and "garbage.pt" in err[0]
    assert not (tmp_path / "new").exists()  # both folders the run created are gone
