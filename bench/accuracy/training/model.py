"""Building a registered model and loading its weights: the one place training, evaluation and the
other commands get a model from.

A checkpoint written by ``bench.train`` names the model it was trained as and the input size it was
trained at; loading it for another model is refused with both names, and evaluation runs at the
trained size unless told otherwise. Foreign files (a bare ``state_dict``) are matched by their
tensor names and shapes, and a mismatch is summarised in one line.
"""

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


def trained_input_size(state: dict[str, Any]) -> tuple[int, int] | None:
    """The (H, W) a ``bench.train`` checkpoint was trained at; ``None`` for other files."""
    size = state.get("input_size")
    return (
        (int(size[0]), int(size[1])) if isinstance(size, (list, tuple)) and len(size) == 2 else None
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
    """A registered model in eval mode on ``device``, with the weights of ``checkpoint``.

    Without a checkpoint: seeded random weights (an untrained model's score is reproducible).
    ``input_size`` None: the size the checkpoint was trained at, else the registered size.
    ``trust``: load the file with full unpickling (only for files from a trusted source).
    """
    state = None
    if checkpoint is not None:
        state = load_checkpoint(checkpoint, trust=trust)
        check_made_for(state, model_name, Path(checkpoint))
        input_size = input_size or trained_input_size(state)
    torch.manual_seed(seed)
    model = build_at_size(model_name, input_size)
    if state is not None:
        load_weights(model, state, Path(checkpoint), model_name)
    return model.to(device).eval()
