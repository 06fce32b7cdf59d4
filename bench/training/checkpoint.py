"""Training checkpoints: everything needed to continue a run bit-for-bit.

A checkpoint holds the model, optimiser and scheduler states, the next epoch, the RNG states of
python, numpy and torch (CPU and CUDA) and the data-order seed; the per-epoch data order is a pure
function of (seed, epoch), so restoring these continues the exact sequence of an uninterrupted run.
Files are written to a temporary file in the same directory and moved with ``os.replace`` so an
interrupted write never leaves a truncated checkpoint behind.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

LAST = "last.pt"
BEST = "best.pt"


def capture_rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file in the same directory, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a file written by :func:`atomic_torch_save`; a clear error if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        # our checkpoints hold numpy RNG state and config values, so full unpickling is needed
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # a truncated or foreign file: say which one
        raise ValueError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {path} holds a {type(state).__name__}, expected a dict")
    return state


def model_state_from(
    checkpoint: dict[str, Any], path: Path | str = "<checkpoint>"
) -> dict[str, torch.Tensor]:
    """The model weights of a training checkpoint or of a bare state_dict file."""
    state = checkpoint.get("model", checkpoint)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(
            f"checkpoint {path} has no model state_dict (keys: {sorted(checkpoint)[:8]})"
        )
    # weights saved from a DDP-wrapped model carry a 'module.' prefix
    return {k.removeprefix("module."): v for k, v in state.items()}
