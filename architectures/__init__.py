"""Pose networks of the suite, in one registry.

GCPM (Osokin 2019) with its context modules, the stacked hourglass (Newell et al. 2016), the FPD
student hourglass (Zhang et al. 2019) and the original CPM (Wei et al. 2016).

Names are loaded on first use (PEP 562), so ``import architectures.errors`` stays free of torch:
a command answers ``--help`` before the networks are imported. The registry imports the family
modules itself the first time models are listed, looked up or created.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ASPP": "context",
    "PyramidPooling": "context",
    "UShapedContext": "context",
    "CPM": "cpm",
    "GCPM": "gcpm",
    "StackedHourglass": "hourglass",
    **dict.fromkeys(
        (
            "InputSizeError",
            "ModelInfo",
            "PaperFigures",
            "ReferenceCounts",
            "UnknownModelError",
            "create_model",
            "list_models",
            "model_info",
            "register_model",
            "unregister_model",
        ),
        "registry",
    ),
}

__all__ = [*_WHERE]  # noqa: PLE0604 (the names above, each loaded on first use)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
