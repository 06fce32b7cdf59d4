"""A registered model with a checkpoint's weights: made for it, at the size it was trained at;
ImageNet backbone weights matched by name, then by order and shape, with a report."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from bench.accuracy.training.checkpoint import CheckpointError
from bench.accuracy.training.model import load_backbone_weights, load_model, match_state
from tests.tiny_models import TinyPose, register_tiny

TINY = "test-tiny-model"


@pytest.fixture(scope="module", autouse=True)
def _tiny_model() -> str:
    return register_tiny(TINY)


def test_checkpoint_for_another_model_is_refused_naming_both(tmp_path: Path) -> None:
    other = register_tiny("test-tiny-safety-other")
    path = tmp_path / "best.pt"
    torch.save({"model": TinyPose().state_dict(), "model_name": other}, path)
    with pytest.raises(CheckpointError, match=f"trained as model '{other}', not '{TINY}'"):
        load_model(TINY, path, "cpu")
    assert load_model(other, path, "cpu") is not None


def test_weights_are_loaded_at_the_trained_size_and_untrained_ones_are_seeded(tmp_path) -> None:
    trained = TinyPose()
    path = tmp_path / "last.pt"
    torch.save({"model": trained.state_dict(), "model_name": TINY, "input_size": [32, 48]}, path)
    model = load_model(TINY, path, "cpu")
    assert model.info.input_size == (32, 48) and not model.training
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), trained.state_dict().values())
    )
    assert load_model(TINY, path, "cpu", input_size=(64, 64)).info.input_size == (64, 64)
    first, second = (load_model(TINY, None, "cpu", seed=3) for _ in range(2))
    assert torch.equal(next(first.parameters()), next(second.parameters()))


def test_a_state_dict_that_does_not_fit_is_summarised(tmp_path: Path) -> None:
    path = tmp_path / "misfit.pt"
    torch.save({"model": {"w": torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError, match="does not fit model .* 1 unexpected"):
        load_model(TINY, path, "cpu")


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
