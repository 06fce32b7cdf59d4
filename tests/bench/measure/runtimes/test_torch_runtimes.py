"""bench.measure.runtimes.torch_runtimes: eager, torch.compile (exercised with its "eager"
backend: graph capture and recompile guards without inductor's C++ build, minutes on 2 cores),
CUDA graph replay and Torch-TensorRT (GPU only)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.measure.runtimes.scoring import validate
from bench.measure.runtimes.torch_runtimes import CUDA_GRAPHS, EAGER, TENSORRT, Compiled
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


def test_compile_adapter_runs_and_a_recompile_while_timing_is_an_error():
    torch.manual_seed(0)
    model, x = TinyPose().eval(), torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        reference = model(x)[-1].numpy()
        prepared = Compiled(backend="eager").prepare(model, x, "fp32", 1)
        out = prepared.heatmaps(prepared.run())
        assert validate(reference, out, "fp32").passed and prepared.prepare_s > 0
        model.train()  # changes what the compiled graph was guarded on: forces a recompile
        with pytest.raises(Exception, match="(?i)recompil"):
            prepared.run()


def test_compile_has_no_int8():
    assert "runs fp32, bf16, fp16 only" in Compiled().unavailable_reason(
        torch.device("cpu"), "int8"
    )


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


def test_on_the_cpu_it_says_it_needs_cuda_and_which_precisions_it_builds():
    cpu = torch.device("cpu")
    assert "needs a CUDA device" in TENSORRT.unavailable_reason(cpu, "fp32")
    assert TENSORRT.unavailable_reason(cpu, "int8") == "tensorrt runs fp32, fp16 only"
