"""Bad input on the command line ends in one line naming what is wrong, exit status 2, and no
traceback."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("spec", ["meta", "garbage", "", "tpu:7", "cuda:99"])
def test_devices_that_cannot_run_are_refused_by_name(spec) -> None:
    from architectures.errors import DeviceError
    from bench.measure.devices import resolve_device

    with pytest.raises(DeviceError, match=f"--device {spec!r}"):
        resolve_device(spec)


def test_auto_and_cpu_resolve() -> None:
    import torch

    from bench.measure.devices import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
