"""The training loop end to end: a short CPU run lifts PCKh and its checkpoint holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import cpu_train_config, generated_root


@pytest.mark.slow
def test_short_training_lifts_pckh_far_above_the_untrained_model(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The CPU demonstration in small: gcpm-ushaped-2stage at 64x64 fits 9 generated images."""
    from bench.accuracy.evaluation import evaluate_checkpoint
    from bench.accuracy.training.config import AugmentSwitches
    from bench.accuracy.training.loop import fit

    root = generated_root(tmp_path_factory, "lip", num_images=12, seed=1)
    cfg = cpu_train_config(
        "gcpm-ushaped-2stage",
        root,
        tmp_path / "run",
        epochs=6,
        batch_size=3,
        lr=2e-3,
        seed=0,
        input_size=(64, 64),
        val_split="train",
        validate_every=6,
        augment=AugmentSwitches(enabled=False),
    )
    # the same seed gives fit() the same initial weights: this is the run's starting point
    before = evaluate_checkpoint(
        cfg.model, None, "lip", root, split="train", input_size=(64, 64), device="cpu"
    )["PCKh"]
    run = fit(cfg)
    after = run.history[-1]["val_pckh"]
    assert [r["val_pckh"] is None for r in run.history] == [True] * 5 + [False]
    assert run.history[-1]["train_loss"] < 0.5 * run.history[0]["train_loss"]
    assert after >= before + 10.0, (before, after)
    trained = evaluate_checkpoint(
        cfg.model,
        cfg.out / "last.pt",
        "lip",
        root,
        split="train",
        input_size=(64, 64),
        device="cpu",
    )["PCKh"]
    assert trained == pytest.approx(after)  # the checkpoint holds what was validated


def test_the_epoch_order_is_a_function_of_seed_and_epoch_only() -> None:
    import torch

    from bench.accuracy.training.distributed import DistEnv
    from bench.accuracy.training.loop import make_loader

    data = torch.utils.data.TensorDataset(torch.arange(20))
    cfg = cpu_train_config("gcpm-baseline", Path("."), Path("."), batch_size=20, seed=3)

    def order(epoch: int, rank: int = 0, world: int = 1) -> list[int]:
        loader = make_loader(data, cfg, DistEnv(rank=rank, world_size=world), epoch)
        return next(iter(loader))[0].tolist()

    assert order(1) == order(1) and order(1) != order(2)
    shards = order(1, 0, 2) + order(1, 1, 2)
    assert sorted(shards) == list(range(20))  # two ranks see every sample once


def test_a_loss_that_is_not_finite_stops_the_epoch_naming_it() -> None:
    import torch
    from torch import nn

    from bench.accuracy.training.loop import train_one_epoch

    class _Nan(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            return [x * self.w * float("nan")]

    batch = {"image": torch.zeros(2, 1, 4, 4), "heatmaps": torch.zeros(2, 1, 4, 4)}
    optimizer = torch.optim.SGD(_Nan().parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="epoch 1/1 training: loss became nan at batch 0"):
        train_one_epoch(
            _Nan(), [batch], optimizer, torch.device("cpu"), False, "epoch 1/1 training"
        )
