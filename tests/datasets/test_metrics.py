"""PCKh, AUC and the paper's table columns against hand-computed cases, and the boundaries:
inputs of other dtypes, the ``<=`` switch, the AUC's x rescaling, the error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from architectures.errors import UsageError
from datasets import (
    LIP_LAYOUT,
    MPII_LAYOUT,
    lip_head_size,
    mpii_head_size,
    paper_columns,
    pckh,
    pckh_auc,
)
from datasets.metrics import PCKhResult, normalized_distances

K = 16


def setup(n: int = 2, head: float = 10.0):
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 100, size=(n, K, 2)).astype(np.float64)  # exact distances
    return gt, gt.copy(), np.ones((n, K), bool), np.full(n, head)


def test_perfect_and_all_wrong():
    gt, pred, valid, head = setup()
    result = pckh(pred, gt, valid, head)
    assert (result.per_joint == 100).all() and result.excluded == 0
    assert pckh_auc(pred, gt, valid, head, MPII_LAYOUT) == pytest.approx(100.0)
    assert (pckh(pred + 50, gt, valid, head).per_joint == 0).all()
    assert pckh_auc(pred + 50, gt, valid, head, MPII_LAYOUT) == 0.0


def test_half_right():
    gt, pred, valid, head = setup()
    pred[1] += 6.0  # distance 8.5 > 0.5 * 10
    result = pckh(pred, gt, valid, head)
    assert (result.per_joint == 50).all() and (result.counted == 2).all()
    assert paper_columns(result, LIP_LAYOUT)["PCKh"] == 50.0


def test_invalid_joints_never_count():
    gt, pred, valid, head = setup()
    pred[1] += 50.0
    valid[1] = False
    gt[1, 3] = np.nan  # a missing joint may hold NaN when it is not valid
    result = pckh(pred, gt, valid, head)
    assert (result.per_joint == 100).all() and (result.counted == 1).all()


@pytest.mark.parametrize(
    "offset, threshold, correct",
    [
        ((3.0, 4.0), 0.5, True),  # distance 5 = 0.5 * head 10: counts (<= as computePCK.m)
        ((3.0, 4.0), 0.49, False),
        ((3.0, 4.0 + 1e-9), 0.5, False),
        ((0.0, 0.0), 0.0, True),  # threshold 0 of the AUC range: exact hits count
    ],
)
def test_threshold_edges(offset, threshold, correct):
    gt, pred, valid, head = setup(n=1)
    pred[0, 0] += offset
    assert pckh(pred, gt, valid, head, threshold).per_joint[0] == (100.0 if correct else 0.0)


def test_zero_or_nan_head_size_excludes_image_with_count():
    gt, pred, valid, head = setup(n=3)
    pred[1:] += 50.0
    head[1], head[2] = 0.0, np.nan
    result = pckh(pred, gt, valid, head)
    assert result.excluded == 2 and (result.per_joint == 100).all() and (result.counted == 1).all()
    with pytest.raises(ValueError, match="3 of 3 images excluded"):
        pckh(pred, gt, valid, np.zeros(3))


def test_nan_ground_truth_marked_valid_is_an_error_and_nan_prediction_is_a_miss():
    gt, pred, valid, head = setup()
    gt[1, 4] = np.nan
    with pytest.raises(ValueError, match="image 1, joint 4"):
        pckh(pred, gt, valid, head)
    gt, pred, valid, head = setup()
    pred[0, 2] = np.nan
    result = pckh(pred, gt, valid, head)
    assert result.per_joint[2] == 50.0 and result.counted[2] == 2


def test_shape_errors_name_the_argument():
    gt, pred, valid, head = setup()
    with pytest.raises(ValueError, match="pred has shape"):
        pckh(pred[:, :15], gt, valid, head)
    with pytest.raises(ValueError, match="valid must have shape"):
        pckh(pred, gt, valid[:, :3], head)
    with pytest.raises(ValueError, match="head_size must have shape"):
        pckh(pred, gt, valid, head[:1])


def test_paper_columns_pool_the_total_by_joint_count():
    gt, pred, valid, head = setup()
    pred[0, [6, 7]] += 50.0  # pelvis and thorax/spine are wrong but left out of every column
    valid[1] = False
    valid[1, 0] = True
    pred[1, 0] += 50.0  # image 1: only the right ankle counts, and it is wrong
    valid[1, 9] = True
    pred[1, 9] += 50.0  # ... and the head top, also wrong
    columns = paper_columns(pckh(pred, gt, valid, head), MPII_LAYOUT)
    assert list(columns) == ["Head", "Sho.", "Elb.", "Wri.", "Hip", "Knee", "Ank.", "PCKh"]
    assert columns["Ank."] == 75.0  # mean of r_ankle 50 % and l_ankle 100 %
    assert columns["Head"] == 75.0  # mean of upper_neck 100 % and head_top 50 %
    assert columns["Sho."] == columns["Knee"] == 100.0
    assert columns["PCKh"] == pytest.approx(100 * 14 / 16)  # pooled: 14 of 16 counted joints
    # an unweighted mean of the 14 per-joint values would give 100 * (12 + 0.5 + 0.5) / 14


def test_auc_trapezoid_over_0_to_0_5():
    gt, pred, valid, head = setup(n=1)
    pred[0, :, 0] += 2.5  # every joint at normalised distance 0.25
    # One rising segment (0 -> 100, width 1/50) and 25 segments at 100, each of width 1/50.
    assert pckh_auc(pred, gt, valid, head, MPII_LAYOUT) == pytest.approx((50 + 25 * 100) / 50)


def test_head_sizes_of_both_protocols():
    keypoints = np.full((16, 2), np.nan)
    keypoints[8], keypoints[9] = (10.0, 20.0), (13.0, 24.0)
    assert lip_head_size(keypoints, LIP_LAYOUT) == 5.0
    keypoints[9] = np.nan
    assert lip_head_size(keypoints, LIP_LAYOUT) == 0.0  # LIP: image excluded, not a NaN
    boxes = np.array([[[0.0, 0.0], [30.0, 40.0]], [[5.0, 5.0], [5.0, 5.0]]])
    np.testing.assert_allclose(mpii_head_size(boxes), [0.6 * 50.0, 0.0])


# ---------------------------------------------------------------- boundaries


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
    assert pckh(pred, gt, valid, head).per_joint.tolist() == [100.0] * K
    assert pckh(pred, gt, valid, head, strict=True).per_joint.tolist() == [0.0] * K
    assert pckh(pred, gt, valid, head, threshold=0.25).threshold == 0.25


def test_auc_rescales_thresholds_that_do_not_start_at_zero() -> None:
    pred, gt, valid, head = _case(n=1)
    pred[0, :, 0] += 3.0  # every joint 0.3 head sizes away
    thresholds = np.array([0.2, 0.3, 0.4])  # x = 0, 0.5, 1
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
        pckh_auc(pred, gt, valid, head, MPII_LAYOUT)


def test_mpii_head_size_of_one_box_and_of_a_grid_of_boxes() -> None:
    box = np.array([[0, 0], [30, 40]], dtype=np.uint8)  # unsigned: 0 - 30 must not wrap
    assert mpii_head_size(box) == pytest.approx(30.0)
    flipped = box[::-1]
    assert mpii_head_size(flipped) == pytest.approx(30.0)
    grid = np.broadcast_to(box, (3, 2, 2, 2))
    np.testing.assert_allclose(mpii_head_size(grid), np.full((3, 2), 30.0))


@pytest.mark.parametrize("threshold", [-1.0, float("nan")])
def test_a_negative_or_nan_threshold_is_a_usage_error_naming_it(threshold: float) -> None:
    with pytest.raises(UsageError, match="PCKh threshold must be >= 0"):
        pckh(*_case(), threshold=threshold)
