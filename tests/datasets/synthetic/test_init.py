"""Generated data sets: refused configurations, one set written as a whole, replaced only when it
is this generator's own."""

from __future__ import annotations

import os

import pytest

from architectures.errors import InputFileError, UsageError
from datasets import synthetic
from datasets.synthetic import writers


def test_generate_rejects_bad_config(tmp_path):
    with pytest.raises(ValueError, match="coco"):
        synthetic.generate(synthetic.SyntheticConfig("coco", tmp_path, 3))
    with pytest.raises(ValueError, match="num_images"):
        synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, 0))
    for fraction in (-0.5, 2.0):
        with pytest.raises(ValueError, match="val_fraction must be between 0 and 1"):
            synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, 3, val_fraction=fraction))
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, 3, seed=-1))
    assert not list(tmp_path.iterdir())  # refused before anything is written


def test_a_fraction_that_leaves_no_train_image_is_refused_before_writing(tmp_path):
    for fraction, images in ((1.0, 4), (0.9, 4), (0.25, 1)):
        with pytest.raises(UsageError, match="train split|num_images must be >= 2"):
            synthetic.generate(
                synthetic.SyntheticConfig("lip", tmp_path / "r", images, val_fraction=fraction)
            )
    assert not list(tmp_path.iterdir())


def test_regenerating_fewer_images_replaces_the_whole_set(tmp_path):
    synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path / "l", num_images=16))
    synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path / "l", num_images=4))
    images = tmp_path / "l" / "TrainVal_images"
    train = {p.name for p in (images / "train_images").iterdir()}
    val = {p.name for p in (images / "val_images").iterdir()}
    assert not train & val and len(train) + len(val) == 4
    synthetic.generate(synthetic.SyntheticConfig("mpii", tmp_path / "m", num_images=9))
    assert synthetic.earlier_set(tmp_path / "m") == 9 + 4  # images, 3 annotation files, manifest
    synthetic.generate(synthetic.SyntheticConfig("mpii", tmp_path / "m", num_images=3))
    assert len(list((tmp_path / "m" / "images").iterdir())) == 3
    assert sorted(os.listdir(tmp_path)) == ["l", "m"]  # no staging folder left beside them


def test_a_folder_holding_other_files_is_refused_and_left_as_it_was(tmp_path):
    synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path / "set", num_images=4))
    added = tmp_path / "set" / "TrainVal_images" / "val_images" / "user_added.jpg"
    added.write_bytes(b"not the generator's")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    for root, named in ((tmp_path / "set", "user_added.jpg"), (mine, "notes.txt")):
        with pytest.raises(InputFileError, match=f"--out {root}: holds files .*{named}"):
            synthetic.generate(synthetic.SyntheticConfig("lip", root, num_images=2))
    assert added.is_file() and os.listdir(mine) == ["notes.txt"]


def test_a_run_stopped_mid_way_leaves_the_earlier_set_whole(tmp_path, monkeypatch):
    root = tmp_path / "set"
    synthetic.generate(synthetic.SyntheticConfig("lip", root, num_images=4, seed=1))
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    calls = []

    def stop_on_the_third(path, image):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        original(path, image)

    original = writers.write_jpeg
    monkeypatch.setattr(writers, "write_jpeg", stop_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        synthetic.generate(synthetic.SyntheticConfig("lip", root, num_images=8, seed=2))
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert after == before and os.listdir(tmp_path) == ["set"]
