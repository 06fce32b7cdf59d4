"""Parameter and fvcore FLOP counts of the model zoo, as the GCPM paper reports them (Tables 3-5).

fvcore counts one multiply-add as one FLOP, as the paper does (its 21.3 "GFLOPs" is fvcore's
21.335 G), so every such column says "1 MAC = 1 FLOP". Ops fvcore cannot count and modules never
called are returned with the count, never silently dropped.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import torch
from torch import nn

from architectures import create_model, list_models, model_info
from architectures.registry import ModelInfo, input_shape

if TYPE_CHECKING:
    from fvcore.nn import FlopCountAnalysis

GFLOPS_COLUMN = "GFLOPs (1 MAC = 1 FLOP)"
FLOPS_COLUMN = "FLOPs (1 MAC = 1 FLOP)"


@dataclass(frozen=True)
class FlopReport:
    """fvcore's count for one module at one input shape, with what it could not count."""

    total: int  # 1 multiply-add = 1 FLOP
    skipped_ops: dict[str, int]  # op name -> occurrences fvcore skipped (not counted)
    uncalled_modules: tuple[str, ...]  # as fvcore sees them: parameter-free ones included
    uncalled_params: int  # parameters owned by never-called modules: "used" params = total - this

    @property
    def gflops(self) -> float:
        return self.total / 1e9


def count_params(module: nn.Module, recurse: bool = True) -> int:
    """Number of parameter elements (every parameter, trainable or not)."""
    return sum(p.numel() for p in module.parameters(recurse=recurse))


def flop_analysis(module: nn.Module, x: torch.Tensor, every_op: bool = False) -> FlopCountAnalysis:
    """fvcore's analysis of ``module(x)`` in eval mode, traced now, silently: what it cannot count
    is in ``unsupported_ops`` (with ``every_op`` also what it skips by default: cat, clamp...)."""
    was_training = module.training  # fvcore counts BatchNorm differently in training mode
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # fvcore warns at import, the tracer while tracing
            from fvcore.nn import FlopCountAnalysis

            analysis = FlopCountAnalysis(module.eval(), x).unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            if every_op:
                analysis._ignored_ops.clear()  # no public way to forget fvcore's default list
            analysis.total()  # trace now; later queries read the cached result
    finally:
        module.train(was_training)
    return analysis


def count_flops(
    module: nn.Module, input_shape: Sequence[int], submodule: str | None = None
) -> FlopReport:
    """fvcore FLOPs of ``module`` (or of its ``submodule``, by qualified name) on a zero input."""
    names = dict(module.named_modules())
    if submodule is not None and submodule not in names:
        raise KeyError(f"{type(module).__name__} has no submodule {submodule!r}")
    device = next(module.parameters(), torch.zeros(0)).device
    analysis = flop_analysis(module, torch.zeros(tuple(input_shape), device=device))
    scope = submodule or ""  # fvcore names the whole module ""
    uncalled = tuple(sorted(analysis.uncalled_modules()))
    return FlopReport(
        int(analysis.total(scope)),
        dict(Counter(analysis.unsupported_ops(scope))),
        uncalled,
        sum(count_params(names[n], recurse=False) for n in uncalled),
    )


def deviation_pct(measured: float | None, reference: float | None) -> float | None:
    """Signed deviation of ``measured`` from ``reference`` in percent; None if either is missing."""
    if measured is None or reference is None:
        return None
    return 100.0 * (measured - reference) / reference


def complexity_row(name: str) -> dict[str, object]:
    """One row of :func:`complexity_table`: measured counts beside reference and paper figures."""
    info = model_info(name)
    model = create_model(name)
    params_m = count_params(model) / 1e6
    flops = count_flops(model, input_shape(info))
    return {
        "model": name,
        "family": info.family,
        "dataset": info.dataset,
        "input (HxW)": _size(info.input_size),
        "heatmaps (HxW)": _size(info.heatmap_size),
        "num heatmaps": info.num_heatmaps,
        "params": count_params(model),
        FLOPS_COLUMN: flops.total,
        "params (M)": round(params_m, 3),
        GFLOPS_COLUMN: round(flops.gflops, 3),
        **_reference_columns(info, params_m, flops.gflops),
        **_paper_columns(info, params_m, flops.gflops),
        "fvcore skipped ops": format_skipped(flops.skipped_ops),
        "params in never-called modules": flops.uncalled_params,
    }


def complexity_table(names: Sequence[str] | None = None) -> pd.DataFrame:
    """Params and GFLOPs of every registered model (or ``names``), counted now, at batch 1."""
    names = list_models() if names is None else list(names)
    return pd.DataFrame([complexity_row(name) for name in names])


def format_skipped(skipped: dict[str, int]) -> str:
    """``"aten::add x12, aten::max_pool2d x4"``: fvcore's uncounted ops, most frequent first."""
    return ", ".join(
        f"{op} x{n}" for op, n in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _reference_columns(info: ModelInfo, params_m: float, gflops: float) -> dict[str, object]:
    ref = info.reference
    return {
        "ref. params (M)": None if ref is None else ref.params_m,
        "params vs ref. (%)": _rounded(deviation_pct(params_m, ref and ref.params_m)),
        "ref. " + GFLOPS_COLUMN: None if ref is None else ref.gmacs,
        "GFLOPs vs ref. (%)": _rounded(deviation_pct(gflops, ref and ref.gmacs)),
        "ref. source": "" if ref is None else ref.source,
    }


def _paper_columns(info: ModelInfo, params_m: float, gflops: float) -> dict[str, object]:
    # The first paper row that reports a complexity figure; accuracy rows live in other tables.
    row = next((r for r in info.paper_rows if r.params_m is not None or r.gflops is not None), None)
    return {
        "paper params (M)": None if row is None else row.params_m,
        "params vs paper (%)": _rounded(deviation_pct(params_m, row and row.params_m)),
        "paper GFLOPs (as reported)": None if row is None else row.gflops,
        "GFLOPs vs paper (%)": _rounded(deviation_pct(gflops, row and row.gflops)),
        "paper source": "" if row is None else row.source,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _size(hw: tuple[int, int]) -> str:
    return f"{hw[0]}x{hw[1]}"
