"""The stacked hourglass (Newell et al. 2016) and the FPD student built from the same class."""

from __future__ import annotations

import pytest
import torch

from architectures import create_model
from architectures.hourglass import StackedHourglass
from architectures.registry import InputSizeError

pytestmark = pytest.mark.usefixtures("torch_single_thread")


def test_one_heatmap_per_stack_at_a_quarter_of_the_input() -> None:
    model = StackedHourglass(num_stacks=2, channels=16, stem_widths=(8, 16, 16), depth=2)
    outputs = model(torch.randn(1, 3, 32, 48))
    assert [o.shape for o in outputs] == [(1, 16, 8, 12)] * 2


def test_only_stacks_that_feed_a_next_one_get_merge_convolutions() -> None:
    model = StackedHourglass(num_stacks=3, channels=16, stem_widths=(8, 16, 16), depth=1)
    assert len(model.merge_features) == len(model.merge_heatmaps) == 2


def test_fpd_student_is_the_same_class_with_narrower_widths() -> None:
    student = create_model("fpd-4stack")
    assert type(student) is StackedHourglass and len(student.stacks) == 4
    assert student.heads[0].in_channels == 128


def test_an_input_size_off_the_total_downsampling_is_refused() -> None:
    with pytest.raises(InputSizeError, match="hourglass-2stack.*multiples of 64"):
        create_model("hourglass-2stack", input_size=(160, 160))
