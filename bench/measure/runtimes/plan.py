"""What a runtimes measurement runs: presets, (runtime, precision) pairs and jobs, one job per
(model, runtime, precision, threads, device) row: every model at all cores on the run's device,
the realtime model (the paper's Sec. 5.4 network) also at 1 thread on the CPU."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from bench.measure.latency import TimingConfig
from bench.measure.runtimes import get_runtime, list_runtimes, parse_spec

REALTIME_MODEL = "gcpm-ushaped-2stage"  # the network of the paper's Sec. 5.4 CPU figure
ALL_MODELS = "(all models)"  # model column of a row that says why a runtime was not run at all


@dataclass(frozen=True)
class RuntimePreset:
    """Timing of the runtime rows; ``left_out``: (spec, reason) a default run skips."""

    timing: TimingConfig
    rounds: int
    peak: TimingConfig
    left_out: tuple[tuple[str, str], ...] = ()
    description: str = ""


_NOT_QUICK = "left out of the quick preset: {why}; run with --runtimes {spec} (or the full preset)"
_INT8 = "int8 calibration runs a few hundred inferences per model and runtime"
QUICK = RuntimePreset(
    TimingConfig(warmup=1, iters=6, max_time_s=4.0),
    rounds=3,
    peak=TimingConfig(warmup=3, iters=10),
    left_out=tuple(
        (spec, _NOT_QUICK.format(why=why, spec=spec))
        for spec, why in (
            ("compile", "inductor took 28-48 s per model to compile on 2 cores"),
            ("openvino:int8", _INT8),
            ("onnxruntime:int8", _INT8),
        )
    ),
    description="quick preset (the default on a CPU): every table model at all cores in each "
    "runtime available on this CPU except torch.compile and int8, plus gcpm-ushaped-2stage at 1 "
    "thread for cpu_realtime.md; about 6 samples per row over 3 interleaved rounds",
)
FULL = RuntimePreset(
    TimingConfig(warmup=10, iters=100, min_time_s=1.0),
    rounds=5,
    peak=TimingConfig(warmup=3, iters=10),
    description="full preset: every table model in every runtime available on the device, about "
    "100 samples per row over 5 interleaved rounds",
)


@dataclass(frozen=True)
class Job:
    model: str
    runtime: str
    precision: str
    threads: int
    device: torch.device


def selected(
    specs: Sequence[str], device: torch.device, preset: RuntimePreset
) -> tuple[list[tuple[str, str]], dict[tuple[str, str], str]]:
    """(runtime, precision) pairs to run, and those left out of a default run with the reason."""
    left_out = dict(preset.left_out)
    names = [parse_spec(s) for s in specs] if specs else [(n, None) for n in list_runtimes()]
    pairs: list[tuple[str, str]] = []
    skipped: dict[tuple[str, str], str] = {}
    for name, precision in names:
        for p in [precision] if precision else get_runtime(name).precisions(device):
            why = left_out.get(name) or left_out.get(f"{name}:{p}")
            if not specs and why:
                skipped[(name, p)] = why
            elif (name, p) not in pairs:
                pairs.append((name, p))
    return pairs, skipped


def plan(
    names: Sequence[str],
    device: torch.device,
    pairs: Sequence[tuple[str, str]],
    threads: int,
    realtime_model: str = REALTIME_MODEL,
) -> tuple[list[Job], dict[tuple[str, str], str]]:
    """Jobs, and (runtime, precision) -> reason for those that cannot run on ``device``."""
    cpu = torch.device("cpu")
    jobs: dict[Job, None] = {}
    unavailable = {}
    for runtime, precision in pairs:
        reason = get_runtime(runtime).unavailable_reason(device, precision)
        if reason:
            unavailable[(runtime, precision)] = reason
        else:
            jobs.update({Job(n, runtime, precision, threads, device): None for n in names})
        if realtime_model in names and not get_runtime(runtime).unavailable_reason(cpu, precision):
            jobs.update(
                {
                    Job(realtime_model, runtime, precision, t, cpu): None
                    for t in dict.fromkeys((1, threads))
                }
            )
    return list(jobs), unavailable


def peak_keys(jobs: Sequence[Job]) -> list[tuple[torch.device, str, int]]:
    """The (device, precision, threads) of every job, once each: one matmul peak per key."""
    return list(dict.fromkeys((j.device, j.precision, j.threads) for j in jobs))


def scored_jobs(jobs: Sequence[Job], models: Sequence[str]) -> list[Job]:
    """The jobs scored on a validation split: one per (model, runtime, precision, device) of a
    model with a checkpoint (its other thread counts compute the same heatmaps)."""
    first: dict[tuple, Job] = {}
    for j in jobs:
        if j.model in models:
            first.setdefault((j.model, j.runtime, j.precision, j.device), j)
    return list(first.values())
