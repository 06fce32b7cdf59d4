"""Pose networks of the suite in one registry: GCPM (Osokin 2019) with its context modules, the
stacked hourglass (Newell et al. 2016), the FPD student (Zhang et al. 2019), CPM (Wei et al. 2016).

Names load on first use (PEP 562), so ``import architectures.errors`` stays free of torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "context": "ASPP PyramidPooling UShapedContext",
    "cpm": "CPM",
    "gcpm": "GCPM",
    "hourglass": "StackedHourglass",
    "registry": "InputSizeError ModelInfo PaperFigures ReferenceCounts UnknownModelError "
    "create_model list_models model_info register_model unregister_model",
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names.split()}

__all__ = [*_WHERE]  # noqa: PLE0604 (the names above, each loaded on first use)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
