"""The quick and full presets of ``bench.tables``, decided once from the speed and the device."""

from __future__ import annotations

from bench.measure import presets
from bench.measure.runtimes import timing


def test_auto_is_quick_off_a_gpu_and_full_on_one():
    assert presets.presets_for("auto", "cpu") == presets.QUICK
    assert presets.presets_for("auto", "cuda") == presets.FULL
    assert presets.presets_for("quick", "cuda").runtimes is timing.QUICK
    assert presets.presets_for("full", "cpu").runtimes is timing.FULL


def test_iters_and_modes_override_the_preset():
    chosen = presets.presets_for("quick", "cpu", iters=7, modes=("bf16", "fp32"))
    assert chosen.fp32.iters == 7 and chosen.fp32.max_time_s is None
    assert chosen.mode_names == ("fp32", "bf16")  # fp32 first, always measured
    assert chosen.modes == presets.QUICK.modes and chosen.rounds == presets.QUICK.rounds


def test_models_named_by_the_user_are_each_timed_in_the_runtimes():
    assert presets.presets_for("quick", "cpu").runtimes.models == timing.QUICK_MODELS
    assert presets.presets_for("quick", "cpu", models_named=True).runtimes.models == ()
