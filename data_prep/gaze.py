"""Helpers shared by the SALICON and iSUN readers: MATLAB struct walking and fixation timing.

``scipy.io.loadmat`` returns the same MATLAB struct in several shapes depending on how the
file was written (struct array or cell array of structs) and on the loader's options
(``squeeze_me``, ``struct_as_record``, ``simplify_cells``). :func:`records` flattens every
one of them into a list of records and :func:`field` reads a field of any record kind.

Fixation times. Both datasets store the timed gaze (or mouse) samples of an observer
(``location`` [x, y] with ``timestamp`` in ms) and, separately, the fixation points found
from them, without times. The start time of a fixation is the timestamp of the EARLIEST
sample lying within ``radius`` pixels of the fixation point (Euclidean distance in image
pixels); when no sample is that close, the timestamp of the nearest sample is used. Times
are made relative to the observer's first sample and converted to seconds; fixations are
then numbered 1, 2, ... in order of those times (ties keep the file's order).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import scipy.io
from scipy.io.matlab import MatReadError, mat_struct

from data_prep.errors import InputError

FIXATION_RADIUS = 0.02
"""Default radius for matching samples to a fixation, as a fraction of the image width."""

FRAME_COLUMNS = ["observer", "fixation", "t", "x", "y"]


def _unwrap(value: Any) -> Any:
    """Strip 1-element object arrays (MATLAB cells) until a payload remains."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.reshape(-1)[0]
    return value


def records(value: Any) -> list:
    """Flatten a MATLAB struct array / cell array of structs (any loadmat form) into records."""
    value = _unwrap(value)
    if isinstance(value, (dict, mat_struct)):
        return [value]
    if isinstance(value, np.void) and value.dtype.names:
        return [value]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in records(v)]
    if isinstance(value, np.ndarray):
        if value.dtype.names:
            return list(value.reshape(-1, order="F"))
        if value.dtype == object:
            return [r for v in value.reshape(-1, order="F") for r in records(v)]
        if value.size == 0:
            return []
    raise InputError(f"expected a struct array, got {type(value).__name__}")


def has_field(record: Any, name: str) -> bool:
    """True when ``record`` (dict, numpy record or mat_struct) has field ``name``."""
    if isinstance(record, dict):
        return name in record
    if isinstance(record, np.void):
        return name in (record.dtype.names or ())
    if isinstance(record, mat_struct):
        return name in record._fieldnames
    return False


def field(record: Any, *names: str) -> Any:
    """Value of the first of ``names`` present in ``record``; KeyError naming them otherwise."""
    for name in names:
        if has_field(record, name):
            if isinstance(record, mat_struct):
                return _unwrap(getattr(record, name))
            return _unwrap(record[name])
    raise KeyError("/".join(names))


def as_text(value: Any) -> str:
    """A MATLAB char array (any loadmat form) as a Python string."""
    value = _unwrap(value)
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return ""
        if value.dtype.kind == "U":
            return "".join(str(v) for v in value.reshape(-1))
        value = value.reshape(-1)[0]
    return str(value).strip()


def as_vector(value: Any) -> np.ndarray:
    """A numeric MATLAB array (any loadmat form) as a 1-D float64 array."""
    value = _unwrap(value)
    return np.asarray(value, dtype=np.float64).reshape(-1)


def as_points(value: Any) -> np.ndarray:
    """A list of 2-D points stored as k x 2 (or 2 x k, or squeezed) as float64 (k, 2)."""
    value = _unwrap(value)
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim == 2 and arr.shape[1] != 2 and arr.shape[0] == 2:
        arr = arr.T
    if arr.ndim > 2 or arr.size % 2:
        raise ValueError(f"points of shape {arr.shape} are not k x 2")
    return arr.reshape(-1, 2)


def fixation_times(location: np.ndarray, timestamp: np.ndarray, fixations: np.ndarray,
                   radius: float) -> np.ndarray:
    """Start time (s, relative to the first sample) of each fixation, from timed samples."""
    location = np.asarray(location, dtype=np.float64).reshape(-1, 2)
    timestamp = np.asarray(timestamp, dtype=np.float64).reshape(-1)
    fixations = np.asarray(fixations, dtype=np.float64).reshape(-1, 2)
    order = np.argsort(timestamp, kind="stable")
    location, timestamp = location[order], timestamp[order]
    dist = np.hypot(fixations[:, None, 0] - location[None, :, 0],
                    fixations[:, None, 1] - location[None, :, 1])
    within = dist <= radius
    first = np.argmax(within, axis=1)
    idx = np.where(within.any(axis=1), first, np.argmin(dist, axis=1))
    return (timestamp[idx] - timestamp[0]) / 1000.0


def observers_frame(observers: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]],
                    radius: float) -> pd.DataFrame:
    """Fixation table (observer, fixation, t, x, y) from per-observer (samples, ms, fixations).

    ``samples``/``ms`` may be None or empty (no timed samples): that observer's fixations keep
    the file order and get t = NaN. Observers without fixations are dropped; the remaining ones
    are numbered from 0 in file order.
    """
    parts = []
    for location, timestamp, fixations in observers:
        if len(fixations) == 0:
            continue
        if timestamp is None or len(timestamp) == 0:
            t = np.full(len(fixations), np.nan)
        else:
            t = fixation_times(location, timestamp, fixations, radius)
        order = np.argsort(t, kind="stable")
        parts.append(pd.DataFrame({
            "observer": len(parts),
            "fixation": np.arange(1, len(fixations) + 1),
            "t": t[order],
            "x": fixations[order, 0],
            "y": fixations[order, 1],
        }))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("observer", "fixation")
                                          else "float64") for c in FRAME_COLUMNS})
    frame = pd.concat(parts, ignore_index=True)
    return frame.astype({"observer": "int64", "fixation": "int64", "t": "float64",
                         "x": "float64", "y": "float64"})


def load_mat(path: str | os.PathLike) -> dict:
    """``scipy.io.loadmat`` with one-line InputErrors (v7.3/HDF5 files are refused clearly)."""
    try:
        return scipy.io.loadmat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: MATLAB file not found") from None
    except NotImplementedError:
        raise InputError(f"{path}: MATLAB v7.3 (HDF5) files are not supported; re-save with "
                         "save(..., '-v7')") from None
    except (OSError, ValueError, TypeError, MatReadError) as err:
        raise InputError(f"{path}: cannot read MATLAB file ({err})") from None


def fixation_table(observers, width: float, radius: float | None = None) -> pd.DataFrame:
    """Fixation table (observer, fixation, t, x, y); radius in pixels, default 2% of ``width``."""
    return observers_frame(observers, FIXATION_RADIUS * width if radius is None else radius)
