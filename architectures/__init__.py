"""Pose networks of the suite, in one registry.

GCPM (Osokin 2019) with its context modules, the stacked hourglass (Newell et al. 2016), the FPD
student hourglass (Zhang et al. 2019) and the original CPM (Wei et al. 2016). Importing the family
modules registers their variants.
"""

from . import cpm, gcpm, hourglass  # noqa: F401  (registers the variants)
from .context import ASPP, PyramidPooling, UShapedContext
from .cpm import CPM
from .gcpm import GCPM
from .hourglass import StackedHourglass
from .registry import (
    InputSizeError,
    ModelInfo,
    PaperFigures,
    ReferenceCounts,
    UnknownModelError,
    create_model,
    list_models,
    model_info,
    register_model,
    unregister_model,
)

__all__ = [
    "ASPP",
    "CPM",
    "GCPM",
    "InputSizeError",
    "ModelInfo",
    "PaperFigures",
    "PyramidPooling",
    "ReferenceCounts",
    "StackedHourglass",
    "UShapedContext",
    "UnknownModelError",
    "create_model",
    "list_models",
    "model_info",
    "register_model",
    "unregister_model",
]
