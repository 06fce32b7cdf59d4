"""GCPM training recipe (Osokin 2019, Sec. 3.2): loss, schedule, weights loading, a short run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from bench.accuracy.training.backbone import load_backbone_weights, match_state
from bench.accuracy.training.config import ScheduleConfig, TrainConfig
from bench.accuracy.training.loss import heatmap_mse, multi_stage_loss
from bench.accuracy.training.schedule import build_optimizer, build_scheduler, current_lr
from tests.helpers import cpu_train_config, generated_root


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


def test_plateau_schedule_divides_by_ten_exactly_twice() -> None:
    param = nn.Parameter(torch.zeros(1))
    optimizer = build_optimizer([param], 4e-5)
    scheduler = build_scheduler(optimizer, 4e-5, ScheduleConfig(patience=1))
    lrs = []
    for _ in range(12):  # a flat validation PCKh: a plateau every other epoch
        scheduler.step(50.0)
        lrs.append(current_lr(optimizer))
    assert sorted(set(lrs), reverse=True) == pytest.approx([4e-5, 4e-6, 4e-7])
    assert lrs[-1] == pytest.approx(4e-7)


def test_plateau_schedule_keeps_lr_while_pckh_improves() -> None:
    param = nn.Parameter(torch.zeros(1))
    optimizer = build_optimizer([param], 4e-5)
    scheduler = build_scheduler(optimizer, 4e-5, ScheduleConfig(patience=1))
    for epoch in range(10):
        scheduler.step(10.0 + epoch)
    assert current_lr(optimizer) == pytest.approx(4e-5)


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="dataset must be one of"):
        TrainConfig(model="m", dataset="coco", root=Path("."), out=Path("."))
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(model="m", dataset="lip", root=Path("."), out=Path("."), epochs=0)


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 8, 1))
        self.head = nn.Conv2d(8, 2, 1)


def test_backbone_weights_match_by_order_and_report(tmp_path: Path) -> None:
    source_net = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 8, 1), nn.Linear(8, 10)
    )
    state = {f"module.model.{k}": v for k, v in source_net.state_dict().items()}
    torch.save({"state_dict": state}, tmp_path / "mobilenet.pth")
    net = _Net()
    report = load_backbone_weights(net, tmp_path / "mobilenet.pth")
    assert torch.equal(net.backbone[0].weight, source_net[0].weight)
    assert torch.equal(net.backbone[2].weight, source_net[2].weight)
    assert report.missing == ()
    assert set(report.unexpected) == {"model.3.weight", "model.3.bias"}


def test_backbone_match_prefers_names_and_stops_at_a_shape_mismatch() -> None:
    target = {"a.weight": torch.zeros(2), "b.weight": torch.zeros(3)}
    source = {"module.b.weight": torch.ones(3), "x": torch.ones(5)}
    mapped, report = match_state(target, source)
    assert list(mapped) == ["b.weight"] and report.missing == ("a.weight",)
    assert report.unexpected == ("x",)


@pytest.mark.slow
def test_short_training_lifts_pckh_far_above_the_untrained_model(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The CPU demonstration in small: gcpm-ushaped-2stage at 64x64 fits 9 generated images."""
    from bench.accuracy.training.config import AugmentSwitches
    from bench.accuracy.training.loop import fit
    from bench.evaluate import evaluate_checkpoint

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
