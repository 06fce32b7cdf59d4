"""Stacked hourglass (Newell et al., ECCV'16) and the FPD student (Zhang et al., CVPR'19).

Newell's layout (``pose-hg-train`` ``hg.lua``): stem widths ``(64, 128, 128)``, 256 channels. The
FPD student as the official FPD code builds it (bearpaw's hourglass, ``NUM_FEATURES=128``): the
bearpaw stem ``(64, 128, 256)`` halved to ``(32, 64, 128)``, 128 channels, 4 stacks.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch.nn.functional as F
from torch import Tensor, nn

from .layers import ActFactory, NormFactory, PreActBottleneck, conv_norm_act
from .registry import ModelInfo, PaperFigures, ReferenceCounts, build_variant, register_model

BlockFactory = Callable[[int, int], nn.Module]


class Hourglass(nn.Module):
    """Recursive hourglass of ``depth`` downsamplings; nearest-neighbour upsampling, as Newell."""

    def __init__(self, depth: int, channels: int, block: BlockFactory) -> None:
        super().__init__()
        self.up1 = block(channels, channels)
        self.low1 = nn.Sequential(nn.MaxPool2d(2), block(channels, channels))
        self.low2 = (
            Hourglass(depth - 1, channels, block) if depth > 1 else block(channels, channels)
        )
        self.low3 = block(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        low = self.low3(self.low2(self.low1(x)))
        return self.up1(x) + F.interpolate(low, scale_factor=2, mode="nearest")


class StackedHourglass(nn.Module):
    """Stacked hourglass network with intermediate supervision (one output per stack).

    ``stem_widths``: the 7x7 conv, the residual before the pool and the one after it; a last
    residual maps to ``channels``. ``depth``: downsamplings per hourglass.
    """

    def __init__(
        self,
        num_stacks: int = 8,
        channels: int = 256,
        stem_widths: tuple[int, int, int] = (64, 128, 128),
        num_heatmaps: int = 16,
        depth: int = 4,
        norm: NormFactory = nn.BatchNorm2d,
        act: ActFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        block: BlockFactory = partial(PreActBottleneck, norm=norm, act=act)
        conv_w, res1_w, res2_w = stem_widths
        self.stem = nn.Sequential(
            conv_norm_act(3, conv_w, 7, stride=2, norm=norm, act=act),
            block(conv_w, res1_w),
            nn.MaxPool2d(2),
            block(res1_w, res2_w),
            block(res2_w, channels),
        )
        self.stacks = nn.ModuleList(
            nn.Sequential(
                Hourglass(depth, channels, block),
                block(channels, channels),
                conv_norm_act(channels, channels, 1, norm=norm, act=act),
            )
            for _ in range(num_stacks)
        )
        self.heads = nn.ModuleList(nn.Conv2d(channels, num_heatmaps, 1) for _ in range(num_stacks))
        # Only stacks that feed a next one get merge convs: unused modules would inflate counts.
        self.merge_features = nn.ModuleList(
            nn.Conv2d(channels, channels, 1) for _ in range(num_stacks - 1)
        )
        self.merge_heatmaps = nn.ModuleList(
            nn.Conv2d(num_heatmaps, channels, 1) for _ in range(num_stacks - 1)
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.stem(x)
        outputs = []
        for i, (stack, head) in enumerate(zip(self.stacks, self.heads)):
            features = stack(x)
            outputs.append(head(features))
            if i < len(self.merge_features):
                x = x + self.merge_features[i](features) + self.merge_heatmaps[i](outputs[-1])
        return outputs


# ---- registered variants -------------------------------------------------------------------

_NEWELL_REF = "pytorch_stacked_hourglass PoseNet(nstack={n}, inp_dim=256), used modules, fvcore"
_FPD_REF = "fast-human-pose-estimation.pytorch get_pose_net(NUM_FEATURES=128, NUM_STACKS=4), fvcore"


def _info(name: str, paper: PaperFigures | None = None, **facts) -> ModelInfo:
    # size_multiple: stem stride 4 x four halvings in each hourglass (192 works, 160 does not)
    facts = {"family": "hourglass", "dataset": "mpii", "paper": paper, "size_multiple": 64, **facts}
    return ModelInfo(name, input_size=(256, 256), output_stride=4, num_heatmaps=16, **facts)


@register_model(
    _info(
        "hourglass-8stack",
        PaperFigures(5, "Newell et al., ECCV'16", "MPII test", auc=62.9, pckh=90.9, time_ms=64.0),
        extra_paper_rows=(
            PaperFigures(
                4,
                "Nie et al., CVPR'18",
                "LIP test",
                pckh=87.5,
                hip=75.9,
                time_ms=60.0,
                note="this network is its pose backbone; the row's method adds a parsing-induced "
                "learner",
            ),
        ),
        reference=ReferenceCounts(_NEWELL_REF.format(n=8), 25.434112, 27.582),
    )
)
def hourglass_8stack(**overrides) -> StackedHourglass:
    """Newell et al. stacked hourglass, 8 stacks, 256 channels, original stem."""
    return build_variant(StackedHourglass, overrides, num_stacks=8)


@register_model(
    _info(
        "hourglass-4stack",
        PaperFigures(
            4,
            "Chou et al., CVPR'17",
            "LIP test",
            pckh=87.4,
            hip=75.7,
            time_ms=33.0,
            note="a 4-stack hourglass trained adversarially",
        ),
        dataset="lip",
        reference=ReferenceCounts(_NEWELL_REF.format(n=4), 12.858304, 14.781),
    )
)
def hourglass_4stack(**overrides) -> StackedHourglass:
    """stacked hourglass, 4 stacks, 256 channels, original stem."""
    return build_variant(StackedHourglass, overrides, num_stacks=4)


@register_model(
    _info("hourglass-2stack", reference=ReferenceCounts(_NEWELL_REF.format(n=2), 6.5704, 8.380))
)
def hourglass_2stack(**overrides) -> StackedHourglass:
    """stacked hourglass, 2 stacks, 256 channels, original stem."""
    return build_variant(StackedHourglass, overrides, num_stacks=2)


@register_model(
    _info(
        "fpd-4stack",
        PaperFigures(5, "Zhang et al., CVPR'19", "MPII test", auc=63.5, pckh=91.1, time_ms=33.0),
        family="fpd",
        reference=ReferenceCounts(_FPD_REF, 3.287936, 3.947),
    )
)
def fpd_4stack(**overrides) -> StackedHourglass:
    """FPD student: 4 stacks, 128 channels, halved bearpaw stem (official FPD code)."""
    return build_variant(
        StackedHourglass, overrides, num_stacks=4, channels=128, stem_widths=(32, 64, 128)
    )
