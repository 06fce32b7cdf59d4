"""bench.measure.runtimes.eager: plain PyTorch, the reference every other row is checked with."""

from __future__ import annotations

import numpy as np
import torch

from bench.measure.runtimes.eager import EAGER
from tests.tiny_models import TinyPose

CPU = torch.device("cpu")


def test_eager_runs_the_bound_input_and_infers_others():
    model = TinyPose().eval()
    x, y = torch.randn(1, 3, 64, 64), torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        prepared = EAGER.prepare(model, x, "fp32", 1)
        assert np.array_equal(prepared.heatmaps(prepared.run()), model(x)[-1].numpy())
        assert np.array_equal(prepared.infer(y.numpy()), model(y)[-1].numpy())


def test_eager_has_no_int8():
    assert EAGER.unavailable_reason(CPU, "int8") == "eager runs fp32, bf16, fp16 only"
    assert EAGER.unavailable_reason(CPU, "bf16") == ""
