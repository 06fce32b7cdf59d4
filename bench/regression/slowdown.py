"""Injected slowdowns, to see the gate fail: work added to one model's forward.

``NAME=+10%`` adds work calibrated to cost 10 % of the model's own forward *as the gate measures
it* (instructions under callgrind); ``NAME=LAYERS`` adds that many 64-channel
3x3 convolutions at input resolution. Outputs of the extra work are discarded.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Slowdown:
    percent: float | None = None
    layers: int | None = None

    def arg(self) -> str:
        """The ``--inject-slowdown`` amount that gives this slowdown back."""
        return f"+{self.percent:g}%" if self.percent is not None else str(self.layers)


def parse_slowdown(text: str) -> tuple[str, Slowdown]:
    """``NAME=+10%`` or ``NAME=LAYERS`` (``NAME`` alone: one layer)."""
    name, _, amount = text.partition("=")
    try:
        if amount.endswith("%"):
            percent = float(amount.rstrip("%"))
            if not 0 < percent <= 1000:
                raise ValueError
            return name, Slowdown(percent=percent)
        if amount and not amount.isdigit():  # "+10" without "%" is not 10 layers
            raise ValueError
        layers = int(amount or 1)
        if layers < 1:
            raise ValueError
        return name, Slowdown(layers=layers)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--inject-slowdown wants NAME=+PERCENT% (0 < PERCENT <= 1000) or NAME=LAYERS "
            f"(LAYERS >= 1), got {text!r}"
        ) from None


class Burn(nn.Module):
    """``model`` preceded by ``units`` fixed 3x3 convolutions on a 16x32x32 tensor."""

    def __init__(self, model: nn.Module, units: int = 0) -> None:
        super().__init__()
        self.model = model
        self.units = units
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("x", torch.randn(1, 16, 32, 32, generator=generator))
        self.register_buffer("w", torch.randn(16, 16, 3, 3, generator=generator))

    def unit(self) -> torch.Tensor:
        return F.conv2d(self.x, self.w, padding=1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        for _ in range(self.units):
            self.unit()
        return self.model(x)


class ExtraLayers(nn.Module):
    """``model`` preceded by ``layers`` 64-channel 3x3 convolutions at input resolution."""

    def __init__(self, model: nn.Module, layers: int, in_channels: int) -> None:
        super().__init__()
        self.model = model
        convs = [nn.Conv2d(in_channels, 64, 3, padding=1)]
        convs += [nn.Conv2d(64, 64, 3, padding=1) for _ in range(layers - 1)]
        self.extra = nn.Sequential(*convs)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        self.extra(x)
        return self.model(x)
