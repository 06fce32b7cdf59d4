"""PCKh tables under the official rules and under the conventions other codebases print.

The official MPII evaluation (``evaluatePCKh.m``, ``genTablePCK.m``; LIP's ``calc_pckh`` alike):
Head = mean of upper neck and head top, ``distance <= threshold``, total pooled over the 14 scored
joints. Ports people compare with differ in three decisions (each one's evaluation file), named
here so that a table says which it follows:

============  ==================  =====  ===========================================
convention    Head                test   total (``PCKh`` column; their "Mean")
============  ==================  =====  ===========================================
official      mean(neck, top)     <=     pooled over 14 joints (joint-count-weighted)
bearpaw       head top            <      unweighted mean of the 14 joints' PCKh
hrnet         head top            <=     pooled over 14 joints
mmpose        head top            <      pooled over 14 joints
============  ==================  =====  ===========================================

AUC is the area under the convention's own total over thresholds 0:0.01:0.5, x rescaled to
[0, 1], trapezoid rule (``area_under_curve.m``); under ``official`` it is the official AUC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from architectures.errors import UnknownNameError, check_range

from .layouts import KeypointLayout
from .metrics import AUC_THRESHOLDS, area_under_curve, normalized_distances, within


@dataclass(frozen=True)
class Convention:
    """How one codebase turns per-joint PCKh into a table row."""

    name: str
    head_top_only: bool  # Head column = head top alone (else mean of neck and head top)
    strict: bool  # correct when distance < threshold (else <=)
    unweighted_total: bool  # total = mean of per-joint PCKh (else pooled by joint count)
    source: str  # the file that defines it

    def describe(self, dataset: str = "mpii") -> str:
        """One line naming the three decisions; ``official`` on LIP is LIP's ``calc_pckh``."""
        head = "head top" if self.head_top_only else "mean(neck, head top)"
        total = "unweighted mean of 14 joints" if self.unweighted_total else "pooled over 14 joints"
        source = "LIP calc_pckh" if dataset == "lip" and self.name == "official" else self.source
        return (
            f"{self.name}: Head = {head}, correct if distance {'<' if self.strict else '<='} "
            f"threshold x head size, PCKh = {total} ({source})"
        )


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention("official", False, False, False, "MPII evaluatePCKh.m / genTablePCK.m"),
        Convention("bearpaw", True, True, True, "bearpaw/pytorch-pose evaluation/eval_PCKh.py"),
        Convention("hrnet", True, False, False, "HRNet lib/dataset/mpii.py"),
        Convention("mmpose", True, True, False, "mmpose MpiiPCKAccuracy"),
    )
}


def get_convention(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown PCKh convention {name!r}; known: {', '.join(CONVENTIONS)}"
        ) from None


def table_row(
    pred: np.ndarray,
    gt: np.ndarray,
    valid: np.ndarray,
    head_size: np.ndarray,
    layout: KeypointLayout,
    convention: Convention,
    threshold: float = 0.5,
    auc: bool = True,
) -> dict[str, float]:
    """Head, Sho., Elb., Wri., Hip, Knee, Ank., PCKh (the total) and, if ``auc``, AUC, in %.

    Arrays as :func:`datasets.pckh`: pred, gt (N, K, 2) in one pixel convention, valid (N, K)
    joints that count, head_size (N,) (0 / NaN: person excluded).
    """
    check_range("PCKh threshold", threshold, low=0)
    dist, counts, _ = normalized_distances(pred, gt, valid, head_size)
    if not counts[:, list(layout.total_joints)].any():
        raise ValueError(
            "no joint counts: every joint is unlabelled or every person lacks a head size"
        )
    per_joint = _per_joint(dist, counts, threshold, convention.strict)
    row = {name: float(np.mean(per_joint[list(joints)])) for name, joints in layout.columns}
    if convention.head_top_only:
        row["Head"] = float(per_joint[layout.head_joint])
    row["PCKh"] = _total(dist, counts, threshold, convention, layout)
    if auc:
        curve = [_total(dist, counts, t, convention, layout) for t in AUC_THRESHOLDS]
        row["AUC"] = area_under_curve(np.array(curve), AUC_THRESHOLDS)
    return row


def _per_joint(dist: np.ndarray, counts: np.ndarray, threshold: float, strict: bool) -> np.ndarray:
    correct = (counts & within(dist, threshold, strict)).sum(axis=0)
    counted = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * correct / np.where(counted > 0, counted, np.nan)


def _total(
    dist: np.ndarray,
    counts: np.ndarray,
    threshold: float,
    convention: Convention,
    layout: KeypointLayout,
) -> float:
    joints = list(layout.total_joints)
    if convention.unweighted_total:
        return float(np.mean(_per_joint(dist, counts, threshold, convention.strict)[joints]))
    scored = counts[:, joints]
    hits = scored & within(dist[:, joints], threshold, convention.strict)
    return 100.0 * float(hits.sum()) / float(scored.sum())
