"""bench.measure.runtimes.cuda_graphs: CUDA graph replay (GPU only)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.measure.runtimes.cuda_graphs import CUDA_GRAPHS
from tests.tiny_models import TinyPose


def test_on_the_cpu_it_says_it_needs_cuda():
    assert "needs a CUDA device" in CUDA_GRAPHS.unavailable_reason(torch.device("cpu"), "fp32")
    assert "runs fp32, bf16, fp16 only" in CUDA_GRAPHS.unavailable_reason(
        torch.device("cpu"), "int8"
    )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_replay_matches_eager_and_infer_copies_into_the_captured_input():
    device = torch.device("cuda")
    model = TinyPose().eval().to(device)
    x, y = torch.randn(1, 3, 64, 64, device=device), torch.randn(1, 3, 64, 64, device=device)
    with torch.inference_mode():
        prepared = CUDA_GRAPHS.prepare(model, x, "fp32", 1)
        ref = model(y)[-1].cpu().numpy()
        assert np.allclose(prepared.infer(y.cpu().numpy()), ref, atol=1e-4)
