"""``import architectures`` is lazy: the errors and the registry's names come without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import architectures

REPO = Path(__file__).resolve().parents[2]


def _imports_torch(statement: str) -> bool:
    code = f"import sys\n{statement}\nprint('torch' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return run.stdout.strip() == "True"


@pytest.mark.parametrize(
    "statement",
    ["import architectures.errors", "import architectures", "import architectures.registry"],
)
def test_importing_the_package_or_its_errors_does_not_import_torch(statement: str) -> None:
    assert not _imports_torch(statement)


def test_every_exported_name_resolves_and_an_unknown_one_is_an_attribute_error() -> None:
    assert all(getattr(architectures, name) is not None for name in architectures.__all__)
    assert set(architectures.__all__) <= set(dir(architectures))
    with pytest.raises(AttributeError, match="no_such_thing"):
        architectures.no_such_thing  # noqa: B018
