"""A careless user's inputs: each ends in one line naming
the option, file or line that is wrong, with the documented exit status, before anything slow."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from bench import conftest as bench_conftest
from bench import tables, train

ROOT = Path(__file__).resolve().parents[1]


def _exit(
    main: Callable[[Sequence[str]], int], argv: list[str], capsys: pytest.CaptureFixture
) -> tuple[int, str]:
    """(exit status, stderr) of a main() that is expected to refuse ``argv``."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return exc.value.code, err


# ------------------------------------------------------------ bench.tables








# ------------------------------------------------------------ pytest bench --bench-size


@pytest.mark.parametrize("size", [-1, 100, 100000])
def test_bench_size_out_of_reach_of_some_model_is_refused(size) -> None:
    with pytest.raises(pytest.UsageError, match=f"--bench-size {size}: must be 0"):
        bench_conftest._check_size(size)


@pytest.mark.parametrize("size", [None, 0, 64, 128, 1024])
def test_bench_sizes_every_model_takes_pass(size) -> None:
    bench_conftest._check_size(size)


def test_bench_size_is_a_usage_error_before_collection() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--co", "-q"]
        + ["-p", "no:cacheprovider", "--bench-device", "cpu", "--bench-size", "100"],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--bench-size 100: must be 0" in run.stderr
