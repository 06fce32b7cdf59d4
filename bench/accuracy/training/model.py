"""Building a registered model and loading its weights: the one place training, evaluation and the
other commands get a model from. A ``bench.train`` checkpoint must be for the model and sets the
input size; foreign state_dicts must match by tensor names and shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from architectures.registry import build_at_size
from bench.accuracy.training.checkpoint import CheckpointError, load_checkpoint, model_state_from


def check_made_for(state: dict[str, Any], name: str, path: Path) -> None:
    """Refuse a checkpoint that records another model name (foreign files record none)."""
    saved = state.get("model_name")
    if saved is not None and saved != name:
        raise CheckpointError(
            f"checkpoint {path} was trained as model {saved!r}, not {name!r} "
            f"(use --model {saved}, or another checkpoint)"
        )


def load_weights(model: nn.Module, state: dict[str, Any], path: Path, name: str) -> None:
    """Copy a checkpoint's weights into ``model``; every tensor must fit (names and shapes)."""
    weights = model_state_from(state, path)
    expected = model.state_dict()
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    wrong = [
        f"{k} {tuple(weights[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in weights and weights[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"checkpoint {path} does not fit model {name!r}: {len(missing)} tensors missing "
            f"{missing[:2]}, {len(unexpected)} unexpected {unexpected[:2]}, {len(wrong)} of "
            f"another shape {wrong[:2]}"
        )
    model.load_state_dict(weights)


def load_model(
    model_name: str,
    checkpoint: Path | None,
    device: torch.device | str,
    input_size: tuple[int, int] | None = None,
    seed: int = 0,
    trust: bool = False,
) -> nn.Module:
    """A registered model in eval mode on ``device``: the weights of ``checkpoint``, else seeded
    random ones; ``input_size`` None: the size the checkpoint was trained at, else the registered.
    """
    state = None
    if checkpoint is not None:
        state = load_checkpoint(checkpoint, trust=trust)
        check_made_for(state, model_name, Path(checkpoint))
        size = state.get("input_size")  # bench.train's checkpoints say what they were trained at
        if input_size is None and isinstance(size, (list, tuple)) and len(size) == 2:
            input_size = (int(size[0]), int(size[1]))
    torch.manual_seed(seed)
    model = build_at_size(model_name, input_size)
    if state is not None:
        load_weights(model, state, Path(checkpoint), model_name)
    return model.to(device).eval()
