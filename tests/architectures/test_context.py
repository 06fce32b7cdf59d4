"""GCPM's context modules (Osokin 2019, Sec. 3.1): each keeps the spatial size of its input."""

from __future__ import annotations

import pytest
import torch

from architectures.context import ASPP, PyramidPooling, UShapedContext


@pytest.mark.parametrize(
    ("module", "out_channels"),
    [
        (UShapedContext(8), 8),
        (PyramidPooling(8, branch_channels=4, bins=(2, 4)), 8),
        (PyramidPooling(8, 5, branch_channels=4, bins=(2, 4)), 5),
        (ASPP(8, 3, mid_channels=4), 3),
    ],
    ids=["ushaped", "ppm", "ppm-projected", "aspp"],
)
def test_output_keeps_the_size_and_has_the_declared_width(module, out_channels: int) -> None:
    # 12 x 20: odd halvings inside the U-block and pooling bins larger than a side
    out = module.eval()(torch.randn(1, 8, 12, 20))
    assert out.shape == (1, out_channels, 12, 20)
    assert torch.isfinite(out).all()
