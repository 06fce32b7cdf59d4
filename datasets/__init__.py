"""Data and metric layer of the suite: LIP and MPII readers (every MPII ground-truth layout), the
GCPM augmentations (Osokin 2019, Sec. 3.2.2), Gaussian heatmap encode/decode, PCKh and AUC per the
official protocols (and the conventions of common ports, :mod:`datasets.conventions`), the
multi-scale + flip test-time protocol of Table 4, and generated data in the official layouts.
"""

from architectures.errors import UnknownNameError

from .augment import AugmentConfig, Augmented, augment, fit
from .heatmaps import cell_centres, decode, encode
from .layouts import (
    CPM_JOINT_MAP,
    LAYOUTS,
    LIP_LAYOUT,
    MPII_LAYOUT,
    JointMap,
    KeypointLayout,
    flip_index,
    get_layout,
    joint_map_for,
)
from .lip import LipReader
from .metrics import (
    AUC_THRESHOLDS,
    PCKhResult,
    lip_head_size,
    mpii_head_size,
    paper_columns,
    pckh,
    pckh_auc,
    pckh_curve,
)
from .mpii import MpiiReader
from .mpii_formats import read_mpii_ground_truth
from .sample import AnnotationError, Sample
from .testtime import predict_heatmaps
from .torch_dataset import PoseDataset, normalize_image, to_original

__all__ = [
    "AUC_THRESHOLDS",
    "CPM_JOINT_MAP",
    "LAYOUTS",
    "LIP_LAYOUT",
    "MPII_LAYOUT",
    "AnnotationError",
    "AugmentConfig",
    "Augmented",
    "JointMap",
    "KeypointLayout",
    "LipReader",
    "MpiiReader",
    "PCKhResult",
    "PoseDataset",
    "Sample",
    "augment",
    "cell_centres",
    "decode",
    "encode",
    "fit",
    "flip_index",
    "get_layout",
    "joint_map_for",
    "lip_head_size",
    "mpii_head_size",
    "normalize_image",
    "open_reader",
    "paper_columns",
    "pckh",
    "pckh_auc",
    "pckh_curve",
    "predict_heatmaps",
    "read_mpii_ground_truth",
    "to_original",
]


def open_reader(dataset: str, root, split: str = "val"):
    """``LipReader`` or ``MpiiReader`` by dataset name ("lip" / "mpii")."""
    if dataset == "lip":
        return LipReader(root, split)
    if dataset == "mpii":
        return MpiiReader(root, split)
    raise UnknownNameError(f"unknown dataset {dataset!r}; known: lip, mpii")
