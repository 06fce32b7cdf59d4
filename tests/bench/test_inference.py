"""bench/conftest.py and bench/test_inference.py: the ``pytest bench --benchmark-only`` suite's
options, checked once before collection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import conftest as bench_conftest

ROOT = Path(__file__).resolve().parents[2]


def _collect(*options: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``pytest bench --benchmark-only --co`` with ``options``, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "bench"), "--benchmark-only", "--co", "-q"]
        + ["-p", "no:cacheprovider", "--rootdir", str(ROOT), "--bench-device", "cpu", *options],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("size", [-1, 100, 100000])
def test_bench_size_out_of_reach_of_some_model_is_refused(size) -> None:
    with pytest.raises(pytest.UsageError, match=f"--bench-size {size}: must be 0"):
        bench_conftest._check_size(size)


@pytest.mark.parametrize("size", [None, 0, 64, 128, 1024])
def test_bench_sizes_every_model_takes_pass(size) -> None:
    bench_conftest._check_size(size)


def test_bench_size_is_a_usage_error_before_collection() -> None:
    run = _collect("--bench-size", "100")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--bench-size 100: must be 0" in run.stderr


def test_an_unknown_runtime_is_one_usage_error_naming_the_known_ones() -> None:
    run = _collect("--bench-runtime", "openvino:int4")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--bench-runtime: runtime 'openvino:int4': unknown precision 'int4'" in run.stderr


@pytest.mark.slow
def test_models_from_adds_a_users_models_to_the_benchmarks(tmp_path) -> None:
    (tmp_path / "my_nets.py").write_text(
        "from architectures import ModelInfo, register_model\n"
        "from tests.tiny_models import TinyPose\n"
        "register_model(ModelInfo(name='my-net', family='mine', dataset='lip',\n"
        "    input_size=(64, 64), output_stride=8, num_heatmaps=17))(lambda **o: TinyPose())\n",
        encoding="utf-8",
    )
    env_path = f"{tmp_path}:{ROOT}"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "bench"), "--benchmark-only", "--co", "-q"]
        + ["-p", "no:cacheprovider", "--rootdir", str(ROOT), "--bench-device", "cpu"]
        + ["--bench-runtime", "openvino:int8", "--models-from", "my_nets"],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": env_path},
    )
    assert run.returncode == 0, run.stderr
    assert "test_inference[my-net]" in run.stdout
    assert "test_inference[gcpm-ushaped-2stage]" in run.stdout


def test_models_from_a_module_that_is_not_there_is_one_usage_error() -> None:
    run = _collect("--models-from", "no_such_module_here")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--models-from no_such_module_here" in run.stderr


def test_pytest_as_typed_in_the_activated_venv_is_the_venvs_own() -> None:
    # An activated venv puts its bin/ first on PATH: `pytest` must be its own, beside the Python
    # that has torch, not a system pytest that has none.
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "pytest").is_file():
        pytest.skip(f"no pytest in {venv_bin} (not the README's venv)")
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        ["pytest", "bench", "--benchmark-only", "--co", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "test_inference.py::" in run.stdout
