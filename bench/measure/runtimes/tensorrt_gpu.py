"""``tensorrt``: Torch-TensorRT (dynamo frontend) on a GPU, fp32 and fp16 engines.

Optional: ``pip install 'gcpm-bench[gpu]'`` on a GPU machine. Build time is reported apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from bench.measure.runtimes.base import (
    TORCH_DTYPES,
    FinalHeatmaps,
    Prepared,
    as_numpy,
    missing_module,
    needs_cuda,
    runs_only,
    torch_infer,
)


@dataclass(frozen=True)
class TensorRT:
    name: str = "tensorrt"
    gpu_only: bool = True

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        return ("fp32", "fp16")

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        return (
            runs_only(self.name, precision, self.precisions(device))
            or needs_cuda(device)
            or missing_module("torch_tensorrt", "pip install 'gcpm-bench[gpu]' (torch-tensorrt)")
        )

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        precision: str,
        threads: int,
        calibration=None,
    ) -> Prepared:
        import torch_tensorrt

        started = time.perf_counter()
        engine = torch_tensorrt.compile(
            FinalHeatmaps(model).eval(),
            ir="dynamo",
            inputs=[example],
            enabled_precisions={TORCH_DTYPES[precision]},
        )
        engine(example)
        torch.cuda.synchronize(example.device)
        return Prepared(
            lambda: engine(example),
            as_numpy,
            torch_infer(engine, example.device),
            time.perf_counter() - started,
        )


TENSORRT = TensorRT()
