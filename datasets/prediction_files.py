"""Prediction files as people publish them (docs/datasets.md) read into one (N, K, 2) array; a
(2, K, N) array (column-major writers) is transposed. ``base``: the pixel base the file states
(``coordinate_base`` 0 / 1, JSON ``"coordinates": "zero-based"``), else None: the caller says.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.io import loadmat
from scipy.io.matlab import MatReadError

from .files import read_csv_rows, require_file
from .sample import AnnotationError

_BASE_WORDS = {"zero-based": 0, "one-based": 1}


@dataclass(frozen=True)
class PredictionFile:
    """What one file holds: coordinates as stored, the base it states, names (CSV only)."""

    path: Path
    coords: np.ndarray  # (N, K, 2) float64, NaN where a joint is not predicted
    base: int | None  # 0 / 1 when the file states it, else None
    names: tuple[str, ...] | None = None  # image name per row (LIP CSV)


def load_predictions(path: str | Path) -> PredictionFile:
    """Read ``path`` (see the module docstring); raises :class:`AnnotationError` naming it."""
    path = Path(path)
    require_file(path, "prediction file")
    if path.stat().st_size == 0:
        raise AnnotationError(f"{path}: prediction file is empty")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(_READERS)
        raise AnnotationError(
            f"{path}: unknown prediction file type {path.suffix!r}; one of {known}"
        )
    content = reader(path)
    result = content if isinstance(content, PredictionFile) else _pick(content, path)
    coords = result.coords
    if coords.ndim == 3 and coords.shape[0] == 2 and coords.shape[2] != 2:
        # (2, K, N): an (N, K, 2) array stored column-major (Torch7 / MATLAB hdf5 writers)
        coords = coords.transpose(2, 1, 0)
    if coords.ndim != 3 or coords.shape[2] != 2:
        hint = " (a third column of scores? keep x, y only)" if coords.shape[-1:] == (3,) else ""
        raise AnnotationError(
            f"{path}: predictions have shape {coords.shape}; expected (N, K, 2)"
            f" (persons, joints, x/y){hint}"
        )
    if np.isinf(coords).any():
        raise AnnotationError(f"{path}: predictions hold an infinite coordinate")
    return replace(result, coords=coords)


def _pick(arrays: dict[str, np.ndarray], path: Path) -> PredictionFile:
    """The prediction array among a file's named arrays, with its stated coordinate base."""
    base = value = arrays.pop("coordinate_base", None)
    if isinstance(value, str) and value in _BASE_WORDS:
        base = _BASE_WORDS[value]
    elif value is not None:
        number = np.asarray(value).ravel()
        if number.size != 1 or number.dtype.kind not in "iuf" or float(number[0]) not in (0, 1):
            raise AnnotationError(f"{path}: coordinate_base must be 0 or 1, got {value!r}")
        base = int(number[0])
    if "preds" in arrays:
        return PredictionFile(path, _numeric(arrays["preds"], path), base)
    if "pos_pred_src" in arrays:  # gt_valid.mat layout: (K, 2, N)
        return PredictionFile(path, np.moveaxis(_numeric(arrays["pos_pred_src"], path), 2, 0), base)
    if len(arrays) == 1:
        return PredictionFile(path, _numeric(next(iter(arrays.values())), path), base)
    raise AnnotationError(
        f"{path}: no 'preds' array and more than one to choose from ({', '.join(sorted(arrays))})"
    )


def _numeric(value: object, path: Path) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AnnotationError(f"{path}: the prediction array is not numeric") from None


def _read_mat(path: Path) -> dict[str, np.ndarray]:
    try:
        content = loadmat(str(path))
    except NotImplementedError:  # MATLAB v7.3 is HDF5; h5py gives MATLAB arrays transposed
        return {k: np.asarray(v).T for k, v in _h5_arrays(path).items()}
    except (ValueError, TypeError, OSError, IndexError, MatReadError) as error:
        raise AnnotationError(f"{path}: not a readable MATLAB file ({error})") from None
    return {k: v for k, v in content.items() if not k.startswith("__")}


def _h5_arrays(path: Path) -> dict[str, np.ndarray]:
    import h5py  # only HDF5 files need h5py

    try:
        with h5py.File(path, "r") as handle:
            return {k: handle[k][()] for k in handle if isinstance(handle[k], h5py.Dataset)}
    except OSError as error:
        raise AnnotationError(f"{path}: not a readable HDF5 file ({error})") from None


def _read_numpy(path: Path) -> dict[str, np.ndarray]:
    npy = path.suffix.lower() == ".npy"
    magic, kind = (b"\x93NUMPY", ".npy") if npy else (b"PK", ".npz (zip)")
    with open(path, "rb") as handle:  # numpy would call any other header "pickled data"
        if handle.read(len(magic)) != magic:
            raise AnnotationError(f"{path}: not a {kind} file (it does not start as one)")
    try:
        if npy:
            return {"preds": np.load(path, allow_pickle=False)}
        with np.load(path, allow_pickle=False) as content:
            return {k: content[k] for k in content.files}
    except (ValueError, OSError) as error:
        what = ".npy array" if npy else ".npz file"
        raise AnnotationError(f"{path}: not a readable {what} ({error})") from None


def _read_json(path: Path) -> dict[str, object]:
    try:
        content = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AnnotationError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(content, dict):
        return {"preds": content}
    if "preds" not in content:
        keys = ", ".join(content)
        raise AnnotationError(f"{path}: a JSON object needs a 'preds' field (keys: {keys})")
    base = content.get("coordinate_base", content.get("coordinates"))
    return {"preds": content["preds"], "coordinate_base": base}


def _read_lip_csv(path: Path) -> PredictionFile:
    rows, lines = [], {}  # image name -> its line, in file order
    for number, row in read_csv_rows(path, "LIP prediction CSV"):
        name = row[0].strip()
        if name in lines:  # rows are matched by name: which one would count?
            message = f"image {name} already has a row at line {lines[name]}"
            raise AnnotationError(f"{path}:{number}: {message}")
        lines[name] = number
        rows.append(_lip_csv_row(row[1:], f"{path}:{number}"))
    if not rows:
        raise AnnotationError(f"{path}: no prediction rows")
    return PredictionFile(path, np.stack(rows), 0, tuple(lines))


def _lip_csv_row(fields: list[str], source: str) -> np.ndarray:
    per_joint = {32: 2, 48: 3}.get(len(fields))  # 16 joints: x, y or x, y, v
    if per_joint is None:
        message = f"expected a name and 32 (x, y) or 48 (x, y, v) fields, got {len(fields)}"
        raise AnnotationError(f"{source}: {message}")
    try:
        values = [float(f) for f in fields]
    except ValueError:
        raise AnnotationError(f"{source}: a field is not a number or nan") from None
    if any(math.isinf(v) for v in values):
        raise AnnotationError(f"{source}: an infinite coordinate")
    return np.array(values).reshape(16, per_joint)[:, :2]


_READERS = {
    ".mat": _read_mat,
    ".h5": _h5_arrays,
    ".hdf5": _h5_arrays,
    ".npy": _read_numpy,
    ".npz": _read_numpy,
    ".json": _read_json,
    ".csv": _read_lip_csv,
}
