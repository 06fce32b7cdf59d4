"""The gate's measuring process, history and bisect, on a tiny models tree and a tiny git repo."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from bench.regression import GateConfig, GateError
from bench.regression import history as hist
from bench.regression.bisecting import bisect
from bench.regression.measure import run_pass
from bench.regression.slowdown import parse_slowdown
from tests.helpers import history_frame

# The models live in a submodule named like one of this tree's (registry.py), so a worker that
# imported this tree's package first must not hand the other tree this tree's submodule.
REGISTRY = textwrap.dedent('''
    """Three tiny models with the registry API the gate uses (create_model, list_models)."""
    from torch import nn


    class Info:
        input_size = (64, 64)
        in_channels = 3


    class Net(nn.Module):
        def __init__(self, depth):
            super().__init__()
            self.body = nn.Sequential(*[nn.Conv2d(3 if i == 0 else 32, 32, 3, padding=1)
                                        for i in range(depth)])
            self.info = Info()

        def forward(self, x):
            return [self.body(x)]


    # ~117 M multiply-adds for net: the +10 % burn is then several calibration units
    _DEPTH = {"ref": 5, "net": 4, "twin": 4}


    def create_model(name, **overrides):
        return Net(_DEPTH[name])


    def list_models():
        return sorted(_DEPTH)
''')


def write_tree(root: Path) -> Path:
    package = root / "architectures"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("from .registry import create_model, list_models\n")
    (package / "registry.py").write_text(REGISTRY)
    return root


CONFIG = GateConfig(signal="time", reference="ref", repeats=3)


def test_counts_and_paired_ratios_from_another_tree(tmp_path):
    plain = run_pass(CONFIG, ["ref", "net"], models_root=write_tree(tmp_path / "a"))
    assert plain.models["ref"].params > plain.models["net"].params > 0
    assert len(plain.models["net"].samples) == 3 and plain.models["net"].flops > 0
    assert plain.models["net"].signature["conv2d"][0] == 4
    assert plain.models["ref"].signature["conv2d"] == [5, 5 * 32 * 64 * 64 * 4]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_instruction_counts_are_repeatable_and_see_an_injected_ten_percent(tmp_path):
    config = GateConfig(signal="instructions", reference="ref", repeats=2)
    result = run_pass(
        config,
        ["ref", "net", "twin"],
        models_root=write_tree(tmp_path / "a"),
        slowdowns=dict([parse_slowdown("twin=+10%")]),
    )
    ref, net, twin = (result.models[n].raw for n in ("ref", "net", "twin"))
    assert min(ref) > 0 and abs(ref[0] / ref[1] - 1) < 0.002 and abs(net[0] / net[1] - 1) < 0.002
    # twin is net plus work calibrated in instructions: close to +10 %
    assert 0.07 < twin[0] / net[0] - 1 < 0.13


# ---------------------------------------------------------------- history


def _rows(values: list[float], start: int = 0, model: str = "net") -> pd.DataFrame:
    return history_frame(
        [{"commit": f"c{start + i:02d}", "model": model, "value": v} for i, v in enumerate(values)]
    )


def test_history_append_change_points_and_plot(tmp_path):
    path = tmp_path / "h.csv"
    values = [1.0, 1.001, 0.999, 1.0, 1.10, 1.101, 1.099]
    hist.append(path, _rows(values[:4]))
    frame = hist.append(path, _rows(values[4:], start=4))
    assert len(frame) == 7
    per_model = hist.series(hist.read_history(path))
    changes = hist.change_table(per_model)
    assert list(changes["to commit"]) == ["c04"]
    assert changes["change (%)"].iloc[0] == pytest.approx(10, abs=0.5)
    assert hist.plot(per_model, changes, tmp_path / "h.png").stat().st_size > 0


def test_no_change_point_in_noise_under_the_floor():
    assert hist.change_points([1.0, 1.004, 0.997, 1.002, 0.999, 1.003, 1.0]) == []


def test_malformed_history_is_refused(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(GateError, match="missing columns"):
        hist.read_history(path)


# ---------------------------------------------------------------- bisect on a tiny git repo


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> tuple[Path, list[str]]:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    commits = []
    for i in range(9):
        (root / "cost.txt").write_text(f"{1.10 if i >= 6 else 1.00}\n{i}\n")
        _git(root, "add", "cost.txt")
        _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"step {i}")
        commits.append(_git(root, "rev-parse", "HEAD"))
    return root, commits


def test_bisect_finds_the_commit_in_log2_steps(repo):
    root, commits = repo
    measured = []

    def measure(commit: str) -> float:
        measured.append(commit)
        return float(_git(root, "show", f"{commit}:cost.txt").split()[0])

    result = bisect(root, commits[0], commits[-1], measure, floor=0.03)
    assert result.first_bad == commits[6]
    assert len(measured) <= 2 + 3  # the ends, then log2(8) steps


def test_bisect_refuses_unrelated_or_unchanged_ends(repo):
    root, commits = repo
    with pytest.raises(GateError, match="not an ancestor"):
        bisect(root, commits[5], commits[2], lambda c: 1.0, floor=0.03)
    with pytest.raises(GateError, match="nothing to bisect"):
        bisect(root, commits[0], commits[3], lambda c: 1.0, floor=0.03)
    with pytest.raises(GateError, match="not a commit"):
        bisect(root, "nope", commits[3], lambda c: 1.0, floor=0.03)
