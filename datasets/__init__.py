"""LIP / MPII readers, GCPM augmentations, heatmaps, PCKh and generated data (docs/datasets.md).
Names load on first use (PEP 562): ``datasets.metrics`` needs numpy but not torch.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from architectures.errors import UnknownNameError

_EXPORTS = {  # the function ``augment`` is not here: ``datasets.augment`` is the module
    "augment": "AugmentConfig Augmented fit",
    "heatmaps": "cell_centres decode encode",
    "layouts": "CPM_JOINT_MAP LAYOUTS LIP_LAYOUT MPII_LAYOUT JointMap KeypointLayout flip_index "
    "get_layout joint_map_for",
    "lip": "LipReader",
    "metrics": "AUC_THRESHOLDS PCKhResult lip_head_size mpii_head_size paper_columns pckh pckh_auc",
    "mpii": "MpiiReader read_mpii_ground_truth",
    "sample": "AnnotationError Sample",
    "testtime": "predict_heatmaps",
    "torch_dataset": "PoseDataset normalize_image to_original",
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names.split()}

__all__ = [*_WHERE, "open_reader"]  # noqa: PLE0604 (each loaded on first use)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


def open_reader(dataset: str, root: str | Path, split: str = "val"):
    """``LipReader`` or ``MpiiReader`` by dataset name ("lip" / "mpii")."""
    readers = {"lip": "LipReader", "mpii": "MpiiReader"}
    if dataset not in readers:
        raise UnknownNameError(f"unknown dataset {dataset!r}; known: lip, mpii")
    return __getattr__(readers[dataset])(root, split)
