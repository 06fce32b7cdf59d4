"""Checkpoint files, read with ``torch.load(weights_only=True)`` unless trusted (docs/accuracy.md):
every value we store is weights_only-loadable; files are written atomically (``torch_save``)."""

from __future__ import annotations

import pickle
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from architectures.errors import InputFileError


class CheckpointError(InputFileError):
    """A checkpoint that cannot be read or was not made for the requested model."""


LAST = "last.pt"
BEST = "best.pt"


def capture_rng_state() -> dict[str, Any]:
    """This process's RNG states, weights_only-loadable (numpy's keys as a tensor)."""
    name, keys, *numbers = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), *numbers],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    random.setstate(state["python"])
    name, keys, *numbers = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *numbers))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def load_checkpoint(path: Path, trust: bool = False) -> dict[str, Any]:
    """A checkpoint as a dict; every failure is a :class:`CheckpointError` naming the file."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "no such file"
        raise CheckpointError(f"checkpoint {path}: {what}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(_refusal(path, str(exc))) from None
    except EOFError:
        raise CheckpointError(f"checkpoint {path}: the file is empty") from None
    except PermissionError as exc:
        raise CheckpointError(f"checkpoint {path}: cannot read it ({exc.strerror})") from None
    except Exception as exc:  # noqa: BLE001 - torch reports damage as RuntimeError, KeyError ...
        first = str(exc).split(". ")[0].splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(
            f"checkpoint {path}: damaged or not a PyTorch file ({first})"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, expected a dict")
    return state


def _refusal(path: Path, message: str) -> str:
    """One line for a weights-only refusal: which object the file wanted, and what to do."""
    found = re.search(r"GLOBAL ([\w.]+)", message)
    if found is None:  # no object named: the file is not a pickle torch understands at all
        return f"checkpoint {path}: not a PyTorch checkpoint (or damaged)"
    return (
        f"checkpoint {path} refused: loading it needs {found.group(1)}, and unpickling "
        f"arbitrary objects can run code from the file; bench.train and bench.evaluate load it "
        "with --trust-checkpoint; use that only if you trust where the file comes from"
    )


def model_state_from(checkpoint: dict[str, Any], path: Path) -> dict[str, torch.Tensor]:
    """The model weights of a training checkpoint or of a bare state_dict file."""
    state = checkpoint.get("model", checkpoint)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    tensors = isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
    if not tensors or not state:
        raise CheckpointError(
            f"checkpoint {path} has no model state_dict (keys: {sorted(map(str, checkpoint))[:8]})"
        )
    # weights saved from a DDP-wrapped model have a 'module.' prefix
    return {k.removeprefix("module."): v for k, v in state.items()}
