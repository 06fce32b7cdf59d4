"""bench.train: it checks before it works (bad arguments, a folder in use, a resume with another
recipe or from a weights-only file end in one line, exit status 2, with nothing written),
``--restart`` starts afresh, ``--models-from`` brings a user's network, and ``--help`` answers
before torch is loaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from architectures.errors import OutputError
from bench import train
from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training.guards import LOCK_NAME, output_lock
from tests.helpers import generated_root, without_warnings
from tests.tiny_models import register_tiny

TINY = "test-tiny-guards"
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


@pytest.fixture(scope="module", autouse=True)
def _tiny_model() -> str:
    return register_tiny(TINY)


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_root(tmp_path_factory, "lip", num_images=10, seed=2)


def _train_argv(root: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--model",
        TINY,
        "--dataset",
        "lip",
        "--root",
        str(root),
        "--out",
        str(out),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--lr",
        "1e-3",
        "--workers",
        "0",
        "--device",
        "cpu",
        "--max-val-samples",
        "4",
        "--no-progress",
        *extra,
    ]


def _one_line_exit_2(main, argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = without_warnings(capsys.readouterr().err)
    assert exit_info.value.code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["--batch-size", "-3"], "--batch-size must be >= 1"),
        (["--lr", "0"], "--lr must be a finite number > 0"),
        (["--lr", "nan"], "--lr must be a finite number > 0"),
        (["--workers", "-1"], "--workers must be >= 0"),
        (["--patience", "-1"], "--patience must be >= 0"),
        (["--validate-every", "0"], "--validate-every must be >= 1"),
        (["--seed", "-1"], "--seed must be between 0"),
        (["--device", "meta"], "'meta'"),
        (["--device", "gpu0"], "'gpu0': not a device"),
        pytest.param(["--device", "cuda"], "CUDA is not available", marks=NO_CUDA),
        (["--model", "gcpm-baseline", "--input-size", "60", "60"], "multiples of 8, got 60 x 60"),
        (["--model", "no-such-net"], "unknown model 'no-such-net'"),
        (["--resume", "/no/such/last.pt"], "--resume /no/such/last.pt: no such file"),
    ],
)
def test_train_refuses_bad_arguments_before_any_work(
    extra: list[str], named: str, lip_root: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    err = _one_line_exit_2(train.main, _train_argv(lip_root, out, *extra), capsys)
    assert named in err
    assert not out.exists()  # refused before --out was even created


def test_train_refuses_missing_root_and_unusable_out(
    lip_root: Path, tmp_path: Path, capsys
) -> None:
    err = _one_line_exit_2(train.main, _train_argv(tmp_path / "nowhere", tmp_path / "r"), capsys)
    assert "--root" in err and "nowhere" in err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for out in (blocker, blocker / "sub"):
        err = _one_line_exit_2(train.main, _train_argv(lip_root, out), capsys)
        assert "--out" in err and str(blocker) in err


def test_a_root_without_the_split_leaves_no_new_folder(
    lip_root: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    err = _one_line_exit_2(train.main, _train_argv(lip_root, out, "--dataset", "mpii"), capsys)
    assert "mpii_train.json does not exist" in err.splitlines()[-1]
    assert not out.exists()  # the folder this run created is gone again


def test_a_second_run_into_a_folder_in_use_is_refused(
    lip_root: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    with output_lock(out):
        err = _one_line_exit_2(train.main, _train_argv(lip_root, out), capsys)
        assert f"in use by another training run (pid {os.getpid()}" in err
        with pytest.raises(OutputError, match="in use"), output_lock(out):
            pass
    assert [p.name for p in out.iterdir() if p.name != LOCK_NAME] == []  # nothing written


def test_resume_with_other_settings_is_refused_naming_them_and_restart_starts_afresh(
    lip_root: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    train.main(_train_argv(lip_root, out))
    first = (out / ckpt.LAST).read_bytes()
    capsys.readouterr()
    err = _one_line_exit_2(
        train.main, _train_argv(lip_root, out, "--lr", "2e-3", "--input-size", "128", "128"), capsys
    )
    assert "--lr 0.002 (saved: 0.001)" in err and "--input-size 128 128 (saved: None)" in err
    assert "--restart" in err and (out / ckpt.LAST).read_bytes() == first
    # a longer run is a continuation, not another recipe
    train.main(_train_argv(lip_root, out, "--epochs", "2"))
    assert "resumed from" in capsys.readouterr().out
    train.main(_train_argv(lip_root, out, "--lr", "2e-3", "--restart"))
    output = capsys.readouterr().out
    assert "resumed" not in output and "done: epoch 1" in output
    state = torch.load(out / ckpt.LAST, weights_only=True)  # our own files need no unpickling
    assert state["config"]["lr"] == 2e-3 and state["model_name"] == TINY
    assert state["input_size"] == [64, 64]


def test_resume_from_a_weights_only_file_says_so(lip_root: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    train.main(_train_argv(lip_root, out))
    capsys.readouterr()
    argv = _train_argv(lip_root, tmp_path / "next", "--resume", str(out / ckpt.BEST))
    err = _one_line_exit_2(train.main, argv, capsys)
    assert "best.pt holds model weights only" in err


def test_help_names_the_models_and_the_progress_switch(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        train.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert stop.value.code == 0
    assert "--no-progress no progress" in out and "architectures.list_models()" in out
    assert "--models-from MODULE" in out


def test_an_unknown_model_lists_the_known_ones(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["--model", "no-such-net", "--dataset", "lip", "--root", ".", "--out", "x"]
    err = _one_line_exit_2(train.main, argv, capsys)
    assert "no-such-net" in err and "gcpm-ushaped" in err
    assert not (tmp_path / "x").exists()


def test_models_from_registers_a_users_network_before_the_name_is_resolved(
    lip_root: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    (tmp_path / "my_nets.py").write_text(
        "from tests.tiny_models import register_tiny\nregister_tiny('my-train-net')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = _train_argv(lip_root, tmp_path / "run", "--model", "my-train-net")
    assert train.main([*argv, "--models-from", "my_nets"]) == 0
    assert "done: epoch 1" in capsys.readouterr().out
    err = _one_line_exit_2(train.main, [*argv, "--models-from", "no_such_module"], capsys)
    assert "--models-from no_such_module" in err


def test_progress_names_each_step_and_counts_every_batch(
    lip_root: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    from bench.accuracy.training import loop

    made = []

    class _Bar:
        def __init__(self, iterable=None, total=None, desc=None, disable=False, **kwargs):
            self.iterable, self.desc, self.disable, self.updates = iterable, desc, disable, 0
            self.total = len(iterable) if iterable is not None else total
            made.append(self)

        def __iter__(self):
            for item in self.iterable:
                yield item
                self.updates += 1

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def update(self, n: int = 1) -> None:
            self.updates += n

        def set_postfix(self, **kwargs) -> None:
            pass

    monkeypatch.setattr(loop, "tqdm", _Bar)
    argv = [
        a for a in _train_argv(lip_root, tmp_path / "run", "--epochs", "2") if a != "--no-progress"
    ]
    assert train.main(argv) == 0
    assert [b.desc for b in made] == [
        "epoch 1/2 training",
        "epoch 1/2 validation",
        "epoch 2/2 training",
        "epoch 2/2 validation",
    ]
    assert all(b.disable is None and b.total == b.updates > 0 for b in made)
    assert made[1].total == 1  # --max-val-samples 4 in one batch of 4
