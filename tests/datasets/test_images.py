"""Full decoding of an image a user names: a truncated JPEG that OpenCV would accept is refused."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from datasets import AnnotationError
from datasets.images import decode_fully


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / "image.jpg"
    noise = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    cv2.imwrite(str(path), noise)
    return path


def test_truncated_jpeg_is_refused(tmp_path, jpeg) -> None:
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg.read_bytes()[:2000])
    assert decode_fully(jpeg) == (60, 80)
    with pytest.raises(AnnotationError, match=f"cannot decode {cut} in full"):
        decode_fully(cut)


def test_empty_missing_and_not_an_image_name_the_file_and_the_source(tmp_path) -> None:
    empty, text = tmp_path / "empty.jpg", tmp_path / "text.jpg"
    empty.write_bytes(b"")
    text.write_text("not an image")
    with pytest.raises(AnnotationError, match="row 3: image file .*empty.jpg is empty"):
        decode_fully(empty, "row 3")
    with pytest.raises(AnnotationError, match="text.jpg is not an image"):
        decode_fully(text)
    with pytest.raises(FileNotFoundError, match="gone.jpg does not exist"):
        decode_fully(tmp_path / "gone.jpg")
