"""The PyTorch-side runtimes (docs/runtimes.md): ``eager`` (the paper's protocol; bf16 / fp16
through autocast), ``compile``, ``cuda-graphs`` and ``tensorrt`` (Torch-TensorRT, optional)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from bench.measure.runtimes.base import (
    TORCH_DTYPES,
    FinalHeatmaps,
    Prepared,
    Runtime,
    as_numpy,
    autocast,
    quiet_cpp_extension,
    torch_infer,
)

_WARM_CALLS = 3  # compile / cudnn autotuning / allocator growth settle before timing or capture


def _prepared(forward, example: torch.Tensor, prepare_s: float) -> Prepared:
    """A runtime whose ``forward`` takes a tensor and returns the final heatmaps."""
    return Prepared(
        lambda: forward(example), as_numpy, torch_infer(forward, example.device), prepare_s
    )


class Eager(Runtime):
    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
        def forward(x: torch.Tensor) -> torch.Tensor:
            with autocast(example.device, precision):
                return model(x)[-1]

        forward(example)  # probe: an autocast dtype this device lacks raises here, not in timing
        return _prepared(forward, example, 0.0)


@dataclass(frozen=True)
class Compiled(Runtime):
    name: str = "compile"
    backend: str = "inductor"  # "eager" captures graphs without code generation (tests)

    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
        import torch._dynamo

        quiet_cpp_extension()
        # One compiled callable per (model, precision): models of a family share a forward code
        # object, and each gets its own guarded cache entry there.
        compiled = torch.compile(model, backend=self.backend)
        started = time.perf_counter()
        with autocast(example.device, precision):
            for _ in range(_WARM_CALLS):
                compiled(example)
        compile_s = time.perf_counter() - started

        def forward(x: torch.Tensor) -> torch.Tensor:
            with (  # a recompile while timing would count a compile as a slow sample
                torch._dynamo.config.patch(error_on_recompile=True),
                autocast(example.device, precision),
            ):
                return compiled(x)[-1]

        return _prepared(forward, example, compile_s)


class CudaGraphs(Runtime):
    """One replay per timed call on a static input buffer; the output is read outside timing."""

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            return f"bf16 is not supported on {torch.cuda.get_device_name(device)}"
        return super().unavailable_reason(device, precision)

    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
        started = time.perf_counter()
        static_x = example.clone()
        side = torch.cuda.Stream(example.device)
        side.wait_stream(torch.cuda.current_stream(example.device))
        with torch.cuda.stream(side), autocast(example.device, precision):
            for _ in range(_WARM_CALLS):
                model(static_x)
        torch.cuda.current_stream(example.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), autocast(example.device, precision, cache=False):
            static_out = model(static_x)[-1]
        torch.cuda.synchronize(example.device)
        prepare_s = time.perf_counter() - started

        def run() -> torch.Tensor:
            graph.replay()
            return static_out

        def forward(x: torch.Tensor) -> torch.Tensor:
            static_x.copy_(x)
            return run().clone()

        return Prepared(run, as_numpy, torch_infer(forward, example.device), prepare_s)


@dataclass(frozen=True)
class TensorRT(Runtime):
    runs: tuple[str, ...] = ("fp32", "fp16")
    default: tuple[str, ...] = ("fp32", "fp16")
    device_type: str = "cuda"
    module: str = "torch_tensorrt"
    install: str = "pip install 'gcpm-bench[gpu]' (torch-tensorrt)"

    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
        import torch_tensorrt

        started = time.perf_counter()
        dtypes = {TORCH_DTYPES[precision]}
        final = FinalHeatmaps(model).eval()
        engine = torch_tensorrt.compile(
            final, ir="dynamo", inputs=[example], enabled_precisions=dtypes
        )
        engine(example)
        torch.cuda.synchronize(example.device)
        return _prepared(engine, example, time.perf_counter() - started)


EAGER = Eager("eager")
COMPILED = Compiled()
CUDA_GRAPHS = CudaGraphs("cuda-graphs", default=("fp32", "fp16"), device_type="cuda")
TENSORRT = TensorRT("tensorrt")
