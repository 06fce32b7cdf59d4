"""``bench.score`` on small made-up files: every prediction format, the named conventions at
their boundaries, LIP, and one-line errors for what a user gets wrong."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.io import savemat

from bench import score as score_cli
from bench.accuracy.scoring import score_predictions
from datasets.conventions import CONVENTIONS, get_convention, table_row
from datasets.layouts import MPII_LAYOUT

N = 6
HEAD = 10.0  # 0.6 x head-box diagonal


@pytest.fixture(scope="module")
def mpii_gt(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A gt_valid.mat-layout file: N persons, head size 10 px, joint 6 (pelvis) of person 0
    unlabelled; returns the path and the 0-based ground truth."""
    rng = np.random.default_rng(0)
    gt = rng.uniform(50, 150, size=(N, 16, 2))
    missing = np.zeros((16, N), np.uint8)
    missing[6, 0] = 1
    side = HEAD / 0.6 / np.sqrt(2)
    boxes = np.zeros((2, 2, N))
    boxes[1] = side
    path = tmp_path_factory.mktemp("gt") / "gt_valid.mat"
    savemat(
        path,
        {"pos_gt_src": np.moveaxis(gt + 1.0, 0, 2), "jnt_missing": missing, "headboxes_src": boxes},
    )
    return path, gt


def _off(gt: np.ndarray, joints: dict[int, float]) -> np.ndarray:
    """0-based predictions: exact, except joint j moved right by ``joints[j]`` x head size."""
    pred = gt.copy()
    for joint, fraction in joints.items():
        pred[:, joint, 0] += fraction * HEAD
    return pred


def _write(path: Path, pred: np.ndarray) -> Path:
    suffix = path.suffix
    if suffix == ".npy":
        np.save(path, pred)
    elif suffix == ".npz":
        np.savez(path, preds=pred)
    elif suffix == ".mat":
        savemat(path, {"preds": pred})
    elif suffix == ".h5":
        with h5py.File(path, "w") as handle:
            handle["preds"] = pred
    elif suffix == ".json":
        path.write_text(json.dumps(pred.tolist()))
    return path


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".mat", ".h5", ".json"])
def test_every_format_scores_exact_predictions_at_100(tmp_path, mpii_gt, suffix):
    gt_path, gt = mpii_gt
    preds = _write(tmp_path / f"p{suffix}", gt + 1.0)
    score = score_predictions(preds, gt_path, base=1)
    assert score.persons == N and score.excluded == 0
    assert all(v == pytest.approx(100.0) for v in score.columns.values())


def test_a_file_may_state_its_base(tmp_path, mpii_gt):
    gt_path, gt = mpii_gt
    stated = tmp_path / "p.json"
    stated.write_text(json.dumps({"coordinates": "zero-based", "preds": gt.tolist()}))
    assert score_predictions(stated, gt_path).columns["PCKh"] == pytest.approx(100.0)
    npz = tmp_path / "p.npz"
    np.savez(npz, preds=gt + 1.0, coordinate_base=1)
    assert score_predictions(npz, gt_path).columns["PCKh"] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="states 1-based coordinates but --zero-based"):
        score_predictions(npz, gt_path, base=0)


def test_conventions_differ_where_they_say(mpii_gt):
    _, gt = mpii_gt
    valid = np.ones((N, 16), bool)
    head = np.full(N, HEAD)
    # upper neck wrong everywhere; right wrist exactly at the threshold
    pred = _off(gt, {8: 0.9, 10: 0.5})
    rows = {
        name: table_row(pred, gt, valid, head, MPII_LAYOUT, c) for name, c in CONVENTIONS.items()
    }
    assert rows["official"]["Head"] == pytest.approx(50.0)  # mean(neck, head top)
    assert rows["hrnet"]["Head"] == rows["bearpaw"]["Head"] == pytest.approx(100.0)
    assert rows["official"]["Wri."] == rows["hrnet"]["Wri."] == pytest.approx(100.0)  # <=
    assert rows["bearpaw"]["Wri."] == rows["mmpose"]["Wri."] == pytest.approx(50.0)  # <
    # 2 of 14 joints wrong (<) or 1 of 14 (<=); pooled == unweighted here (equal counts)
    assert rows["official"]["PCKh"] == pytest.approx(100 * 13 / 14)
    assert rows["mmpose"]["PCKh"] == pytest.approx(100 * 12 / 14)


def test_unweighted_and_pooled_totals_differ_with_unequal_counts(mpii_gt):
    _, gt = mpii_gt
    valid = np.ones((N, 16), bool)
    valid[1:, 0] = False  # right ankle labelled once
    pred = _off(gt, {0: 0.9})
    head = np.full(N, HEAD)
    pooled = table_row(pred, gt, valid, head, MPII_LAYOUT, get_convention("hrnet"))["PCKh"]
    mean = table_row(pred, gt, valid, head, MPII_LAYOUT, get_convention("bearpaw"))["PCKh"]
    counted = 13 * N + 1
    assert pooled == pytest.approx(100 * (counted - 1) / counted)
    assert mean == pytest.approx(100 * 13 / 14)


def test_auc_is_the_mean_of_the_total_curve(mpii_gt):
    _, gt = mpii_gt
    pred = _off(gt, dict.fromkeys(range(16), 0.255))  # right from threshold 0.26 on
    row = table_row(
        pred, gt, np.ones((N, 16), bool), np.full(N, HEAD), MPII_LAYOUT, get_convention("official")
    )
    # curve: 0 for 0..0.25 (26 points), 100 for 0.26..0.5 (25 points): trapezoid = 49 % of 100
    assert row["AUC"] == pytest.approx(49.0)


def test_lip_csv_ground_truth_and_predictions_matched_by_name(tmp_path):
    rng = np.random.default_rng(1)
    names = [f"{i}_img.jpg" for i in range(4)]
    gt = rng.uniform(5, 90, size=(4, 16, 2)).round()
    gt[0, 3] = np.nan  # a missing joint
    gt[1, 4] = (-2.0, 30.0)  # outside the image: read, not scored (calc_pckh)
    rows = [
        ",".join([n] + [f"{x:g},{y:g},0" if np.isfinite(x) else "nan,nan,nan" for x, y in joints])
        for n, joints in zip(names, gt)
    ]
    gt_csv = tmp_path / "lip_val_set.csv"
    gt_csv.write_text("\n".join(rows) + "\n")
    pred = np.nan_to_num(gt)
    pred[2, 10] += 1000.0  # one wrist wrong
    order = [3, 1, 0, 2]  # a prediction file in another order
    lines = [",".join([names[i]] + [f"{v:g}" for v in pred[i].ravel()]) for i in order]
    pred_csv = tmp_path / "pred.csv"
    pred_csv.write_text("\n".join(lines) + "\n")
    score = score_predictions(pred_csv, gt_csv)
    assert score.dataset == "lip" and "AUC" not in score.columns
    scored = 4 * 14 - 1 - 1
    assert score.columns["PCKh"] == pytest.approx(100 * (scored - 1) / scored)
    pred_csv.write_text("\n".join(lines[:3]) + "\n")
    with pytest.raises(ValueError, match="no row for 1 ground-truth image"):
        score_predictions(pred_csv, gt_csv)


def _run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        score_cli.main(list(argv))
    return stop.value.code, capsys.readouterr().err.strip()


def test_one_line_errors(tmp_path, mpii_gt, capsys):
    gt_path, gt = mpii_gt
    short = _write(tmp_path / "short.npy", gt[:-1])
    code, err = _run(capsys, str(short), "--ground-truth", str(gt_path), "--zero-based")
    assert code == 2 and "\n" not in err
    assert f"shape ({N - 1}, 16, 2)" in err and f"{N} persons" in err and "short.npy" in err
    flat = _write(tmp_path / "flat.npy", gt.reshape(N, 32))
    code, err = _run(capsys, str(flat), "--ground-truth", str(gt_path), "--zero-based")
    assert code == 2 and "expected (N, K, 2)" in err
    ok = _write(tmp_path / "ok.npy", gt)
    code, err = _run(capsys, str(ok), "--ground-truth", str(gt_path))
    assert code == 2 and "--one-based" in err and "--zero-based" in err
    code, err = _run(capsys, str(ok), "--ground-truth", str(tmp_path / "nope.mat"), "--zero-based")
    assert code == 2 and "nope.mat" in err
    (tmp_path / "empty.npy").write_bytes(b"")
    code, err = _run(
        capsys, str(tmp_path / "empty.npy"), "--ground-truth", str(gt_path), "--zero-based"
    )
    assert code == 2 and "empty" in err
    (tmp_path / "p.txt").write_text("1 2")
    code, err = _run(
        capsys, str(tmp_path / "p.txt"), "--ground-truth", str(gt_path), "--zero-based"
    )
    assert code == 2 and "unknown prediction file type '.txt'" in err
    code, err = _run(capsys, str(ok), "--ground-truth", str(gt_path), "--one-based", "--zero-based")
    assert code == 2 and "not allowed with" in err
    code, err = _run(
        capsys, str(ok), "--ground-truth", str(gt_path), "--zero-based", "--convention", "coco"
    )
    assert code == 2 and "coco" in err


def test_text_output_names_the_convention(tmp_path, mpii_gt, capsys):
    gt_path, gt = mpii_gt
    ok = _write(tmp_path / "ok.npy", gt)
    assert (
        score_cli.main(
            [str(ok), "--ground-truth", str(gt_path), "--zero-based", "--convention", "hrnet"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "hrnet: Head = head top" in out and "|   Head |" in out and "100.00" in out


def test_json_output_names_the_dataset_and_the_persons_left_out(tmp_path, lip_root, capsys):
    gt = lip_root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    assert score_cli.main([str(gt), "--ground-truth", str(lip_root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["dataset"], out["columns"]["PCKh"]) == ("lip", 100.0)
    assert out["persons"] > 0 and out["excluded"] >= 0


def test_the_conventions_offered_are_the_known_ones() -> None:
    assert score_cli.CONVENTION_NAMES == tuple(CONVENTIONS)


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory) -> Path:
    from tests.helpers import generated_root

    return generated_root(tmp_path_factory, "lip", num_images=8, seed=1)


@pytest.fixture(scope="module")
def mpii_root(tmp_path_factory) -> Path:
    from tests.helpers import generated_root

    return generated_root(tmp_path_factory, "mpii", num_images=8, seed=1)


def test_deeply_nested_json_is_refused_in_one_line(tmp_path, mpii_gt, capsys):
    gt_path, _ = mpii_gt
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    code, err = _run(capsys, str(deep), "--ground-truth", str(gt_path), "--zero-based")
    assert code == 2 and "\n" not in err and f"{deep}: JSON nested 100000 levels deep" in err


def test_an_npy_header_claiming_a_huge_array_is_refused_before_loading(tmp_path, mpii_gt, capsys):
    gt_path, _ = mpii_gt
    huge = tmp_path / "huge.npy"
    with open(huge, "wb") as handle:
        header = {"descr": "<f8", "fortran_order": False, "shape": (10**9, 16, 2)}
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(b"\0" * 64)
    code, err = _run(capsys, str(huge), "--ground-truth", str(gt_path), "--zero-based")
    assert code == 2 and f"{huge}: the .npy header claims an array of shape" in err
    assert "64 bytes" in err


def test_split_test_of_a_lip_root_is_one_line(tmp_path, lip_root, capsys):
    gt = lip_root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    code, err = _run(capsys, str(gt), "--ground-truth", str(lip_root), "--split", "test")
    assert code == 2 and "\n" not in err and "--split test" in err and "no public labels" in err


def test_lip_predictions_against_mpii_ground_truth_are_refused(lip_root, mpii_root, capsys):
    predictions = lip_root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    code, err = _run(capsys, str(predictions), "--ground-truth", str(mpii_root))
    assert code == 2 and "is a LIP prediction CSV" in err and "MPII ground truth" in err


def test_an_array_is_scored_as_whatever_ground_truth_has_as_many_persons(tmp_path, mpii_gt):
    # The documented limit: an array names no dataset, so the same file scores against both.
    gt_path, gt = mpii_gt
    lip_csv = tmp_path / "lip_val_set.csv"
    rows = [",".join([f"{i}.jpg"] + [f"{x:g},{y:g},0" for x, y in p]) for i, p in enumerate(gt)]
    lip_csv.write_text("\n".join(rows) + "\n")  # LIP ground truth of the same persons
    predictions = _write(tmp_path / "pred.npy", gt)
    as_mpii = score_predictions(predictions, gt_path, base=0)
    as_lip = score_predictions(predictions, lip_csv, base=0)
    assert (as_mpii.dataset, as_lip.dataset) == ("mpii", "lip")
    assert score_cli.ANONYMOUS.startswith("An array file") and "as whatever" in score_cli.ANONYMOUS


def test_a_threshold_out_of_range_is_refused(tmp_path, mpii_gt, capsys):
    gt_path, gt = mpii_gt
    ok = _write(tmp_path / "ok.npy", gt)
    argv = [str(ok), "--ground-truth", str(gt_path), "--zero-based"]
    code, err = _run(capsys, *argv, "--threshold", "0")
    assert code == 2 and "--threshold must be in (0, 1], got 0.0" in err


def test_help_answers_before_torch_and_pandas_are_loaded() -> None:
    import subprocess
    import sys

    code = (
        "import sys, architectures.errors\n"
        "before = set(sys.modules)\n"
        "from bench import evaluate, receptive_field, score, train\n"
        "for command in (evaluate, receptive_field, score, train):\n"
        "    try:\n"
        "        command.main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('torch', 'torchvision', 'fvcore', 'pandas', 'matplotlib', 'cv2', 'datasets')\n"
        "print(sorted(m for m in heavy if m in sys.modules and m not in before))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
