"""Heatmap encode/decode: pixel-centre convention, background map, quarter-cell recovery, and the
boundaries: the 1 % cut-off, maps one or two cells wide, unsigned maps, maps without a peak."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from datasets import cell_centres, decode, encode
from datasets.heatmaps import _CUTOFF


def test_cell_centres_follow_the_gcpm_convention():
    xs, ys = cell_centres(256, 32)
    assert xs[0] == 3.5 and xs[1] == 11.5 and ys[-1] == 31 * 8 + 3.5
    xs, ys = cell_centres((64, 32), (16, 8))  # (h, w): stride 4 in both
    assert xs.size == 8 and ys.size == 16 and xs[0] == 1.5


@pytest.mark.parametrize(
    "input_size, heatmap_size, sigma",
    [
        (256, 32, 7.0),  # GCPM LIP: stride 8, sigma 7 input px
        (256, 64, 8.0),  # hourglass / FPD: stride 4, sigma 2 cells
        ((192, 128), (24, 16), 7.0),  # non-square
    ],
)
def test_encode_then_decode_within_a_quarter_cell(input_size, heatmap_size, sigma):
    rng = np.random.default_rng(0)
    (in_h, in_w) = (input_size, input_size) if isinstance(input_size, int) else input_size
    (hm_h, hm_w) = (heatmap_size, heatmap_size) if isinstance(heatmap_size, int) else heatmap_size
    stride = np.array([in_w / hm_w, in_h / hm_h])
    xs, ys = cell_centres(input_size, heatmap_size)
    # Half a cell inside the outermost cell centres: the arg-max cell has two neighbours.
    points = rng.uniform((xs[0], ys[0]) + stride / 2, (xs[-1], ys[-1]) - stride / 2, size=(64, 2))
    maps = encode(points, np.ones(64, bool), input_size, heatmap_size, sigma, background=False)
    coords, maxvals = decode(maps[None], input_size)
    error = np.abs(coords[0] - points) / stride
    assert error.max() <= 0.25 + 1e-9
    assert (maxvals > 0.5).all()


def test_border_keypoints_within_half_a_cell():
    points = np.array([[0.0, 0.0], [255.0, 255.0], [-0.5, 128.0], [255.4, 3.0]])
    maps = encode(points, np.ones(4, bool), 256, 32, 7.0, background=False)
    coords, _ = decode(maps[None], 256)
    assert (np.abs(coords[0] - points) / 8).max() <= 0.5


def test_target_values_background_and_invalid_joints():
    points = np.array([[3.5, 3.5], [100.0, 60.0], [np.nan, np.nan], [50.0, 50.0]])
    valid = np.array([True, True, False, False])
    maps = encode(points, valid, 256, 32, 7.0, background=True)
    assert maps.shape == (5, 32, 32) and maps.dtype == np.float32
    assert maps[0, 0, 0] == 1.0  # the keypoint sits exactly on the first cell centre
    assert (maps[2] == 0).all() and (maps[3] == 0).all()  # not valid -> empty target
    positive = maps[:2][maps[:2] > 0]
    assert positive.min() >= 0.01 and positive.max() <= 1.0  # below 1 % is cut to zero
    np.testing.assert_allclose(maps[4], 1.0 - maps[:4].max(axis=0))
    # sigma is in input pixels: one cell (8 px) from the peak the value is exp(-64 / 98).
    assert maps[0, 0, 1] == pytest.approx(np.exp(-64 / (2 * 49)), rel=1e-6)


def test_decode_accepts_tensors_and_reports_max_values():
    maps = np.zeros((2, 3, 8, 8), np.float32)
    maps[0, 0, 2, 5] = 0.9
    maps[1, 2, 7, 0] = 0.4
    coords, maxvals = decode(torch.from_numpy(maps), (32, 32))
    assert coords.shape == (2, 3, 2) and maxvals.shape == (2, 3)
    np.testing.assert_allclose(coords[0, 0], [5 * 4 + 1.5, 2 * 4 + 1.5])
    np.testing.assert_allclose(coords[1, 2], [0 * 4 + 1.5, 7 * 4 + 1.5])
    assert maxvals[0, 0] == pytest.approx(0.9) and maxvals[1, 2] == pytest.approx(0.4)


def test_decode_quarter_shift_toward_higher_neighbour():
    maps = np.zeros((1, 1, 5, 5))
    maps[0, 0, 2, 2], maps[0, 0, 2, 1], maps[0, 0, 2, 3] = 1.0, 0.2, 0.5  # right is higher
    maps[0, 0, 1, 2], maps[0, 0, 3, 2] = 0.3, 0.1  # up is higher
    coords, _ = decode(maps, 5)  # stride 1
    np.testing.assert_allclose(coords[0, 0], [2.25, 1.75])


def test_decode_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"\(N, K, h, w\)"):
        decode(np.zeros((3, 8, 8)), 32)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_map_without_a_finite_peak_is_a_missing_joint(bad):
    maps = np.zeros((1, 3, 8, 8), np.float32)
    maps[0, 0, 3, 4] = 1.0  # a normal peak beside the broken maps
    maps[0, 1, 5, 5] = 1.0
    maps[0, 1, 0, 0] = np.nan  # one NaN cell makes the whole map untrustworthy
    maps[0, 2] = bad if bad != np.inf else 0.0
    if bad == np.inf:
        maps[0, 2, 1, 1] = np.inf
    coords, maxvals = decode(torch.from_numpy(maps), (64, 64))
    assert np.isfinite(coords[0, 0]).all() and maxvals[0, 0] == pytest.approx(1.0)
    assert np.isnan(coords[0, 1:]).all() and np.isnan(maxvals[0, 1:]).all()


def test_a_missing_joint_from_decode_is_a_miss_in_pckh():
    from datasets import pckh

    maps = np.full((1, 2, 8, 8), np.nan)
    coords, _ = decode(maps, 64)
    gt = np.zeros((1, 2, 2))
    result = pckh(coords, gt, np.ones((1, 2), bool), np.array([1.0]))
    assert result.correct.tolist() == [0, 0] and result.counted.tolist() == [1, 1]


def test_a_joint_off_the_map_leaves_at_most_a_tail_without_a_peak():
    """Real joints lie outside the image: the target keeps the part of the Gaussian that falls on
    the map (highest on the border, below the peak value 1), and nothing when it is far off."""
    points = np.array([[-6.0, 100.0], [-200.0, 100.0], [100.0, 100.0]])
    maps = encode(points, np.ones(3, bool), 256, 32, sigma=7.0, background=True)
    near, far, inside = maps[0], maps[1], maps[2]
    assert 0 < near.max() < 0.7 and np.unravel_index(near.argmax(), near.shape)[1] == 0
    assert far.max() == 0.0
    assert inside.max() > 0.9
    np.testing.assert_allclose(maps[3], 1.0 - maps[:3].max(axis=0))


# ---------------------------------------------------------------- boundaries

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


def test_all_nan_maps_decode_to_missing_joints_by_design() -> None:
    coords, maxvals = decode(np.full((2, 3, 4, 4), np.nan), 16)
    assert coords.shape == (2, 3, 2) and np.isnan(coords).all() and np.isnan(maxvals).all()
    assert "NaN coordinates" in decode.__doc__
