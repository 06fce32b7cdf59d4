"""A registered model with a checkpoint's weights: made for it, at the size it was trained at."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench.accuracy.training.checkpoint import CheckpointError
from bench.accuracy.training.model import load_model
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
