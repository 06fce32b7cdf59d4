"""A registered model with checkpoint weights (names and shapes must fit), and ImageNet weights for
the MobileNet feature extractor (GCPM Sec. 3.1) matched by stripped name, then in order by shape."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from architectures.errors import UsageError
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
    """Eval mode; no ``checkpoint``: seeded weights; ``input_size`` None: the checkpoint's."""
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


BACKBONE_ATTRIBUTES = ("backbone", "features", "feature_extractor", "model")


@dataclass(frozen=True)
class LoadReport:
    loaded: tuple[str, ...]
    missing: tuple[str, ...]  # backbone tensors the file did not provide
    unexpected: tuple[str, ...]  # file tensors that matched nothing

    def summary(self) -> str:
        def some(names: tuple[str, ...]) -> str:
            return f"{len(names)} ({', '.join(names[:5])}{' ...' if len(names) > 5 else ''})"

        return (
            f"backbone weights: {len(self.loaded)} tensors loaded, {some(self.missing)} missing, "
            f"{some(self.unexpected)} unexpected"
        )


def find_backbone(model: nn.Module) -> nn.Module:
    for name in BACKBONE_ATTRIBUTES:
        module = getattr(model, name, None)
        if isinstance(module, nn.Module):
            return module
    raise UsageError(
        f"--backbone-weights: {type(model).__name__} has no backbone attribute "
        f"(looked for {BACKBONE_ATTRIBUTES})"
    )


def _strip(key: str) -> str:
    for prefix in ("module.", "backbone.", "features.", "model."):
        key = key.removeprefix(prefix)
    return key


def _counted(key: str) -> bool:
    # BN step counters are absent from many published checkpoints and hold no learned value
    return not key.endswith("num_batches_tracked")


def match_state(
    target: dict[str, torch.Tensor], source: dict[str, torch.Tensor]
) -> tuple[dict, LoadReport]:
    """Map ``source`` tensors onto ``target`` keys: by stripped name, then in order by shape."""
    target = {k: v for k, v in target.items() if _counted(k)}
    source = {k: v for k, v in source.items() if _counted(k)}
    by_name = {_strip(k): k for k in source}
    pairs: dict[str, str] = {}  # target key -> source key
    for key, tensor in target.items():
        src = by_name.get(_strip(key))
        if src is not None and source[src].shape == tensor.shape:
            pairs[key] = src
    rest_src = [k for k in source if k not in pairs.values()]
    rest_dst = [k for k in target if k not in pairs]
    # both lists follow the network's topology, so equal shapes in sequence are the same layer
    for dst, src in zip(rest_dst, rest_src):
        if source[src].shape != target[dst].shape:
            break
        pairs[dst] = src
    used = set(pairs.values())
    report = LoadReport(
        tuple(pairs),
        tuple(k for k in target if k not in pairs),
        tuple(k for k in source if k not in used),
    )
    return {dst: source[src] for dst, src in pairs.items()}, report


def load_backbone_weights(model: nn.Module, path: Path, trust: bool = False) -> LoadReport:
    """Copy ImageNet weights from ``path`` into the model's backbone; returns what was matched."""
    backbone = find_backbone(model)
    source = model_state_from(load_checkpoint(path, trust=trust), path)
    mapped, report = match_state(backbone.state_dict(), source)
    if not mapped:
        raise CheckpointError(
            f"--backbone-weights {path}: no tensor matches the backbone of {type(model).__name__} "
            f"(first file keys: {list(source)[:5]})"
        )
    backbone.load_state_dict(mapped, strict=False)
    return report
