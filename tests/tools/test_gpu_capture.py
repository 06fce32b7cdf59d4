"""``python -m bench.gpu_run`` (``make gpu``): plan, cap, steps, archive and the wheelhouse.

No GPU here: the steps are real subprocesses of small Python commands, and the clock is faked
where the cap's arithmetic is tested.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from bench import gpu_run
from bench.gpu_run import GpuRunConfig, Step, StepResult

HELP_WITH_RUNTIMES = "--device --models --out --runtimes --no-profile"


def _py(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def test_plan_runs_tables_before_runtimes_and_keeps_the_runtime_rows_out_of_it(tmp_path):
    config = GpuRunConfig(out=tmp_path / "gpu")
    steps = gpu_run.plan(config, HELP_WITH_RUNTIMES, (7, 11), [Path("a.whl")])
    assert [s.name for s in steps] == ["install", "nvidia-smi", "tables", "benchmark", "runtimes"]
    tables = steps[2].argv
    assert tables[-2:] == ("--runtimes", "none") and "--full" in tables
    assert tables[tables.index("--device") + 1] == "cuda"
    assert str(tmp_path / "gpu" / "benchmark.json") in steps[3].argv
    assert "--bench-device" in steps[3].argv and "--no-index" in steps[0].argv


def test_plan_without_a_runtimes_option_has_no_runtimes_step(tmp_path):
    steps = gpu_run.plan(
        GpuRunConfig(out=tmp_path, skip=("nvidia-smi",)), "--device --out", (7, 11), []
    )
    assert [s.name for s in steps] == ["install", "tables", "benchmark"]
    assert "--runtimes" not in steps[1].argv


def test_estimates_grow_with_the_models():
    small = gpu_run.plan(GpuRunConfig(), "", (2, 3), [])
    large = gpu_run.plan(GpuRunConfig(), "", (8, 12), [])
    assert all(b.estimate_s > a.estimate_s for a, b in zip(small[2:], large[2:], strict=True))


def test_run_all_skips_what_the_cap_leaves_no_time_for(tmp_path):
    now = [0.0]
    given = []

    def runner(step: Step, timeout_s: float, out: Path) -> StepResult:
        given.append(timeout_s)
        now[0] += step.estimate_s  # each step takes its estimate
        return StepResult(step.name, "done", 0, step.estimate_s, step.estimate_s)

    steps = [Step(n, ("x",), est, n) for n, est in (("a", 100), ("b", 200), ("c", 50))]
    config = GpuRunConfig(out=tmp_path, cap_s=300 + gpu_run.ARCHIVE_RESERVE_S)
    results = gpu_run.run_all(steps, config, runner, clock=lambda: now[0])
    assert [r.status for r in results] == ["done", "done", "skipped"]
    assert given == [300, 200]  # each step may use what is left of the cap


def test_a_step_past_the_cap_is_stopped_and_the_rest_is_written(tmp_path):
    out = tmp_path / "gpu"
    steps = [
        Step("quick", _py("print('hello')"), 1, "prints"),
        Step("slow", _py("import time; print('started', flush=True); time.sleep(60)"), 1, "sleeps"),
        Step("after", _py("print('never')"), 1, "skipped"),
    ]
    config = GpuRunConfig(out=out, cap_s=gpu_run.ARCHIVE_RESERVE_S + 8)
    results = gpu_run.run_all(
        steps, config, on_result=lambda r: gpu_run.write_summary(config, steps, r)
    )
    assert [r.status for r in results] == ["done", "timed out", "skipped"]
    assert (out / "logs" / "quick.log").read_text() == "hello\n"
    assert "started" in (out / "logs" / "slow.log").read_text()
    summary = (out / "gpu_run.json").read_text()
    assert '"timed out"' in summary and '"skipped"' in summary
    packed = gpu_run.archive(out, tmp_path / "gpu.tar.gz")
    with tarfile.open(packed) as tar:
        names = tar.getnames()
    assert "gpu/gpu_run.json" in names and "gpu/logs/quick.log" in names


def test_failing_step_and_stdout_file(tmp_path):
    fails = gpu_run.run_step(Step("bad", _py("raise SystemExit(5)"), 1, ""), 30, tmp_path)
    assert fails.status == "failed" and fails.returncode == 5
    smi = gpu_run.run_step(
        Step("smi", _py("print('GPU 0')"), 1, "", stdout_to="smi.txt"), 30, tmp_path
    )
    assert smi.status == "done" and (tmp_path / "smi.txt").read_text() == "GPU 0\n"
    missing = gpu_run.run_step(Step("none", ("no-such-program-h4",), 1, ""), 30, tmp_path)
    assert missing.status == "failed" and "could not start" in missing.note


def test_wheelhouse_targets_cpython_312_manylinux():
    download, build = gpu_run.wheelhouse_commands(Path("wh"), "py")
    assert download[:4] == ["py", "-m", "pip", "download"]
    assert "--only-binary=:all:" in download and "--no-deps" in download
    assert download[download.index("--python-version") + 1] == "3.12"
    assert "manylinux_2_28_x86_64" in download and "manylinux2014_x86_64" in download
    assert any(a.startswith("openvino==") for a in download)
    assert build[3] == "wheel" and any(a.startswith("fvcore==") for a in build)


def test_only_the_wheels_this_python_lacks_are_installed(tmp_path):
    for name in (
        "fvcore-0.1.5-py3-none-any.whl",
        "openvino_telemetry-2025.2.0-py3-none-any.whl",
        "tabulate-0.10.0-py3-none-any.whl",
    ):
        (tmp_path / name).write_bytes(b"")
    assert (
        gpu_run.wheel_dist(tmp_path / "openvino_telemetry-2025.2.0-py3-none-any.whl")
        == "openvino-telemetry"
    )
    lacking = gpu_run.missing_wheels(tmp_path, installed=lambda dist: dist == "tabulate")
    assert [w.name.split("-")[0] for w in lacking] == ["fvcore", "openvino_telemetry"]


def test_dry_run_prints_the_plan_and_runs_nothing(tmp_path, capsys):
    out = tmp_path / "gpu"
    assert (
        gpu_run.main(["--dry-run", "--out", str(out), "--archive", str(tmp_path / "a.tar.gz")]) == 0
    )
    text = capsys.readouterr().out
    assert "1. tables" in text and "bench.tables --full --device cuda" in text
    assert "total ~" in text and "cap 480 s" in text and "a.tar.gz" in text
    assert not out.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--cap-s", "5"], "--cap-s 5"),
        (["--device", "cuda:7"], "--device"),
        (["--wheelhouse", "/no/such/wheelhouse", "--device", "cpu"], None),
    ],
)
def test_bad_input_is_one_line_before_anything_runs(tmp_path, capsys, argv, message, monkeypatch):
    import torch

    if message == "--device" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    if message is None:  # a missing wheelhouse matters only where fvcore is missing too
        monkeypatch.setattr(gpu_run, "_has", lambda dist: False)
        message = "make wheelhouse"
    with pytest.raises(SystemExit) as exit_info:
        gpu_run.main(["--out", str(tmp_path / "gpu"), *argv])
    assert exit_info.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "gpu").exists()


def _python312() -> str | None:
    """A working CPython 3.12 (a pyenv shim may exist without the version being selected)."""
    candidates = [
        shutil.which("python3.12"),
        *map(str, sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 12)":
            return candidate
    return None


@pytest.mark.slow
def test_wheelhouse_installs_into_a_fresh_python312_venv_without_an_index(tmp_path):
    """Build the wheelhouse (needs PyPI), install it as `make gpu` does, offline, on 3.12."""
    python312 = _python312()
    if python312 is None:
        pytest.skip("no python3.12 here to stand in for the GPU machine's Python")
    wheelhouse = tmp_path / "wheelhouse"
    try:
        gpu_run.build_wheelhouse(wheelhouse, sys.executable)
    except gpu_run.UsageError as exc:
        pytest.skip(f"could not build the wheelhouse here: {exc}")
    subprocess.run([python312, "-m", "venv", str(tmp_path / "fresh")], check=True)
    fresh = str(tmp_path / "fresh" / "bin" / "python")
    wheels = sorted(wheelhouse.glob("*.whl"))
    install = gpu_run.plan(GpuRunConfig(python=fresh), "", (1, 1), wheels)[0]
    site = tmp_path / "site"
    argv = [str(site) if a == str(gpu_run.SITE) else a for a in install.argv]
    subprocess.run(argv, check=True, capture_output=True)
    for dist in ("fvcore", "iopath", "openvino", "ruptures", "yacs"):
        assert list(site.glob(f"{dist}-*.dist-info")), dist
    code = "import yacs, termcolor, tabulate, portalocker; print('ok')  # pure, no deps"
    done = subprocess.run(
        [fresh, "-c", code],
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "ok"
