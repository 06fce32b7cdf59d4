"""PCKh and its AUC as the official MPII MATLAB evaluation (``computePCK.m``, ``genTablePCK.m``,
``area_under_curve.m``) and LIP's ``calc_pckh`` compute them (docs/datasets.md). A NaN prediction
is a miss; an image with a zero / NaN head size is excluded and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from architectures.errors import check_range

from .layouts import KeypointLayout

MPII_HEAD_FACTOR = 0.6  # SC_BIAS of util_get_head_size.m
AUC_THRESHOLDS = np.round(np.arange(0, 51) * 0.01, 2)


@dataclass(frozen=True)
class PCKhResult:
    """Per-joint counts at one threshold; percentages are NaN for joints never counted."""

    correct: np.ndarray  # (K,) int
    counted: np.ndarray  # (K,) int
    excluded: int  # images left out for a zero / NaN head size
    threshold: float

    @property
    def per_joint(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100.0 * self.correct / np.where(self.counted > 0, self.counted, np.nan)

    def pooled(self, joints: tuple[int, ...]) -> float:
        """Joint-count-weighted PCKh over ``joints`` in %, NaN if none counted."""
        idx = list(joints)
        counted = int(self.counted[idx].sum())
        return 100.0 * int(self.correct[idx].sum()) / counted if counted else float("nan")


def normalized_distances(
    pred: np.ndarray, gt: np.ndarray, valid: np.ndarray, head_size: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """(N, K) distance / head size, the (N, K) mask of joints that count, and the excluded count."""
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    valid, head_size = np.asarray(valid, dtype=bool), np.asarray(head_size, dtype=np.float64)
    if gt.ndim != 3 or gt.shape[2] != 2:
        raise ValueError(f"gt must have shape (N, K, 2), got {gt.shape}")
    if pred.shape != gt.shape:
        raise ValueError(f"pred has shape {pred.shape} but gt has {gt.shape}")
    expected = {"valid": (valid, gt.shape[:2]), "head_size": (head_size, gt.shape[:1])}
    for name, (array, shape) in expected.items():
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    usable = np.isfinite(head_size) & (head_size > 0)
    counts = valid & usable[:, None]
    bad = counts & ~np.isfinite(gt).all(axis=2)
    if bad.any():
        n, k = np.argwhere(bad)[0]
        raise ValueError(
            f"ground truth of image {n}, joint {k} is NaN but marked valid "
            f"({int(bad.sum())} such joints)"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.linalg.norm(pred - gt, axis=2) / np.where(usable, head_size, np.nan)[:, None]
    dist = np.where(np.isnan(dist) & counts, np.inf, dist)  # a NaN prediction is a miss
    return dist, counts, int((~usable).sum())


def pckh(
    pred: np.ndarray,
    gt: np.ndarray,
    valid: np.ndarray,
    head_size: np.ndarray,
    threshold: float = 0.5,
    strict: bool = False,
) -> PCKhResult:
    """PCKh counts per joint at ``threshold``; ``strict``: ``distance < threshold`` (bearpaw's
    and mmpose's ports) instead of the official ``<=``."""
    check_range("PCKh threshold", threshold, low=0)
    dist, counts, excluded = normalized_distances(pred, gt, valid, head_size)
    if not counts.any():
        raise ValueError(
            f"no joint counts: every joint is invalid or every image has a zero/NaN "
            f"head size ({excluded} of {len(counts)} images excluded)"
        )
    hit = dist < threshold if strict else dist <= threshold
    correct = (counts & hit).sum(axis=0)
    return PCKhResult(correct, counts.sum(axis=0), excluded, float(threshold))


def pckh_auc(
    pred: np.ndarray,
    gt: np.ndarray,
    valid: np.ndarray,
    head_size: np.ndarray,
    layout: KeypointLayout,
    thresholds: np.ndarray = AUC_THRESHOLDS,
) -> float:
    """Area under the total (pooled) PCKh curve in %, thresholds rescaled to [0, 1] (official)."""
    total = layout.total_joints
    curve = np.array([pckh(pred, gt, valid, head_size, t).pooled(total) for t in thresholds])
    if np.isnan(curve).any():
        raise ValueError("no scored joint counts: cannot compute a PCKh curve")
    return area_under_curve(curve, np.asarray(thresholds, dtype=np.float64))


def area_under_curve(curve: np.ndarray, thresholds: np.ndarray = AUC_THRESHOLDS) -> float:
    """Trapezoid area under ``curve`` with thresholds rescaled to [0, 1] (``scale01.m``)."""
    x = (thresholds - thresholds[0]) / (thresholds[-1] - thresholds[0])
    return float(np.sum((curve[1:] + curve[:-1]) / 2 * np.diff(x)))


def paper_columns(result: PCKhResult, layout: KeypointLayout) -> dict[str, float]:
    """Head, Sho., Elb., Wri., Hip, Knee, Ank. (means of joint PCKh) and PCKh (pooled total)."""
    per_joint = result.per_joint
    table = {name: float(np.mean(per_joint[list(joints)])) for name, joints in layout.columns}
    table["PCKh"] = result.pooled(layout.total_joints)
    return table


def lip_head_size(keypoints: np.ndarray, layout: KeypointLayout) -> float:
    """LIP protocol: ||head - neck|| in pixels; 0.0 (image excluded) when either is missing."""
    size = float(np.linalg.norm(keypoints[layout.head_joint] - keypoints[layout.neck_joint]))
    return size if np.isfinite(size) else 0.0


def mpii_head_size(headboxes: np.ndarray) -> np.ndarray:
    """MPII protocol: 0.6 x diagonal of (..., 2, 2) head boxes [[x1, y1], [x2, y2]]."""
    boxes = np.asarray(headboxes, dtype=np.float64)
    return MPII_HEAD_FACTOR * np.linalg.norm(boxes[..., 1, :] - boxes[..., 0, :], axis=-1)
