"""One gate pass: static counts natively and instruction counts under callgrind, in parallel.

The instruction worker runs under ``valgrind --tool=callgrind --collect-atstart=no``:
collection is switched on only around each measured forward, so start-up, model building and
warm-up cost translation time but add nothing to the counts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.regression.callgrind import ClientRequests
from bench.regression.fingerprint import fingerprint
from bench.regression.model import GateConfig, GateError, ModelFigures, Pass
from bench.regression.repo import head
from bench.regression.slowdown import Slowdown

TOOL_ROOT = Path(__file__).resolve().parents[2]  # the tree whose measuring code runs

# Valgrind runs FMA instructions through slow helpers (a warm forward of gcpm-ushaped-2stage at
# 64x64 took ~17 s of CPU under valgrind, 0.02 s natively; 0.55 s with this cap), so the
# instruction pass caps the kernels' ISA below FMA: oneDNN at AVX, MKL at SSE4.2 (its floor),
# ATen's own kernels at their default. A side effect we want: an AMX Xeon and an AVX2 EPYC then
# run the same kernel family.
ISA_CAP = {
    "ONEDNN_MAX_CPU_ISA": "AVX",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    "ATEN_CPU_CAPABILITY": "default",
}

OnModel = Callable[[str, bool], None]  # (model, finished): called as the worker begins / ends it


class MeasureError(RuntimeError):
    """A measuring process crashed: an internal error, reported with its output."""


def worker_command(
    signal: str,
    names: Sequence[str],
    config: GateConfig,
    out: Path,
    models_root: Path | None = None,
    slowdowns: dict[str, Slowdown] | None = None,
) -> list[str]:
    """The worker process of ``signal`` ("counts" or "instructions", the latter under valgrind)."""
    cmd = [sys.executable, "-m", "bench.regression.worker", signal, "--models", *names]
    cmd += ["--reference", config.reference, "--size", *map(str, config.input_size)]
    cmd += ["--repeats", str(config.repeats), "--out", str(out)]
    if models_root is not None:
        cmd += ["--models-root", str(models_root)]
    for name, slowdown in (slowdowns or {}).items():
        cmd += ["--slowdown", f"{name}={slowdown.arg()}"]
    if signal != "instructions":
        return cmd
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise GateError("valgrind is not installed (the gate counts instructions under it)")
    dump = out.with_suffix(".callgrind")
    late = ClientRequests.available  # start instrumenting after start-up and warm-up
    return [
        valgrind,
        "--tool=callgrind",
        "--collect-atstart=no",
        "--dump-line=no",
        "--dump-instr=no",
        f"--instr-atstart={'no' if late else 'yes'}",
        f"--callgrind-out-file={dump}",
        "-q",
        *cmd,
        "--callgrind-out",
        str(dump),
        *(["--late-instrumentation"] if late else []),
    ]


def _start(cmd: list[str], err: Path, followed: bool) -> subprocess.Popen:
    """A worker; ``followed``: the instruction worker, under the ISA cap, its stdout piped."""
    env = {**os.environ, **ISA_CAP} if followed else None
    out = subprocess.PIPE if followed else subprocess.DEVNULL
    with open(err, "w", encoding="utf-8") as handle:  # a file: a full pipe would stall the worker
        return subprocess.Popen(cmd, cwd=TOOL_ROOT, stdout=out, stderr=handle, text=True, env=env)


def _finish(proc: subprocess.Popen, err: Path, what: str) -> None:
    proc.wait()
    if proc.returncode != 0:
        tail = "\n".join(err.read_text(encoding="utf-8").strip().splitlines()[-15:])
        raise MeasureError(f"the {what} process exited with {proc.returncode}:\n{tail}")


def _follow(proc: subprocess.Popen, on_model: OnModel) -> None:
    """Pass the worker's ``begin NAME`` / ``end NAME`` lines on as they come."""
    for line in proc.stdout:
        word, _, name = line.strip().partition(" ")
        if word in ("begin", "end"):
            on_model(name, word == "end")


def run_pass(
    config: GateConfig,
    names: Sequence[str],
    models_root: Path | None = None,
    slowdowns: dict[str, Slowdown] | None = None,
    on_model: OnModel = lambda name, finished: None,
) -> Pass:
    """Measure ``names`` (reference first) in the tree ``models_root`` (default: this one)."""
    with tempfile.TemporaryDirectory(prefix="gate-pass-") as tmp:
        outs = {s: Path(tmp) / f"{s}.json" for s in ("counts", "instructions")}
        cmds = {
            s: worker_command(s, names, config, out, models_root, slowdowns)
            for s, out in outs.items()
        }
        procs = {
            s: _start(cmd, Path(tmp) / f"{s}.err", s == "instructions") for s, cmd in cmds.items()
        }
        try:
            _follow(procs["instructions"], on_model)
            for signal, proc in procs.items():
                _finish(proc, Path(tmp) / f"{signal}.err", f"{signal} measuring")
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()
        counts = json.loads(outs["counts"].read_text(encoding="utf-8"))
        instructions = json.loads(outs["instructions"].read_text(encoding="utf-8"))
    commit, dirty = head(models_root or TOOL_ROOT)
    models = {n: _figures(n, config, counts[n], instructions) for n in names}
    return Pass(config, fingerprint_of(), commit, dirty, models)


def fingerprint_of() -> dict[str, object]:
    """This machine's fingerprint for a gate pass."""
    return fingerprint(ISA_CAP)


def _figures(name: str, config: GateConfig, counts: dict, instructions: dict) -> ModelFigures:
    raw = [float(v) for v in instructions[name]]
    ref = instructions[config.reference]
    samples = raw if name == config.reference else [v / r for v, r in zip(raw, ref)]
    return ModelFigures(counts["params"], counts["flops"], counts["signature"], samples, raw)
