"""Keypoint layouts of LIP and MPII, their mirror order, and the CPM joint map."""

from __future__ import annotations

import numpy as np
import pytest

from architectures.errors import UnknownNameError
from datasets.layouts import (
    CPM_JOINT_MAP,
    LIP_LAYOUT,
    MPII_LAYOUT,
    flip_index,
    get_layout,
    joint_map_for,
)


@pytest.mark.parametrize("layout", [LIP_LAYOUT, MPII_LAYOUT], ids=["lip", "mpii"])
def test_a_mirror_swaps_left_and_right_and_twice_is_the_identity(layout) -> None:
    flip = np.array(flip_index(layout.num_keypoints, layout.flip_pairs))
    assert (flip[flip] == np.arange(layout.num_keypoints)).all()
    assert flip[12] == 13 and flip[13] == 12  # right and left shoulder in both layouts
    assert flip[layout.head_joint] == layout.head_joint


def test_unknown_layout_and_joint_list_the_known_ones() -> None:
    assert get_layout("mpii") is MPII_LAYOUT
    with pytest.raises(UnknownNameError, match="'coco'; known: lip, mpii"):
        get_layout("coco")
    with pytest.raises(UnknownNameError, match="no joint 'tail'; joints: R_Ankle"):
        LIP_LAYOUT.index("tail")


def test_cpm_joint_map_round_trips_the_joints_it_has_and_leaves_the_rest_missing() -> None:
    assert joint_map_for(16, MPII_LAYOUT) is None
    joint_map = joint_map_for(14, MPII_LAYOUT)
    assert joint_map is CPM_JOINT_MAP
    coords = np.arange(16 * 2, dtype=float).reshape(1, 16, 2)
    back = joint_map.to_data(joint_map.to_model(coords[0])[None], 16)
    kept = list(joint_map.index)
    np.testing.assert_array_equal(back[0, kept], coords[0, kept])
    assert np.isnan(back[0, [6, 7]]).all()  # pelvis and thorax have no CPM channel
    with pytest.raises(UnknownNameError, match="model with 5 joint maps"):
        joint_map_for(5, LIP_LAYOUT)
