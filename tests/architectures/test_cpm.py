"""The original CPM (Wei et al. 2016): its centre-map prior and the sizes it takes."""

from __future__ import annotations

import pytest
import torch

from architectures.cpm import CPM


def test_an_input_size_off_the_stride_is_refused_naming_the_multiple() -> None:
    with pytest.raises(ValueError, match="multiples of 8"):
        CPM(input_size=(100, 100))


def test_cpm_centre_prior_is_a_fixed_buffer_at_the_centre() -> None:
    model = CPM(input_size=(64, 64), num_stages=2)
    assert "centre_map" in dict(model.named_buffers())
    assert all("centre" not in name for name, _ in model.named_parameters())
    centre = model.centre_map[0, 0]
    assert centre.shape == (64, 64) and centre[31:33, 31:33].min() == centre.max()
    with pytest.raises(ValueError, match=r"built for input \(64, 64\)"):
        model(torch.zeros(1, 3, 128, 128))
