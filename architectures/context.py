"""Global context modules compared in GCPM (Osokin 2019, Sec. 4, Table 3).

Each sits at every refinement stage input (backbone 128 + heatmaps 17 = 145 channels at 32x32).

**U-shaped** (Fig. 9), as the author's gccpm ``UShapedContextBlock``: two stride-2 encoders, two
decoders concatenating the skip and the upsampled deeper map; 3x3 conv + BN + ReLU with bias.
At 1x145x32x32: 6,440,175 params, 2.522 GMAC (paper: 6.44 M, 2.53 G).

**ASPP** (paper: "original ASPP, 1024 intermediate channels, rates [3, 6, 9, 12]", 9.52 M /
9.75 G; code never published), read as DeepLab-v2's: per rate 3x3 dilated (in -> 1024) + ReLU,
1x1 (1024 -> 1024) + ReLU, 1x1 (1024 -> out), branches *summed*, no BN. At 32x32, in -> out:
128 -> 145 gives 9.516 M / 9.735 G (-0.04 % / -0.15 %), 145 -> 17 9.617 M / 9.840 G (+1.0 % /
+0.9 %), 145 -> 145 10.142 M / 10.377 G (+6.5 % / +6.4 %). We use 145 -> 17: the paper puts the
module at the stage input because "it works better if it sees refined heatmaps", which 128 -> 145
would never see, and DeepLab's ASPP ends in per-class maps (one per heatmap channel, 17).

**Pyramid pooling** (paper: pools w/2 .. w/16, 32-channel convs; 0.2 M / 0.07 G), PSPNet layout
(Zhao et al. 2017): adaptive average pools to 2, 4, 8, 16 bins, conv (in -> 32) + BN + ReLU per
branch, bilinear upsampling, concat with the input and a fusion conv. At 145x32x32 (branch /
fusion): 3x3 / 1x1 -> 145 0.207 M 0.056 G (chosen); 3x3 / 1x1 -> 128 0.203 M 0.051 G; 1x1 / 3x3
-> 32 0.098 M 0.083 G; 3x3 / 3x3 -> 32 0.246 M 0.095 G; 1x1 / none 0.019 M 0.002 G. None hits
both figures; the chosen one rounds to 0.2 M, keeps the stage width (145 in and out) and is the
closest on GFLOPs of those that round to 0.2 M (-20 % against +36 %).
"""

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
