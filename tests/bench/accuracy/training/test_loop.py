"""The training loop: the paper's loss and plateau schedule (threshold in PCKh percent); end to end,
a short CPU run lifts PCKh and its checkpoint holds it, and an interrupted run continued from its
checkpoint equals an uninterrupted one exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training.checkpoint import CheckpointError
from bench.accuracy.training.config import ScheduleConfig, TrainConfig
from bench.accuracy.training.loop import build_scheduler, fit, heatmap_mse, multi_stage_loss
from tests.helpers import cpu_train_config, generated_root
from tests.tiny_models import TinyPose, register_tiny


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


def test_loss_is_the_papers_formula_summed_over_stages() -> None:
    pred = torch.zeros(2, 4, 3, 3)
    target = torch.ones(2, 4, 3, 3)
    target[:, 0] = 0.0  # one of four maps right: 1/N * sum_n sum_xy = (3 * 9) / 4
    assert heatmap_mse(pred, target).item() == pytest.approx(27 / 4)
    assert multi_stage_loss([pred, pred, pred], target).item() == pytest.approx(3 * 27 / 4)


def test_loss_resizes_targets_and_names_bad_shapes() -> None:
    target = torch.ones(1, 2, 8, 8)
    assert heatmap_mse(torch.ones(1, 2, 4, 4), target).item() == pytest.approx(0.0)
    with pytest.raises(ValueError, match=r"\(1, 3, 4, 4\)"):
        heatmap_mse(torch.ones(1, 3, 4, 4), target)
    with pytest.raises(ValueError, match="list of heatmap"):
        multi_stage_loss(torch.ones(1, 2, 8, 8), target)


def _scheduler(patience: int = 2):
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=4e-5)
    return optimizer, build_scheduler(optimizer, 4e-5, ScheduleConfig(patience=patience))


@pytest.mark.parametrize("gain, resets", [(0.05, False), (0.2, True)])
def test_gain_in_points_resets_patience_only_above_the_threshold(gain, resets):
    _, scheduler = _scheduler()
    scheduler.step(80.0)  # validation PCKh in %, as bench.evaluate returns it
    scheduler.step(80.0)  # one plateau epoch
    assert scheduler.num_bad_epochs == 1
    scheduler.step(80.0 + gain)
    assert scheduler.num_bad_epochs == (0 if resets else 2)


def test_small_gains_still_divide_the_rate_after_patience_epochs():
    optimizer, scheduler = _scheduler(patience=2)
    for pckh in (80.0, 80.05, 80.08, 80.09):  # creeping up, never 0.1 point above the best
        scheduler.step(pckh)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(4e-6)


def test_default_threshold_is_a_tenth_of_a_point():
    assert ScheduleConfig().threshold == pytest.approx(0.1)


def test_plateau_schedule_divides_by_ten_exactly_twice() -> None:
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=4e-5)
    scheduler = build_scheduler(optimizer, 4e-5, ScheduleConfig(patience=1))
    lrs = []
    for _ in range(12):  # a flat validation PCKh: a plateau every other epoch
        scheduler.step(50.0)
        lrs.append(optimizer.param_groups[0]["lr"])
    assert sorted(set(lrs), reverse=True) == pytest.approx([4e-5, 4e-6, 4e-7])
    assert lrs[-1] == pytest.approx(4e-7)


def test_plateau_schedule_keeps_lr_while_pckh_improves() -> None:
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=4e-5)
    scheduler = build_scheduler(optimizer, 4e-5, ScheduleConfig(patience=1))
    for epoch in range(10):
        scheduler.step(10.0 + epoch)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(4e-5)


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
