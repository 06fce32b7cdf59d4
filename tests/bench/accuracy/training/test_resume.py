"""Resume: an interrupted run continued from its checkpoint equals an uninterrupted one exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training.checkpoint import CheckpointError
from bench.accuracy.training.config import TrainConfig
from bench.accuracy.training.loop import fit
from tests.helpers import cpu_train_config, generated_root
from tests.tiny_models import TinyPose, register_tiny

TINY = "test-tiny-resume"


@pytest.fixture(scope="module", autouse=True)
def _tiny_model() -> str:
    return register_tiny(TINY)  # conftest's registry snapshot removes it after this module


class _Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_root(tmp_path_factory, "lip", num_images=16, seed=3)


def _config(root: Path, out: Path, **changes) -> TrainConfig:
    run = {"model": TINY, "epochs": 3, "batch_size": 4, "lr": 1e-3, "seed": 5, **changes}
    return cpu_train_config(run.pop("model"), root, out, **run)


def _stop_after(epoch: int):
    def callback(done: int, record: dict) -> None:
        if done == epoch:
            raise _Interrupt(f"simulated crash after epoch {done}")

    return callback


def _numbers(history: list[dict]) -> list[tuple]:
    return [(r["epoch"], r["train_loss"], r["val_pckh"], r["lr"]) for r in history]


def test_interrupted_run_resumes_to_identical_weights(lip_root: Path, tmp_path: Path) -> None:
    straight = fit(_config(lip_root, tmp_path / "straight"))
    with pytest.raises(_Interrupt):
        fit(_config(lip_root, tmp_path / "resumed"), on_epoch_end=_stop_after(1))
    resumed = fit(_config(lip_root, tmp_path / "resumed", workers=0))
    assert _numbers(resumed.history) == _numbers(straight.history)
    a = ckpt.load_checkpoint(tmp_path / "straight" / ckpt.LAST)
    b = ckpt.load_checkpoint(tmp_path / "resumed" / ckpt.LAST)
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert a["optimizer"]["state"][0]["step"] == b["optimizer"]["state"][0]["step"]
    assert a["scheduler"] == b["scheduler"]


def test_training_changes_weights_and_leaves_no_temp_files(lip_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    torch.manual_seed(5)
    initial = TinyPose().state_dict()
    run = fit(_config(lip_root, out, epochs=1))
    trained = ckpt.load_checkpoint(out / ckpt.LAST)["model"]
    assert not torch.equal(initial["stage2.weight"], trained["stage2.weight"])
    assert sorted(p.name for p in out.iterdir()) == [".lock", "best.pt", "last.pt", "log.jsonl"]
    assert run.next_epoch == 1


def test_finished_run_resumes_to_nothing_and_explicit_resume_checks_model(
    lip_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    fit(_config(lip_root, out, epochs=1))
    again = fit(_config(lip_root, out, epochs=1))
    assert len(again.history) == 1  # restored, nothing re-trained
    wrong = _config(lip_root, tmp_path / "other", model="gcpm-baseline", resume=out / ckpt.LAST)
    with pytest.raises(CheckpointError, match=f"trained as model '{TINY}', not 'gcpm-baseline'"):
        fit(wrong)


def test_corrupt_checkpoint_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="last.pt: not a PyTorch checkpoint"):
        ckpt.load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="missing.pt: no such file"):
        ckpt.load_checkpoint(tmp_path / "missing.pt")
