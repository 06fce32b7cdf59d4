"""Decode an image file in full (Pillow's ``load``: OpenCV silently greys a truncated JPEG), or say
why not: missing, a folder, empty, not an image, truncated / corrupt.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .files import require_file
from .sample import AnnotationError


def decode_fully(path: Path, source: str = "") -> tuple[int, int]:
    """(height, width) after decoding every byte of ``path``; errors name ``source`` first."""
    prefix = f"{source}: " if source else ""
    require_file(path, f"{prefix}image file", "an image file")
    if path.stat().st_size == 0:
        raise AnnotationError(f"{prefix}image file {path} is empty (0 bytes)")
    try:
        with Image.open(path) as image:
            image.load()
            return image.height, image.width
    except UnidentifiedImageError:
        raise AnnotationError(f"{prefix}{path} is not an image") from None
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data
        raise AnnotationError(f"{prefix}cannot decode {path} in full ({error})") from None
