"""Resume: an interrupted run continued from its checkpoint equals an uninterrupted one exactly."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from architectures import ModelInfo, list_models, register_model
from bench.training import checkpoint as ckpt
from bench.training.config import TrainConfig
from bench.training.loop import fit

TINY = "test-tiny-resume"


class _TinyPose(nn.Module):
    """Output stride 8, 17 maps, two supervised stages: the contract at a few thousand params."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.stage1 = nn.Conv2d(16, 17, 1)
        self.stage2 = nn.Conv2d(16 + 17, 17, 3, padding=1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = self.stem(x)
        first = self.stage1(features)
        return [first, self.stage2(torch.cat([features, first], dim=1))]


if TINY not in list_models():
    register_model(
        ModelInfo(
            name=TINY,
            family="test",
            dataset="lip",
            input_size=(64, 64),
            output_stride=8,
            num_heatmaps=17,
        )
    )(lambda **overrides: _TinyPose())


class _Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datasets.synthetic import SyntheticConfig, generate

    root = tmp_path_factory.mktemp("lip")
    generate(SyntheticConfig(format="lip", out=root, num_images=16, seed=3))
    return root


def _config(root: Path, out: Path, **changes) -> TrainConfig:
    base = TrainConfig(
        model=TINY,
        dataset="lip",
        root=root,
        out=out,
        epochs=3,
        batch_size=4,
        lr=1e-3,
        workers=0,
        seed=5,
        device="cpu",
        progress=False,
    )
    return replace(base, **changes)


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
    initial = _TinyPose().state_dict()
    run = fit(_config(lip_root, out, epochs=1))
    trained = ckpt.load_checkpoint(out / ckpt.LAST)["model"]
    assert not torch.equal(initial["stage2.weight"], trained["stage2.weight"])
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "last.pt", "log.jsonl"]
    assert run.next_epoch == 1


def test_finished_run_resumes_to_nothing_and_explicit_resume_checks_model(
    lip_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    fit(_config(lip_root, out, epochs=1))
    again = fit(_config(lip_root, out, epochs=1))
    assert len(again.history) == 1  # restored, nothing re-trained
    wrong = _config(lip_root, tmp_path / "other", model="gcpm-baseline", resume=out / ckpt.LAST)
    with pytest.raises(ValueError, match=f"for model '{TINY}', not 'gcpm-baseline'"):
        fit(wrong)


def test_corrupt_checkpoint_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint .*last.pt"):
        ckpt.load_checkpoint(bad)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        ckpt.load_checkpoint(tmp_path / "missing.pt")
