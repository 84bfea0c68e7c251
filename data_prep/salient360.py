"""Salient360! 2017 data: ids, layout, scan-path files, saliency-map .bin files, model scan-paths.

Layout (SPEC section 5): ``Images/P<n>.jpg``, ``Scanpaths/SP<n>.txt``,
``HeadEyeSalMaps/SHE<n>.bin``, ``HeadSalMaps/SH<n>.bin``.

Train/validation split: VALIDATION_IDS is every tenth head+eye id starting at the sixth
(``HEAD_EYE_IDS[5::10]`` = 35, 46, 62, 83): spread evenly over the sorted id list rather
than a run of neighbouring ids, so the four held-out images come from different parts of
the collection. A fixed slice of a fixed list: no seed, identical everywhere.

Coordinates: x, y are 1-based pixels of the full-size image, as in the files. Range checks
accept [0, width + 1] x [0, height + 1]: integer pixels are 1..W, and a continuous position
inside the last pixel (e.g. ``geometry.from_grid`` output) may approach W + 1.

Scan-path files (``SP<n>.txt``): ``fixation_number,time,x,y`` per line (commas and/or
whitespace separate fields); a first line whose first field is not a number is taken as a
header; blank lines are skipped. A new observer starts whenever the fixation number is 1; a
number that goes back without restarting at 1 is an error. Times are clock readings modulo
60: each observer's times are made relative to its first fixation and 60 is added where
negative. An "empty observer" cannot arise from restart-splitting; in model scan-paths
(explicit scan-path numbers) a missing number 1..K is reported as an empty scan-path.
A 2018-style CSV (header starting with ``Idx``; normalised longitude/latitude; Idx 0 starts
each observer) is also read when width and height are given (x = lon*W, y = lat*H).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from data_prep.errors import InputError, atomic_path
from data_prep.images import image_size


def _ranges(*spans: tuple[int, int]) -> tuple[int, ...]:
    """Concatenate inclusive integer ranges."""
    return tuple(n for lo, hi in spans for n in range(lo, hi + 1))


HEAD_EYE_IDS: tuple[int, ...] = _ranges(
    (29, 29), (31, 39), (41, 47), (49, 49), (51, 52), (54, 58), (62, 64), (66, 66), (68, 68),
    (76, 77), (80, 84), (87, 89),
)
HEAD_ONLY_IDS: tuple[int, ...] = _ranges((2, 7), (10, 15), (17, 17), (21, 25), (27, 28))
VALIDATION_IDS: tuple[int, ...] = HEAD_EYE_IDS[5::10]
TRAIN_IDS: tuple[int, ...] = tuple(n for n in HEAD_EYE_IDS if n not in VALIDATION_IDS)

FOLDERS = {"images": "Images", "scanpaths": "Scanpaths", "head_eye": "HeadEyeSalMaps",
           "head": "HeadSalMaps"}
_NEEDS = {"head_eye": ("Scanpaths", "HeadEyeSalMaps"), "head_only": ("HeadSalMaps",)}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG")
_SPLIT = re.compile(r"[,\s]+")


def train_val_split() -> tuple[list[int], list[int]]:
    """The fixed 36/4 split of the head+eye ids: (train_ids, val_ids)."""
    return list(TRAIN_IDS), list(VALIDATION_IDS)


ID_WORDS = {"val": VALIDATION_IDS, "train": TRAIN_IDS, "head-eye": HEAD_EYE_IDS}


def parse_ids(tokens: list[str] | None, flag: str = "--ids") -> list[int] | None:
    """Command-line image ids (numbers, comma lists, or val/train/head-eye) -> sorted unique ids."""
    if tokens is None:
        return None
    ids: set[int] = set()
    for token in (t for tok in tokens for t in tok.split(",") if t):
        if token.lower() in ID_WORDS:
            ids.update(ID_WORDS[token.lower()])
        elif token.isdigit() and int(token) > 0:
            ids.add(int(token))
        else:
            raise InputError(f"{flag}: {token!r} is neither an image number nor one of "
                             f"{tuple(ID_WORDS)}")
    return sorted(ids)


def image_path(root: str | os.PathLike, n: int) -> Path:
    """Path of stimulus ``P<n>`` (``.jpg``, or another image suffix if only that exists)."""
    folder = Path(root) / FOLDERS["images"]
    default = folder / f"P{n}.jpg"
    if default.exists():
        return default
    for suffix in _IMAGE_SUFFIXES:
        candidate = folder / f"P{n}{suffix}"
        if candidate.exists():
            return candidate
    return default


def scanpath_path(root: str | os.PathLike, n: int) -> Path:
    """Path of ``Scanpaths/SP<n>.txt``."""
    return Path(root) / FOLDERS["scanpaths"] / f"SP{n}.txt"


def head_eye_map_path(root: str | os.PathLike, n: int) -> Path:
    """Path of ``HeadEyeSalMaps/SHE<n>.bin``."""
    return Path(root) / FOLDERS["head_eye"] / f"SHE{n}.bin"


def head_map_path(root: str | os.PathLike, n: int) -> Path:
    """Path of ``HeadSalMaps/SH<n>.bin``."""
    return Path(root) / FOLDERS["head"] / f"SH{n}.bin"


def list_dataset(root: str | os.PathLike, require: Iterable[str] = ()) -> dict[str, list[int]]:
    """Ids present under ``root``: {"head_eye": [...], "head_only": [...]}.

    head_eye: image, scan-paths and SHE map present; head_only: image and SH map present.
    ``require`` (subset of {"head_eye", "head_only"}): raise an InputError, in one line, naming
    the missing folders, or saying that no complete id was found, for each kind asked for.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: dataset root not found (python -m data_prep.demo_dataset ROOT writes the demo dataset; README 'Data' says where to get Salient360!)")
    if not (root / FOLDERS["images"]).is_dir():
        raise InputError(f"{root}: no {FOLDERS['images']}/ folder (not a Salient360! root)")
    require = list(require)
    unknown = [k for k in require if k not in _NEEDS]
    if unknown:
        raise ValueError(f"list_dataset: unknown kinds {unknown}; use {sorted(_NEEDS)}")
    missing = sorted({f for k in require for f in _NEEDS[k] if not (root / f).is_dir()})
    if missing:
        raise InputError(f"{root}: missing folder(s) {', '.join(missing)} "
                         f"(needed for {', '.join(require)})")
    found = {
        "head_eye": [n for n in HEAD_EYE_IDS if image_path(root, n).is_file()
                     and scanpath_path(root, n).is_file() and head_eye_map_path(root, n).is_file()],
        "head_only": [n for n in HEAD_ONLY_IDS if image_path(root, n).is_file()
                      and head_map_path(root, n).is_file()],
    }
    for kind in require:
        if not found[kind]:
            raise InputError(f"{root}: no complete {kind} image (image and data files) found")
    return found


def _check_range(where: str, x: float, y: float, width, height) -> None:
    """Raise an InputError when (x, y) lies outside the tolerated pixel range."""
    if width is not None and not 0.0 <= x <= width + 1:
        raise InputError(f"{where}: x = {x:g} outside the image (width {width})")
    if height is not None and not 0.0 <= y <= height + 1:
        raise InputError(f"{where}: y = {y:g} outside the image (height {height})")


def _numeric(fields: list[str]) -> list[float] | None:
    """Fields as finite floats, or None if any is not a finite number."""
    try:
        values = [float(f) for f in fields]
    except ValueError:
        return None
    return values if all(np.isfinite(values)) else None


def _read_lines(path: Path) -> list[str]:
    """All lines of a text file; InputError if missing or not text."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None


def _frame(observer, fixation, t, x, y) -> pd.DataFrame:
    """The scan-path DataFrame with the contract's columns and dtypes."""
    return pd.DataFrame({
        "observer": np.asarray(observer, dtype=np.int64),
        "fixation": np.asarray(fixation, dtype=np.int64),
        "t": np.asarray(t, dtype=np.float64),
        "x": np.asarray(x, dtype=np.float64),
        "y": np.asarray(y, dtype=np.float64),
    })


def _relative_times(observer: np.ndarray, time: np.ndarray, modulo: bool) -> np.ndarray:
    """Times relative to each observer's first fixation (+60 where negative if ``modulo``)."""
    starts = np.r_[True, observer[1:] != observer[:-1]]
    first = time[np.flatnonzero(starts)][np.cumsum(starts) - 1]
    rel = time - first
    if modulo:
        rel = np.where(rel < 0, rel + 60.0, rel)
    return rel


def _read_2018(path: Path, lines: list[tuple[int, str]], header: str, width, height) -> pd.DataFrame:
    """Parse a 2018-style scan-path CSV (Idx, longitude, latitude, start timestamp, ...)."""
    if width is None or height is None:
        raise InputError(f"{path}: 2018-style scan-paths need the image width and height")
    ncol = len(header.split(","))
    rows = []
    for lineno, line in lines:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != ncol:
            raise InputError(f"{path}:{lineno}: expected {ncol} fields, found {len(fields)}")
        values = _numeric(fields[:4])
        if values is None:
            raise InputError(f"{path}:{lineno}: non-numeric value in {line.strip()!r}")
        idx, lon, lat, start = values
        if idx < 0 or idx != int(idx):
            raise InputError(f"{path}:{lineno}: Idx {idx:g} is not a non-negative integer")
        if not (0.0 <= lon <= 1.0 and 0.0 <= lat <= 1.0):
            raise InputError(f"{path}:{lineno}: longitude/latitude {lon:g}, {lat:g} outside [0, 1]")
        rows.append((idx, start, lon * width, lat * height))
    arr = np.asarray(rows, dtype=np.float64)
    idx = arr[:, 0].astype(np.int64)
    bad = np.flatnonzero((idx[1:] != 0) & (idx[1:] != idx[:-1] + 1))
    if idx[0] != 0 or bad.size:
        lineno = lines[0][0] if idx[0] != 0 else lines[bad[0] + 1][0]
        raise InputError(f"{path}:{lineno}: Idx must start at 0 and count up within an observer")
    observer = np.cumsum(idx == 0) - 1
    t = _relative_times(observer, arr[:, 1], modulo=False)
    return _frame(observer, idx + 1, t, arr[:, 2], arr[:, 3])


def read_scanpaths(path: str | os.PathLike, width: int | None = None,
                   height: int | None = None) -> pd.DataFrame:
    """Parse ``SP<n>.txt`` into a DataFrame [observer, fixation, t, x, y] (see module docstring).

    Range-checked against width/height when given; errors name the file and line number.
    """
    path = Path(path)
    lines = [(i + 1, s) for i, s in enumerate(_read_lines(path)) if s.strip()]
    if not lines:
        raise InputError(f"{path}: empty scan-path file (no fixations)")
    header = None
    first_fields = [f for f in _SPLIT.split(lines[0][1].strip()) if f]
    if _numeric(first_fields[:1]) is None:  # a header starts with a word, not a number
        header = lines[0][1]
        lines = lines[1:]
    if not lines:
        raise InputError(f"{path}: no fixations after the header line")
    if header is not None and header.strip().lower().startswith("idx"):
        return _read_2018(path, lines, header, width, height)
    rows = np.empty((len(lines), 4), dtype=np.float64)
    for i, (lineno, line) in enumerate(lines):
        fields = [f for f in _SPLIT.split(line.strip()) if f]
        if len(fields) != 4:
            raise InputError(f"{path}:{lineno}: expected 4 fields (fixation,time,x,y), "
                             f"found {len(fields)}")
        values = _numeric(fields)
        if values is None:
            raise InputError(f"{path}:{lineno}: non-numeric or non-finite value in {line.strip()!r}")
        number = values[0]
        if number < 1 or number != int(number):
            raise InputError(f"{path}:{lineno}: fixation number {number:g} is not a positive integer")
        if i > 0 and number != 1 and number <= rows[i - 1, 0]:
            raise InputError(f"{path}:{lineno}: fixation number {int(number)} after "
                             f"{int(rows[i - 1, 0])} without restarting at 1")
        _check_range(f"{path}:{lineno}", values[2], values[3], width, height)
        rows[i] = values
    number = rows[:, 0].astype(np.int64)
    observer = np.cumsum(number == 1) - 1
    if observer[0] < 0:
        raise InputError(f"{path}:{lines[0][0]}: the first observer does not start at fixation 1 "
                         f"(found {number[0]})")
    t = _relative_times(observer, rows[:, 1], modulo=True)
    return _frame(observer, number, t, rows[:, 2], rows[:, 3])


def read_saliency_bin(path: str | os.PathLike, width: int, height: int) -> np.ndarray:
    """Read a raw float32 little-endian ``.bin`` map as (height, width); size and values checked."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: saliency map not found")
    expected = int(width) * int(height) * 4
    actual = path.stat().st_size
    if actual != expected:
        raise InputError(f"{path}: {actual} bytes, expected {expected} "
                         f"(float32 {width}x{height} map)")
    arr = np.fromfile(path, dtype="<f4").reshape(int(height), int(width))
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{path}: map holds NaN or infinite values")
    return arr.astype(np.float32)


def write_saliency_bin(path: str | os.PathLike, array: np.ndarray, force: bool = False) -> Path:
    """Write a (height, width) map as raw float32 little-endian, atomically."""
    arr = np.asarray(array)
    if arr.ndim != 2:
        raise ValueError(f"write_saliency_bin expects a 2-D map, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("write_saliency_bin: map holds NaN or infinite values")
    with atomic_path(path, force) as tmp:
        np.ascontiguousarray(arr, dtype="<f4").tofile(tmp)
    return Path(path)


def _validate_model_rows(where: str, rows: np.ndarray, width, height,
                         linenos: list[int] | None = None) -> None:
    """Check N x 5 model scan-path rows: numbering, times, ranges (InputError naming the row)."""
    def at(i: int) -> str:
        return f"{where}:{linenos[i]}" if linenos is not None else f"{where}: row {i + 1}"

    if rows.ndim != 2 or rows.shape[1] != 5:
        raise InputError(f"{where}: expected N x 5 rows, got shape {rows.shape}")
    if rows.shape[0] == 0:
        raise InputError(f"{where}: no scan-path rows")
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        raise InputError(f"{at(int(np.argmin(finite)))}: non-finite value")
    ints = rows[:, :2]
    bad = np.flatnonzero(((ints < 1) | (ints != np.round(ints))).any(axis=1))
    if bad.size:
        raise InputError(f"{at(bad[0])}: scan-path and fixation numbers must be integers >= 1")
    bad = np.flatnonzero(rows[:, 2] < 0)
    if bad.size:
        raise InputError(f"{at(bad[0])}: negative start time {rows[bad[0], 2]:g}")
    xs, ys = rows[:, 3], rows[:, 4]
    out = np.zeros(len(rows), dtype=bool)
    if width is not None:
        out |= (xs < 0) | (xs > width + 1)
    if height is not None:
        out |= (ys < 0) | (ys > height + 1)
    if out.any():
        i = int(np.argmax(out))
        _check_range(at(i), xs[i], ys[i], width, height)
    present = np.unique(ints[:, 0].astype(np.int64))
    gaps = np.setdiff1d(np.arange(1, present.max() + 1), present)
    if gaps.size:
        raise InputError(f"{where}: scan-path {gaps[0]} is empty (numbers must run 1..K)")


def write_model_scanpaths(path: str | os.PathLike, rows: np.ndarray, force: bool = False) -> Path:
    """Write N x 5 model scan-path rows to ``.csv`` (no header) or ``.mat`` (variable "scanpath")."""
    path = Path(path)
    arr = np.asarray(rows, dtype=np.float64)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".mat"):
        raise InputError(f"{path}: unsupported scan-path format (use .csv or .mat)")
    try:
        _validate_model_rows(str(path), arr, None, None)
    except InputError as err:
        raise ValueError(f"write_model_scanpaths: {err}") from None
    with atomic_path(path, force) as tmp:
        if suffix == ".csv":
            np.savetxt(tmp, arr, delimiter=",", fmt=["%d", "%d", "%.9g", "%.9g", "%.9g"])
        else:
            from scipy.io import savemat

            savemat(tmp, {"scanpath": arr})
    return path


def read_model_scanpaths(path: str | os.PathLike, width: int | None = None,
                         height: int | None = None) -> np.ndarray:
    """Read N x 5 model scan-paths (``.csv`` or ``.mat``) as float64, validated."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".mat":
        from scipy.io import loadmat

        if not path.is_file():
            raise InputError(f"{path}: file not found")
        try:
            data = loadmat(path)
        except Exception as err:  # scipy raises several unrelated types on corrupt files
            raise InputError(f"{path}: cannot read .mat file ({err})") from None
        if "scanpath" not in data:
            raise InputError(f"{path}: no variable 'scanpath' in the .mat file")
        try:
            arr = np.asarray(data["scanpath"], dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{path}: variable 'scanpath' is not numeric") from None
        if arr.ndim != 2:
            raise InputError(f"{path}: expected N x 5 rows, got shape {arr.shape}")
        _validate_model_rows(str(path), arr, width, height)
        return arr
    if suffix != ".csv":
        raise InputError(f"{path}: unsupported scan-path format (use .csv or .mat)")
    lines = [(i + 1, s) for i, s in enumerate(_read_lines(path)) if s.strip()]
    if not lines:
        raise InputError(f"{path}: empty scan-path file")
    arr = np.empty((len(lines), 5), dtype=np.float64)
    for i, (lineno, line) in enumerate(lines):
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 5:
            raise InputError(f"{path}:{lineno}: expected 5 columns, found {len(fields)}")
        values = _numeric(fields)
        if values is None:
            raise InputError(f"{path}:{lineno}: non-numeric or non-finite value in {line.strip()!r}")
        arr[i] = values
    _validate_model_rows(str(path), arr, width, height, [n for n, _ in lines])
    return arr


def load_fixations(root: str | os.PathLike, n: int) -> tuple[pd.DataFrame, tuple[int, int]]:
    """Scan-paths of image ``n`` (range-checked) and the image's (width, height)."""
    width, height = image_size(image_path(root, n))
    return read_scanpaths(scanpath_path(root, n), width, height), (width, height)
