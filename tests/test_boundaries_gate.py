"""The regression gate's report at its boundaries (mutation run of bench/regression/gate.py,
issue 14): each verdict and its precedence, the report's columns and labels, the ops message cut
after three differences, the baseline's own floor and alpha, comparability reasons, the refusal
message and the models a baseline has that no longer exist. Passes are fabricated: no model runs.
"""

from __future__ import annotations

import math

import pytest

from bench.regression import (
    GateConfig,
    GateError,
    ModelFigures,
    NoComparableBaseline,
    Pass,
    compare,
)
from bench.regression.gate import comparable, missing_models, require_comparable

REF, NET = "ref", "net"
SIG = {"conv2d": [3, 4096]}
COLUMNS = ["model", "figure", "baseline", "now", "change (%)", "tolerance (%)", "p", "verdict"]


def _pass(
    samples: dict[str, list[float]],
    *,
    signal: str = "instructions",
    floor: float = 0.03,
    alpha: float = 0.01,
    params: int = 1000,
    flops: int = 5000,
    signature: dict[str, list[int]] | None = None,
    fingerprint: dict | None = None,
) -> Pass:
    config = GateConfig(signal=signal, reference=REF, floor=floor, alpha=alpha)
    sig = signature if signature is not None else SIG
    models = {
        n: ModelFigures(params, flops, dict(sig), list(s), list(s)) for n, s in samples.items()
    }
    return Pass(config, dict(fingerprint or {}), "c0ffee", [], models)


def _row(base: Pass, cur: Pass, name: str = NET, tolerance: float | None = None) -> dict:
    table = compare(base, cur, [name], tolerance)
    assert len(table) == 1
    return table.iloc[0].to_dict()


def _verdict(base: Pass, cur: Pass, name: str = NET, tolerance: float | None = None) -> str:
    return _row(base, cur, name, tolerance)["verdict"]


# ---------------------------------------------------------------- report columns and values


def test_a_gated_row_has_every_column_with_the_medians_change_tolerance_and_p() -> None:
    base = _pass({NET: [1.0, 0.9, 1.3]})  # median 1.0, MAD 0.1, noise 14.8 %
    cur = _pass({NET: [2.0, 2.5, 2.4]})  # median 2.4, completely above: p = 1 / C(6, 3)
    table = compare(base, cur, [NET])
    assert list(table.columns) == COLUMNS
    row = table.iloc[0].to_dict()
    assert row["model"] == NET and row["figure"] == f"ratio to {REF}"
    assert row["baseline"] == 1.0 and row["now"] == 2.4
    assert row["change (%)"] == pytest.approx(140.0)
    tol = 3 * 1.4826 * 0.1 * math.sqrt(2 / 3)
    assert row["tolerance (%)"] == pytest.approx(100 * tol)
    assert row["p"] == pytest.approx(0.05)
    assert row["verdict"] == "ok"  # noisy: 3 + 3 samples can never reach p < alpha = 0.01


def test_the_reference_is_gated_on_instructions() -> None:
    base, cur = _pass({REF: [1e9] * 3}), _pass({REF: [1.1e9] * 3})
    row = _row(base, cur, REF)
    assert row["figure"] == "instructions" and row["verdict"] == "FAIL: slower"
    assert row["change (%)"] == pytest.approx(10.0) and row["tolerance (%)"] == pytest.approx(3.0)


@pytest.mark.parametrize("now", [1.5, 0.5])
def test_a_time_reference_is_not_gated_slower_or_faster(now: float) -> None:
    # Under the time signal the reference's samples are 1.0 by construction (a ratio to itself);
    # were they to move, nothing is gated: no change, tolerance or p is reported.
    base = _pass({REF: [1.0] * 3}, signal="time")
    cur = _pass({REF: [now] * 3}, signal="time")
    row = _row(base, cur, REF)
    assert row["figure"] == "(not gated)" and row["verdict"] == "ok"
    assert row["baseline"] == 1.0 and row["now"] == now
    assert row["change (%)"] is None and row["tolerance (%)"] is None and row["p"] is None


def test_a_time_ratio_is_gated() -> None:
    base = _pass({NET: [0.5] * 3}, signal="time")
    row = _row(base, _pass({NET: [0.6] * 3}, signal="time"))
    assert row["figure"] == f"ratio to {REF}" and row["verdict"] == "FAIL: slower"


def test_a_new_model_has_only_its_figure_and_verdict() -> None:
    table = compare(_pass({}), _pass({NET: [1.0]}), [NET])
    assert list(table.columns) == ["model", "figure", "verdict"]
    assert table.iloc[0].to_dict() == {
        "model": NET,
        "figure": f"ratio to {REF}",
        "verdict": "new (not gated)",
    }


def test_a_missing_model_fails_with_only_its_figure() -> None:
    table = compare(_pass({NET: [1.0]}), _pass({}), [NET])
    assert list(table.columns) == ["model", "figure", "verdict"]
    assert table.iloc[0].to_dict() == {
        "model": NET,
        "figure": f"ratio to {REF}",
        "verdict": "FAIL: missing",
    }


def test_the_figure_label_comes_from_the_pass_that_has_the_model() -> None:
    timed, counted = _pass({REF: [1.0]}, signal="time"), _pass({}, signal="instructions")
    assert _row(timed, counted, REF)["figure"] == "(not gated)"  # missing now: the baseline's
    assert _row(counted, timed, REF)["figure"] == "(not gated)"  # new: the current pass's
    both = _pass({REF: [1.0] * 3}, signal="instructions")
    assert _row(both, _pass({REF: [1.0] * 3}, signal="time"), REF)["figure"] == "(not gated)"


def test_rows_follow_the_names_and_only_those() -> None:
    base = _pass({REF: [1.0], NET: [1.0], "gone": [1.0]})
    cur = _pass({REF: [1.0], NET: [1.0], "new": [1.0]})
    table = compare(base, cur, [NET, "new", REF])
    assert list(table.model) == [NET, "new", REF]
    assert list(table.verdict) == ["ok", "new (not gated)", "ok"]


def test_a_baseline_without_samples_is_a_one_line_usage_error() -> None:
    with pytest.raises(GateError) as exc:
        compare(_pass({NET: []}), _pass({NET: [1.0]}), [NET])
    assert str(exc.value) == (
        "the baseline has no samples for net; re-baseline with `python -m bench.regression update`"
    )
    assert compare(_pass({NET: [1.0]}), _pass({NET: [1.0]}), [NET]).verdict.tolist() == ["ok"]


# ---------------------------------------------------------------- verdicts and their precedence


def test_unchanged_is_ok_and_faster_beyond_the_tolerance_asks_for_an_update() -> None:
    base = _pass({NET: [1.0] * 4})
    assert _verdict(base, _pass({NET: [1.0] * 4})) == "ok"
    assert _verdict(base, _pass({NET: [0.75] * 4}), tolerance=0.25) == "ok"  # exactly -25 %
    faster = _pass({NET: [0.7499999] * 4})
    assert _verdict(base, faster, tolerance=0.25) == "ok (faster: consider update)"
    assert _verdict(base, _pass({NET: [1.25] * 4}), tolerance=0.25) == "ok"  # exactly +25 %
    assert _verdict(base, _pass({NET: [1.2500001] * 4}), tolerance=0.25) == "FAIL: slower"


def test_a_given_tolerance_is_the_reported_one() -> None:
    row = _row(_pass({NET: [1.0] * 3}), _pass({NET: [1.1] * 3}), tolerance=0.2)
    assert row["tolerance (%)"] == pytest.approx(20.0) and row["verdict"] == "ok"


def test_the_baselines_floor_sets_the_tolerance() -> None:
    base = _pass({NET: [1.0] * 3}, floor=0.2)
    cur = _pass({NET: [1.1] * 3})  # its own floor is the default 3 %
    row = _row(base, cur)
    assert row["tolerance (%)"] == pytest.approx(20.0) and row["verdict"] == "ok"
    assert _verdict(_pass({NET: [1.0] * 3}), _pass({NET: [1.1] * 3}, floor=0.2)) == "FAIL: slower"


def test_the_baselines_alpha_decides_significance() -> None:
    # Noisy and completely separated, 3 + 3 samples: p = 1/20 exactly, under 0.06, over 0.01.
    noisy, slower = [1.0, 1.1, 1.2], [2.0, 2.1, 2.2]
    assert _verdict(_pass({NET: noisy}, alpha=0.06), _pass({NET: slower})) == "FAIL: slower"
    assert _verdict(_pass({NET: noisy}), _pass({NET: slower}, alpha=0.06)) == "ok"


def test_params_then_flops_then_ops_then_time() -> None:
    base = _pass({NET: [1.0] * 3})
    ops = {"conv2d": [4, 4096]}
    everything = _pass({NET: [2.0] * 3}, params=1001, flops=5001, signature=ops)
    assert _verdict(base, everything) == "FAIL: params 1000 -> 1001"
    assert _verdict(base, _pass({NET: [2.0] * 3}, flops=5001, signature=ops)) == (
        "FAIL: FLOPs 5000 -> 5001"
    )
    assert _verdict(base, _pass({NET: [2.0] * 3}, signature=ops)) == (
        "FAIL: ops changed (conv2d: calls 3 -> 4, bytes 4096 -> 4096)"
    )
    fewer = _pass({NET: [1.0] * 3}, params=999, flops=4999)
    assert _verdict(base, fewer) == "FAIL: params 1000 -> 999"
    assert _verdict(base, _pass({NET: [1.0] * 3}, flops=4999)) == "FAIL: FLOPs 5000 -> 4999"


def test_a_changed_count_fails_even_when_faster() -> None:
    base = _pass({NET: [1.0] * 3})
    assert _verdict(base, _pass({NET: [0.5] * 3}, params=999)) == "FAIL: params 1000 -> 999"


def _ops(n: int) -> dict[str, list[int]]:
    return {f"op{i}": [1, 8] for i in range(n)}


def test_the_ops_message_lists_three_differences_then_an_ellipsis() -> None:
    base = _pass({NET: [1.0]}, signature={})
    three = _verdict(base, _pass({NET: [1.0]}, signature=_ops(3)))
    assert three == (
        "FAIL: ops changed (op0: calls 0 -> 1, bytes 0 -> 8; op1: calls 0 -> 1, bytes 0 -> 8; "
        "op2: calls 0 -> 1, bytes 0 -> 8)"
    )
    four = _verdict(base, _pass({NET: [1.0]}, signature=_ops(4)))
    assert four == three.removesuffix(")") + "; ...)"
    assert _verdict(base, _pass({NET: [1.0]}, signature=_ops(9))) == four
    one = _verdict(base, _pass({NET: [1.0]}, signature=_ops(1)))
    assert one == "FAIL: ops changed (op0: calls 0 -> 1, bytes 0 -> 8)"


# ---------------------------------------------------------------- comparability and missing models


def test_every_setting_that_differs_is_named_then_the_fingerprint() -> None:
    base = _pass({}, fingerprint={"cpu": "Xeon", "torch": "2.14.1"})
    other = GateConfig(signal="time", reference="hourglass-2stack", input_size=(128, 64))
    assert comparable(base, other, {"cpu": "EPYC", "torch": "2.14.1"}) == [
        "signal: baseline 'instructions', now 'time'",
        f"reference: baseline {REF!r}, now 'hourglass-2stack'",
        "input size: baseline (64, 64), now (128, 64)",
        "cpu: 'Xeon' -> 'EPYC'",
    ]
    only_size = GateConfig(reference=REF, input_size=(64, 128))
    assert comparable(base, only_size, base.fingerprint) == [
        "input size: baseline (64, 64), now (64, 128)"
    ]


def test_same_settings_and_fingerprint_are_comparable() -> None:
    base = _pass({}, fingerprint={"cpu": "Xeon"})
    # repeats, floor and alpha are not part of what makes two passes comparable
    config = GateConfig(reference=REF, repeats=7, floor=0.1, alpha=0.05)
    assert comparable(base, config, {"cpu": "Xeon"}) == []
    require_comparable(base, config, {"cpu": "Xeon"}, "b.json")  # no error


def test_the_refusal_names_every_reason_and_both_ways_out() -> None:
    base = _pass({}, fingerprint={"cpu": "Xeon"})
    config = GateConfig(signal="time", reference=REF)
    with pytest.raises(NoComparableBaseline) as exc:
        require_comparable(base, config, {"cpu": "EPYC"}, "results/b.json")
    assert str(exc.value) == (
        "results/b.json was measured under another fingerprint or settings "
        "(signal: baseline 'instructions', now 'time'; cpu: 'Xeon' -> 'EPYC'); re-baseline on "
        "this machine with `python -m bench.regression update` and commit results/b.json, or "
        "compare with the baseline's commit measured here: "
        "`python -m bench.regression check --other-machine remeasure`"
    )


def test_missing_models_are_the_baselined_ones_no_longer_registered_in_baseline_order() -> None:
    base = _pass({"c": [1.0], "a": [1.0], "b": [1.0]})
    assert missing_models(base, ["b", "x"]) == ["c", "a"]
    assert missing_models(base, ["a", "b", "c"]) == []
    assert missing_models(base, []) == ["c", "a", "b"]
