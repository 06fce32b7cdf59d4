"""GCPM Table 3 (Osokin 2019): complexity of the global context modules, beside the paper's.

Each module is counted alone, from its model's first refinement stage, at the input it sees
there: cat(backbone features, previous heatmaps), 145x32x32 for a 256x256 image.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from torch import nn

from architectures import create_model, model_info
from architectures.registry import PaperFigures
from bench.measure.complexity import (
    GFLOPS_COLUMN,
    count_flops,
    count_params,
    deviation_pct,
    format_skipped,
)


@dataclass(frozen=True)
class Table3Row:
    module: str  # the row label of the paper's table
    model: str  # registered model whose refinement stages hold the module
    paper: PaperFigures


TABLE3_ROWS: tuple[Table3Row, ...] = tuple(
    Table3Row(label, model, PaperFigures(3, label, params_m=params_m, gflops=gflops))
    for label, model, params_m, gflops in (
        ("ASPP", "gcpm-aspp", 9.52, 9.75),
        ("Pyramid pooling", "gcpm-ppm", 0.2, 0.07),
        ("U-shaped", "gcpm-ushaped", 6.44, 2.53),
    )
)


def context_module(model_name: str) -> tuple[nn.Module, tuple[int, int, int, int]]:
    """The context module of ``model_name``'s first refinement stage and its input shape."""
    model = create_model(model_name)
    stages = getattr(model, "refinement_stages", None)
    if not stages or isinstance(stages[0].context, nn.Identity):
        raise ValueError(f"model {model_name!r} has no context module in its refinement stages")
    module = stages[0].context
    height, width = model_info(model_name).heatmap_size
    return module, (1, module.in_channels, height, width)


def table3_row(row: Table3Row) -> dict[str, object]:
    module, shape = context_module(row.model)
    params_m = count_params(module) / 1e6
    flops = count_flops(module, shape)
    return {
        "module": row.module,
        "model": row.model,
        "input shape": "x".join(str(d) for d in shape),
        "params (M)": round(params_m, 3),
        "paper params (M)": row.paper.params_m,
        "params vs paper (%)": round(deviation_pct(params_m, row.paper.params_m), 2),
        GFLOPS_COLUMN: round(flops.gflops, 3),
        "paper GFLOPs": row.paper.gflops,
        "GFLOPs vs paper (%)": round(deviation_pct(flops.gflops, row.paper.gflops), 2),
        "fvcore skipped ops": format_skipped(flops.skipped_ops),
    }


def table3() -> pd.DataFrame:
    """Rows ASPP / Pyramid pooling / U-shaped: params and GFLOPs, measured and the paper's."""
    return pd.DataFrame([table3_row(row) for row in TABLE3_ROWS])
