"""Every (model, runtime, precision, threads) prepared, validated, then timed in interleaved rounds.

The timer is the harness's (``bench.measure.latency.time_callable``); as in ``benchmark_models``,
the samples of all rows are taken in interleaved rounds, so a change in machine load spreads over
every runtime and model instead of distorting one row and every ratio with it. Preparation (export,
compilation) and validation happen before the first round, outside the timed region.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pandas as pd
import torch

from architectures.registry import build_at_size, input_shape
from bench.measure.latency import (
    LatencyStats,
    TimingConfig,
    time_callable,
)
from bench.measure.numerics import timing_numerics
from bench.measure.runtimes.base import (
    Prepared,
    as_numpy,
    first_line,
    get_runtime,
    list_runtimes,
    parse_spec,
)
from bench.measure.runtimes.peak import matmul_peak
from bench.measure.runtimes.validate import Validation, validate

REALTIME_MODEL = "gcpm-ushaped-2stage"  # the network of the paper's Sec. 5.4 CPU figure
NONE = "none"  # --runtimes none: no runtimes rows (the rest of bench.tables only)
ALL_MODELS = "(all models)"  # model column of a row that says why a runtime was not run at all
SEED = 0


@dataclass(frozen=True)
class RuntimePreset:
    """Timing of the runtime rows; ``left_out``: runtimes a default run skips, with the reason."""

    timing: TimingConfig
    rounds: int
    peak: TimingConfig
    left_out: tuple[tuple[str, str], ...] = ()
    description: str = ""


QUICK = RuntimePreset(
    TimingConfig(warmup=1, iters=6, max_time_s=4.0),
    rounds=3,
    peak=TimingConfig(warmup=3, iters=10),
    left_out=(
        (
            "compile",
            (
                "left out of the quick preset: inductor took 28-48 s per model "
                "to compile on 2 cores; run with --runtimes compile"
            ),
        ),
    ),
    description="quick preset (the default on a CPU): every table model at all cores in each "
    "runtime available on this CPU except torch.compile, plus gcpm-ushaped-2stage at 1 thread for "
    "cpu_realtime.md; about 6 samples per row over 3 interleaved rounds",
)
FULL = RuntimePreset(
    TimingConfig(warmup=10, iters=100, min_time_s=1.0),
    rounds=5,
    peak=TimingConfig(warmup=3, iters=10),
    description="full preset: every table model in every runtime available on "
    "the device, about 100 samples per row over 5 interleaved rounds",
)


@dataclass(frozen=True)
class Job:
    model: str
    runtime: str
    precision: str
    threads: int
    device: torch.device


@dataclass
class _State:
    job: Job
    prepared: Prepared | None = None
    validation: Validation = field(default_factory=lambda: Validation.missing(""))
    reason: str = ""
    samples: list[float] = field(default_factory=list)

    def row(self, input_size: str) -> dict:
        stats = LatencyStats.from_samples(self.samples)
        v = self.validation
        return {
            "model": self.job.model,
            "runtime": self.job.runtime,
            "precision": self.job.precision,
            "threads": self.job.threads,
            "device": str(self.job.device),
            "input": input_size,
            "median_ms": stats.median_ms,
            "p10_ms": stats.p10_ms,
            "p90_ms": stats.p90_ms,
            "cv": stats.cv,
            "samples": stats.iters,
            "prepare_s": self.prepared.prepare_s if self.prepared else math.nan,
            "max_abs_diff": v.max_abs_diff,
            "rel_diff": v.rel_diff,
            "keypoint_agreement": v.keypoint_agreement,
            "near_ties": v.near_ties,
            "validation": "" if self.reason else ("ok" if v.passed else v.flag),
            "reason": self.reason,
        }


@dataclass
class RuntimeMeasurements:
    frame: pd.DataFrame  # one row per (model, runtime, precision, threads, device)
    peaks: pd.DataFrame  # device, precision, threads, peak_gflops_per_s
    preset: RuntimePreset
    realtime_model: str = REALTIME_MODEL
    device: str = "cpu"  # the run's device; cpu_realtime rows may add CPU rows beside it
    versions: dict = field(default_factory=dict)  # runtime libraries, "not installed" if absent


def selected(
    specs: Sequence[str], device: torch.device, preset: RuntimePreset
) -> tuple[list[tuple[str, str]], dict[tuple[str, str], str]]:
    """(runtime, precision) pairs to run, and those left out of a default run with the reason."""
    left_out = dict(preset.left_out)
    names = [parse_spec(s) for s in specs] if specs else [(n, None) for n in list_runtimes()]
    pairs: list[tuple[str, str]] = []
    skipped: dict[tuple[str, str], str] = {}
    for name, precision in names:
        runtime = get_runtime(name)
        for p in [precision] if precision else runtime.precisions(device):
            if not specs and name in left_out:
                skipped[(name, p)] = left_out[name]
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
    """Jobs, and (runtime, precision) -> reason for those that cannot run on ``device``.

    Every model at ``threads`` on ``device``; the realtime model also at 1 thread (and all
    cores) on the CPU, for the paper's Sec. 5.4 comparison.
    """
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


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _prepare(
    state: _State, model: torch.nn.Module, example: torch.Tensor, reference, warmup: int
) -> None:
    """Prepare, validate against eager fp32, warm up; any failure becomes the row's reason."""
    job = state.job
    try:
        state.prepared = get_runtime(job.runtime).prepare(
            model, example, job.precision, job.threads
        )
    except Exception as exc:  # noqa: BLE001 - any exporter / compiler error is the row's reason
        state.reason = f"prepare failed: {first_line(exc)}"
        return
    try:
        output = state.prepared.heatmaps(state.prepared.run())
        state.validation = validate(reference, output, job.precision)
        for _ in range(warmup):
            state.prepared.run()
    except Exception as exc:  # noqa: BLE001
        state.reason, state.prepared = f"run failed: {first_line(exc)}", None


def _prepare_model(
    name: str,
    device: torch.device,
    states: Sequence[_State],
    warmup: int,
    on_step: Callable[..., None],
) -> str:
    """Build ``name`` once on ``device``, prepare every job of it; returns the input size."""
    model = build_at_size(name).eval().to(device)
    shape = input_shape(model.info)
    generator = torch.Generator().manual_seed(SEED)
    example = torch.randn(shape, generator=generator).to(device)
    # The latency tables' numerics (strict fp32: no TF32; cudnn autotuning on CUDA) throughout.
    with torch.inference_mode(), timing_numerics("fp32", device):
        reference = as_numpy(model(example)[-1])
        for state in states:
            with _threads(state.job.threads):
                _prepare(state, model, example, reference, warmup)
            on_step(name, state.job.runtime, "prepare")
    return f"{shape[-2]}x{shape[-1]}"


def _time_rounds(
    states: Sequence[_State], preset: RuntimePreset, on_step: Callable[..., None]
) -> None:
    per_round = TimingConfig(
        0,
        max(1, math.ceil(preset.timing.iters / preset.rounds)),
        preset.timing.min_time_s / preset.rounds,
        None if preset.timing.max_time_s is None else preset.timing.max_time_s / preset.rounds,
    )
    for _ in range(preset.rounds):
        for state in states:
            if state.prepared is None:
                continue
            job = state.job
            try:
                with (
                    _threads(job.threads),
                    torch.inference_mode(),
                    timing_numerics("fp32", job.device),
                ):
                    state.samples += time_callable(state.prepared.run, job.device, per_round)
            except Exception as exc:  # noqa: BLE001 - e.g. a recompile under torch.compile
                state.reason = f"failed while timing: {first_line(exc)}"
                state.prepared, state.samples = None, []
            on_step(job.model, job.runtime, job.precision)


def measure_peaks(states: Sequence[_State], config: TimingConfig) -> pd.DataFrame:
    keys = dict.fromkeys(
        (s.job.device, s.job.precision, s.job.threads) for s in states if s.prepared is not None
    )
    rows = []
    for device, precision, threads in keys:
        try:
            peak, reason = matmul_peak(device, precision, threads, config), ""
        except Exception as exc:  # noqa: BLE001 - a dtype without matmul support here
            peak, reason = math.nan, first_line(exc)
        rows.append(
            {
                "device": str(device),
                "precision": precision,
                "threads": threads,
                "peak_gflops_per_s": peak,
                "peak_reason": reason,
            }
        )
    return pd.DataFrame(
        rows, columns=["device", "precision", "threads", "peak_gflops_per_s", "peak_reason"]
    )


def measure_runtimes(
    names: Sequence[str],
    device: torch.device,
    specs: Sequence[str] = (),
    preset: RuntimePreset = QUICK,
    on_step: Callable[..., None] | None = None,
    realtime_model: str = REALTIME_MODEL,
) -> RuntimeMeasurements:
    """Prepare, validate and time every (model, runtime, precision, threads); nothing written."""
    step = on_step or (lambda *label: None)
    threads = torch.get_num_threads()
    pairs, skipped = selected(specs, device, preset)
    jobs, unavailable = plan(names, device, pairs, threads, realtime_model)
    states = [_State(job) for job in jobs]
    inputs = {}
    started = time.perf_counter()
    for name in dict.fromkeys(j.model for j in jobs):
        for dev in dict.fromkeys(j.device for j in jobs if j.model == name):
            group = [s for s in states if s.job.model == name and s.job.device == dev]
            inputs[name] = _prepare_model(name, dev, group, preset.timing.warmup, step)
    prepare_s = time.perf_counter() - started
    peaks = measure_peaks(states, preset.peak)
    _time_rounds(states, preset, step)
    rows = [s.row(inputs[s.job.model]) for s in states]
    rows += [
        _reason_row(rt, p, threads, device, why)
        for (rt, p), why in {**unavailable, **skipped}.items()
    ]
    frame = pd.DataFrame(rows)
    frame.attrs["prepare_wall_s"] = round(prepare_s, 1)
    return RuntimeMeasurements(
        frame, peaks, preset, realtime_model, str(device), library_versions()
    )


def library_versions() -> dict[str, str]:
    """Installed versions of the runtime libraries (distribution names)."""
    out = {}
    for dist in ("onnx", "onnxruntime", "onnxruntime-gpu", "openvino", "torch-tensorrt"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def for_tables(
    specs: Sequence[str],
    speed: str,
    names: Sequence[str],
    device: torch.device,
    on_step: Callable[..., None] | None = None,
) -> RuntimeMeasurements | None:
    """``bench.tables``' entry: its ``--runtimes`` and speed; ``("none",)`` measures nothing.

    ``none`` beside runtime names means just those names.
    """
    named = [s for s in specs if s != NONE]
    if specs and not named:
        return None
    quick = speed == "quick" or (speed == "auto" and device.type != "cuda")
    return measure_runtimes(names, device, named, QUICK if quick else FULL, on_step)


def runtime_spec(text: str) -> str:
    """argparse type of ``--runtimes``: NAME or NAME:PRECISION of a registered runtime, or none."""
    if text == NONE:
        return text
    try:
        parse_spec(text)
    except KeyError as exc:
        raise argparse.ArgumentTypeError(exc.args[0]) from None
    return text


def _reason_row(
    runtime: str, precision: str, threads: int, device: torch.device, reason: str
) -> dict:
    empty = _State(Job(ALL_MODELS, runtime, precision, threads, device), reason=reason)
    return empty.row("")
