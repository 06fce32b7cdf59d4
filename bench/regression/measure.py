"""One gate pass: the static counts natively and the instruction counts under callgrind, two
worker processes in parallel (see worker.py), and the fingerprint of the machine measuring."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from bench.regression.model import TOOL_ROOT, GateConfig, GateError, ModelFigures, Pass
from bench.regression.repo import head
from bench.regression.worker import LATE_INSTRUMENTATION

# Valgrind runs FMA instructions through slow helpers (a warm forward of gcpm-ushaped-2stage at
# 64x64 took ~17 s of CPU under valgrind, 0.02 s natively; 0.55 s with this cap), so the
# instruction pass caps the kernels' ISA below FMA: oneDNN at AVX, MKL at SSE4.2 (its floor),
# ATen's own kernels at their default. An AMX Xeon and an AVX2 EPYC then run the same kernels.
ISA_CAP = {
    "ONEDNN_MAX_CPU_ISA": "AVX",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    "ATEN_CPU_CAPABILITY": "default",
}

# Flags that change which kernels run; the rest of /proc/cpuinfo's list does not matter here.
_ISA = re.compile(r"^(avx\w*|amx\w*|fma|f16c|sse4_[12]|ssse3|bmi[12]|vnni\w*|asimd\w*|sve\w*)$")


def _cpuinfo(path: Path = Path("/proc/cpuinfo")) -> tuple[str, list[str]]:
    """CPU model name and the kernel-relevant ISA flags of the first processor listed."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine(), []
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    flags = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", text, re.MULTILINE)
    isa = sorted({f for f in (flags.group(1).split() if flags else []) if _ISA.match(f)})
    return (model.group(1).strip() if model else platform.machine()), isa


def valgrind_version() -> str:
    exe = shutil.which("valgrind")
    if exe is None:
        return "missing"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def fingerprint(isa_cap: dict[str, str] = ISA_CAP, threads: int = 1) -> dict[str, object]:
    """The facts an instruction count depends on: a baseline under others is never compared."""
    cpu, isa = _cpuinfo()
    return {
        "cpu": cpu,
        "isa": isa,
        "machine": platform.machine(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": threads,
        "valgrind": valgrind_version(),
        "isa_cap": dict(sorted(isa_cap.items())),
    }


# collection only around each measured forward (the worker toggles it); no per-line dumps
CALLGRIND = ["--tool=callgrind", "--collect-atstart=no", "--dump-line=no", "--dump-instr=no", "-q"]
OnModel = Callable[[str, bool], None]  # (model, finished): called as the worker begins / ends it


class MeasureError(RuntimeError):
    """A measuring process crashed: an internal error, reported with its output."""


def worker_command(
    signal: str,
    names: Sequence[str],
    config: GateConfig,
    out: Path,
    models_root: Path | None = None,
    slowdowns: dict[str, float] | None = None,
    models_from: Sequence[str] = (),
) -> list[str]:
    """The worker process of ``signal`` ("counts" or "instructions", the latter under valgrind)."""
    job = {"signal": signal, "names": list(names), "size": config.input_size, "out": str(out)}
    job |= {"repeats": config.repeats, "slowdowns": slowdowns or {}}
    job["models_root"] = str(models_root) if models_root else None
    job["models_from"] = list(models_from)  # the user's modules, imported in the worker too
    cmd = [sys.executable, "-m", "bench.regression.worker", json.dumps(job)]
    if signal != "instructions":
        return cmd
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise GateError("valgrind is not installed (the gate counts instructions under it)")
    late = f"--instr-atstart={'no' if LATE_INSTRUMENTATION else 'yes'}"
    dump = f"--callgrind-out-file={out.with_suffix('.callgrind')}"
    return [valgrind, *CALLGRIND, late, dump, *cmd]


def run_pass(
    config: GateConfig,
    names: Sequence[str],
    models_root: Path | None = None,
    slowdowns: dict[str, float] | None = None,
    on_model: OnModel = lambda name, finished: None,
    models_from: Sequence[str] = (),
) -> Pass:
    """Measure ``names`` (reference first) in the tree ``models_root`` (default: this one)."""
    with tempfile.TemporaryDirectory(prefix="gate-pass-") as tmp:
        signals = ("counts", "instructions")
        outs = {s: Path(tmp) / f"{s}.json" for s in signals}
        procs = {}
        # the workers run in the tool's folder: the user's modules import from the caller's
        path = os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))
        caller = {**os.environ, "PYTHONPATH": path} if models_from else dict(os.environ)
        for s in signals:  # the instruction worker runs under the ISA cap, its stdout piped
            cmd = worker_command(s, names, config, outs[s], models_root, slowdowns, models_from)
            env = {**caller, **ISA_CAP} if s == "instructions" else caller
            out = subprocess.PIPE if s == "instructions" else subprocess.DEVNULL
            with open(Path(tmp) / f"{s}.err", "w", encoding="utf-8") as err:  # a full pipe stalls
                procs[s] = subprocess.Popen(
                    cmd, cwd=TOOL_ROOT, stdout=out, stderr=err, text=True, env=env
                )
        try:
            for line in procs["instructions"].stdout:
                word, _, name = line.strip().partition(" ")
                if word in ("begin", "end"):
                    on_model(name, word == "end")
            for s, proc in procs.items():
                if proc.wait() != 0:
                    err = (Path(tmp) / f"{s}.err").read_text(encoding="utf-8")
                    tail = "\n".join(err.strip().splitlines()[-15:])
                    raise MeasureError(
                        f"the {s} measuring process exited with {proc.returncode}:\n{tail}"
                    )
        finally:  # a crash or an interrupt leaves no worker behind
            for proc in procs.values():
                proc.kill()  # a no-op on one that has exited
                proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()
        counts, instructions = (json.loads(outs[s].read_text(encoding="utf-8")) for s in signals)
    commit, dirty = head(models_root or TOOL_ROOT)
    ref = instructions[config.reference]
    models = {}
    for n in names:
        raw = [float(v) for v in instructions[n]]
        samples = raw if n == config.reference else [v / r for v, r in zip(raw, ref)]
        models[n] = ModelFigures(**counts[n], samples=samples, raw=raw)
    return Pass(config, fingerprint(), commit, dirty, models)
