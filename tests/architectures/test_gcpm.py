"""GCPM (Osokin 2019): the context module, norm and activation are swappable callables."""

from __future__ import annotations

from functools import partial

import pytest
import torch
from torch import nn

from architectures.context import ASPP, PyramidPooling, UShapedContext
from architectures.gcpm import GCPM

pytestmark = pytest.mark.usefixtures("torch_single_thread")


@pytest.mark.parametrize(
    "context", [UShapedContext, PyramidPooling, lambda c: ASPP(c, 17, mid_channels=8)]
)
@pytest.mark.parametrize("position", ["stage", "backbone"])
def test_context_module_is_swappable(context, position: str) -> None:
    model = GCPM(num_refinement_stages=1, context=context, context_position=position)
    modules = list(model.modules())
    assert any(isinstance(m, (UShapedContext, PyramidPooling, ASPP)) for m in modules)
    assert model(torch.zeros(1, 3, 64, 64))[-1].shape == (1, 17, 8, 8)


def test_norm_and_activation_are_swappable() -> None:
    # The context factory only gets the width; it takes its own norm through partial.
    norm = partial(nn.GroupNorm, 1)
    model = GCPM(
        num_refinement_stages=1,
        context=partial(UShapedContext, norm=norm, act=nn.SiLU),
        norm=norm,
        act=nn.SiLU,
    )
    kinds = {type(m) for m in model.modules()}
    assert nn.GroupNorm in kinds and nn.SiLU in kinds
    assert nn.BatchNorm2d not in kinds and nn.ReLU not in kinds
    assert torch.isfinite(model(torch.randn(1, 3, 64, 64))[-1]).all()


def test_a_context_position_that_does_not_exist_is_named() -> None:
    with pytest.raises(ValueError, match="context_position"):
        GCPM(context=UShapedContext, context_position="middle")
