"""The regression gate's comparison: each verdict and its precedence, the report's columns, the
fixed tolerance (the baseline's, or the one given), comparability reasons, the refusal message
and the models a baseline has that no longer exist. Passes are fabricated: no model runs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.regression.gate import (
    comparable,
    compare,
    differences,
    missing_models,
    require_comparable,
    signature_diff,
)
from bench.regression.model import GateConfig, GateError, ModelFigures, NoComparableBaseline, Pass
from bench.regression.worker import op_signature

REF, NET = "ref", "net"
SIG = {"conv2d": [3, 4096]}
COLUMNS = ["model", "figure", "baseline", "now", "change (%)", "tolerance (%)", "verdict"]


def _pass(
    samples: dict[str, list[float]],
    *,
    tolerance: float = 0.03,
    params: int = 1000,
    flops: int = 5000,
    signature: dict[str, list[int]] | None = None,
    fingerprint: dict | None = None,
) -> Pass:
    config = GateConfig(reference=REF, tolerance=tolerance)
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


def test_a_gated_row_has_the_medians_the_change_and_the_tolerance() -> None:
    row = _row(_pass({NET: [0.5, 0.5, 0.7]}), _pass({NET: [0.55, 0.6, 0.4]}))
    assert list(row) == COLUMNS
    assert row["figure"] == f"ratio to {REF}"
    assert (row["baseline"], row["now"]) == (0.5, 0.55)
    assert row["change (%)"] == pytest.approx(10)
    assert row["tolerance (%)"] == pytest.approx(3)
    assert row["verdict"] == "FAIL: slower"


def test_the_reference_is_gated_on_its_instruction_count() -> None:
    row = _row(_pass({REF: [1e9] * 3}), _pass({REF: [1.1e9] * 3}), name=REF)
    assert row["figure"] == "instructions" and row["verdict"] == "FAIL: slower"


def test_exactly_at_the_tolerance_passes_and_beyond_it_fails_either_way() -> None:
    base = _pass({NET: [1.0] * 3}, tolerance=0.25)  # binary fractions: exact changes
    assert _verdict(base, _pass({NET: [1.25] * 3})) == "ok"
    assert _verdict(base, _pass({NET: [1.2501] * 3})) == "FAIL: slower"
    assert _verdict(base, _pass({NET: [0.75] * 3})) == "ok"
    assert _verdict(base, _pass({NET: [0.7499] * 3})) == "ok (faster: consider update)"


def test_the_baselines_tolerance_decides_unless_one_is_given() -> None:
    base, slower = _pass({NET: [1.0] * 3}, tolerance=0.2), _pass({NET: [1.1] * 3})
    assert _verdict(base, slower) == "ok"
    assert _verdict(base, slower, tolerance=0.05) == "FAIL: slower"
    assert _row(base, slower, tolerance=0.05)["tolerance (%)"] == pytest.approx(5)


def test_new_and_missing_models_have_only_their_figure_and_verdict() -> None:
    new = _row(_pass({}), _pass({NET: [1.0]}))
    assert new == {"model": NET, "figure": f"ratio to {REF}", "verdict": "new (not gated)"}
    gone = _row(_pass({NET: [1.0]}), _pass({}))
    assert gone == {"model": NET, "figure": f"ratio to {REF}", "verdict": "FAIL: missing"}


def test_rows_follow_the_names_and_only_those() -> None:
    both = _pass({REF: [1.0], NET: [1.0], "other": [1.0]})
    assert list(compare(both, both, [NET, REF]).model) == [NET, REF]


def test_a_baseline_without_samples_is_a_one_line_usage_error() -> None:
    with pytest.raises(GateError, match=f"no samples for {NET}"):
        compare(_pass({NET: []}), _pass({NET: [1.0]}), [NET])


class _Net(nn.Module):
    def __init__(self, extra: str = "") -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.extra = extra

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = self.conv(x)
        if self.extra == "contiguous":
            y = y.transpose(2, 3).contiguous().transpose(2, 3)
        elif self.extra == "cat":
            y = torch.cat([y, y], 1)[:, :8]
        elif self.extra == "copy":
            y = y.clone()
        return [torch.relu(y)]


@pytest.mark.parametrize("extra", ["contiguous", "cat", "copy"])
def test_a_flop_neutral_change_fails_on_the_ops(extra: str) -> None:
    x = torch.randn(1, 3, 16, 16)
    plain, changed = op_signature(_Net(), x), op_signature(_Net(extra), x)
    verdict = _verdict(_pass({NET: [1.0]}, signature=plain), _pass({NET: [1.0]}, signature=changed))
    assert verdict.startswith("FAIL: ops changed")


def test_params_then_flops_then_ops_then_instructions() -> None:
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
    other = GateConfig(reference="hourglass-2stack", input_size=(128, 64))
    assert comparable(base, other, {"cpu": "EPYC", "torch": "2.14.1"}) == [
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
    # repeats and tolerance are not part of what makes two passes comparable
    config = GateConfig(reference=REF, repeats=7, tolerance=0.1)
    assert comparable(base, config, {"cpu": "Xeon"}) == []
    require_comparable(base, config, {"cpu": "Xeon"}, "b.json")  # no error


def test_the_refusal_names_every_reason_and_both_ways_out() -> None:
    base = _pass({}, fingerprint={"cpu": "Xeon"})
    config = GateConfig(reference=REF, input_size=(128, 64))
    with pytest.raises(NoComparableBaseline) as exc:
        require_comparable(base, config, {"cpu": "EPYC"}, "results/b.json")
    assert str(exc.value) == (
        "results/b.json was measured under another fingerprint or settings "
        "(input size: baseline (64, 64), now (128, 64); cpu: 'Xeon' -> 'EPYC'); re-baseline on "
        "this machine with `python -m bench.regression update` and commit results/b.json, or "
        "compare with the baseline's commit measured here: "
        "`python -m bench.regression check --other-machine remeasure`"
    )


def test_missing_models_are_the_baselined_ones_no_longer_registered_in_baseline_order() -> None:
    base = _pass({"c": [1.0], "a": [1.0], "b": [1.0]})
    assert missing_models(base, ["b", "x"]) == ["c", "a"]
    assert missing_models(base, ["a", "b", "c"]) == []
    assert missing_models(base, []) == ["c", "a", "b"]


def test_no_difference_between_equal_signatures() -> None:
    assert signature_diff({"a": [1, 2]}, {"a": [1, 2]}) == []
    assert signature_diff({"a": [1, 2]}, {}) == ["a: calls 1 -> 0, bytes 2 -> 0"]


def test_differences_per_key_sorted_with_flags_as_missing_and_extra() -> None:
    base = {"torch": "2.14.1", "isa": ["amx_bf16", "avx2", "avx512f"], "cpu": "Xeon", "threads": 1}
    now = {"torch": "2.11.0", "isa": ["avx2", "fma", "avx_vnni"], "cpu": "Xeon", "extra": 1}
    assert differences(base, now) == [
        "extra: None -> 1",
        "isa: missing amx_bf16 avx512f, extra avx_vnni fma",
        "threads: 1 -> None",
        "torch: '2.14.1' -> '2.11.0'",
    ]


def test_flags_only_added_or_only_removed_use_a_dash() -> None:
    assert differences({"isa": ["avx2"]}, {"isa": ["avx2", "fma"]}) == ["isa: missing -, extra fma"]
    assert differences({"isa": ["avx2", "fma"]}, {"isa": ["avx2"]}) == ["isa: missing fma, extra -"]


def test_a_list_against_a_non_list_is_shown_whole() -> None:
    assert differences({"isa": ["avx2"]}, {"isa": "avx2"}) == ["isa: ['avx2'] -> 'avx2'"]
    assert differences({"isa": "avx2"}, {"isa": ["avx2"]}) == ["isa: 'avx2' -> ['avx2']"]


def test_equal_records_and_reordered_flags_do_not_differ() -> None:
    assert differences({"cpu": "Xeon", "isa": ["a"]}, {"isa": ["a"], "cpu": "Xeon"}) == []
    # Flags are a set: a baseline whose list was reordered by hand is still comparable (it was
    # refused as "isa: missing -, extra -" before).
    assert differences({"isa": ["a", "b"]}, {"isa": ["b", "a"]}) == []
    assert differences({}, {}) == []
