"""Parameter and fvcore FLOP counts of the model zoo and of the context modules (GCPM Tables 3-5).
fvcore counts a multiply-add as one FLOP, as the paper does (its 21.3 "GFLOPs" is fvcore's 21.335
G): columns say "1 MAC = 1 FLOP". What fvcore cannot count comes with the count."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import torch
from torch import nn

from architectures import create_model, list_models, model_info
from architectures.registry import PaperFigures, input_shape

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


@dataclass(frozen=True)
class Traced:
    """A model built once for a run and fvcore's analysis of its forward, every op kept: the
    complexity table and the layer profile both read it, and that forward was its first."""

    model: nn.Module
    analysis: FlopCountAnalysis


def trace(model: nn.Module, x: torch.Tensor) -> Traced:
    return Traced(model, flop_analysis(model, x, every_op=True))


def flop_report(module: nn.Module, analysis: FlopCountAnalysis, scope: str = "") -> FlopReport:
    """The count of ``analysis`` (of ``module``) in ``scope``; its skipped ops are those fvcore
    would list by default, also when the analysis kept every op."""
    from fvcore.nn.jit_analysis import _IGNORED_OPS  # its default list, skipped silently

    names = dict(module.named_modules())
    uncalled = tuple(sorted(analysis.uncalled_modules()))
    skipped = Counter(analysis.unsupported_ops(scope))
    return FlopReport(
        int(analysis.total(scope)),
        {op: n for op, n in skipped.items() if op not in _IGNORED_OPS},
        uncalled,
        sum(count_params(names[n], recurse=False) for n in uncalled),
    )


def count_flops(
    module: nn.Module, input_shape: Sequence[int], submodule: str | None = None
) -> FlopReport:
    """fvcore FLOPs of ``module`` (or of its ``submodule``, by qualified name) on a zero input."""
    if submodule is not None and submodule not in dict(module.named_modules()):
        raise KeyError(f"{type(module).__name__} has no submodule {submodule!r}")
    device = next(module.parameters(), torch.zeros(0)).device
    analysis = flop_analysis(module, torch.zeros(tuple(input_shape), device=device))
    return flop_report(module, analysis, submodule or "")  # fvcore names the whole module ""


def deviation_pct(measured: float | None, reference: float | None) -> float | None:
    """Signed deviation of ``measured`` from ``reference`` in percent; None if either is missing."""
    if measured is None or reference is None:
        return None
    return 100.0 * (measured - reference) / reference


def complexity_row(name: str, traced: Traced | None = None) -> dict[str, object]:
    """One row of :func:`complexity_table`: measured counts beside reference and paper figures;
    from ``traced`` (the model at its own input size) when given, else built and traced here."""
    info = model_info(name)
    if traced is None:
        model = create_model(name)
        flops = count_flops(model, input_shape(info))
    else:
        model, flops = traced.model, flop_report(traced.model, traced.analysis)
    params_m = count_params(model) / 1e6
    ours, ref = (params_m, flops.gflops), info.reference
    # the first paper row that reports a complexity figure; accuracy rows live in other tables
    row = next((r for r in info.paper_rows if r.params_m is not None or r.gflops is not None), None)
    return {
        "model": name,
        "family": info.family,
        "dataset": info.dataset,
        "input (HxW)": "x".join(map(str, info.input_size)),
        "heatmaps (HxW)": "x".join(map(str, info.heatmap_size)),
        "num heatmaps": info.num_heatmaps,
        "params": count_params(model),
        FLOPS_COLUMN: flops.total,
        "params (M)": round(params_m, 3),
        GFLOPS_COLUMN: round(flops.gflops, 3),
        **_beside("ref.", "ref. " + GFLOPS_COLUMN, ref and (ref.params_m, ref.gmacs), *ours),
        "ref. source": "" if ref is None else ref.source,
        **_beside("paper", "paper GFLOPs (as reported)", row and (row.params_m, row.gflops), *ours),
        "paper source": "" if row is None else row.source,
        "fvcore skipped ops": format_skipped(flops.skipped_ops),
        "params in never-called modules": flops.uncalled_params,
    }


def complexity_table(
    names: Sequence[str] | None = None, traced: Mapping[str, Traced] | None = None
) -> pd.DataFrame:
    """Params and GFLOPs of every registered model (or ``names``) at batch 1, counted now or read
    from ``traced``."""
    names = list_models() if names is None else names
    return pd.DataFrame([complexity_row(n, (traced or {}).get(n)) for n in names])


def format_skipped(skipped: dict[str, int]) -> str:
    """``"aten::add x12, aten::max_pool2d x4"``: fvcore's uncounted ops, most frequent first."""
    ops = sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{op} x{n}" for op, n in ops)


def _beside(who: str, gflops_column: str, figures, params_m: float, gflops: float) -> dict:
    """Reference ``figures`` (params M, GFLOPs) or None, and our deviation from them in %."""
    their_params, their_gflops = figures or (None, None)
    return {
        f"{who} params (M)": their_params,
        f"params vs {who} (%)": _rounded(deviation_pct(params_m, their_params)),
        gflops_column: their_gflops,
        f"GFLOPs vs {who} (%)": _rounded(deviation_pct(gflops, their_gflops)),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


# model whose refinement stages hold the module -> the paper's row of Table 3
TABLE3_ROWS: dict[str, PaperFigures] = {
    model: PaperFigures(3, label, params_m=params_m, gflops=gflops)
    for label, model, params_m, gflops in (
        ("ASPP", "gcpm-aspp", 9.52, 9.75),
        ("Pyramid pooling", "gcpm-ppm", 0.2, 0.07),
        ("U-shaped", "gcpm-ushaped", 6.44, 2.53),
    )
}


def context_module(model_name: str) -> tuple[nn.Module, tuple[int, int, int, int]]:
    """The context module of ``model_name``'s first refinement stage and the input it sees there:
    cat(backbone features, previous heatmaps), 145x32x32 for a 256x256 image."""
    model = create_model(model_name)
    stages = getattr(model, "refinement_stages", None)
    if not stages or isinstance(stages[0].context, nn.Identity):
        raise ValueError(f"model {model_name!r} has no context module in its refinement stages")
    module = stages[0].context
    height, width = model_info(model_name).heatmap_size
    return module, (1, module.in_channels, height, width)


def table3_row(model: str, paper: PaperFigures) -> dict[str, object]:
    module, shape = context_module(model)
    params_m, flops = count_params(module) / 1e6, count_flops(module, shape)
    return {
        "module": paper.row,
        "model": model,
        "input shape": "x".join(map(str, shape)),
        "params (M)": round(params_m, 3),
        "paper params (M)": paper.params_m,
        "params vs paper (%)": round(deviation_pct(params_m, paper.params_m), 2),
        GFLOPS_COLUMN: round(flops.gflops, 3),
        "paper GFLOPs": paper.gflops,
        "GFLOPs vs paper (%)": round(deviation_pct(flops.gflops, paper.gflops), 2),
        "fvcore skipped ops": format_skipped(flops.skipped_ops),
    }


def table3() -> pd.DataFrame:
    """GCPM Table 3: the context modules counted alone, beside the paper's figures."""
    return pd.DataFrame([table3_row(*row) for row in TABLE3_ROWS.items()])
