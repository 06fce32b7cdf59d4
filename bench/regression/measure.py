"""One gate pass: static counts natively and the gated signal in a second process, in parallel.

The instruction signal runs the worker under ``valgrind --tool=callgrind --collect-atstart=no``:
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
from collections.abc import Sequence
from pathlib import Path

from bench.regression.callgrind import ClientRequests
from bench.regression.fingerprint import fingerprint
from bench.regression.gitwalk import head
from bench.regression.model import GateConfig, GateError, ModelFigures, Pass
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


class MeasureError(RuntimeError):
    """A measuring process crashed: an internal error, reported with its output."""


def _worker(
    signal: str,
    names: Sequence[str],
    config: GateConfig,
    out: Path,
    models_root: Path | None,
    slowdowns: dict[str, Slowdown],
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "bench.regression.worker",
        signal,
        "--models",
        *names,
        "--reference",
        config.reference,
        "--size",
        *map(str, config.input_size),
        "--repeats",
        str(config.repeats),
        "--out",
        str(out),
    ]
    if models_root is not None:
        cmd += ["--models-root", str(models_root)]
    for name, slowdown in slowdowns.items():
        cmd += ["--slowdown", f"{name}={slowdown.arg()}"]
    if signal != "instructions":
        return cmd
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise GateError(
            "valgrind is not installed (needed by --signal instructions): "
            "apt-get install -y valgrind, or use --signal time"
        )
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


def _finish(proc: subprocess.Popen, what: str) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-15:])
        raise MeasureError(f"the {what} process exited with {proc.returncode}:\n{tail}")


def run_pass(
    config: GateConfig,
    names: Sequence[str],
    models_root: Path | None = None,
    slowdowns: dict[str, Slowdown] | None = None,
) -> Pass:
    """Measure ``names`` (reference first) in the tree ``models_root`` (default: this one)."""
    slowdowns = slowdowns or {}
    with tempfile.TemporaryDirectory(prefix="gate-pass-") as tmp:
        outs = {s: Path(tmp) / f"{s}.json" for s in ("counts", config.signal)}
        env = {**os.environ, **ISA_CAP}
        procs = {
            s: subprocess.Popen(
                _worker(s, names, config, out, models_root, slowdowns),
                cwd=TOOL_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env if s == "instructions" else None,
            )
            for s, out in outs.items()
        }
        try:
            for signal, proc in procs.items():
                _finish(proc, f"{signal} measuring")
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
        counts = json.loads(outs["counts"].read_text(encoding="utf-8"))
        signal = json.loads(outs[config.signal].read_text(encoding="utf-8"))
    commit, dirty = head(models_root or TOOL_ROOT)
    models = {n: _figures(n, config, counts[n], signal) for n in names}
    return Pass(config, fingerprint_of(config), commit, dirty, models)


def fingerprint_of(config: GateConfig) -> dict[str, object]:
    """This machine's fingerprint for a pass under ``config``."""
    return fingerprint(config.signal, isa_cap=ISA_CAP if config.signal == "instructions" else {})


def _figures(name: str, config: GateConfig, counts: dict, signal: dict) -> ModelFigures:
    raw = [float(v) for v in signal[name]]
    if config.signal == "instructions":
        ref = signal[config.reference]
        samples = raw if name == config.reference else [v / r for v, r in zip(raw, ref)]
    else:
        samples = raw  # the time worker already returns paired ratios (1.0 for the reference)
    return ModelFigures(counts["params"], counts["flops"], counts["signature"], samples, raw)
