"""Blocks shared by the families: conv-norm-act (torchvision's ``Conv2dNormActivation``; GCPM's
``conv``), the MobileNet v1 depthwise-separable block (GCPM's ``conv_dw``) and Newell's
pre-activation residual (``Residual.lua``). Norm and activation are callables a variant can swap.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn
from torchvision.ops import Conv2dNormActivation

NormFactory = Callable[[int], nn.Module]
ActFactory = Callable[[], nn.Module]


def conv_norm_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    *,
    stride: int = 1,
    dilation: int = 1,
    groups: int = 1,
    norm: NormFactory | None = nn.BatchNorm2d,
    act: ActFactory | None = nn.ReLU,
    bias: bool = True,
) -> nn.Sequential:
    """Conv ("same" padding for odd kernels) -> norm -> activation.

    ``bias`` stays on with a norm layer, as the GCPM and hourglass reference code (and so the
    pinned parameter counts) have it.
    """
    return Conv2dNormActivation(
        in_channels,
        out_channels,
        kernel_size,
        stride,
        groups=groups,
        norm_layer=norm,
        activation_layer=act,
        dilation=dilation,
        inplace=None,  # call act() with no arguments, so any activation factory fits
        bias=bias,
    )


def depthwise_separable(
    in_channels: int,
    out_channels: int,
    *,
    stride: int = 1,
    dilation: int = 1,
    norm: NormFactory = nn.BatchNorm2d,
    act: ActFactory = nn.ReLU,
) -> nn.Sequential:
    """Depthwise 3x3 -> norm -> act -> pointwise 1x1 -> norm -> act, both convs without bias."""
    common = {"norm": norm, "act": act, "bias": False}
    depthwise = conv_norm_act(
        in_channels, in_channels, 3, stride=stride, dilation=dilation, groups=in_channels, **common
    )
    return nn.Sequential(depthwise, conv_norm_act(in_channels, out_channels, 1, **common))


class PreActBottleneck(nn.Module):
    """Newell's residual module: (norm-act-conv) x3 with widths in -> out/2 -> out/2 -> out; the
    skip is a 1x1 convolution only where the widths differ (an unused one would inflate counts)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        norm: NormFactory = nn.BatchNorm2d,
        act: ActFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        mid = out_channels // 2
        self.body = nn.Sequential(
            norm(in_channels),
            act(),
            nn.Conv2d(in_channels, mid, 1),
            norm(mid),
            act(),
            nn.Conv2d(mid, mid, 3, padding=1),
            norm(mid),
            act(),
            nn.Conv2d(mid, out_channels, 1),
        )
        self.skip = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Conv2d(in_channels, out_channels, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.skip(x)
