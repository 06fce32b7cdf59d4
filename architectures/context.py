"""Global context modules compared in GCPM (Osokin 2019, Sec. 4, Table 3), each at every
refinement stage input (backbone 128 + heatmaps 17 = 145 channels at 32x32). How the unpublished
ASPP and pyramid-pooling designs were chosen, with their counts: docs/models.md."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import ActFactory, NormFactory, conv_norm_act


class UShapedContext(nn.Module):
    """Encoder-decoder context block of GCPM (Fig. 9); ``in_channels`` in and out."""

    def __init__(
        self, in_channels: int, norm: NormFactory = nn.BatchNorm2d, act: ActFactory = nn.ReLU
    ) -> None:
        super().__init__()
        c, w = in_channels, 2 * in_channels
        self.in_channels = self.out_channels = c

        def conv(cin: int, cout: int, stride: int = 1) -> nn.Module:
            return conv_norm_act(cin, cout, 3, stride=stride, norm=norm, act=act)

        self.encoder1 = nn.Sequential(conv(c, w, 2), conv(w, w))
        self.encoder2 = nn.Sequential(conv(w, w, 2), conv(w, w))
        self.decoder2 = nn.Sequential(conv(2 * w, w), conv(w, w))
        self.decoder1 = nn.Sequential(conv(c + w, w), conv(w, c))

    def forward(self, x: Tensor) -> Tensor:
        e1 = self.encoder1(x)
        e2 = self.encoder2(e1)
        d2 = self.decoder2(torch.cat([e1, _upsample_to(e2, e1)], dim=1))
        return self.decoder1(torch.cat([x, _upsample_to(d2, x)], dim=1))


class ASPP(nn.Module):
    """DeepLab-v2 atrous spatial pyramid pooling: dilated branches whose outputs are summed."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        mid_channels: int = 1024,
        rates: Sequence[int] = (3, 6, 9, 12),
        act: ActFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.branches = nn.ModuleList(
            nn.Sequential(
                conv_norm_act(in_channels, mid_channels, 3, dilation=rate, norm=None, act=act),
                conv_norm_act(mid_channels, mid_channels, 1, norm=None, act=act),
                nn.Conv2d(mid_channels, out_channels, 1),
            )
            for rate in rates
        )

    def forward(self, x: Tensor) -> Tensor:
        out = self.branches[0](x)
        for branch in self.branches[1:]:
            out = out + branch(x)
        return out


class PyramidPooling(nn.Module):
    """PSPNet pyramid pooling; ``out_channels`` defaults to ``in_channels`` (width-preserving)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        branch_channels: int = 32,
        bins: Sequence[int] = (2, 4, 8, 16),
        branch_kernel: int = 3,
        norm: NormFactory = nn.BatchNorm2d,
        act: ActFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = in_channels if out_channels is None else out_channels
        self.branches = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(bin_size),
                conv_norm_act(in_channels, branch_channels, branch_kernel, norm=norm, act=act),
            )
            for bin_size in bins
        )
        fused = in_channels + branch_channels * len(bins)
        self.fusion = conv_norm_act(fused, self.out_channels, 1, norm=norm, act=act)

    def forward(self, x: Tensor) -> Tensor:
        pooled = [_upsample_to(branch(x), x) for branch in self.branches]
        return self.fusion(torch.cat([x, *pooled], dim=1))


def _upsample_to(x: Tensor, like: Tensor) -> Tensor:
    # Upsample to the skip's exact size, so odd map sizes still line up.
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)
