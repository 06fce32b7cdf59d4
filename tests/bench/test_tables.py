"""``python -m bench.tables`` on tiny registered models: every file, checks before measuring,
a light start, interruptions and full disks that keep the previous set, ``--models-from``.

A run here is a tiny model, the quick preset, no deployment runtimes, Table 3 stubbed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from architectures import PaperFigures
from bench import tables
from bench.measure import suite
from bench.report import files as io
from bench.report import publish
from bench.report.tables_outputs import OUTPUT_NAMES
from tests.helpers import generated_root, half_written_figures, quick_tables_argv, stub_table3
from tests.tiny_models import TinyPose, register_test_model, register_tiny

TINY = "tiny-test-net"
ROOT = Path(__file__).resolve().parents[2]
FILES = {
    f"{stem}.{ext}"
    for stem in ("table3", "table4", "table5", "complexity", "latency", "layer_profile")
    for ext in ("csv", "md")
}
FILES |= {"latency_vs_gflops.png", "layer_profile.png", "env.json", "index.html"}


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.body(x)]


@pytest.fixture
def tiny(monkeypatch) -> str:
    stub_table3(monkeypatch)
    return register_test_model(  # conftest restores the registry after the test
        TINY,
        Tiny,
        input_size=(32, 32),
        output_stride=1,
        num_heatmaps=4,
        paper=PaperFigures(
            4, "Tiny et al., CVPR'18", "LIP test", pckh=50.0, hip=40.0, time_ms=2.0, note="a note"
        ),
        extra_paper_rows=(PaperFigures(5, "Tiny", "MPII test", auc=10.0, pckh=60.0, time_ms=4.0),),
    )


def _args(out: Path, *extra: str) -> list[str]:
    return quick_tables_argv(TINY, out, "--iters", "2", "--runtimes", "none", *extra)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too, but the lock) -> its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != publish.LOCK
    }


def _exit(argv: list[str], capsys) -> tuple[int, list[str]]:
    """(exit status, stderr lines) of ``tables.main(argv)``, which exits with an error."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        tables.main(argv)
    return info.value.code, capsys.readouterr().err.strip().splitlines()


def _no_measuring(monkeypatch) -> None:
    def measured(*args, **kwargs):
        raise AssertionError("measured before the checks passed")

    monkeypatch.setattr(suite, "measure", measured)


# ---------------------------------------------------------------- a run and its files


def test_quick_run_writes_every_file_and_says_where(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    assert tables.main(_args(out)) == 0
    assert FILES <= {p.name for p in out.iterdir()}
    t4 = pd.read_csv(out / "table4.csv")
    assert list(t4["method (paper row)"]) == ["Tiny et al., CVPR'18"]
    assert t4[f"speed-up vs {TINY}"].iloc[0] == pytest.approx(1.0)
    assert t4["PCKh (paper)"].iloc[0] == 50.0 and t4["Hip (paper)"].iloc[0] == 40.0
    t5 = pd.read_csv(out / "table5.csv")
    assert t5["AUC (paper)"].iloc[0] == 10.0 and t5["speed-up (paper)"].iloc[0] == 1.0
    assert "cv_pct" in pd.read_csv(out / "latency.csv")  # the CV in % in every table
    layers = pd.read_csv(out / "layer_profile.csv")
    assert layers.time_share_pct.sum() == pytest.approx(100.0)
    env = json.loads((out / "env.json").read_text())
    assert env["gpu"]["available"] is False and env["models"] == [TINY]
    assert publish.verify(out) == []
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert str(out) in last and f"open {out}/index.html" in last


def test_a_second_run_says_which_set_it_replaced(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    assert tables.main(_args(out, "--no-profile")) == 0
    first = publish.read_manifest(out)
    capsys.readouterr()
    assert tables.main(_args(out, "--no-profile")) == 0
    lines = capsys.readouterr().out.splitlines()
    replaced = [line for line in lines if line.startswith("replaced")]
    assert len(replaced) == 1 and first["run_id"] in replaced[0] and str(out) in replaced[0]


def test_the_default_out_is_under_runs(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = quick_tables_argv(TINY, Path("x"), "--iters", "2", "--runtimes", "none")[:-2]
    assert tables.main([*argv, "--no-profile"]) == 0
    assert (tmp_path / "runs" / "tables" / "index.html").is_file()


_MODULE = """
from torch import nn
from architectures import register_model, ModelInfo

@register_model(ModelInfo(
    name="from-my-module", family="mine", dataset="lip", input_size=(32, 32),
    output_stride=1, num_heatmaps=4))
def build() -> nn.Module:
    return nn.Conv2d(3, 4, 1)
"""


def test_models_from_a_users_module_join_table_4(tiny, tmp_path, monkeypatch):
    (tmp_path / "my_zoo.py").write_text(_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    argv = _args(out, "--no-profile", "--models-from", "my_zoo", "--models", TINY, "from-my-module")
    try:
        assert tables.main(argv) == 0
    finally:
        sys.modules.pop("my_zoo", None)  # imported again, so registered again, by a later test
    t4 = pd.read_csv(out / "table4.csv").set_index("model")
    assert t4.loc["from-my-module", "method (paper row)"] == "user's model"


# ---------------------------------------------------------------- a light start


_HEAVY = ("torch", "torchvision", "fvcore", "pandas", "matplotlib")
_IMPORTS = """
import importlib, json, sys
heavy = lambda: sorted(m for m in {heavy} if m in sys.modules)
for module in sys.argv[1].split(","):  # the lower layers the command may load
    importlib.import_module(module)
before = heavy()
from bench import tables
try:
    tables.main(sys.argv[2:])
except SystemExit:
    pass
print(json.dumps([before, heavy()]))
"""


def _heavy(lower: str, *argv: str) -> tuple[list[str], list[str]]:
    """Heavy modules loaded by the ``lower`` modules, and after ``tables.main(argv)`` too."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS.format(heavy=_HEAVY), lower, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    return before, after


def test_help_imports_nothing_heavy():
    """Nothing beyond what ``architectures.errors`` loads; with a light package below, no torch."""
    before, after = _heavy("architectures.errors", "--help")
    assert after == before
    if before:
        pytest.skip(f"importing architectures.errors loads {before}: only the first check applies")
    assert "torch" not in after


@pytest.mark.slow  # the output check loads datasets, and through it torch
def test_an_out_in_the_way_answers_before_the_command_imports_more(tmp_path):
    blocker = tmp_path / "a_file.txt"
    blocker.write_text("x")
    before, after = _heavy("architectures.errors,bench.report.publish", "--out", str(blocker))
    assert after == before


# ---------------------------------------------------------------- checks before measuring


def _bad_args(tmp: Path) -> list[tuple[list[str], str]]:
    a_file = tmp / "a_file.txt"
    a_file.write_text("not a folder")
    empty = tmp / "empty.pt"
    empty.write_bytes(b"")
    other_model = tmp / "other.pt"
    torch.save({"model_name": "gcpm-baseline", "model": {"w": torch.zeros(1)}}, other_model)
    misfit = tmp / "misfit.pt"
    torch.save({"model": {"w": torch.zeros(1)}}, misfit)
    fits = tmp / "fits.pt"
    torch.save({"model": TinyPose().state_dict()}, fits)
    (tmp / "TrainVal_pose_annotations").mkdir()
    tiny = "tiny-pose"
    cases = [
        (["--iters", "0"], "--iters"),
        (["--iters", "two"], "--iters"),
        (["--iters", "1000000000"], f"between 1 and {tables.MAX_ITERS}"),
        (["--device", "meta"], "'meta'"),
        (["--device", "garbage"], "'garbage'"),
        (["--device", "cuda:7"], "'cuda:7'"),
        (["--models", "no-such-net"], "no-such-net"),
        (["--models-from", "no_such_module_here"], "no_such_module_here"),
        (["--modes", "fp64"], "fp64"),
        (["--runtimes", "no-such-runtime"], "no-such-runtime"),
        (["--out", str(a_file)], str(a_file)),
        (["--out", str(a_file / "sub")], str(a_file / "sub")),
        (["--checkpoint", "nonsense"], "NAME=PATH"),
        (["--checkpoint", f"{tiny}=/no/such.pt", "--data-root", str(tmp)], "/no/such.pt"),
        (["--checkpoint", f"{tiny}={empty}", "--data-root", str(tmp)], "empty"),
        (["--checkpoint", f"{tiny}={fits}", "--data-root", "/no/such/root"], "/no/such/root"),
        (["--checkpoint", f"{tiny}={fits}", "--data-root", str(tmp)], "lip_val_set.csv"),
        (["--checkpoint", f"{tiny}={a_file}"], "--data-root"),
        (["--checkpoint", f"{tiny}={a_file}", "--data-root", str(tmp)], "not a PyTorch"),
        (["--checkpoint", f"{tiny}={other_model}", "--data-root", str(tmp)], "'gcpm-baseline'"),
        (["--checkpoint", f"{tiny}={misfit}", "--data-root", str(tmp)], "does not fit"),
        (
            [
                "--checkpoint",
                f"{tiny}={fits}",
                "--checkpoint",
                f"{tiny}={fits}",
                "--data-root",
                ".",
            ],
            f"--checkpoint {tiny} given twice",
        ),
    ]
    if not torch.cuda.is_available():
        cases.append((["--device", "cuda"], "CUDA is not available"))
    return cases


def test_bad_arguments_exit_2_naming_the_culprit_before_measuring(
    tiny, tmp_path, monkeypatch, capsys
):
    register_tiny("tiny-pose", (32, 32))
    previous = tmp_path / "previous"
    assert tables.main(_args(previous, "--no-profile")) == 0
    before = _snapshot(previous)
    _no_measuring(monkeypatch)
    for extra, named in _bad_args(tmp_path):
        argv = quick_tables_argv("tiny-pose", previous, "--runtimes", "none", *extra)
        if "--out" in extra:
            argv = argv[:-2]
        code, err = _exit(argv, capsys)
        assert (code, len(err)) == (2, 1), (extra, err)
        assert named in err[0] and err[0].startswith("python -m bench.tables: error:"), (extra, err)
    assert _snapshot(previous) == before


def test_unknown_model_lists_the_known_ones(tiny, tmp_path, capsys):
    code, err = _exit(["--models", "no-such-net", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "'no-such-net'" in err[0] and TINY in err[0]
    assert not (tmp_path / "o").exists()  # the folder the refused run created is gone


def test_unwritable_output_fails_before_measuring(tiny, tmp_path, monkeypatch, capsys):
    _no_measuring(monkeypatch)

    def no_permission(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(io.tempfile, "mkstemp", no_permission)  # root ignores chmod: fake it
    code, err = _exit(_args(tmp_path / "locked"), capsys)
    expected = (
        f"python -m bench.tables: error: --out {tmp_path / 'locked'}: "
        "cannot write there (Permission denied)"
    )
    assert code == 2 and err == [expected]


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        tables.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: runs/tables)" in out and "--out results" in out
    assert "--no-progress no progress" in out
    assert "default: None" not in out and "default: []" not in out and "default: True" not in out


# ---------------------------------------------------------------- failures keep the previous set


@pytest.fixture
def previous(tiny, tmp_path) -> Path:
    out = tmp_path / "results"
    assert tables.main(_args(out)) == 0
    (out / "receptive_field").mkdir()
    (out / "receptive_field" / "receptive_field.csv").write_text("another command's\n")
    (out / "regression_baseline.json").write_text("{}\n")
    return out


def test_ctrl_c_while_measuring_or_writing_leaves_the_previous_set(previous, monkeypatch, capsys):
    before = _snapshot(previous)
    calls = []
    real_write_csv = io.write_csv

    def interrupted_on_second(df, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C after one file of the new set is written
        return real_write_csv(df, path)

    monkeypatch.setattr(io, "write_csv", interrupted_on_second)
    code, err = _exit(_args(previous), capsys)
    assert code == 130 and len(err) == 1 and "interrupted" in err[0]
    assert _snapshot(previous) == before  # no staging folder, no temp file, nothing replaced


def test_full_disk_while_writing_is_one_line_and_keeps_the_previous_set(
    previous, monkeypatch, capsys
):
    before = _snapshot(previous)
    monkeypatch.setattr(io, "write_figure", half_written_figures(errno.ENOSPC))
    code, err = _exit(_args(previous), capsys)
    expected = (
        f"python -m bench.tables: error: {previous}/latency_vs_gflops.png: No space left "
        "on device (nothing was replaced: the previous results are unchanged)"
    )
    assert code == 2 and err == [expected]
    assert _snapshot(previous) == before


def test_a_bug_exits_3_with_its_traceback_and_keeps_the_previous_set(previous, monkeypatch, capsys):
    before = _snapshot(previous)

    def bug(*args, **kwargs):
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(suite, "measure", bug)
    code, err = _exit(_args(previous), capsys)
    assert code == 3 and err[0] == "Traceback (most recent call last):"
    assert "ZeroDivisionError: injected" in err[-1]
    assert _snapshot(previous) == before


def test_second_run_replaces_the_set_and_nothing_else(previous):
    others = {k: v for k, v in _snapshot(previous).items() if k.startswith(("receptive", "regr"))}
    first = publish.read_manifest(previous)
    (previous / ".latency.csv.x1y2z3.tmp").write_text("left by a killed run")
    (previous / ".staging-20000101T000000Z-abcdef").mkdir()
    assert tables.main(_args(previous, "--no-profile")) == 0
    second = publish.read_manifest(previous)
    assert (
        second["run_id"] != first["run_id"]
        and second["run_id"] in (previous / "env.json").read_text()
    )
    assert not list(previous.glob("layer_profile.*"))  # the first run's, not produced now
    assert [p.name for p in previous.glob(".*")] == [publish.LOCK]  # stale files gone
    assert publish.verify(previous, OUTPUT_NAMES) == []
    files = {p.name for p in previous.iterdir() if p.is_file()} - {publish.LOCK}
    assert files == set(second["files"]) | {"manifest.json", "regression_baseline.json"}
    assert {k: v for k, v in _snapshot(previous).items() if k in others} == others


def test_a_folder_with_unlisted_outputs_is_refused(tiny, tmp_path, monkeypatch, capsys):
    _no_measuring(monkeypatch)
    out = tmp_path / "old"
    out.mkdir()
    for name in ("latency.md", "notes_of_mine.txt"):
        (out / name).write_text("from somewhere else")
    before = _snapshot(out)
    code, err = _exit(_args(out), capsys)
    assert code == 2 and "latency.md" in err[0] and "notes_of_mine" not in err[0]
    assert _snapshot(out) == before


def test_an_interrupted_first_run_removes_its_empty_out(tiny, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(suite, "measure", interrupted)
    out = tmp_path / "t44"
    code, err = _exit(_args(out), capsys)
    assert code == 130 and "interrupted" in err[0] and not out.exists()
    existing = tmp_path / "existing"
    existing.mkdir()  # not created by the run: kept, though empty
    code, _ = _exit(_args(existing), capsys)
    assert code == 130 and existing.is_dir()


def test_a_result_set_of_another_tool_is_refused(tiny, tmp_path, monkeypatch, capsys):
    _no_measuring(monkeypatch)
    out = tmp_path / "rf"
    publish.publish(out, {"receptive_field.csv": lambda p: io.write_text(p, "x")}, (), "bench.rf")
    before = _snapshot(out)
    code, err = _exit(_args(out), capsys)
    assert code == 2 and len(err) == 1 and str(out) in err[0] and "bench.rf" in err[0]
    assert _snapshot(out) == before
    shutil.rmtree(out)


def test_an_image_broken_past_the_first_keeps_the_run_and_says_what_was_not_scored(
    tmp_path_factory, tmp_path, capsys, monkeypatch
):
    stub_table3(monkeypatch)
    register_tiny("tiny-pose", (32, 32))
    weights = tmp_path / "tiny.pt"
    torch.save({"model": TinyPose().state_dict()}, weights)
    root = generated_root(tmp_path_factory, "lip", 8, seed=3)
    last = max((root / "TrainVal_images" / "val_images").iterdir())
    last.write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    extra = ("--no-profile", "--checkpoint", f"tiny-pose={weights}", "--data-root", str(root))
    assert tables.main(quick_tables_argv("tiny-pose", out, "--runtimes", "none", *extra)) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if "not scored" in line]
    assert len(warning) == 1 and warning[0].startswith("python -m bench.tables: warning: ")
    assert "- tiny-pose: " in (out / "table4.md").read_text() and last.name in warning[0]
    assert pd.read_csv(out / "latency.csv").median_ms.notna().all()  # the timing is kept
