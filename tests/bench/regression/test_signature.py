"""The exact op signature: deterministic, and FLOP-neutral changes show in it."""

from __future__ import annotations

import torch
from torch import nn

from bench.regression.signature import op_signature, signature_diff


class _Net(nn.Module):
    def __init__(self, copy: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.copy = copy

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = self.conv(x)
        return [torch.relu(y.clone() if self.copy else y)]


def test_the_signature_counts_calls_and_bytes_written() -> None:
    x = torch.randn(1, 3, 16, 16)
    plain = op_signature(_Net(), x)
    assert plain == op_signature(_Net(), x)
    assert plain["conv2d"] == [1, 8 * 16 * 16 * 4] and list(plain) == sorted(plain)
    assert signature_diff(plain, op_signature(_Net(copy=True), x)) == [
        f"clone: calls 0 -> 1, bytes 0 -> {8 * 16 * 16 * 4}"
    ]


def test_no_difference_between_equal_signatures() -> None:
    assert signature_diff({"a": [1, 2]}, {"a": [1, 2]}) == []
    assert signature_diff({"a": [1, 2]}, {}) == ["a: calls 1 -> 0, bytes 2 -> 0"]
