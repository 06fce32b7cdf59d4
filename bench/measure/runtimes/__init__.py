"""Deployment runtimes: the zoo in eager PyTorch, torch.compile, CUDA graphs, ONNX Runtime,
OpenVINO and TensorRT, each conversion validated against eager fp32, timed side by side.

Importing the package registers the adapters (as ``architectures`` registers models); the
runtime libraries themselves are imported only when an adapter is asked about or used.
"""

from bench.measure.runtimes import compiled, cuda_graphs, eager, onnxrt, openvino_cpu, tensorrt_gpu  # noqa: F401
from bench.measure.runtimes.base import (
    Prepared,
    Runtime,
    get_runtime,
    list_runtimes,
    parse_spec,
    register_runtime,
)

__all__ = ["Prepared", "Runtime", "get_runtime", "list_runtimes", "parse_spec", "register_runtime"]
