"""Original Convolutional Pose Machine (Wei et al., CVPR'16), the released MPII model.

Layers of the release's ``model/_trained_MPI/pose_deploy_resize.prototxt``:
stage 1 is VGG-19 to conv4_2 (output stride 8), the conv4_3..4_7_CPM convs and two 1x1; stages 2-6
read cat(maps 15, conv4_7_CPM features 128, centre map pooled 9x9/8): five 7x7 convs, two 1x1.
ReLU after every conv but a stage's last; no norm. 15 maps = 14 joints + background.

The release's 4th input channel, a Gaussian centre map, is built here as a buffer (at the image
centre, sigma 21 px at 368 scaled with the input size) to keep the RGB-in contract.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import ActFactory, conv_norm_act
from .registry import ModelInfo, PaperFigures, ReferenceCounts, build_variant, register_model

# VGG-19 up to conv4_2 then the CPM convs: an int is a 3x3 conv width, "M" a 2x2 max-pool.
STAGE1_TRUNK: tuple[int | str, ...] = (
    *(64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"),  # VGG-19 conv1_1 .. conv3_4
    *(512, 512, 256, 256, 256, 256, 128),  # conv4_1, conv4_2, conv4_3_CPM .. conv4_7_CPM
)
CENTRE_SIGMA_AT_368 = 21.0


class CPM(nn.Module):
    """Convolutional pose machine with an internal centre-map prior built for ``input_size``."""

    def __init__(
        self,
        input_size: tuple[int, int] = (368, 368),
        num_stages: int = 6,
        num_heatmaps: int = 15,
        stage_channels: int = 128,
        kernel_size: int = 7,
        act: ActFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        if input_size[0] % 8 or input_size[1] % 8:
            raise ValueError(f"CPM input_size must be multiples of 8, got {input_size}")
        self.input_size = tuple(input_size)
        self.register_buffer("centre_map", centre_gaussian(input_size), persistent=False)
        self.features = _vgg_trunk(act)
        features = STAGE1_TRUNK[-1]
        self.stage1 = nn.Sequential(
            conv_norm_act(features, 512, 1, norm=None, act=act), nn.Conv2d(512, num_heatmaps, 1)
        )
        self.stages = nn.ModuleList(
            _later_stage(
                num_heatmaps + features + 1, stage_channels, kernel_size, num_heatmaps, act
            )
            for _ in range(num_stages - 1)
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        if tuple(x.shape[-2:]) != self.input_size:
            raise ValueError(
                f"CPM built for input {self.input_size}, got image of shape {tuple(x.shape)}; "
                "create it with input_size=... to match"
            )
        features = self.features(x)
        # Caffe pools with ceil mode: 368 -> 46 with a 9x9/8 window.
        centre = F.avg_pool2d(self.centre_map, 9, stride=8, ceil_mode=True).expand(
            x.shape[0], -1, -1, -1
        )
        outputs = [self.stage1(features)]
        for stage in self.stages:
            outputs.append(stage(torch.cat([outputs[-1], features, centre], dim=1)))
        return outputs


def centre_gaussian(
    input_size: tuple[int, int], sigma_at_368: float = CENTRE_SIGMA_AT_368
) -> Tensor:
    """(1, 1, H, W) Gaussian peaked (value 1) at the image centre."""
    height, width = input_size
    sigma = sigma_at_368 * height / 368.0
    ys = torch.arange(height, dtype=torch.float32) - (height - 1) / 2
    xs = torch.arange(width, dtype=torch.float32) - (width - 1) / 2
    sq = ys[:, None] ** 2 + xs[None, :] ** 2
    return torch.exp(-sq / (2 * sigma**2))[None, None]


def _vgg_trunk(act: ActFactory) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for spec in STAGE1_TRUNK:
        if spec == "M":
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        else:
            layers.append(conv_norm_act(in_channels, int(spec), 3, norm=None, act=act))
            in_channels = int(spec)
    return nn.Sequential(*layers)


def _later_stage(
    in_channels: int, channels: int, kernel_size: int, num_heatmaps: int, act: ActFactory
) -> nn.Sequential:
    widths = [in_channels] + [channels] * 4
    convs = [conv_norm_act(w, channels, kernel_size, norm=None, act=act) for w in widths]
    return nn.Sequential(
        *convs,
        conv_norm_act(channels, channels, 1, norm=None, act=act),
        nn.Conv2d(channels, num_heatmaps, 1),
    )


@register_model(
    ModelInfo(
        name="cpm-original",
        family="cpm",
        dataset="mpii",
        input_size=(368, 368),
        output_stride=8,
        size_multiple=8,
        num_heatmaps=15,
        num_keypoints=14,
        paper=PaperFigures(
            5, "Wei et al., CVPR'16 (original CPM)", "MPII test", pckh=87.9, time_ms=31.0
        ),
        reference=ReferenceCounts(
            "convolutional-pose-machines-release MPI prototxt, counted layer by layer", 29.85, 88.4
        ),
    )
)
def cpm_original(**overrides) -> CPM:
    """Wei et al. CPM, released MPII model: 6 stages, VGG-19 front, centre-map prior."""
    # CPM takes input_size: its centre-map prior is drawn at the input's size.
    return build_variant(CPM, overrides, fact_only=("num_keypoints",))
