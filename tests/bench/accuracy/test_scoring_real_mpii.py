"""Real MPII files (``<repo>/../shared/data/mpii``, see its README): every record loads, the three
ground-truth layouts agree, joints outside the image go through the pipeline and are scored, and
``bench.score`` reproduces bearpaw's published rows and the official totals.

Skipped where the folder is absent (a user's fresh clone): nothing from it is in the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import score as score_cli
from bench.accuracy.scoring import score_predictions
from datasets import MPII_LAYOUT, PoseDataset, pckh
from datasets.mpii import load_json_records, read_bearpaw_records, read_mpii_ground_truth

MPII = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "mpii"
pytestmark = pytest.mark.skipif(
    not (MPII / "detections_our_format.mat").is_file(),
    reason=f"real MPII files not found at {MPII} (only on machines that hold ../shared/data/mpii)",
)

GT_MAT = MPII / "detections_our_format.mat"
BEARPAW = MPII / "mpii_annotations.json.gz"
COLUMNS = ("Head", "Sho.", "Elb.", "Wri.", "Hip", "Knee", "Ank.", "PCKh")
# bearpaw/pytorch-pose README @ edc7aece, rows "(last)" (copied into ../shared/data/mpii/README.md)
PUBLISHED = {
    2: (95.80, 94.57, 88.12, 83.31, 86.24, 80.88, 77.44, 86.76),
    8: (96.79, 95.19, 90.08, 85.32, 87.48, 84.26, 80.73, 88.64),
}
OFFICIAL_TOTAL = {2: 87.30, 8: 89.09}  # the same predictions under evaluatePCKh.m's rules


@pytest.fixture(scope="module")
def records() -> list:
    return load_json_records(BEARPAW)  # 25,204 records: ~4 s, read once


@pytest.fixture(scope="module")
def everyone(records) -> list:
    return read_bearpaw_records(records, BEARPAW, "all")


@pytest.fixture(scope="module")
def val_sources():
    return {
        "mat": read_mpii_ground_truth(GT_MAT),
        "bearpaw": read_mpii_ground_truth(BEARPAW, headboxes=GT_MAT),
        "mmpose": read_mpii_ground_truth(MPII / "annotations" / "mpii_val.json", headboxes=GT_MAT),
    }


def test_every_bearpaw_record_loads(records, everyone):
    assert len(everyone) == 25204
    assert len(read_bearpaw_records(records, BEARPAW, "val")) == 2958
    assert len(read_bearpaw_records(records, BEARPAW, "train")) == 22246
    zeros = np.array([[x == 0 and y == 0 for x, y, _ in r["joint_self"]] for r in records])
    valid = np.stack([s.valid for s in everyone])
    np.testing.assert_array_equal(valid, ~zeros)  # unlabelled [0, 0, 0] -> missing, nothing else


def test_the_three_validation_layouts_agree(val_sources):
    mat, bearpaw, mmpose = (val_sources[k] for k in ("mat", "bearpaw", "mmpose"))
    assert len(mat) == len(bearpaw) == len(mmpose) == 2958
    keypoints = {k: np.stack([s.keypoints for s in v]) for k, v in val_sources.items()}
    valid = np.stack([s.valid for s in mat])
    assert valid.sum() == 44240 and (~valid).sum() == 3088
    for name in ("bearpaw", "mmpose"):
        np.testing.assert_array_equal(np.stack([s.valid for s in val_sources[name]]), valid)
        assert [s.head_size for s in val_sources[name]] == [s.head_size for s in mat]
    np.testing.assert_allclose(keypoints["bearpaw"], keypoints["mmpose"], atol=1e-9)
    differs = np.abs(keypoints["mat"] - keypoints["bearpaw"]).max(axis=2) > 1e-3
    # the .mat's quirk: 13 labelled joints with a 0 coordinate (-1 here) the annotation lacks
    assert differs.sum() == 13
    assert (np.isclose(keypoints["mat"][differs], -1.0).any(axis=1)).all()


def test_joints_outside_the_image_are_read_not_refused(records, everyone):
    outside = [
        s.outside_image((int(r["img_height"]), int(r["img_width"])))
        for r, s in zip(records, everyone)
    ]
    assert sum(o.any() for o in outside) == 398  # as the data README counts them
    assert all(s.valid[o].all() for s, o in zip(everyone, outside))


def _outside_records(records: list, samples: list, count: int) -> list:
    picked = []
    for record, sample in zip(records, samples):
        size = (int(record["img_height"]), int(record["img_width"]))
        if sample.outside_image(size).any() and len(picked) < count:
            picked.append((sample, size))
    return picked


@pytest.mark.parametrize("augment", [False, True])
def test_pipeline_takes_joints_outside_the_image(tmp_path, records, everyone, augment):
    from dataclasses import replace

    from datasets import AugmentConfig

    samples = []
    for sample, (h, w) in _outside_records(records, everyone, 4):
        path = tmp_path / sample.image_path.name
        cv2.imwrite(str(path), np.full((h, w, 3), 90, np.uint8))
        samples.append(replace(sample, image_path=path))

    class Samples(list):  # the real records as a reader: samples plus the layout's flip pairs
        layout = MPII_LAYOUT

    data = PoseDataset(
        Samples(samples),
        input_size=256,
        heatmap_size=64,
        sigma=8.0,
        background=False,
        augment=AugmentConfig.paper("mpii") if augment else None,
    )
    for index in range(len(data)):
        item = data[index]
        assert np.isfinite(item["heatmaps"].numpy()).all()
        points = item["keypoints"].numpy()
        off_map = ~item["valid"].numpy() & np.isfinite(points).all(axis=1)
        # a joint on the input peaks near 1 inside its map; one off it has no peak: its map is
        # empty or holds a Gaussian's tail that is highest on the border
        maps = item["heatmaps"].numpy()
        assert (maps.reshape(16, -1).max(axis=1)[item["valid"].numpy()] > 0.6).all()
        for joint in np.flatnonzero(off_map):
            row, col = np.unravel_index(maps[joint].argmax(), maps[joint].shape)
            assert maps[joint].max() == 0 or row in (0, 63) or col in (0, 63)


def test_pckh_counts_joints_outside_the_image(val_sources):
    samples = list(val_sources["mat"])
    gt = np.stack([s.keypoints for s in samples])
    valid = np.stack([s.valid for s in samples])
    head = np.array([s.head_size for s in samples])
    pred = np.where(np.isnan(gt), 0.0, gt)
    above = valid & (gt[..., 1] < -1.5)  # head tops etc. above the frame
    assert above.sum() > 0
    pred[above] += 1000.0  # wrong only there
    result = pckh(pred, gt, valid, head)
    assert int(result.counted.sum()) == int(valid.sum())
    assert int(result.counted.sum() - result.correct.sum()) == int(above.sum())


@pytest.mark.parametrize("stacks", [2, 8])
def test_bench_score_reproduces_the_published_bearpaw_rows(stacks):
    preds = MPII / "preds" / f"bearpaw-hg_s{stacks}_b1.mat"
    theirs = score_predictions(preds, GT_MAT, base=1, convention="bearpaw")
    assert theirs.persons == 2958 and theirs.excluded == 0
    assert tuple(round(theirs.columns[c], 2) for c in COLUMNS) == PUBLISHED[stacks]
    official = score_predictions(preds, GT_MAT, base=1, convention="official")
    assert round(official.columns["PCKh"], 2) == OFFICIAL_TOTAL[stacks]
    for column in COLUMNS[1:-1]:  # only Head and the total differ between the two
        assert official.columns[column] == pytest.approx(theirs.columns[column])
    assert official.columns["Head"] > theirs.columns["Head"]


def test_every_ground_truth_layout_gives_the_same_score():
    preds = MPII / "preds" / "bearpaw-hg_s8_b1.mat"
    scores = [
        score_predictions(preds, gt, base=1, headboxes=hb).columns
        for gt, hb in (
            (GT_MAT, None),
            (BEARPAW, GT_MAT),
            (MPII / "annotations" / "mpii_val.json", GT_MAT),
        )
    ]
    # bearpaw's and mmpose's JSON lack the .mat's 13 zero quirks: totals differ by a hair
    assert scores[1] == scores[2]
    assert abs(scores[0]["PCKh"] - scores[1]["PCKh"]) < 0.05


def test_cli_json_and_coordinate_base(capsys):
    preds = str(MPII / "preds" / "bearpaw-hg_s2_b1.mat")
    assert (
        score_cli.main(
            [
                preds,
                "--ground-truth",
                str(GT_MAT),
                "--one-based",
                "--json",
                "--convention",
                "bearpaw",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"dataset", "convention", "persons", "excluded", "columns"}
    assert out["convention"] == "bearpaw" and out["persons"] == 2958
    assert out["dataset"] == "mpii" and out["excluded"] >= 0
    assert list(out["columns"]) == [*COLUMNS, "AUC"]
    assert round(out["columns"]["PCKh"], 2) == 86.76
    with pytest.raises(SystemExit) as stop:
        score_cli.main([preds, "--ground-truth", str(GT_MAT)])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--one-based" in err and "bearpaw-hg_s2_b1.mat" in err
    # the flag matters: read as 0-based the same file scores 87.50, not the published 87.30
    zero = score_predictions(preds, GT_MAT, base=0).columns["PCKh"]
    assert round(zero, 2) != round(score_predictions(preds, GT_MAT, base=1).columns["PCKh"], 2)


def test_datasets_check_reads_the_real_validation_annotations(capsys):
    from datasets import check

    argv = ["--dataset", "mpii", "--root", str(MPII), "--no-images", "--headboxes", str(GT_MAT)]
    assert check.main(argv) == 0
    out = capsys.readouterr().out
    assert "samples: 2958, images read: 0, problems: 0" in out
    assert "zero / missing head size (excluded from PCKh): 0" in out
    assert "R_Shoulder left of L_Shoulder: 72.5 % of persons" in out  # not mirrored
