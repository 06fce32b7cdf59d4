"""ImageNet backbone weights matched by name, then by order and shape, with a report."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from bench.accuracy.training.backbone import load_backbone_weights, match_state


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
