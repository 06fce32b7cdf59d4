"""The device's matmul peak per precision, measured in the same run as the latencies: the fastest
sample, 2 FLOPs per multiply-add; int8: ONNX Runtime's ``MatMulInteger`` (docs/runtimes.md)."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
import torch

from bench.measure.latency import TimingConfig, time_callable
from bench.measure.numerics import timing_numerics
from bench.measure.runtimes.base import TORCH_DTYPES, first_line, num_threads

PEAK_SIZE = 2048
Key = tuple[torch.device, str, int]  # device, precision, threads
PEAK_COLUMNS = ["device", "precision", "threads", "peak_gflops_per_s", "peak_reason"]


def matmul_peak(
    device: torch.device, precision: str, threads: int, config: TimingConfig, size: int = PEAK_SIZE
) -> float:
    """GFLOP/s of a ``size``^3 matmul; the fastest sample counts."""
    if precision == "int8":
        samples = int8_samples(device, threads, config, size)
    else:
        a, b = torch.randn(2, size, size, device=device).to(TORCH_DTYPES[precision])
        with num_threads(threads), torch.inference_mode(), timing_numerics("fp32", device):
            samples = time_callable(lambda: torch.mm(a, b), device, config)  # fp32 = no TF32
    return 2 * size**3 / (min(samples) / 1e3) / 1e9


def int8_samples(device: torch.device, threads: int, config: TimingConfig, size: int):
    """Samples (ms) of ONNX Runtime's int8 GEMM (uint8 x int8 -> int32) on the CPU."""
    if device.type != "cpu":
        raise ValueError(f"the int8 peak is measured on the CPU (this one is {device})")
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = rng.integers(-128, 128, (size, size), dtype=np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["y"])],
        "int8_peak",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [size, size])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [size, size])],
        [numpy_helper.from_array(weights, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    a = rng.integers(0, 256, (size, size), dtype=np.uint8)
    return time_callable(lambda: session.run(None, {"a": a}), device, config)


def measure_peaks(
    keys: Sequence[Key], ready: Collection[Key], config: TimingConfig, on_step=lambda *a: None
) -> pd.DataFrame:
    """The peak of each key in ``ready`` (a failure is its reason); one step per key of ``keys``."""
    rows = []
    for key in keys:
        device, precision, threads = key
        if key in ready:
            try:
                peak, reason = matmul_peak(device, precision, threads, config), ""
            except Exception as exc:  # noqa: BLE001 - a dtype without matmul support here
                peak, reason = math.nan, first_line(exc)
            rows.append(dict(zip(PEAK_COLUMNS, (str(device), precision, threads, peak, reason))))
        on_step("peak", precision, str(threads))
    return pd.DataFrame(rows, columns=PEAK_COLUMNS)
