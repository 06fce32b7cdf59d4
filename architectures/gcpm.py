"""GCPM: CPM-style pose network with global context (Osokin 2019, arXiv 1906.04104).

Layout as the author's gccpm ``single_person_pose_with_mobilenet.py``: MobileNet v1 cut at conv5_5
(output stride 8), a CPM adapter to 128 channels, an initial stage and refinement stages (three
residual blocks and a 1x1 head each); heatmaps are 16 keypoints + background.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .context import ASPP, PyramidPooling, UShapedContext
from .layers import ActFactory, NormFactory, conv_norm_act, depthwise_separable
from .registry import ModelInfo, PaperFigures, ReferenceCounts, build_variant, register_model

ContextFactory = Callable[[int], nn.Module]

# MobileNet v1 depthwise-separable blocks up to conv5_5: (out channels, stride, dilation).
# conv4_2 (the 6th) has its stride removed; the next block is dilated to keep the field of view.
MOBILENET_V1_CONV5_5: tuple[tuple[int, int, int], ...] = (
    *((64, 1, 1), (128, 2, 1), (128, 1, 1), (256, 2, 1), (256, 1, 1), (512, 1, 1)),
    *((512, 1, 2), (512, 1, 1), (512, 1, 1), (512, 1, 1), (512, 1, 1)),  # conv5_1 .. conv5_5
)


class RefinementStageBlock(nn.Module):
    """1x1 projection (act, no norm) plus a trunk of 3x3 and dilated 3x3 convs, summed."""

    def __init__(
        self, in_channels: int, out_channels: int, norm: NormFactory, act: ActFactory
    ) -> None:
        super().__init__()
        self.initial = conv_norm_act(in_channels, out_channels, 1, norm=None, act=act)
        self.trunk = nn.Sequential(
            conv_norm_act(out_channels, out_channels, 3, norm=norm, act=act),
            conv_norm_act(out_channels, out_channels, 3, dilation=2, norm=norm, act=act),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.initial(x)
        return x + self.trunk(x)


class RefinementStage(nn.Sequential):
    """Optional context module at the stage input, three refinement blocks, 1x1 heatmap head."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        num_heatmaps: int,
        context: ContextFactory | None,
        norm: NormFactory,
        act: ActFactory,
    ) -> None:
        super().__init__()
        self.context = context(in_channels) if context is not None else nn.Identity()
        width = getattr(self.context, "out_channels", in_channels)  # Identity keeps the width
        widths = (width, channels, channels)
        self.trunk = nn.Sequential(*(RefinementStageBlock(w, channels, norm, act) for w in widths))
        self.head = _heatmap_head(channels, channels, num_heatmaps, act)


class LearnedUpsampling(nn.Sequential):
    """x2 learned upsampling of the last stage (our MPII 64x64 construction, see ``GCPM``)."""

    def __init__(
        self, in_channels: int, channels: int, num_heatmaps: int, norm: NormFactory, act: ActFactory
    ) -> None:
        super().__init__()
        self.up = nn.Sequential(
            nn.ConvTranspose2d(in_channels, channels, 4, stride=2, padding=1), norm(channels), act()
        )
        self.refine = conv_norm_act(channels, channels, 3, norm=norm, act=act)
        self.head = nn.Conv2d(channels, num_heatmaps, 1)


class GCPM(nn.Module):
    """GCPM network; the paper's variants are constructor arguments.

    Args:
        context: ``factory(in_channels) -> module`` (exposing ``out_channels`` or keeping the
            width), e.g. ``UShapedContext``; ``None`` is the baseline.
        context_position: ``"stage"`` (every refinement stage input, the paper's) or
            ``"backbone"`` (once, after the CPM adapter).
        upsample: 2 for the MPII variant: a learned x2 upsampling gives the prediction at
            stride 4; earlier stages are upsampled bilinearly to the same size.
    """

    def __init__(
        self,
        num_refinement_stages: int = 5,
        num_heatmaps: int = 17,
        channels: int = 128,
        context: ContextFactory | None = None,
        context_position: Literal["stage", "backbone"] = "stage",
        upsample: int = 1,
        norm: NormFactory = nn.BatchNorm2d,
        act: ActFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        if context_position not in ("stage", "backbone"):
            raise ValueError(
                f"context_position must be 'stage' or 'backbone', got {context_position!r}"
            )
        if upsample not in (1, 2):
            raise ValueError(f"upsample must be 1 or 2, got {upsample!r}")
        self.backbone = _mobilenet_trunk(norm, act)
        self.cpm = nn.Sequential(
            conv_norm_act(512, 256, 3, norm=norm, act=act),
            conv_norm_act(256, channels, 3, norm=norm, act=act),
        )
        at_backbone = context is not None and context_position == "backbone"
        self.context = context(channels) if at_backbone else nn.Identity()
        features = getattr(self.context, "out_channels", channels)
        self.initial_stage = _initial_stage(features, channels, num_heatmaps, norm, act)
        stage_in = features + num_heatmaps
        stage_context = None if at_backbone else context
        self.refinement_stages = nn.ModuleList(
            RefinementStage(stage_in, channels, num_heatmaps, stage_context, norm, act)
            for _ in range(num_refinement_stages)
        )
        self.upsample_head = None
        if upsample == 2:
            self.upsample_head = LearnedUpsampling(stage_in, channels, num_heatmaps, norm, act)

    def forward(self, x: Tensor) -> list[Tensor]:
        features = self.context(self.cpm(self.backbone(x)))
        outputs = [self.initial_stage(features)]
        for stage in self.refinement_stages:
            outputs.append(stage(torch.cat([features, outputs[-1]], dim=1)))
        if self.upsample_head is None:
            return outputs
        last = self.upsample_head(torch.cat([features, outputs[-1]], dim=1))
        size = last.shape[-2:]
        return [
            F.interpolate(o, size=size, mode="bilinear", align_corners=False) for o in outputs
        ] + [last]


def _mobilenet_trunk(norm: NormFactory, act: ActFactory) -> nn.Sequential:
    layers = [conv_norm_act(3, 32, 3, stride=2, norm=norm, act=act, bias=False)]
    widths = [32] + [c for c, _, _ in MOBILENET_V1_CONV5_5]
    for cin, (c, s, d) in zip(widths, MOBILENET_V1_CONV5_5):
        layers.append(depthwise_separable(cin, c, stride=s, dilation=d, norm=norm, act=act))
    return nn.Sequential(*layers)


def _initial_stage(
    in_channels: int, channels: int, num_heatmaps: int, norm: NormFactory, act: ActFactory
) -> nn.Sequential:
    trunk = [
        conv_norm_act(in_channels if i == 0 else channels, channels, 3, norm=norm, act=act)
        for i in range(3)
    ]
    return nn.Sequential(*trunk, _heatmap_head(channels, 512, num_heatmaps, act))


def _heatmap_head(
    in_channels: int, mid_channels: int, num_heatmaps: int, act: ActFactory
) -> nn.Sequential:
    # The author's heads have no norm, and no activation on the heatmaps themselves.
    return nn.Sequential(
        conv_norm_act(in_channels, mid_channels, 1, norm=None, act=act),
        nn.Conv2d(mid_channels, num_heatmaps, 1),
    )


# ---- registered variants -------------------------------------------------------------------

_REFERENCE = "gccpm SinglePersonPoseEstimationWithMobileNet, fvcore"


def _aspp(num_heatmaps: int) -> ContextFactory:
    # 145 -> num_heatmaps, DeepLab-v2 style; the derivation is in the context module docstring.
    return partial(ASPP, out_channels=num_heatmaps)


def _lip_info(name: str, paper: PaperFigures, **facts) -> ModelInfo:
    # size_multiple: the backbone's stride (136 x 136 works, 132 does not)
    facts = {"family": "gcpm", "dataset": "lip", "output_stride": 8, "size_multiple": 8, **facts}
    return ModelInfo(name, input_size=(256, 256), num_heatmaps=17, paper=paper, **facts)


def _table2(row: str, pckh: float, hip: float) -> PaperFigures:
    return PaperFigures(2, row, "LIP val", pckh=pckh, hip=hip)


@register_model(
    _lip_info(
        "gcpm-baseline",
        _table2("Baseline", 82.4, 70.6),
        # the released full model less five U-blocks (40.595281 - 5 x 6.440175 M,
        # 21.335 - 5 x 2.522 G); no released code builds this network on its own.
        reference=ReferenceCounts(_REFERENCE + ", less its 5 U-shaped blocks", 8.394406, 8.725),
    )
)
def gcpm_baseline(**overrides) -> GCPM:
    """GCPM without context module, 5 refinement stages."""
    return build_variant(GCPM, overrides)


@register_model(_lip_info("gcpm-aspp", _table2("Baseline + ASPP", 83.5, 72.6)))
def gcpm_aspp(**overrides) -> GCPM:
    """GCPM + ASPP (145 -> 17, rates 3/6/9/12) at every refinement stage input."""
    return build_variant(GCPM, overrides, context=_aspp(overrides.get("num_heatmaps", 17)))


@register_model(_lip_info("gcpm-ppm", _table2("Baseline + pyramid pooling", 83.2, 71.9)))
def gcpm_ppm(**overrides) -> GCPM:
    """GCPM + pyramid pooling (bins 2/4/8/16, 32-ch 3x3 branches) at every stage input."""
    return build_variant(GCPM, overrides, context=PyramidPooling)


_OURS_LIP = PaperFigures(
    4, "Ours", "LIP test", gflops=21.3, pckh=87.9, hip=78.0, time_ms=18.0, note="GFLOPs from Sec. 1"
)


@register_model(
    _lip_info(
        "gcpm-ushaped",
        _OURS_LIP,
        extra_paper_rows=(_table2("Baseline + U-shaped", 84.0, 73.4),),
        reference=ReferenceCounts(_REFERENCE + ", num_refinement_stages=5", 40.595281, 21.335),
    )
)
def gcpm_ushaped(**overrides) -> GCPM:
    """GCPM, U-shaped context at every refinement stage input (the paper's model)."""
    return build_variant(GCPM, overrides, context=UShapedContext)


@register_model(
    _lip_info(
        "gcpm-ushaped-2stage",
        PaperFigures(4, "Ours 2-stage", "LIP test", pckh=85.0, hip=74.1, time_ms=6.0),
        reference=ReferenceCounts(_REFERENCE + ", num_refinement_stages=1", 11.004753, 7.330),
    )
)
def gcpm_ushaped_2stage(**overrides) -> GCPM:
    """GCPM, initial + 1 refinement stage with U-shaped context."""
    return build_variant(GCPM, overrides, context=UShapedContext, num_refinement_stages=1)


@register_model(
    _lip_info(
        "gcpm-ushaped-mpii",
        PaperFigures(5, "Ours", "MPII test", auc=64.2, pckh=90.9, time_ms=24.5),
        dataset="mpii",
        output_stride=4,
    )
)
def gcpm_ushaped_mpii(**overrides) -> GCPM:
    """GCPM U-shaped with 64x64 heatmaps for MPII (Sec. 5.5): our learned x2 upsampling head.

    The paper does not say how. Output stride 4 would cost ~84.8 GMAC (4x the LIP model), which
    does not fit 24.5 ms (MPII) against 18 ms (LIP); ``LearnedUpsampling`` on the stride-8 network
    gives 41,042,658 params, 22.255 GMAC at 256x256 (+1.1 % / +4.3 % over ``gcpm-ushaped``).
    """
    return build_variant(GCPM, overrides, context=UShapedContext, upsample=2)
