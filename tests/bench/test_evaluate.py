"""bench.evaluate: every argument and the data are checked before the model runs (one line, exit
status 2), ``--out`` is one published set, and ``--help`` answers before torch is loaded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from bench import evaluate
from bench.report import publish
from tests.helpers import generated_root, without_warnings
from tests.tiny_models import register_tiny

TINY = "test-tiny-evaluate"


@pytest.fixture(scope="module", autouse=True)
def _tiny_model() -> str:
    return register_tiny(TINY)


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_root(tmp_path_factory, "lip", num_images=10, seed=2)


@pytest.fixture(scope="module")
def mpii_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_root(tmp_path_factory, "mpii", num_images=10, seed=2)


def _argv(root: Path, *extra: str, dataset: str = "lip") -> list[str]:
    return ["--model", TINY, "--dataset", dataset, "--root", str(root), "--device", "cpu", *extra]


def _one_line_exit_2(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(argv)
    err = without_warnings(capsys.readouterr().err)
    assert exit_info.value.code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--scales", "0"], "--scales must be numbers in (0, 4], got 0.0"),
        (["--scales", "1", "-0.5"], "--scales must be numbers in (0, 4]"),
        (["--split", "test"], "'test' split has no public labels"),
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--max-samples", "0"], "--max-samples must be >= 1"),
        (["--device", "meta"], "'meta'"),
        (
            ["--model", "gcpm-baseline", "--input-size", "100", "100"],
            "multiples of 8, got 100 x 100",
        ),
        (["--checkpoint", "/no/such.pt"], "/no/such.pt: no such file"),
    ],
)
def test_evaluate_refuses_bad_arguments(
    extra: list[str], named: str, lip_root: Path, tmp_path: Path, capsys
) -> None:
    argv = ["--model", TINY, "--dataset", "lip", "--root", str(lip_root), "--device", "cpu"]
    err = _one_line_exit_2([*argv, "--out", str(tmp_path / "o"), *extra], capsys)
    assert named in err


def test_evaluate_refuses_missing_root_and_unusable_out(
    lip_root: Path, tmp_path: Path, capsys
) -> None:
    argv = ["--model", TINY, "--dataset", "lip", "--device", "cpu"]
    err = _one_line_exit_2([*argv, "--root", str(tmp_path / "none")], capsys)
    assert "--root" in err and "none" in err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    err = _one_line_exit_2([*argv, "--root", str(lip_root), "--out", str(blocker)], capsys)
    assert "--out" in err and "a-file" in err


def test_an_unknown_model_lists_the_known_ones(tmp_path: Path, capsys) -> None:
    err = _one_line_exit_2(["--model", "no-such-net", "--dataset", "lip", "--root", "."], capsys)
    assert "no-such-net" in err and "gcpm-ushaped" in err


def _lip_copy(lip_root: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(lip_root, tmp_path / "lip"))


def _rewrite_rows(root: Path, joint_fields) -> None:
    """Rewrite every row of LIP's val CSV: joint j's fields become ``joint_fields(j, x, y, v)``."""
    csv = root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    rows = []
    for line in csv.read_text().splitlines():
        name, *values = line.split(",")
        joints = [values[3 * j : 3 * j + 3] for j in range(16)]
        fields = [f for j, xyv in enumerate(joints) for f in joint_fields(j, *xyv)]
        rows.append(",".join([name, *fields]))
    csv.write_text("\n".join(rows) + "\n")


def test_joints_all_missing_are_refused_before_the_model_runs(lip_root, tmp_path, capsys):
    root = _lip_copy(lip_root, tmp_path)
    _rewrite_rows(root, lambda j, x, y, v: ("nan", "nan", "nan"))
    err = _one_line_exit_2(_argv(root), capsys)
    assert "no person of the lip 'val' split has an annotated joint" in err


def test_persons_without_a_head_size_are_refused_not_scored_zero(lip_root, tmp_path, capsys):
    from datasets.layouts import LIP_LAYOUT

    head = {LIP_LAYOUT.head_joint, LIP_LAYOUT.neck_joint}
    root = _lip_copy(lip_root, tmp_path)
    _rewrite_rows(root, lambda j, x, y, v: ("nan", "nan", "nan") if j in head else (x, y, v))
    err = _one_line_exit_2(_argv(root), capsys)
    assert "has a head size" in err and "0.00" not in err


def test_the_mpii_train_split_is_refused_with_the_reason(mpii_root, capsys) -> None:
    err = _one_line_exit_2(_argv(mpii_root, "--split", "train", dataset="mpii"), capsys)
    assert "MPII's train split has no head boxes" in err and "--split val" in err


@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_missing_image_is_named_in_one_line(lip_root, tmp_path, capsys, workers) -> None:
    root = _lip_copy(lip_root, tmp_path)
    gone = min((root / "TrainVal_images" / "val_images").iterdir())
    gone.unlink()
    err = _one_line_exit_2(_argv(root, "--workers", workers), capsys)
    assert f"image file {gone} does not exist" in err


def test_out_is_one_published_set_keeping_other_models_rows(lip_root, tmp_path, capsys):
    out = tmp_path / "eval"
    assert evaluate.main(_argv(lip_root, "--max-samples", "2", "--out", str(out))) == 0
    first = capsys.readouterr().out
    assert "PCKh" in first and "replaced" not in first
    names = {f"eval_{TINY}.csv", f"eval_{TINY}.md"}
    assert set(publish.read_manifest(out)["files"]) == names
    other = register_tiny("test-tiny-evaluate-other")
    argv = _argv(lip_root, "--max-samples", "2", "--out", str(out), "--model", other)
    assert evaluate.main(argv) == 0
    assert "replaced" not in capsys.readouterr().out
    assert evaluate.main(_argv(lip_root, "--max-samples", "2", "--out", str(out))) == 0
    assert f"replaced eval_{TINY}.csv, eval_{TINY}.md" in capsys.readouterr().out
    both = names | {f"eval_{other}.csv", f"eval_{other}.md"}
    assert set(publish.read_manifest(out)["files"]) == both and publish.verify(out) == []
    header = (out / f"eval_{TINY}.csv").read_text().splitlines()[0].split(",")
    assert header[5:13] == ["Head", "Sho.", "Elb.", "Wri.", "Hip", "Knee", "Ank.", "PCKh"]


def test_out_holding_another_tools_set_is_refused(lip_root, tmp_path, capsys) -> None:
    out = tmp_path / "tables"
    publish.publish(out, {"table3.csv": lambda p: p.write_text("x")}, producer="bench.tables")
    err = _one_line_exit_2(_argv(lip_root, "--out", str(out)), capsys)
    assert "bench.tables" in err and json.loads((out / "manifest.json").read_text())


def test_models_from_brings_a_users_network(lip_root, tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "my_eval_nets.py").write_text(
        "from tests.tiny_models import register_tiny\nregister_tiny('my-eval-net')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = _argv(lip_root, "--max-samples", "2", "--model", "my-eval-net")
    assert evaluate.main([*argv, "--models-from", "my_eval_nets"]) == 0
    assert "my-eval-net" in capsys.readouterr().out


def test_a_trained_checkpoint_is_evaluated_at_its_size(lip_root, tmp_path, capsys) -> None:
    from tests.tiny_models import TinyPose

    path = tmp_path / "w.pt"
    torch.save({"model": TinyPose().state_dict(), "model_name": TINY, "input_size": [32, 32]}, path)
    assert evaluate.main(_argv(lip_root, "--max-samples", "2", "--checkpoint", str(path))) == 0
    assert str(path) in capsys.readouterr().out


class _CreatesFile:
    """Unpickling this calls ``open(marker, "w")``: code from the file, creating a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_evaluate_cli_refuses_crafted_checkpoint_in_one_line(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "published.pt"
    torch.save({"model": {}, "extra": _CreatesFile(marker)}, path)
    argv = ["--model", TINY, "--checkpoint", str(path), "--dataset", "lip", "--root", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main([*argv, "--device", "cpu"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and not marker.exists()
    assert err.count("\n") == 1 and "--trust-checkpoint" in err and "published.pt" in err


def test_progress_total_is_the_number_of_batches(lip_root, monkeypatch, capsys) -> None:
    import tqdm

    made = []

    class _Bar:
        def __init__(self, *args, desc=None, disable=False, **kwargs) -> None:
            self.desc, self.disable, self.total, self.updates = desc, disable, None, 0
            made.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def reset(self, total=None) -> None:
            self.total = total

        def update(self, n: int = 1) -> None:
            self.updates += n

    monkeypatch.setattr(tqdm, "tqdm", _Bar)
    assert evaluate.main(_argv(lip_root, "--batch-size", "1", "--max-samples", "2")) == 0
    (bar,) = made
    assert bar.disable is None and bar.total == bar.updates == 2 and TINY in bar.desc


def test_python_dash_m_runs_the_command() -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "bench.evaluate", "--model", "no-such-net", "--dataset", "lip"]
        + ["--root", "."],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 2 and "no-such-net" in run.stderr
