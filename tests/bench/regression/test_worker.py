"""The gate's measuring process: builds, warm-up, one measured forward per repeat and model
(framed by ``begin`` / ``end`` lines), injected slowdowns, static counts, another tree's models,
callgrind's dumps and the op signature.
A counting function stands in for callgrind in the default tests; the slow ones run the worker
process for real (under valgrind where it is installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from bench.regression import gate, worker
from bench.regression.measure import run_pass
from bench.regression.model import GateConfig
from tests.tiny_models import register_tiny

ROOT = Path(__file__).resolve().parents[3]

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


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_instruction_counts_are_repeatable_and_see_an_injected_ten_percent(tmp_path):
    config = GateConfig(reference="ref", repeats=2)
    result = run_pass(
        config,
        ["ref", "net", "twin"],
        models_root=write_tree(tmp_path / "a"),
        slowdowns={"twin": 10.0},
    )
    ref, net, twin = (result.models[n].raw for n in ("ref", "net", "twin"))
    assert min(ref) > 0 and abs(ref[0] / ref[1] - 1) < 0.002 and abs(net[0] / net[1] - 1) < 0.002
    # twin is net plus work calibrated in instructions: close to +10 %
    assert 0.07 < twin[0] / net[0] - 1 < 0.13


class Counter:
    """Stands in for callgrind: every measured call costs ``cost`` "instructions"."""

    def __init__(self, cost: int = 1000) -> None:
        self.cost, self.calls = cost, 0

    def __call__(self, fn) -> int:
        fn()
        self.calls += 1
        return self.cost


@pytest.fixture
def tiny() -> str:
    return register_tiny("gate-tiny")


def test_each_model_is_measured_repeats_times_after_the_warm_up(tiny, capsys) -> None:
    started = []
    samples = worker.measure_models(
        [tiny], (64, 64), 3, Counter(), {}, before=lambda: started.append(True)
    )
    assert samples == {tiny: [1000, 1000, 1000]} and started == [True]
    assert capsys.readouterr().out.split("\n")[:2] == [f"begin {tiny}", f"end {tiny}"]


def test_a_percentage_slowdown_is_calibrated_with_the_gates_own_measure(tiny) -> None:
    counter = Counter()
    worker.measure_models([tiny], (64, 64), 2, counter, {tiny: 10.0})
    assert counter.calls == 2 + 2 + 2  # own forward twice, the burn unit twice, two repeats
    model, x = worker.build(tiny, (64, 64))
    burn = worker.inject(model, x, 300.0, Counter())
    assert burn.units == 3  # 300 % of a forward that costs one unit
    with torch.inference_mode():
        assert torch.equal(burn(x)[0], model(x)[0])  # the burn's output is discarded


def test_static_counts_are_params_flops_and_the_op_signature(tiny) -> None:
    (counts,) = worker.static_counts([tiny], (64, 64)).values()
    model, _ = worker.build(tiny, (64, 64))
    assert counts["params"] == sum(p.numel() for p in model.parameters())
    assert counts["flops"] > 0 and counts["signature"]["conv2d"][0] == 5


def test_the_input_is_fixed_and_the_model_in_eval_mode(tiny) -> None:
    (m1, x1), (_, x2) = worker.build(tiny, (64, 64)), worker.build(tiny, (64, 64))
    assert not m1.training and torch.equal(x1, x2) and x1.shape == (1, 3, 64, 64)


def test_a_tree_without_models_is_refused(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no architectures/__init__.py"):
        worker.load_models_from(tmp_path)


@pytest.mark.slow
def test_counts_come_from_another_trees_models(tmp_path) -> None:
    out = tmp_path / "counts.json"
    job = {"signal": "counts", "names": ["ref", "net"], "size": [64, 64], "out": str(out)}
    job["models_root"] = str(write_tree(tmp_path / "a"))
    cmd = [sys.executable, "-m", "bench.regression.worker", json.dumps(job)]
    subprocess.run(cmd, cwd=ROOT, check=True)
    counts = json.loads(out.read_text())
    assert counts["ref"]["params"] > counts["net"]["params"] > 0
    assert counts["ref"]["signature"]["conv2d"][0] == 5


DUMP = """# callgrind format
version: 1
creator: callgrind-3.22.0
events: Ir
fn=(1) main
0 5
summary: 123456
totals: 123456
"""


def test_the_totals_line_is_the_instruction_count(tmp_path: Path) -> None:
    dump = tmp_path / "out.1"
    dump.write_text(DUMP)
    assert worker.read_total(dump) == 123456
    dump.write_text(DUMP.replace("summary: 123456\ntotals: 123456\n", "summary: 42\n"))
    assert worker.read_total(dump) == 42


def test_a_file_without_totals_is_no_dump(tmp_path: Path) -> None:
    dump = tmp_path / "out.1"
    dump.write_text("events: Ir\n")
    with pytest.raises(ValueError, match="no totals line"):
        worker.read_total(dump)


def test_each_callgrind_call_reads_its_own_numbered_dump(tmp_path: Path, monkeypatch) -> None:
    toggles = []
    monkeypatch.setattr(worker.torch._C, "_valgrind_toggle", lambda: toggles.append("on"))
    monkeypatch.setattr(
        worker.torch._C, "_valgrind_toggle_and_dump_stats", lambda: toggles.append("dump")
    )
    for i, total in ((1, 10), (2, 20)):
        (tmp_path / f"out.{i}").write_text(f"totals: {total}\n")
    counter = worker.callgrind_counter(tmp_path / "out")
    calls = []
    assert [counter(lambda: calls.append(1)) for _ in range(2)] == [10, 20]
    assert toggles == ["on", "dump", "on", "dump"] and len(calls) == 2


@pytest.mark.skipif(not worker.LATE_INSTRUMENTATION, reason="x86-64 only")
def test_outside_valgrind_a_client_request_answers_zero() -> None:
    assert worker.client_request(0x1001) == 0  # RUNNING_ON_VALGRIND
    worker.start_instrumentation()  # a no-op outside valgrind


class _Net(nn.Module):
    def __init__(self, copy: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.copy = copy

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = self.conv(x)
        return [torch.relu(y.clone() if self.copy else y)]


def test_the_signature_counts_calls_and_bytes_written() -> None:
    x = torch.randn(1, 3, 16, 16)
    plain = worker.op_signature(_Net(), x)
    assert plain == worker.op_signature(_Net(), x)
    assert plain["conv2d"] == [1, 8 * 16 * 16 * 4] and list(plain) == sorted(plain)
    assert gate.signature_diff(plain, worker.op_signature(_Net(copy=True), x)) == [
        f"clone: calls 0 -> 1, bytes 0 -> {8 * 16 * 16 * 4}"
    ]


USER_MODULE = """
from torch import nn
from architectures import ModelInfo, register_model

@register_model(ModelInfo(name="users-net", family="user", dataset="lip", input_size=(64, 64),
                          output_stride=4, num_heatmaps=16))
def users_net(**overrides):
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1))
"""


@pytest.mark.slow
def test_a_users_module_registers_its_models_in_the_worker(tmp_path) -> None:
    (tmp_path / "users_models.py").write_text(USER_MODULE)
    out = tmp_path / "counts.json"
    job = {"signal": "counts", "names": ["users-net"], "size": [64, 64], "out": str(out)}
    job["models_from"] = ["users_models"]
    cmd = [sys.executable, "-m", "bench.regression.worker", json.dumps(job)]
    subprocess.run(cmd, cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert json.loads(out.read_text())["users-net"]["params"] == 3 * 16 * 9 + 16
