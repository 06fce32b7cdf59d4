"""A pose network of a few thousand parameters that keeps the model contract, for fast tests.

Output stride 8, 17 maps (16 LIP keypoints + background), two supervised stages. Register it from
a fixture (or, in a spawned worker process, from the worker), never at import: ``conftest.py``
restores the registry after every test and module.
"""

from __future__ import annotations

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


def register_tiny(name: str, input_size: tuple[int, int] = (64, 64)) -> str:
    """Register ``TinyPose`` under ``name`` unless it is there already; returns the name.

    Idempotent because a module-scoped fixture and a test may both ask for the same model.
    """
    if name not in list_models():
        info = ModelInfo(
            name=name,
            family="test",
            dataset="lip",
            input_size=input_size,
            output_stride=8,
            num_heatmaps=17,
        )
        register_model(info)(lambda **overrides: TinyPose())
    return name
