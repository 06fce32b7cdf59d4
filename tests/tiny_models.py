"""Tiny models that keep the model contract, for fast tests, and the one way tests register them.

``TinyPose``: a few thousand parameters, output stride 8, 17 maps (16 LIP keypoints +
background), two supervised stages. ``OneConv``: a single convolution. Register from a fixture
(or, in a spawned worker process, from the worker) with :func:`register_test_model` /
:func:`register_tiny`, never at import: ``conftest.py`` restores the registry after every test and
module. Tests of registration itself (which module registered a model, the decorator) register in
their own module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from architectures import ModelInfo, list_models, register_model


class TinyPose(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.stage1 = nn.Conv2d(16, 17, 1)
        self.stage2 = nn.Conv2d(16 + 17, 17, 3, padding=1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = self.stem(x)
        first = self.stage1(features)
        return [first, self.stage2(torch.cat([features, first], dim=1))]


class OneConv(nn.Module):
    """One convolution whose output is the only stage: the smallest model that keeps the contract
    (``maps`` heatmaps at stride ``stride``)."""

    def __init__(self, maps: int, kernel: int = 3, stride: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, maps, kernel, stride=stride, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.conv(x)]


def register_test_model(
    name: str,
    build: Callable[[], nn.Module],
    *,
    family: str = "test",
    dataset: str = "lip",
    input_size: tuple[int, int] = (64, 64),
    output_stride: int = 8,
    num_heatmaps: int = 17,
    **facts: Any,
) -> str:
    """Register ``build()`` under ``name`` with these facts (``facts``: ``paper`` and other
    :class:`ModelInfo` fields) unless the name is taken; returns the name.

    Idempotent because a module-scoped fixture and a test may both ask for the same model.
    """
    if name not in list_models():
        info = ModelInfo(
            name=name,
            family=family,
            dataset=dataset,
            input_size=input_size,
            output_stride=output_stride,
            num_heatmaps=num_heatmaps,
            **facts,
        )
        register_model(info)(lambda **overrides: build())
    return name


def register_tiny(name: str, input_size: tuple[int, int] = (64, 64)) -> str:
    """Register ``TinyPose`` under ``name`` (stride 8, 17 maps) unless it is there already."""
    return register_test_model(name, TinyPose, input_size=input_size)
