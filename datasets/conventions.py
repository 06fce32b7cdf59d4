"""PCKh tables under the official rules and the conventions of bearpaw, HRNet and mmpose: they
differ in the Head column, ``<`` or ``<=`` and how the total pools (table in docs/datasets.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from architectures.errors import UnknownNameError

from .layouts import KeypointLayout
from .metrics import AUC_THRESHOLDS, PCKhResult, area_under_curve, paper_columns, pckh


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
    if name not in CONVENTIONS:
        known = ", ".join(CONVENTIONS)
        raise UnknownNameError(f"unknown PCKh convention {name!r}; known: {known}")
    return CONVENTIONS[name]


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
    """Paper columns, PCKh and (if ``auc``) AUC in %; arrays as :func:`datasets.pckh`."""
    result = pckh(pred, gt, valid, head_size, threshold, convention.strict)
    row = paper_columns(result, layout)
    if convention.head_top_only:
        row["Head"] = float(result.per_joint[layout.head_joint])
    row["PCKh"] = _total(result, convention, layout)
    if auc:
        curve = [
            _total(pckh(pred, gt, valid, head_size, t, convention.strict), convention, layout)
            for t in AUC_THRESHOLDS
        ]
        row["AUC"] = area_under_curve(np.array(curve), AUC_THRESHOLDS)
    return row


def _total(result: PCKhResult, convention: Convention, layout: KeypointLayout) -> float:
    joints = layout.total_joints
    if convention.unweighted_total:
        return float(np.mean(result.per_joint[list(joints)]))
    return result.pooled(joints)
