"""Keypoint layouts of LIP and MPII as data (Osokin 2019, Tables 2 and 4): one 16-joint order
(LIP's B_Spine, B_Neck, B_Head are MPII's thorax, upper_neck, head_top), left/right pairs, table
columns (left/right means) and the 14 joints the total pools.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from architectures.errors import UnknownNameError

_FLIP_PAIRS = ((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13))
_COLUMNS = (
    *(("Head", (8, 9)), ("Sho.", (12, 13)), ("Elb.", (11, 14)), ("Wri.", (10, 15))),
    *(("Hip", (2, 3)), ("Knee", (1, 4)), ("Ank.", (0, 5))),
)
_TOTAL = (0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15)


@dataclass(frozen=True)
class KeypointLayout:
    """Joint order and protocol facts of one dataset; the defaults are the shared 16-joint ones."""

    name: str
    joint_names: tuple[str, ...]
    head_size_rule: str  # "head-neck" (LIP) or "headbox" (MPII, 0.6 x head box diagonal)
    flip_pairs: tuple[tuple[int, int], ...] = _FLIP_PAIRS
    # Paper table columns: each is averaged over its joints (left/right mean, as the official code).
    columns: tuple[tuple[str, tuple[int, ...]], ...] = _COLUMNS
    # Joints pooled (joint-count-weighted) into the total PCKh column.
    total_joints: tuple[int, ...] = _TOTAL
    head_joint: int = 9
    neck_joint: int = 8

    @property
    def num_keypoints(self) -> int:
        return len(self.joint_names)

    def index(self, joint_name: str) -> int:
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise UnknownNameError(
                f"layout {self.name!r} has no joint {joint_name!r}; "
                f"joints: {', '.join(self.joint_names)}"
            ) from None


def flip_index(size: int, flip_pairs: Sequence[tuple[int, int]]) -> list[int]:
    """``index[j]``: the entry that lands at ``j`` after a mirror (unpaired entries stay put)."""
    index = list(range(size))
    for left, right in flip_pairs:
        index[left], index[right] = right, left
    return index


LIP_LAYOUT = KeypointLayout(
    "lip",
    (
        *("R_Ankle", "R_Knee", "R_Hip", "L_Hip", "L_Knee", "L_Ankle", "B_Pelvis", "B_Spine"),
        *("B_Neck", "B_Head", "R_Wrist", "R_Elbow", "R_Shoulder", "L_Shoulder", "L_Elbow"),
        "L_Wrist",
    ),
    head_size_rule="head-neck",
)
MPII_LAYOUT = KeypointLayout(
    "mpii",
    (
        *("r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax"),
        *("upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow"),
        "l_wrist",
    ),
    head_size_rule="headbox",
)
LAYOUTS: dict[str, KeypointLayout] = {"lip": LIP_LAYOUT, "mpii": MPII_LAYOUT}


@dataclass(frozen=True)
class JointMap:
    """A model whose heatmaps hold other joints, or the same in another order, than the data:
    model channel ``j`` is joint ``index[j]`` of the 16-joint LIP / MPII order."""

    name: str
    index: tuple[int, ...]
    flip_pairs: tuple[tuple[int, int], ...]  # left/right pairs in channel order

    def to_model(self, array: np.ndarray) -> np.ndarray:
        """(..., 16, ...) per-joint data (keypoints, flags) -> (..., M, ...) in channel order."""
        return np.asarray(array)[list(self.index)]

    def to_data(self, coords: np.ndarray, num_joints: int) -> np.ndarray:
        """(N, M, 2) in channel order -> (N, num_joints, 2), NaN for joints not predicted."""
        out = np.full((coords.shape[0], num_joints, 2), np.nan)
        out[:, list(self.index)] = coords
        return out


# Wei et al.'s released MPII CPM (convolutional-pose-machines-release, testing/config.m,
# part_str): head, neck, Rsho, Relb, Rwri, Lsho, Lelb, Lwri, Rhip, Rkne, Rank, Lhip, Lkne, Lank
# (then the background map). Pelvis and thorax have no channel; PCKh never scores them.
CPM_JOINT_MAP = JointMap(
    name="Wei et al. CPM (14 joints)",
    index=(9, 8, 12, 11, 10, 13, 14, 15, 2, 1, 0, 3, 4, 5),
    flip_pairs=((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13)),
)


def joint_map_for(num_model_keypoints: int, layout: KeypointLayout) -> JointMap | None:
    """None for a model predicting ``layout``'s own joints, :data:`CPM_JOINT_MAP` for 14."""
    if num_model_keypoints == layout.num_keypoints:
        return None
    if num_model_keypoints == len(CPM_JOINT_MAP.index) and layout.num_keypoints == 16:
        return CPM_JOINT_MAP
    raise UnknownNameError(
        f"no joint map from the {layout.num_keypoints} {layout.name} joints onto a "
        f"model with {num_model_keypoints} joint maps; known: "
        f"{layout.num_keypoints} (as is), 14 ({CPM_JOINT_MAP.name})"
    )


def get_layout(name: str) -> KeypointLayout:
    if name not in LAYOUTS:
        raise UnknownNameError(f"unknown keypoint layout {name!r}; known: {', '.join(LAYOUTS)}")
    return LAYOUTS[name]
