"""``python tools/gpu_capture.py``: the plan, the cap, the steps, the archive, the dry run's checks
and the wheelhouse. No GPU here: the steps are real subprocesses of small Python commands, and the
clock is faked where the cap's arithmetic is tested."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "gpu_capture.py"
_spec = importlib.util.spec_from_file_location("gpu_capture", SCRIPT)
gc = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = gc  # a script, not a package module: its dataclasses look it up here
_spec.loader.exec_module(gc)


def _py(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def test_the_plan_runs_the_steps_in_order_of_value(tmp_path: Path) -> None:
    steps = gc.plan(tmp_path, "cuda:1", [Path("a b.whl")])
    assert list(steps) == list(gc.STEPS)
    assert steps["install"][-1] == "a b.whl"  # a path with a space stays one argument
    assert steps["nvml"] == ("nvidia-smi", "-q", "-f", str(tmp_path / "nvml.txt"))
    assert "--runtimes" in steps["tables"] and steps["tables"][-1] == str(tmp_path / "tables")
    assert steps["benchmark"][steps["benchmark"].index("--bench-device") + 1] == "cuda:1"
    assert "not slow" in steps["tests"]
    assert "install" not in gc.plan(tmp_path, "cuda", [])  # nothing to install


def test_run_all_gives_each_step_what_is_left_of_the_cap(tmp_path: Path) -> None:
    now, given = [0.0], []

    def runner(name, argv, timeout_s, out):
        given.append(timeout_s)
        now[0] += float(argv[0])  # each step takes its "argv" seconds
        return gc.Result(name, "done", 0, float(argv[0]))

    steps = {"a": ("100",), "b": ("200",), "c": ("50",)}
    results = gc.run_all(steps, tmp_path, 300, runner, clock=lambda: now[0])
    assert [r.status for r in results] == ["done", "done", "skipped"]
    assert given == [300, 200]
    record = json.loads((tmp_path / "capture.json").read_text())
    assert [s["status"] for s in record["steps"]] == ["done", "done", "skipped"]


def test_a_step_past_the_cap_is_stopped_and_the_rest_skipped(tmp_path: Path) -> None:
    steps = {
        "quick": _py("print('hello')"),
        "slow": _py("import time; print('started', flush=True); time.sleep(60)"),
        "after": _py("print('never')"),
    }
    results = gc.run_all(steps, tmp_path, 8)
    assert [r.status for r in results] == ["done", "stopped", "skipped"]
    assert (tmp_path / "logs" / "quick.log").read_text() == "hello\n"
    assert "started" in (tmp_path / "logs" / "slow.log").read_text()


def test_a_failing_or_missing_program_fails_its_step(tmp_path: Path) -> None:
    fails = gc.run_step("bad", _py("raise SystemExit(5)"), 30, tmp_path)
    assert (fails.status, fails.returncode) == ("failed", 5)
    missing = gc.run_step("none", ("no-such-program-h4",), 30, tmp_path)
    assert missing.status == "failed"
    assert "could not start" in (tmp_path / "logs" / "none.log").read_text()


def test_a_capture_writes_its_archive(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(gc, "plan", lambda out, device, wheels: {"hello": _py("print('hi')")})
    out, packed = tmp_path / "gpu", tmp_path / "gpu.tar.gz"
    argv = ["--out", str(out), "--archive", str(packed), "--wheelhouse", str(tmp_path)]
    assert gc.main(argv) == 0
    with tarfile.open(packed) as tar:
        assert {"gpu/capture.json", "gpu/logs/hello.log"} <= set(tar.getnames())
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_wheelhouse_is_the_projects_requirements_but_torch(tmp_path: Path) -> None:
    build, download = gc.wheelhouse_commands(tmp_path, "3.12")
    assert build[3:6] == ["wheel", "--no-deps", "-w"] and build[-2:] == ["fvcore", "iopath"]
    assert download[3] == "download" and "--only-binary=:all:" in download
    assert download[download.index("--python-version") + 1] == "3.12"
    names = [a.split(">")[0].split("=")[0] for a in download[download.index("-d") + 2 :]]
    assert "pandas" in names and "yacs" in names
    assert not {"torch", "torchvision", "fvcore"} & set(names)


def test_only_the_wheels_this_python_lacks_are_installed(tmp_path: Path) -> None:
    for name in ("fvcore-0.1.5-py3-none-any.whl", "openvino_telemetry-2025.2.0-py3-none-any.whl"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "tabulate-0.10.0-py3-none-any.whl").write_bytes(b"")
    assert gc.wheel_dist(tmp_path / "openvino_telemetry-1-py3-none-any.whl") == "openvino-telemetry"
    lacking = gc.missing_wheels(tmp_path, installed=lambda dist: dist == "tabulate")
    assert [w.name.split("-")[0] for w in lacking] == ["fvcore", "openvino_telemetry"]


def test_the_dry_run_prints_the_plan_and_runs_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "gpu"
    assert gc.main(["--dry-run", "--out", str(out), "--archive", str(tmp_path / "a.tgz")]) == 0
    text = capsys.readouterr().out
    assert "bench.tables --full --device cuda" in text and "480 s cap" in text
    assert not out.exists() and not (tmp_path / "a.tgz").exists()


def _refused(argv: list[str], capsys) -> str:
    assert gc.main(["--dry-run", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    return captured.err


@pytest.mark.parametrize(
    ("option", "named"),
    [
        (["--cap-s", "0"], "--cap-s 0"),
        (["--cap-s", "nan"], "--cap-s nan"),
        (["--device", "cuda:abc"], "--device 'cuda:abc': not a device"),
    ],
)
def test_the_dry_run_checks_the_options(tmp_path: Path, capsys, option, named) -> None:
    assert named in _refused(["--out", str(tmp_path / "g"), *option], capsys)


def test_the_dry_run_checks_the_archive_path(tmp_path: Path, capsys, monkeypatch) -> None:
    existing = tmp_path / "old.tar.gz"
    existing.write_text("x")
    assert "no folder" in _refused(["--archive", str(tmp_path / "none" / "a.tgz")], capsys)
    assert "exists" in _refused(["--archive", str(existing)], capsys)
    assert "exists" in _refused(["--archive", str(tmp_path)], capsys)  # a folder
    monkeypatch.setattr(gc.os, "access", lambda path, mode: False)  # root may write anywhere
    assert "cannot write into" in _refused(["--archive", str(tmp_path / "a.tgz")], capsys)


def test_without_wheelhouse_or_fvcore_the_capture_says_how_to_build_it(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(gc, "has_distribution", lambda dist: False)
    assert gc.main(["--wheelhouse", str(tmp_path / "none"), "--out", str(tmp_path / "g")]) == 2
    assert "--build-wheelhouse" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


def test_the_script_runs_from_anywhere(tmp_path: Path) -> None:
    argv = [sys.executable, str(SCRIPT), "--dry-run", "--out", str(tmp_path / "g")]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "nvidia-smi -q" in done.stdout


@pytest.mark.slow
def test_the_wheelhouse_installs_offline_into_a_fresh_venv(tmp_path: Path) -> None:
    """Build the wheelhouse from the package index, then install it as the capture does."""
    wheelhouse = tmp_path / "wheelhouse"
    if gc.main(["--build-wheelhouse", "--wheelhouse", str(wheelhouse)]) != 0:
        pytest.skip("could not build the wheelhouse here (no package index?)")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "fresh")], check=True)
    fresh = tmp_path / "fresh" / "bin" / "python"
    site = tmp_path / "site"
    wheels = [str(w) for w in sorted(wheelhouse.glob("*.whl"))]
    install = [str(fresh), "-m", "pip", "install", "--no-index", "--no-deps", "--target", str(site)]
    subprocess.run([*install, *wheels], check=True, capture_output=True)
    code = "import fvcore, pandas, yacs; print('ok')"
    env = {"PYTHONPATH": str(site)}
    done = subprocess.run(
        [str(fresh), "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
