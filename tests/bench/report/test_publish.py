"""Result sets stay inside their folder and their tool (REPORT-P findings 1-4 and 14).

A run refuses a folder whose set another tool wrote; manifest names never reach outside the
folder; ``bench.report.publish`` lists foreign files and calls a malformed manifest exit 2; a failed
first run takes away the empty ``--out`` it created. Nothing here measures: the measuring steps
are stubbed to fail loudly if a refused run reached them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from architectures.errors import InputFileError, UsageError
from bench import receptive_field, tables
from bench.accuracy.training.checkpoint import CheckpointError
from bench.report import files as io
from bench.report import publish as result_set
from tests.helpers import quick_tables_argv, stub_table3
from tests.tiny_models import register_tiny

TINY = "tiny-set-safety"


@pytest.fixture
def tiny(monkeypatch) -> str:
    stub_table3(monkeypatch)
    return register_tiny(TINY, (32, 32))


@pytest.fixture
def no_measuring(monkeypatch) -> None:
    def measured(*args, **kwargs):
        raise AssertionError("measured although the run should have been refused")

    monkeypatch.setattr(tables, "measure", measured)
    monkeypatch.setattr(receptive_field, "measure_model", measured)


@pytest.fixture
def image(tmp_path) -> Path:
    import cv2

    path = tmp_path / "person.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (40, 30, 3), dtype=np.uint8))
    return path


def _tables_argv(out: Path) -> list[str]:
    return quick_tables_argv(TINY, out, "--iters", "2", "--modes", "fp32", "--runtimes", "none")


def _rf_argv(image: Path, out: Path) -> list[str]:
    return ["--model", TINY, "--image", str(image), "--device", "cpu", "--out", str(out)]


def _exit(main, argv: list[str], capsys) -> tuple[int, list[str], list[str]]:
    """(exit status, stdout lines, stderr lines) of ``main(argv)``, which may return or exit."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out.strip().splitlines(), captured.err.strip().splitlines()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _text_writers(*names: str) -> dict:
    return {n: (lambda path, n=n: io.write_text(path, f"{n}\n")) for n in names}


def _tables_set(folder: Path) -> Path:
    names = ("table3.csv", "latency.md", "env.json")
    result_set.publish(folder, _text_writers(*names), tables.OUTPUT_NAMES, "bench.tables")
    return folder


def _rf_set(folder: Path) -> Path:
    names = (f"{TINY}_R_Hip.png", *receptive_field.OUTPUT_NAMES)
    result_set.publish(
        folder, _text_writers(*names), receptive_field.OUTPUT_NAMES, receptive_field.PRODUCER
    )
    return folder


def _write_manifest(folder: Path, manifest: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / result_set.MANIFEST).write_text(json.dumps(manifest))
    return folder / result_set.MANIFEST


# ---------------------------------------------------------------- finding 1: another tool's set


def test_receptive_field_refuses_a_tables_set(tiny, no_measuring, image, tmp_path, capsys):
    out = _tables_set(tmp_path / "results")
    before = _snapshot(out)
    code, _, err = _exit(receptive_field.main, _rf_argv(image, out), capsys)
    assert code == 2 and len(err) == 1, err
    assert str(out) in err[0] and "bench.tables" in err[0] and "another --out" in err[0]
    assert _snapshot(out) == before


def test_tables_refuses_a_receptive_field_set(tiny, no_measuring, tmp_path, capsys):
    out = _rf_set(tmp_path / "rf")
    before = _snapshot(out)
    code, _, err = _exit(tables.main, _tables_argv(out), capsys)
    assert code == 2 and len(err) == 1, err
    assert str(out) in err[0] and "bench.receptive_field" in err[0]
    assert _snapshot(out) == before


def test_publish_refuses_another_producers_set(tmp_path):
    out = _tables_set(tmp_path / "results")
    before = _snapshot(out)
    with pytest.raises(UsageError, match="written by bench.tables"):
        result_set.publish(out, _text_writers("receptive_field.csv"), producer="bench.other")
    assert _snapshot(out) == before and not list(out.glob(".*"))


def test_the_same_tool_still_replaces_its_own_set(tmp_path):
    out = _tables_set(tmp_path / "results")
    result_set.publish(out, _text_writers("table3.csv"), tables.OUTPUT_NAMES, "bench.tables")
    assert sorted(result_set.read_manifest(out)["files"]) == ["table3.csv"]
    assert not (out / "env.json").exists()  # the previous set's, not produced now
    assert result_set.verify(out) == []


@pytest.mark.parametrize(
    "listed, tables_may, rf_may",
    [(["env.json"], True, False), (["receptive_field.csv"], False, True), ([], True, True)],
)
def test_a_manifest_without_producer_is_judged_by_its_files(tmp_path, listed, tables_may, rf_may):
    out = tmp_path / "legacy"
    for name in listed:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("x")
    files = {n: {"sha256": result_set.sha256(out / n), "bytes": 1} for n in listed}
    _write_manifest(out, {"run_id": "old", "files": files})
    for producer, owned, allowed in [
        ("bench.tables", tables.OUTPUT_NAMES, tables_may),
        (receptive_field.PRODUCER, receptive_field.OUTPUT_NAMES, rf_may),
    ]:
        if allowed:
            result_set.check_owner(out, producer, owned)
        else:
            with pytest.raises(UsageError, match="choose another --out"):
                result_set.check_owner(out, producer, owned)


# ---------------------------------------------------------------- finding 2: names stay inside


def _escaping_names(tmp_path: Path) -> list[str]:
    outside = tmp_path / "victim.txt"
    outside.write_text("keep")
    return ["../victim.txt", str(outside), "sub/../../victim.txt", "..", "link.txt"]


@pytest.mark.parametrize("index", range(5))
def test_a_manifest_name_outside_the_folder_is_refused(tiny, no_measuring, tmp_path, capsys, index):
    name = _escaping_names(tmp_path)[index]
    out = tmp_path / "out"
    out.mkdir()
    (out / "link.txt").symlink_to(tmp_path / "victim.txt")  # a link leading out of the folder
    manifest = _write_manifest(out, {"run_id": "x", "files": {name: {"sha256": "x", "bytes": 4}}})
    for main, argv in [(tables.main, _tables_argv(out)), (result_set.main, [str(out)])]:
        code, _, err = _exit(main, argv, capsys)
        assert code == 2 and len(err) == 1, (name, err)
        assert str(manifest) in err[0] and repr(name) in err[0], err
    with pytest.raises(InputFileError):
        result_set.publish(out, _text_writers("table3.csv"), tables.OUTPUT_NAMES, "bench.tables")
    assert (tmp_path / "victim.txt").read_text() == "keep"  # never moved, never replaced
    assert sorted(p.name for p in out.iterdir()) == ["link.txt", "manifest.json"]


# ---------------------------------------------------------------- finding 3: foreign files


@pytest.mark.parametrize("recorded", [True, False], ids=["outputs-recorded", "older-manifest"])
def test_result_set_lists_foreign_files(tmp_path, capsys, recorded):
    out = _tables_set(tmp_path / "results")
    if not recorded:  # a manifest from before the `outputs` field: the producer's names count
        manifest = result_set.read_manifest(out)
        del manifest["outputs"]
        io.write_json(manifest, out / result_set.MANIFEST)
    for name in ("layer_profile.md", "runtimes.csv", "extra.txt"):
        (out / name).write_text("not from this run")
    code, lines, _ = _exit(result_set.main, [str(out)], capsys)
    assert code == 1
    foreign = sorted(Path(line.split(":")[0]).name for line in lines if "not written by" in line)
    assert foreign == ["layer_profile.md", "runtimes.csv"]  # extra.txt is no tool's: ignored
    assert len(lines) == 2


def test_a_receptive_field_set_with_a_users_file_is_consistent(tmp_path, capsys):
    out = _rf_set(tmp_path / "rf")
    (out / "input.png").write_text("the user's picture")
    code, lines, _ = _exit(result_set.main, [str(out)], capsys)
    assert code == 0 and "one consistent set" in lines[-1]


# ---------------------------------------------------------------- findings 4a and 14: malformed


MALFORMED = {
    "entry-not-object": ('{"files": {"a": 1}}', "files['a']"),
    "sha-not-string": ('{"files": {"a": {"sha256": 5}}}', "files['a'].sha256"),
    "bytes-not-number": ('{"files": {"a": {"sha256": "x", "bytes": "big"}}}', "files['a'].bytes"),
    "files-a-list": ('{"files": ["a"]}', "'files'"),
    "no-files": ('{"run_id": "x"}', "'files'"),
    "run-id-number": ('{"run_id": 3, "files": {}}', "'run_id'"),
    "top-level-list": ("[1, 2]", "top level"),
    "truncated": ('{"files": {"a": {', "not a valid JSON"),
    "binary": (b"\x80\xff\x00garbage", "not a valid JSON"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_manifest_exits_2_naming_it(tiny, no_measuring, tmp_path, capsys, case):
    content, field = MALFORMED[case]
    out = tmp_path / "set"
    out.mkdir()
    (out / "a").write_text("a")
    path = out / result_set.MANIFEST
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    for main, argv in [(result_set.main, [str(out)]), (tables.main, _tables_argv(out))]:
        code, _, err = _exit(main, argv, capsys)
        assert code == 2 and len(err) == 1, (case, err)
        assert str(path) in err[0] and field in err[0], err
    assert (out / "a").read_text() == "a"


def test_a_manifest_that_is_a_folder_or_a_file_given_as_folder(tmp_path, capsys):
    out = tmp_path / "set"
    (out / result_set.MANIFEST).mkdir(parents=True)
    code, _, err = _exit(result_set.main, [str(out)], capsys)
    assert code == 2 and "is a folder" in err[0] and str(out / result_set.MANIFEST) in err[0]
    (tmp_path / "file.txt").write_text("x")
    code, _, err = _exit(result_set.main, [str(tmp_path / "file.txt")], capsys)
    assert code == 2 and "not a folder" in err[0]


def test_a_missing_manifest_is_still_a_verdict(tmp_path, capsys):
    (tmp_path / "a.csv").write_text("a")
    code, lines, _ = _exit(result_set.main, [str(tmp_path)], capsys)
    assert code == 1 and "missing" in lines[0]


# ---------------------------------------------------------------- finding 14: no empty --out left


def test_a_refused_run_leaves_no_new_out_folder(tiny, image, tmp_path, monkeypatch, capsys):
    def bad_checkpoint(*args, **kwargs):
        raise CheckpointError("--checkpoint garbage.pt: not a checkpoint")

    monkeypatch.setattr(receptive_field, "measure_model", bad_checkpoint)
    out = tmp_path / "new" / "rf"
    code, _, err = _exit(receptive_field.main, _rf_argv(image, out), capsys)
    assert code == 2 and "garbage.pt" in err[0]
    assert not (tmp_path / "new").exists()  # both folders the run created are gone


def test_an_interrupted_first_run_removes_its_empty_out(tiny, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tables, "measure", interrupted)
    out = tmp_path / "t44"
    code, _, err = _exit(tables.main, _tables_argv(out), capsys)
    assert code == 130 and "interrupted" in err[0]
    assert not out.exists()
    existing = tmp_path / "existing"
    existing.mkdir()  # not created by the run: kept, though empty
    code, _, _ = _exit(tables.main, _tables_argv(existing), capsys)
    assert code == 130 and existing.is_dir()


def test_a_created_folder_that_is_not_empty_stays(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError), io.removed_if_left_empty(out):
        out.mkdir(parents=True)
        (out / "kept.txt").write_text("x")
        raise RuntimeError
    assert (out / "kept.txt").is_file()
    with pytest.raises(RuntimeError), io.removed_if_left_empty(tmp_path / "c" / "d"):
        (tmp_path / "c" / "d").mkdir(parents=True)
        (tmp_path / "c" / "other").mkdir()
        raise RuntimeError
    assert not (tmp_path / "c" / "d").exists() and (tmp_path / "c" / "other").is_dir()
    assert os.path.isdir(tmp_path)
