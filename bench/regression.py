"""CI latency regression gate: ``python -m bench.regression check|update``.

CI machines are noisy and differ from each other, so the gate compares only what is stable:

* exact parameter and FLOP counts (fvcore, one multiply-add = one FLOP, at the pass's input size);
* each model's latency *relative to a reference model timed in the same run* (default
  ``hourglass-8stack``, the speed-up reference of the GCPM paper's Tables 4-5). In every round
  each model is timed right after a reference sample, and the gated figure is the median over
  rounds of these paired ratios, so load that changes during the pass hits both sides of a
  ratio alike. The pass runs on one thread and, by default, measures this process's CPU time
  (``time.process_time_ns``) rather than wall time: on a shared 2-core box under load, wall-time
  ratios of unchanged passes moved by up to 85 %, CPU-time ratios much less (see the README).

A ratio that grew by more than the tolerance fails the gate. ``update`` runs several unchanged
passes, stores their median ratios as the baseline (results/regression_baseline.json) and derives
the tolerance from the pass-to-pass spread it measured (twice the largest deviation, at least
10 %), unless ``--tolerance`` is given.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd
import torch
from torch import nn

from . import io
from .environment import environment_record
from .latency import TimingConfig, build_at_size, input_shape_of, prepare, time_callable

BASELINE = Path("results/regression_baseline.json")
_CLOCKS = {"process": time.process_time_ns, "wall": time.perf_counter_ns}
FORMAT_VERSION = 1


class GateError(ValueError):
    """Bad baseline, settings or model name: printed as one line, exit status 2."""


@dataclass(frozen=True)
class PassConfig:
    """One short CPU pass; reduced input size keeps it under a few minutes on 2 cores."""

    models: tuple[str, ...] = ()  # empty: every registered model
    reference: str = "hourglass-8stack"
    input_size: tuple[int, int] = (128, 128)
    rounds: int = 5
    iters_per_round: int = 1
    warmup: int = 1
    threads: int = 1  # pinned: one thread makes CPU time a faithful cost, on any core count
    clock: str = "process"  # "process" (CPU time of this process) or "wall"
    tolerance: float = 0.15  # allowed relative growth of a latency ratio


@dataclass
class ModelRecord:
    params: int
    flops: int
    ratio: float  # median over rounds of latency / paired reference latency
    min_ms: float  # informative only: absolute times are not gated
    ratio_spread: float  # (max - min) / median of the per-round ratios: noise within a pass
    pass_noise: Optional[float] = None  # baseline only: largest deviation of a pass's ratio


@dataclass
class PassResult:
    config: PassConfig
    models: dict[str, ModelRecord]
    env: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"version": FORMAT_VERSION, "config": asdict(self.config), "env": self.env,
                "models": {n: asdict(r) for n, r in self.models.items()}}

    @classmethod
    def from_json(cls, data: dict, source: str = "baseline") -> "PassResult":
        if data.get("version") != FORMAT_VERSION:
            raise GateError(f"{source}: format version {data.get('version')!r}, "
                             f"expected {FORMAT_VERSION}; run `python -m bench.regression update`")
        try:
            cfg = data["config"]
            config = PassConfig(**{**cfg, "models": tuple(cfg["models"]),
                                   "input_size": tuple(cfg["input_size"])})
            models = {n: ModelRecord(**r) for n, r in data["models"].items()}
        except (KeyError, TypeError) as exc:
            raise GateError(f"{source}: malformed regression baseline ({exc})") from None
        return cls(config, models, data.get("env", {}))


# ---------------------------------------------------------------- measuring one pass

class _ExtraLayer(nn.Module):
    """Demo of a regression: extra 64-channel 3x3 convs at input resolution, output discarded."""

    def __init__(self, model: nn.Module, layers: int, in_channels: int) -> None:
        super().__init__()
        self.model = model
        convs = [nn.Conv2d(in_channels, 64, 3, padding=1)]
        convs += [nn.Conv2d(64, 64, 3, padding=1) for _ in range(layers - 1)]
        self.extra = nn.Sequential(*convs)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        self.extra(x)
        return self.model(x)


def _counts(model: nn.Module, shape: Sequence[int]) -> tuple[int, int]:
    from .complexity import count_flops, count_params

    return count_params(model), count_flops(model, shape).total


def _time_rounds(models: dict[str, nn.Module], shapes: dict[str, tuple], config: PassConfig,
                 device: torch.device) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per-round times and ratios; each model is timed right after its own reference sample.

    Pairing each model with a reference sample taken just before it cancels load changes that
    are slower than one pair (seconds), which interleaving whole rounds did not.
    """
    if config.clock not in _CLOCKS:
        raise GateError(f"unknown clock {config.clock!r}; known: {', '.join(_CLOCKS)}")
    clock = _CLOCKS[config.clock]
    prepared = {n: partial(*prepare(m, shapes[n], device, "fp32")) for n, m in models.items()}
    reference = prepared[config.reference]
    timing = TimingConfig(warmup=0, iters=config.iters_per_round)
    times: dict[str, list[float]] = {n: [] for n in models}
    ratios: dict[str, list[float]] = {n: [] for n in models}
    with torch.inference_mode():
        for forward in prepared.values():
            time_callable(forward, device, TimingConfig(config.warmup, 1), clock)
        for _ in range(config.rounds):
            for name, forward in prepared.items():
                t_ref = min(time_callable(reference, device, timing, clock))
                t = t_ref if name == config.reference else min(
                    time_callable(forward, device, timing, clock))
                times[name].append(t)
                ratios[name].append(t / t_ref)
    return times, ratios


def run_pass(config: PassConfig, slowdowns: Optional[dict[str, int]] = None) -> PassResult:
    """Counts and interleaved latency ratios; ``slowdowns`` injects extra layers (demo only)."""
    from architectures import list_models

    names = resolve_names(config, list_models())
    device = torch.device("cpu")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        models = {n: build_at_size(n, config.input_size).eval() for n in names}
        shapes = {n: input_shape_of(m, config.input_size) for n, m in models.items()}
        counts = {n: _counts(models[n], shapes[n]) for n in names}
        for name, layers in (slowdowns or {}).items():
            # counts stay those of the real model: this simulates a runtime-only regression
            models[name] = _ExtraLayer(models[name], layers, shapes[name][1])
        times, ratios = _time_rounds(models, shapes, config, device)
    finally:
        torch.set_num_threads(previous_threads)
    records = {n: ModelRecord(counts[n][0], counts[n][1], statistics.median(ratios[n]),
                              min(times[n]), _spread(ratios[n])) for n in names}
    env = environment_record(device)
    env["threads_used"] = config.threads
    return PassResult(config, records, env)


def _spread(values: Sequence[float]) -> float:
    med = statistics.median(values)
    return (max(values) - min(values)) / med if med > 0 else math.nan


def resolve_names(config: PassConfig, known: Sequence[str]) -> list[str]:
    names = list(config.models) or list(known)
    unknown = [n for n in [*names, config.reference] if n not in known]
    if unknown:
        raise GateError(f"unknown model(s) {', '.join(map(repr, unknown))}; "
                         f"known models: {', '.join(known)}")
    return [config.reference] + [n for n in dict.fromkeys(names) if n != config.reference]


# ---------------------------------------------------------------- comparing with the baseline

def _verdict(base: Optional[ModelRecord], cur: Optional[ModelRecord], tolerance: float) -> str:
    if base is None:
        return "new (not gated)"
    if cur is None:
        return "FAIL: missing"
    if cur.params != base.params:
        return "FAIL: params changed"
    if cur.flops != base.flops:
        return "FAIL: FLOPs changed"
    change = cur.ratio / base.ratio - 1
    if change > tolerance:
        return "FAIL: slower"
    return "ok (faster: consider update)" if change < -tolerance else "ok"


def compare(baseline: PassResult, current: PassResult,
            tolerance: Optional[float] = None) -> pd.DataFrame:
    """One row per model: counts and ratios side by side, change in %, verdict."""
    tol = baseline.config.tolerance if tolerance is None else tolerance
    rows = []
    for name in dict.fromkeys([*baseline.models, *current.models]):
        base, cur = baseline.models.get(name), current.models.get(name)
        rows.append({
            "model": name,
            "params": cur.params if cur else None,
            "params (baseline)": base.params if base else None,
            "GFLOPs": cur.flops / 1e9 if cur else None,
            "GFLOPs (baseline)": base.flops / 1e9 if base else None,
            "ratio": cur.ratio if cur else None,
            "ratio (baseline)": base.ratio if base else None,
            "change (%)": 100 * (cur.ratio / base.ratio - 1) if cur and base else None,
            "round spread (%)": 100 * cur.ratio_spread if cur else None,
            "fastest (ms)": cur.min_ms if cur else None,
            "verdict": _verdict(base, cur, tol),
        })
    return pd.DataFrame(rows)


def config_mismatch(baseline: PassConfig, current: PassConfig) -> list[str]:
    """Settings that make ratios incomparable (size, reference, threads)."""
    keys = ("reference", "input_size", "threads", "clock")
    return [f"{k}: baseline {getattr(baseline, k)!r}, now {getattr(current, k)!r}"
            for k in keys if getattr(baseline, k) != getattr(current, k)]


def load_baseline(path: Path) -> PassResult:
    import json

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GateError(f"no regression baseline at {path}; create it with "
                         f"`python -m bench.regression update`") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GateError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return PassResult.from_json(data, str(path))


# ---------------------------------------------------------------- command line

def _slowdown(text: str) -> tuple[str, int]:
    name, _, layers = text.partition("=")
    try:
        return name, int(layers or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--inject-slowdown wants NAME[=LAYERS], got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.regression",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=("check", "update"))
    p.add_argument("--baseline", type=Path, default=BASELINE)
    p.add_argument("--models", nargs="+", default=[], help="default: every registered model")
    p.add_argument("--reference", help="update: reference model (default: the baseline's, "
                                       "else hourglass-8stack)")
    p.add_argument("--clock", choices=sorted(_CLOCKS), help="update: process CPU time or wall time")
    p.add_argument("--rounds", type=int, help="interleaved timing rounds (default: baseline's)")
    p.add_argument("--tolerance", type=float,
                   help="allowed relative growth of a latency ratio (default: the baseline's)")
    p.add_argument("--inject-slowdown", type=_slowdown, action="append", default=[],
                   metavar="NAME[=LAYERS]", help="demo: add extra conv layers to one model")
    p.add_argument("--repeats", type=int, default=3,
                   help="update: unchanged passes whose spread sets the tolerance")
    p.add_argument("--report", type=Path, help="check: also write the comparison table (Markdown)")
    return p


def _pass_config(args: argparse.Namespace, baseline: Optional[PassResult]) -> PassConfig:
    base = baseline.config if baseline is not None else PassConfig()
    overrides = {"models": tuple(args.models) or base.models}
    if args.rounds is not None:
        overrides["rounds"] = args.rounds
    if args.reference is not None:
        overrides["reference"] = args.reference
    if args.clock is not None:
        overrides["clock"] = args.clock
    if args.tolerance is not None:
        overrides["tolerance"] = args.tolerance
    return PassConfig(**{**asdict(base), **overrides, "input_size": tuple(base.input_size)})


def check(args: argparse.Namespace) -> int:
    baseline = load_baseline(args.baseline)
    config = _pass_config(args, baseline)
    mismatch = config_mismatch(baseline.config, config)
    if mismatch:
        raise GateError(f"{args.baseline} was measured with other settings: {'; '.join(mismatch)}")
    started = time.time()
    current = run_pass(config, dict(args.inject_slowdown))
    table = compare(baseline, current, config.tolerance)
    failed = table.verdict.str.startswith("FAIL")
    print(io.to_markdown(table, f"Latency regression gate (tolerance {100 * config.tolerance:.0f} %"
                                f" on latency / {config.reference})"))
    if args.report:
        io.write_markdown(table, args.report, "Latency regression gate")
    print(f"{'FAILED' if failed.any() else 'passed'}: {int(failed.sum())} of {len(table)} models "
          f"regressed ({time.time() - started:.0f} s)")
    return 1 if failed.any() else 0


def combine_passes(passes: Sequence[PassResult], tolerance: Optional[float],
                   floor: float = 0.10) -> PassResult:
    """Baseline from unchanged passes: median ratios, and a tolerance from their spread."""
    first = passes[0]
    models = {}
    for name, record in first.models.items():
        ratios = [p.models[name].ratio for p in passes]
        mid = statistics.median(ratios)
        noise = max(abs(r / mid - 1) for r in ratios)
        models[name] = ModelRecord(record.params, record.flops, mid,
                                   statistics.median(p.models[name].min_ms for p in passes),
                                   record.ratio_spread, noise)
    if tolerance is None:
        worst = max(r.pass_noise or 0.0 for r in models.values())
        # 2x the largest deviation seen, rounded up to whole percent (round() absorbs fp error)
        tolerance = max(floor, math.ceil(round(200 * worst, 6)) / 100)
    config = PassConfig(**{**asdict(first.config), "tolerance": tolerance})
    env = {**first.env, "baseline_passes": len(passes)}
    return PassResult(config, models, env)


def update(args: argparse.Namespace) -> int:
    previous = load_baseline(args.baseline) if args.baseline.exists() else None
    config = _pass_config(args, previous)
    passes = [run_pass(config) for _ in range(args.repeats)]
    result = combine_passes(passes, args.tolerance)
    io.write_json(result.to_json(), args.baseline)
    table = pd.DataFrame([{"model": n, **asdict(r)} for n, r in result.models.items()])
    print(io.to_markdown(table, f"New regression baseline: {args.baseline}"))
    print(f"tolerance {100 * result.config.tolerance:.0f} % from {len(passes)} passes")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return check(args) if args.command == "check" else update(args)
    except GateError as exc:
        print(f"bench.regression: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
