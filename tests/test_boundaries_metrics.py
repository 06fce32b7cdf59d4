"""datasets.metrics at its boundaries: inputs of other dtypes, the `<=` switch, the AUC's x
rescaling for thresholds that do not start at 0, and the error messages (mutation run, issue 14)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from datasets import MPII_LAYOUT, mpii_head_size, pckh, pckh_auc
from datasets.metrics import PCKhResult, normalized_distances, pckh_curve, within

K = 16


def _case(n: int = 2, head: float = 10.0):
    gt = np.tile(np.arange(K, dtype=np.float64)[None, :, None] * 4 + 20, (n, 1, 2))
    return gt.copy(), gt, np.ones((n, K), bool), np.full(n, head)


def test_unsigned_integer_coordinates_do_not_wrap_around() -> None:
    pred, gt, valid, head = _case()
    pred[:, :, 0] -= 3  # 3 px left of the ground truth: a uint8 subtraction would wrap to 253
    small = (pred.astype(np.uint8), gt.astype(np.uint8), valid, head.astype(np.uint8))
    dist, _, _ = normalized_distances(*small)
    np.testing.assert_array_equal(dist, np.full((2, K), 0.3))
    np.testing.assert_array_equal(dist, normalized_distances(pred, gt, valid, head)[0])


def test_valid_flags_given_as_numbers_count_as_booleans() -> None:
    pred, gt, valid, head = _case()
    flags = valid.astype(np.float64)  # 0. / 1. as .mat files load them
    flags[0, 3] = 0.0
    assert (
        pckh(pred, gt, flags, head).counted.tolist()
        == pckh(pred, gt, flags > 0, head).counted.tolist()
    )


def test_head_sizes_below_one_pixel_count() -> None:
    pred, gt, valid, head = _case(head=0.5)  # e.g. keypoints in normalised coordinates
    pred[0, 0, 0] += 0.2  # 0.4 head sizes away: correct
    result = pckh(pred, gt, valid, head)
    assert result.excluded == 0 and result.per_joint[0] == 100.0


def test_nan_prediction_of_a_counted_joint_is_an_infinite_distance() -> None:
    pred, gt, valid, head = _case()
    pred[0, 2] = np.nan
    valid[1, 2] = False
    pred[1, 2] = np.nan
    dist, counts, _ = normalized_distances(pred, gt, valid, head)
    assert dist[0, 2] == np.inf  # as the official code: a miss at every threshold
    assert np.isnan(dist[1, 2]) and not counts[1, 2]  # an uncounted joint stays NaN


def test_infinite_coordinates_of_an_uncounted_joint_raise_no_warning() -> None:
    pred, gt, valid, head = _case(n=1)
    valid[0, 4] = False  # an uncounted joint may hold anything, +inf in both included
    pred[0, 4], gt[0, 4] = np.inf, np.inf  # inf - inf: numpy's "invalid value" warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist, counts, excluded = normalized_distances(pred, gt, valid, head)
        assert pckh(pred, gt, valid, head).counted[4] == 0
    assert np.isnan(dist[0, 4]) and not counts[0, 4] and excluded == 0


def test_distance_equal_to_the_threshold_is_correct_unless_strict() -> None:
    pred, gt, valid, head = _case(n=1)
    pred[0, :, 1] += 5.0  # exactly 0.5 head sizes
    assert within(np.array([0.5]), 0.5).tolist() == [True]  # the official `<=` is the default
    assert pckh(pred, gt, valid, head).per_joint.tolist() == [100.0] * K
    assert pckh(pred, gt, valid, head, strict=True).per_joint.tolist() == [0.0] * K
    assert pckh(pred, gt, valid, head, threshold=0.25).threshold == 0.25


def test_auc_rescales_thresholds_that_do_not_start_at_zero() -> None:
    pred, gt, valid, head = _case(n=1)
    pred[0, :, 0] += 3.0  # every joint 0.3 head sizes away
    thresholds = np.array([0.2, 0.3, 0.4])  # x = 0, 0.5, 1
    np.testing.assert_array_equal(
        pckh_curve(pred, gt, valid, head, MPII_LAYOUT, thresholds), [0.0, 100.0, 100.0]
    )
    # trapezoids: (0 + 100) / 2 * 0.5 + 100 * 0.5
    assert pckh_auc(pred, gt, valid, head, MPII_LAYOUT, thresholds) == pytest.approx(75.0)


def test_pooled_over_joints_never_counted_is_nan() -> None:
    result = PCKhResult(
        correct=np.array([1, 0]), counted=np.array([2, 0]), excluded=0, threshold=0.5
    )
    assert np.isnan(result.pooled((1,))) and result.pooled((0, 1)) == 50.0


def test_error_messages_name_the_argument_and_its_shape() -> None:
    pred, gt, valid, head = _case(n=2)
    three = np.zeros((2, K, 3))
    with pytest.raises(ValueError, match=r"^gt must have shape \(N, K, 2\), got \(2, 16, 3\)$"):
        pckh(three, three, valid, head)
    with pytest.raises(ValueError, match=r"^valid must have shape \(2, 16\), got \(2, 3\)$"):
        pckh(pred, gt, valid[:, :3], head)
    with pytest.raises(ValueError, match=r"^head_size must have shape \(2,\), got \(1,\)$"):
        pckh(pred, gt, valid, head[:1])
    scored = list(MPII_LAYOUT.total_joints)
    valid[:, scored] = False
    with pytest.raises(ValueError, match="^no scored joint counts: cannot compute a PCKh curve$"):
        pckh_curve(pred, gt, valid, head, MPII_LAYOUT)


def test_mpii_head_size_of_one_box_and_of_a_grid_of_boxes() -> None:
    box = np.array([[0, 0], [30, 40]], dtype=np.uint8)  # unsigned: 0 - 30 must not wrap
    assert mpii_head_size(box) == pytest.approx(30.0)
    flipped = box[::-1]
    assert mpii_head_size(flipped) == pytest.approx(30.0)
    grid = np.broadcast_to(box, (3, 2, 2, 2))
    np.testing.assert_allclose(mpii_head_size(grid), np.full((3, 2), 30.0))
