"""The PCKh table conventions of common ports differ in three decisions; each shows in a row."""

from __future__ import annotations

import numpy as np
import pytest

from architectures.errors import UnknownNameError
from datasets.conventions import CONVENTIONS, area_under_curve, get_convention, table_row
from datasets.layouts import MPII_LAYOUT


def _at_threshold() -> tuple[np.ndarray, ...]:
    """Every joint exactly 0.5 head sizes off: correct by ``<=``, wrong by ``<``."""
    gt = np.zeros((1, 16, 2))
    pred = gt + np.array([5.0, 0.0])
    return pred, gt, np.ones((1, 16), bool), np.array([10.0])


def test_strict_conventions_miss_a_joint_exactly_at_the_threshold() -> None:
    official = table_row(*_at_threshold(), MPII_LAYOUT, get_convention("official"), auc=False)
    mmpose = table_row(*_at_threshold(), MPII_LAYOUT, get_convention("mmpose"), auc=False)
    assert official["PCKh"] == 100.0 and mmpose["PCKh"] == 0.0


def test_head_column_is_the_head_top_alone_where_a_port_says_so() -> None:
    pred, gt, valid, head = _at_threshold()
    pred = gt.copy()
    pred[0, MPII_LAYOUT.neck_joint] = (100.0, 0.0)  # the neck missed, the head top right
    rows = {
        name: table_row(pred, gt, valid, head, MPII_LAYOUT, CONVENTIONS[name], auc=False)
        for name in ("official", "hrnet")
    }
    assert rows["official"]["Head"] == 50.0 and rows["hrnet"]["Head"] == 100.0


def test_area_under_a_flat_curve_is_its_height_and_unknown_names_list_the_known() -> None:
    assert area_under_curve(np.full(51, 80.0)) == pytest.approx(80.0)
    with pytest.raises(UnknownNameError, match="known: official, bearpaw, hrnet, mmpose"):
        get_convention("openpose")
