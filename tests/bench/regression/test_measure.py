"""One gate pass: the worker commands (valgrind's options, the ISA cap), the progress lines
followed as they come, ratios to the reference, and a crashed worker. Fake workers (a few lines
of Python that write what callgrind's worker would) stand in for valgrind. The fingerprint:
which /proc/cpuinfo flags count, the CPU name and its fall-backs, the valgrind version."""

from __future__ import annotations

import json
import platform
import stat
import sys
from pathlib import Path

import pytest
import torch

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
    def command(signal, names, config, out, models_root=None, slowdowns=None, models_from=()):
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


XEON = (
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "model name\t: Intel(R) Xeon(R) Platinum 8480+  \n"
    "flags\t\t: fpu sse sse3 pni sse4_1 sse4_2 sse4a ssse3 avx avx2 avx512f avx512_bf16 "
    "amx_bf16 amx_tile fma fma4 f16c bmi1 bmi2 bmi3 avx_vnni vnni xavx2 AVX2\n"
    "bogomips\t: 4000.00\n"
    "\n"
    "processor\t: 1\n"
    "model name\t: Some Other CPU\n"
    "flags\t\t: fpu avx512_fp16\n"
)
XEON_ISA = [
    "amx_bf16",
    "amx_tile",
    "avx",
    "avx2",
    "avx512_bf16",
    "avx512f",
    "avx_vnni",
    "bmi1",
    "bmi2",
    "f16c",
    "fma",
    "sse4_1",
    "sse4_2",
    "ssse3",
    "vnni",
]
ARM = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd asimdhp sve sve2 crc32\n"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_first_processors_name_and_only_kernel_relevant_flags(tmp_path: Path) -> None:
    assert measure._cpuinfo(_file(tmp_path, XEON)) == ("Intel(R) Xeon(R) Platinum 8480+", XEON_ISA)


def test_arm_features_count_and_the_name_falls_back_to_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert measure._cpuinfo(_file(tmp_path, ARM)) == (
        "aarch64",
        ["asimd", "asimdhp", "sve", "sve2"],
    )


def test_a_stray_byte_that_is_not_utf8_does_not_stop_the_read(tmp_path: Path) -> None:
    path = tmp_path / "cpuinfo"
    path.write_bytes(b"model name\t: Xeon \xff\nflags\t: avx2 \xfe fma\n")
    assert measure._cpuinfo(path) == ("Xeon \ufffd", ["avx2", "fma"])


def test_no_flags_line_gives_no_flags(tmp_path: Path) -> None:
    assert measure._cpuinfo(_file(tmp_path, "model name\t: Xeon\n")) == ("Xeon", [])


def test_an_unreadable_cpuinfo_falls_back_to_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(platform, "processor", lambda: "")
    assert measure._cpuinfo(tmp_path / "absent") == ("x86_64", [])
    monkeypatch.setattr(platform, "processor", lambda: "i386")
    assert measure._cpuinfo(tmp_path / "absent") == ("i386", [])


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="no /proc/cpuinfo (not Linux)")
def test_the_default_is_this_machines_cpuinfo() -> None:
    assert measure._cpuinfo() == measure._cpuinfo(Path("/proc/cpuinfo"))
    assert measure._cpuinfo()[0] != platform.machine()  # a model name was found, not the fall-back


def _tool(tmp_path: Path, output: str, status: int = 0) -> str:
    """A fake valgrind that answers ``--version`` (and nothing else) with ``output``."""
    exe = tmp_path / "valgrind"
    script = f"#!/bin/sh\n[ \"$*\" = --version ] || exit 3\nprintf '{output}'\nexit {status}\n"
    exe.write_text(script, encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


def test_valgrind_version_missing_unknown_or_its_first_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(measure.shutil, "which", lambda name: None)
    assert measure.valgrind_version() == "missing"
    monkeypatch.setattr(
        measure.shutil, "which", lambda name: _tool(tmp_path, "  valgrind-3.22.0\\n")
    )
    assert measure.valgrind_version() == "valgrind-3.22.0"
    # A valgrind that cannot say its version (no output, failing) is "unknown", not a crash.
    monkeypatch.setattr(measure.shutil, "which", lambda name: _tool(tmp_path, "\\n", status=1))
    assert measure.valgrind_version() == "unknown"


def test_valgrind_is_looked_up_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []
    monkeypatch.setattr(measure.shutil, "which", lambda name: asked.append(name))
    measure.valgrind_version()
    assert asked == ["valgrind"]


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "_cpuinfo", lambda: ("Xeon", ["avx2"]))
    monkeypatch.setattr(measure, "valgrind_version", lambda: "valgrind-3.22.0")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(platform, "python_version", lambda: "3.12.1")


def _common(threads: int = 1) -> dict:
    return {
        "cpu": "Xeon",
        "isa": ["avx2"],
        "machine": "x86_64",
        "torch": torch.__version__,
        "python": "3.12.1",
        "threads": threads,
    }


@pytest.mark.usefixtures("machine")
def test_the_fingerprint_has_valgrind_and_the_sorted_isa_cap() -> None:
    record = measure.fingerprint({"b": "2", "a": "1"})
    assert record == {**_common(), "valgrind": "valgrind-3.22.0", "isa_cap": {"a": "1", "b": "2"}}
    assert list(record["isa_cap"]) == ["a", "b"]  # stored sorted: baselines diff cleanly
    assert measure.fingerprint({}, threads=2)["threads"] == 2
