"""datasets.heatmaps at its boundaries: the 1 % cut-off, maps one or two cells wide, non-square
maps, unsigned-integer maps, tensors that require grad, and joints skipped in encode (mutation
run, issue 14)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from datasets.heatmaps import _CUTOFF, decode, encode

# sqrt(2 * _CUTOFF) to the last bit: with sigma 1, a cell this far away has exponent == _CUTOFF.
EDGE = 3.0348640826238


def test_a_cell_exactly_at_the_cut_off_keeps_its_value() -> None:
    assert EDGE**2 / 2 == _CUTOFF
    maps = encode(np.array([[EDGE, 0.0]]), np.ones(1, bool), 8, 8, sigma=1.0, background=False)
    assert maps[0, 0, 0] == pytest.approx(math.exp(-_CUTOFF))  # 1 %: kept ("below 0.01" is cut)
    assert maps[0, 1, 0] == 0.0  # one row further: exponent above the cut-off


def test_an_invalid_joint_does_not_stop_the_joints_after_it() -> None:
    keypoints = np.array([[10.0, 10.0], [np.nan, np.nan], [20.0, 20.0]])
    valid = np.array([False, True, True])
    maps = encode(keypoints, valid, 32, 8, sigma=4.0, background=False)
    assert maps[0].max() == 0.0 and maps[1].max() == 0.0 and maps[2].max() > 0.5


def test_background_of_no_keypoints_is_all_ones() -> None:
    maps = encode(np.zeros((0, 2)), np.zeros(0, bool), 16, 4, sigma=2.0, background=True)
    assert maps.shape == (1, 4, 4) and (maps == 1.0).all()


def _peak(h: int, w: int, y: int, x: int, right: float = 0.0, below: float = 0.0) -> np.ndarray:
    maps = np.zeros((1, 1, h, w))
    maps[0, 0, y, x] = 1.0
    if x + 1 < w:
        maps[0, 0, y, x + 1] = right
    if y + 1 < h:
        maps[0, 0, y + 1, x] = below
    return maps


def test_shift_uses_the_width_along_x_and_the_height_along_y() -> None:
    # (h, w) = (4, 8): x = 5 is an inner column although it is past the last row index.
    coords, _ = decode(_peak(4, 8, 1, 5, right=0.5), (16, 32))
    assert coords[0, 0].tolist() == [(5 + 0.25) * 4 + 1.5, 1 * 4 + 1.5]
    # (h, w) = (8, 4): y = 5 likewise along y; x = 3 is the last column, no shift there.
    coords, _ = decode(_peak(8, 4, 5, 3, below=0.5), (32, 16))
    assert coords[0, 0].tolist() == [3 * 4 + 1.5, (5 + 0.25) * 4 + 1.5]


@pytest.mark.parametrize("h, w", [(1, 4), (4, 1), (2, 4), (4, 2), (1, 1)])
def test_maps_one_or_two_cells_wide_decode_in_input_pixels(h: int, w: int) -> None:
    stride = 8
    coords, maxvals = decode(_peak(h, w, h - 1, w - 1), (h * stride, w * stride))
    centre = (stride - 1) / 2
    assert coords[0, 0].tolist() == [(w - 1) * stride + centre, (h - 1) * stride + centre]
    assert maxvals[0, 0] == 1.0


def test_unsigned_integer_maps_compare_neighbours_without_wrapping() -> None:
    maps = np.zeros((1, 1, 4, 4), dtype=np.uint8)  # e.g. maps saved as 8-bit images
    maps[0, 0, 1, 1:3] = [200, 100]  # peak at x = 1, lower right neighbour, left one 0
    maps[0, 0, 1, 0] = 150  # higher left neighbour: shift left
    coords, maxvals = decode(maps, 16)
    as_float, _ = decode(maps.astype(np.float64), 16)
    assert coords.tolist() == as_float.tolist() and coords[0, 0, 0] == (1 - 0.25) * 4 + 1.5
    assert maxvals[0, 0] == 200


def test_a_model_output_that_requires_grad_decodes() -> None:
    maps = torch.tensor(_peak(4, 4, 1, 2, right=0.5), dtype=torch.float32, requires_grad=True)
    coords, _ = decode(maps * 1.0, 16)
    assert coords[0, 0].tolist() == [(2 + 0.25) * 4 + 1.5, 1 * 4 + 1.5]


def test_a_map_without_a_finite_peak_decodes_without_warnings() -> None:
    maps = np.full((1, 2, 4, 4), -np.inf)
    maps[0, 1] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inf - inf between neighbours is expected, not reported
        coords, maxvals = decode(maps, 16)
    assert np.isnan(coords).all() and np.isnan(maxvals).all()
