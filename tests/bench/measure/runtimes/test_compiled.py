"""bench.measure.runtimes.compiled: torch.compile, exercised with its "eager" backend (graph
capture and recompile guards without inductor's C++ build, which takes minutes on 2 cores)."""

from __future__ import annotations

import pytest
import torch

from bench.measure.runtimes.compiled import Compiled
from bench.measure.runtimes.validate import validate
from tests.tiny_models import TinyPose


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
