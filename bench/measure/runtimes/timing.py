"""The runtimes measurement (docs/runtimes.md): one job per (model, runtime, precision, threads,
device) row, prepared, checked against eager fp32, timed in interleaved rounds, then scored."""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from architectures import list_models, model_info
from architectures.registry import build_at_size, input_shape
from bench.measure.latency import LatencyStats, TimingConfig, time_callable
from bench.measure.numerics import timing_numerics
from bench.measure.runtimes import NONE, get_runtime, list_runtimes, parse_spec, runtime_spec
from bench.measure.runtimes.base import Prepared, as_numpy, first_line, num_threads
from bench.measure.runtimes.calibration import Calibration
from bench.measure.runtimes.peak import measure_peaks
from bench.measure.runtimes.scoring import Validation, score_runtime_rows, validate

__all__ = ["NONE", "runtime_spec"]  # for bench.tables and bench.measure.suite
SEED = 0
Step = Callable[..., None]
REALTIME_MODEL = "gcpm-ushaped-2stage"  # the network of the paper's Sec. 5.4 CPU figure
ALL_MODELS = "(all models)"  # model column of a row that says why a runtime was not run at all
_PEAK = TimingConfig(warmup=3, iters=10)


@dataclass(frozen=True)
class RuntimePreset:
    """Timing of the runtime rows; ``left_out``: (spec, reason) a default run skips; ``models``:
    the registry's models a default run times (empty: every one; a user's model always)."""

    timing: TimingConfig
    rounds: int
    peak: TimingConfig = _PEAK
    left_out: tuple[tuple[str, str], ...] = ()
    models: tuple[str, ...] = ()
    description: str = ""


_NOT_QUICK = "left out of the quick preset: {why}; run with --runtimes {spec} (or the full preset)"
_INT8 = "int8 calibration runs a few hundred inferences per model and runtime"
# The real-time networks of Tables 4 and 5 (LIP, MPII): the ones a CPU deployment would pick. The
# others' exports and 6 samples each took 2.2 min of a quick run on an idle 2-core AMD EPYC.
QUICK_MODELS = (REALTIME_MODEL, "fpd-4stack")
QUICK = RuntimePreset(
    TimingConfig(warmup=1, iters=6, max_time_s=4.0),
    rounds=3,
    peak=TimingConfig(warmup=1, iters=5),
    left_out=tuple(
        (spec, _NOT_QUICK.format(why=why, spec=spec))
        for spec, why in (
            ("compile", "inductor took 28-48 s per model to compile on 2 cores"),
            ("openvino:int8", _INT8),
            ("onnxruntime:int8", _INT8),
        )
    ),
    models=QUICK_MODELS,
    description="quick preset (the default on a CPU): about 6 samples per row over 3 interleaved "
    "rounds; at all cores in the runtimes named with --runtimes (default: each one available on "
    f"this CPU except torch.compile and int8), plus {REALTIME_MODEL} at 1 thread for "
    "cpu_realtime.md",
)
FULL = RuntimePreset(
    TimingConfig(warmup=10, iters=100, min_time_s=1.0),
    rounds=5,
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
    """(runtime, precision) pairs to run, and those a default run leaves out, with why."""
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


def timed_models(
    names: Sequence[str], specs: Sequence[str], preset: RuntimePreset, scored: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """(models to time, models left out): a run that names no runtime keeps the preset's models,
    the user's and those with a checkpoint; one that names runtimes times every model, as it
    does every runtime."""
    if specs or not preset.models:
        return list(names), []
    keep = {*preset.models, *scored} | (set(names) - set(list_models(module="architectures")))
    kept = [n for n in names if n in keep]
    return kept, [n for n in names if n not in kept]


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
            jobs.update(dict.fromkeys(Job(n, runtime, precision, threads, device) for n in names))
        if realtime_model in names and not get_runtime(runtime).unavailable_reason(cpu, precision):
            extra = (Job(realtime_model, runtime, precision, t, cpu) for t in (1, threads))
            jobs.update(dict.fromkeys(extra))
    return list(jobs), unavailable


def peak_keys(jobs: Sequence[Job]) -> list[tuple[torch.device, str, int]]:
    return list(dict.fromkeys((j.device, j.precision, j.threads) for j in jobs))


def scored_jobs(jobs: Sequence[Job], models: Sequence[str]) -> list[Job]:
    """One job per (model, runtime, precision, device) of ``models``: threads score the same."""
    first: dict[tuple, Job] = {}
    for j in jobs:
        if j.model in models:
            first.setdefault((j.model, j.runtime, j.precision, j.device), j)
    return list(first.values())


@dataclass
class _State:
    job: Job
    prepared: Prepared | None = None
    validation: Validation = field(default_factory=Validation)
    reason: str = ""
    samples: list[float] = field(default_factory=list)

    def row(self, input_size: str) -> dict:
        stats, v, prepared = LatencyStats.from_samples(self.samples), self.validation, self.prepared
        return {
            **vars(self.job),
            "device": str(self.job.device),
            "input": input_size,
            **{k: getattr(stats, k) for k in ("median_ms", "p10_ms", "p90_ms", "cv")},
            "samples": stats.iters,
            "prepare_s": prepared.prepare_s if prepared else math.nan,
            **{k: getattr(v, k) for k in ("max_abs_diff", "rel_diff", "keypoint_agreement")},
            "near_ties": v.near_ties,
            "validation": "" if self.reason else ("ok" if v.passed else v.flag),
            "reason": self.reason,
            "notes": prepared.notes if prepared else "",
        }


@dataclass
class RuntimeMeasurements:
    frame: pd.DataFrame  # one row per (model, runtime, precision, threads, device)
    peaks: pd.DataFrame  # device, precision, threads, peak_gflops_per_s, peak_reason
    preset: RuntimePreset
    realtime_model: str = REALTIME_MODEL
    device: str = "cpu"  # the run's device; cpu_realtime rows may add CPU rows beside it
    versions: dict = field(default_factory=dict)  # runtime libraries, "not installed" if absent
    left_out_models: tuple[str, ...] = ()  # models of the run the preset did not time here


def _prepare(state: _State, model, example, reference, warmup: int, calibration) -> None:
    job = state.job
    try:
        runtime = get_runtime(job.runtime)
        state.prepared = runtime.prepare(model, example, job.precision, job.threads, calibration)
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
    name: str, device: torch.device, states: Sequence[_State], warmup: int, data_root, on_step
) -> str:
    """Build ``name`` once, prepare every job of it; returns the input size."""
    model = build_at_size(name).eval().to(device)
    shape = input_shape(model.info)
    generator = torch.Generator().manual_seed(SEED)
    example = torch.randn(shape, generator=generator).to(device)
    calibration = Calibration(data_root, model_info(name).dataset)
    # The latency tables' numerics (strict fp32: no TF32; cudnn autotuning on CUDA) throughout.
    with torch.inference_mode(), timing_numerics("fp32", device):
        reference = as_numpy(model(example)[-1])
        for state in states:
            with num_threads(state.job.threads):
                _prepare(state, model, example, reference, warmup, calibration)
            on_step(name, state.job.runtime, state.job.precision, "prepare")
    return f"{shape[-2]}x{shape[-1]}"


def _time_rounds(states: Sequence[_State], preset: RuntimePreset, on_step: Step) -> None:
    """Every state once per round; one step each, timed or not."""
    config = preset.timing.per_round(preset.rounds)
    for _ in range(preset.rounds):
        for state in states:
            job = state.job
            if state.prepared is not None:
                try:
                    with (
                        num_threads(job.threads),
                        torch.inference_mode(),
                        timing_numerics("fp32", job.device),
                    ):
                        state.samples += time_callable(state.prepared.run, job.device, config)
                except Exception as exc:  # noqa: BLE001 - e.g. a recompile under torch.compile
                    state.reason = f"failed while timing: {first_line(exc)}"
                    state.prepared, state.samples = None, []
            on_step(job.model, job.runtime, job.precision)


def measure_runtimes(
    names: Sequence[str],
    device: torch.device,
    specs: Sequence[str] = (),
    preset: RuntimePreset = QUICK,
    on_step: Step | None = None,
    realtime_model: str = REALTIME_MODEL,
    checkpoints: Mapping[str, Path] | None = None,
    data_roots: Mapping[str, Path] | None = None,
) -> RuntimeMeasurements:
    """Prepare, check and time every job; with ``checkpoints`` and ``data_roots`` (dataset ->
    root) also score."""
    step = on_step or (lambda *label: None)
    threads = torch.get_num_threads()
    pairs, skipped = selected(specs, device, preset)
    names, left_out = timed_models(names, specs, preset, checkpoints or {})
    jobs, unavailable = plan(names, device, pairs, threads, realtime_model)
    states = [_State(job) for job in jobs]
    inputs = {}
    for name, dev in dict.fromkeys((j.model, j.device) for j in jobs):
        group = [s for s in states if (s.job.model, s.job.device) == (name, dev)]
        # a model whose dataset has no root calibrates int8 on generated images of its own
        root = (data_roots or {}).get(model_info(name).dataset)
        inputs[name] = _prepare_model(name, dev, group, preset.timing.warmup, root, step)
    ready = set(peak_keys([s.job for s in states if s.prepared is not None]))
    peaks = measure_peaks(peak_keys(jobs), ready, preset.peak, step)
    _time_rounds(states, preset, step)
    rows = [s.row(inputs[s.job.model]) for s in states]
    for (runtime, precision), why in {**unavailable, **skipped}.items():
        rows.append(
            _State(Job(ALL_MODELS, runtime, precision, threads, device), reason=why).row("")
        )
    frame = pd.DataFrame(rows)
    if checkpoints and data_roots:
        frame = score_runtime_rows(frame, checkpoints, data_roots, device, on_step=step)
    versions = library_versions()
    return RuntimeMeasurements(
        frame, peaks, preset, realtime_model, str(device), versions, tuple(left_out)
    )


def library_versions() -> dict[str, str]:
    out = {}
    for dist in ("onnx", "onnxruntime", "onnxruntime-gpu", "openvino", "nncf", "torch-tensorrt"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def named_specs(specs: Sequence[str]) -> list[str] | None:
    """The specs to measure; ``None`` for ``none`` alone (``none`` beside names is ignored)."""
    named = [s for s in specs if s != NONE]
    return None if specs and not named else named


def for_tables(
    specs: Sequence[str],
    preset: RuntimePreset,
    names: Sequence[str],
    device: torch.device,
    on_step: Step | None = None,
    checkpoints: Mapping[str, Path] | None = None,
    data_roots: Mapping[str, Path] | None = None,
) -> RuntimeMeasurements | None:
    named = named_specs(specs)
    kw = {"checkpoints": checkpoints, "data_roots": data_roots}
    return None if named is None else measure_runtimes(names, device, named, preset, on_step, **kw)


def count_steps(
    specs: Sequence[str],
    preset: RuntimePreset,
    names: Sequence[str],
    device: torch.device,
    checkpoints: Mapping[str, Path] | None = None,
    data_roots: Mapping[str, Path] | None = None,
    realtime_model: str = REALTIME_MODEL,
) -> int:
    """Exactly how many times :func:`for_tables` calls ``on_step``: a prepare per job, a peak
    per key, a timing per job and round, with checkpoints an eager score per model and row."""
    named = named_specs(specs)
    if named is None:
        return 0
    pairs, _ = selected(named, device, preset)
    names = timed_models(names, named, preset, checkpoints or {})[0]
    jobs, _ = plan(names, device, pairs, torch.get_num_threads(), realtime_model)
    total = len(jobs) * (1 + preset.rounds) + len(peak_keys(jobs))
    if checkpoints and data_roots:
        models = [n for n in dict.fromkeys(j.model for j in jobs) if n in checkpoints]
        total += len(models) + len(scored_jobs(jobs, models))
    return total
