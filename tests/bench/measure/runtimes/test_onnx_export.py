"""bench.measure.runtimes.onnx_export: one export per model and shape, quietly."""

from __future__ import annotations

import warnings

import onnx
import torch

from bench.measure.runtimes.onnx_export import INPUT_NAME, OUTPUT_NAME, export_onnx
from tests.tiny_models import TinyPose


class _Traced(TinyPose):
    """A forward with a Python branch on a tensor's value: the tracer warns about it."""

    def forward(self, x):
        if x.shape[-1] > int(torch.tensor(1)):
            return super().forward(x)
        return super().forward(x * 2)


def test_export_is_kept_for_the_same_model_and_shape_and_redone_for_another():
    model = TinyPose().eval()
    first = export_onnx(model, torch.randn(1, 3, 64, 64))
    assert export_onnx(model, torch.randn(1, 3, 64, 64)) is first
    assert export_onnx(model, torch.randn(1, 3, 128, 128)) is not first
    graph = onnx.load(str(export_onnx(model, torch.randn(1, 3, 64, 64)).path)).graph
    assert [i.name for i in graph.input] == [INPUT_NAME]
    assert [o.name for o in graph.output] == [OUTPUT_NAME]


def test_the_exporters_warnings_do_not_reach_the_user():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_onnx(_Traced().eval(), torch.randn(1, 3, 64, 64))
    assert [w.category.__name__ for w in caught] == []
