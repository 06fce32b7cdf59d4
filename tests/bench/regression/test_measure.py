"""One gate pass: the worker commands (valgrind's options, the ISA cap), the progress lines
followed as they come, ratios to the reference, and a crashed worker. Fake workers (a few lines
of Python that write what callgrind's worker would) stand in for valgrind."""

from __future__ import annotations

import json
import sys

import pytest

from bench.regression import measure
from bench.regression.model import GateConfig, GateError

CONFIG = GateConfig(reference="ref", repeats=2)
FAKE = """
import json, sys
signal, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
if signal == "counts":
    result = {n: {"params": 10, "flops": 20, "signature": {"conv2d": [1, 8]}} for n in names}
else:
    result = {}
    for i, n in enumerate(names):
        print("begin", n, flush=True)
        result[n] = [1000.0 * (i + 1), 1000.0 * (i + 1) + 1]
        print("end", n, flush=True)
    if "crash" in names:
        sys.exit("the worker fell over")
json.dump(result, open(out, "w"))
"""


@pytest.fixture
def fake_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    def command(signal, names, config, out, models_root=None, slowdowns=None):
        return [sys.executable, "-c", FAKE, signal, str(out), *names]

    monkeypatch.setattr(measure, "worker_command", command)


@pytest.mark.usefixtures("fake_worker")
def test_a_pass_is_the_reference_count_and_the_others_ratios_to_it() -> None:
    seen = []
    result = measure.run_pass(
        CONFIG, ["ref", "net"], on_model=lambda n, done: seen.append((n, done))
    )
    assert result.models["ref"].samples == [1000.0, 1001.0]
    assert result.models["net"].samples == [2.0, 2001 / 1001]
    assert result.models["net"].raw == [2000.0, 2001.0]
    assert result.models["net"].params == 10 and result.models["net"].signature == {
        "conv2d": [1, 8]
    }
    assert seen == [("ref", False), ("ref", True), ("net", False), ("net", True)]
    assert result.fingerprint["isa_cap"] == measure.ISA_CAP


@pytest.mark.usefixtures("fake_worker")
def test_a_crashed_worker_is_an_internal_error_with_its_output() -> None:
    with pytest.raises(measure.MeasureError, match="the worker fell over"):
        measure.run_pass(CONFIG, ["ref", "crash"])


def test_the_instruction_worker_runs_under_callgrind(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(measure.shutil, "which", lambda name: f"/opt/bin/{name}")
    cmd = measure.worker_command(
        "instructions", ["ref", "net"], CONFIG, tmp_path / "i.json", tmp_path / "tree", {"net": 10}
    )
    assert cmd[:2] == ["/opt/bin/valgrind", "--tool=callgrind"]
    assert "--collect-atstart=no" in cmd and "-q" in cmd
    python = cmd.index(sys.executable)
    assert cmd[python + 1 : python + 3] == ["-m", "bench.regression.worker"]
    job = json.loads(cmd[python + 3])
    assert len(cmd) == python + 4 and job["signal"] == "instructions"
    assert job["models_root"] == str(tmp_path / "tree") and job["slowdowns"] == {"net": 10}
    assert f"--callgrind-out-file={tmp_path / 'i.callgrind'}" in cmd


def test_counts_run_natively(tmp_path) -> None:
    cmd = measure.worker_command("counts", ["ref"], CONFIG, tmp_path / "c.json")
    job = json.loads(cmd[-1])
    assert cmd[0] == sys.executable and job["models_root"] is None and job["size"] == [64, 64]


def test_without_valgrind_the_gate_says_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(measure.shutil, "which", lambda name: None)
    with pytest.raises(GateError, match="valgrind is not installed"):
        measure.worker_command("instructions", ["ref"], CONFIG, tmp_path / "i.json")


def test_the_pass_records_the_measured_trees_commit(fake_worker, monkeypatch, tmp_path) -> None:
    asked = []
    monkeypatch.setattr(measure, "head", lambda root: asked.append(root) or ("abc", ["x.py"]))
    result = measure.run_pass(CONFIG, ["ref"], models_root=tmp_path)
    assert (result.commit, result.dirty, asked) == ("abc", ["x.py"], [tmp_path])
    assert json.loads(json.dumps(result.to_json()))["commit"] == "abc"
