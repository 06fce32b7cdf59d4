"""``--inject-slowdown``: parsing its amounts, and the work the wrappers add to a forward."""

from __future__ import annotations

import argparse

import pytest
import torch
from torch import nn

from bench.regression.slowdown import Burn, ExtraLayers, Slowdown, parse_slowdown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("net=+10%", ("net", Slowdown(percent=10.0))),
        ("net=3", ("net", Slowdown(layers=3))),
        ("net", ("net", Slowdown(layers=1))),
    ],
)
def test_amounts(text: str, expected: tuple) -> None:
    assert parse_slowdown(text) == expected
    assert parse_slowdown(f"net={expected[1].arg()}") == expected


@pytest.mark.parametrize("text", ["net=+10", "net=0", "net=+0%", "net=+2000%", "net=x%"])
def test_bad_amounts_name_the_option(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="--inject-slowdown"):
        parse_slowdown(text)


def test_the_wrappers_keep_the_models_output() -> None:
    model, x = nn.Conv2d(3, 4, 1).eval(), torch.randn(1, 3, 8, 8)
    with torch.inference_mode():
        expected = model(x)
        assert torch.equal(Burn(model, units=2)(x), expected)
        assert torch.equal(ExtraLayers(model, 2, in_channels=3)(x), expected)
