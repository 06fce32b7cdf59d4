"""The first checks on a file a user names: a folder or a missing path is refused, naming both, and
a CSV file that is binary or mis-encoded is named by file and line (Python's own
``UnicodeDecodeError`` names a byte position only), an image is decoded in full (Pillow's ``load``:
OpenCV silently greys a truncated JPEG)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .sample import AnnotationError


def require_file(path: Path, what: str, kind: str = "a file") -> Path:
    """``path`` if a file, else an error naming ``what`` and ``path``; ``kind``: what is wanted."""
    if path.is_dir():
        raise AnnotationError(f"{what} {path} is a folder, not {kind}")
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    return path


def read_csv_rows(path: Path, what: str = "CSV file") -> list[tuple[int, list[str]]]:
    """(line number, fields) of every row of ``path`` that is not blank (UTF-8, a BOM allowed)."""
    if path.is_dir():
        raise AnnotationError(f"{what} {path} is a folder, not a file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not in a name
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise AnnotationError(
            f"{path}:{line}: not a text {what} (byte {data[error.start]:#04x} at offset "
            f"{error.start} is not UTF-8)"
        ) from None
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise AnnotationError(f"{path}:{line}: not a text {what} (a NUL byte)")
    reader = csv.reader(io.StringIO(text, newline=""))  # as open(newline="") reads
    try:
        return [(reader.line_num, row) for row in reader if any(f.strip() for f in row)]
    except csv.Error as error:
        raise AnnotationError(f"{path}:{reader.line_num}: not a valid {what} ({error})") from None


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
