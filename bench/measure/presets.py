"""How long ``bench.tables`` measures: the quick and full presets, decided once per run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bench.measure.latency import MODES, TimingConfig
from bench.measure.layer_profile import ProfileConfig
from bench.measure.runtimes import timing
from bench.measure.runtimes.timing import RuntimePreset


@dataclass(frozen=True)
class Presets:
    """Timing of the fp32 column, the other modes, the layer profile, the runtimes; and rounds."""

    fp32: TimingConfig
    modes: TimingConfig
    profile: ProfileConfig
    runtimes: RuntimePreset
    mode_names: tuple[str, ...] = MODES
    rounds: int = 3  # models interleaved: a change in machine load hits them all alike


# Quick, the default on a CPU: fp32 rows meet the validity rule (64 samples in 4 interleaved
# rounds: 4.1-5.1 min of a 6.2 min run on an idle 2-core AMD EPYC, whose speed varied that much
# between days; CPM takes 1.6-1.8 s a forward there, and the cap of 150 s per model marks only a
# much slower machine's rows short); the runtimes time the real-time networks only
# (timing.QUICK). The fvcore trace is each model's warm-up forward (the other models run before
# its first round anyway); the profile follows the timing. fp32 only: channels_last (~25 s) and
# bf16 / fp16 (13-15x slower than fp32 on a 2-core AMD EPYC without native units) when --modes
# names them.
QUICK = Presets(
    TimingConfig(warmup=0, iters=64, max_time_s=150.0),
    TimingConfig(warmup=0, iters=4, max_time_s=3.0),
    ProfileConfig(warmup=0, iters=1),
    timing.QUICK,
    ("fp32",),
    rounds=4,
)
# Full: the other modes get 1 s too, the minimum for a valid row (latency.ValidityRule).
FULL = Presets(
    TimingConfig(warmup=20, iters=200, min_time_s=2.0),
    TimingConfig(warmup=10, iters=100, min_time_s=1.0),
    ProfileConfig(warmup=5, iters=20),
    timing.FULL,
    rounds=5,
)


def presets_for(
    speed: str,
    device_type: str,
    iters: int | None = None,
    modes: Sequence[str] = (),
    models_named: bool = False,
) -> Presets:
    """``speed`` "quick", "full" or "auto" (full on a GPU, quick elsewhere); ``iters``: exactly
    that many fp32 samples, no time cap; ``modes``: these besides fp32 instead of the preset's;
    ``models_named``: the user chose the models, so the runtimes time each of them."""
    base = QUICK if speed == "quick" or (speed == "auto" and device_type != "cuda") else FULL
    chosen = tuple(dict.fromkeys(("fp32", *modes))) if modes else base.mode_names
    fp32 = base.fp32 if iters is None else TimingConfig(base.fp32.warmup, iters)
    runtimes = replace(base.runtimes, models=()) if models_named else base.runtimes
    return replace(base, fp32=fp32, mode_names=chosen, runtimes=runtimes)
