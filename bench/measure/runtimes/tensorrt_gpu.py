"""``tensorrt``: Torch-TensorRT (dynamo frontend) on a GPU, fp32 and fp16 engines.

Optional: ``pip install 'gcpm-bench[gpu]'`` on a GPU machine. Build time is reported apart.
"""

from __future__ import annotations

import time

import torch

from bench.measure.runtimes.base import (
    TORCH_DTYPES,
    FinalHeatmaps,
    Prepared,
    Runtime,
    torch_prepared,
)


class TensorRT(Runtime):
    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
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
        return torch_prepared(engine, example, time.perf_counter() - started)


TENSORRT = TensorRT(
    "tensorrt",
    runs=("fp32", "fp16"),
    default=("fp32", "fp16"),
    device_type="cuda",
    module="torch_tensorrt",
    install="pip install 'gcpm-bench[gpu]' (torch-tensorrt)",
)
