"""iSUN reader (SPEC section 5; LSUN 2015 eye-tracking challenge): images and timed fixations.

Expected layout under ``root``::

    training.mat         split "train" (6,000 images)
    validation.mat       split "val" (926 images)
    images/<image>.jpg   the stimuli, named by the ``image`` field (an extension in the field
                         is honoured; otherwise .jpg, .jpeg, .png are tried in that order)

Each ``.mat`` holds one struct array (any variable name; the one whose records have an
``image`` field) with ``image``, ``resolution`` ([height, width]), ``scenecategory`` and
``gaze``: one struct per observer with ``location`` ([x, y] gaze samples, 1-based, possibly
fractional), ``timestamp`` (ms, one per sample) and ``fixation`` ([x, y] mean-shift fixation
points, no times). Start times come from the timed samples (:mod:`data_prep.gaze`: the
earliest sample within ``radius`` pixels, default 2% of the image width, else the nearest
sample), relative to the observer's first sample; fixations are numbered in time order.
Observers with fixations but no samples keep t = NaN.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data_prep import gaze
from data_prep.errors import InputError
from data_prep.records import Sample

SPLIT_FILES = {"train": "training.mat", "val": "validation.mat",
               "training": "training.mat", "validation": "validation.mat"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class IsunRecord:
    """One iSUN image entry: name, size, scene and observers as (samples, ms, fixations)."""

    image: str
    height: int
    width: int
    scene: str
    observers: list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def _entries(contents: dict, source: str) -> list:
    """The struct records of the first variable whose records have an ``image`` field."""
    stem = Path(source).stem
    keys = sorted((k for k in contents if not k.startswith("__")), key=lambda k: k != stem)
    for key in keys:
        try:
            recs = gaze.records(contents[key])
        except InputError:
            continue
        if recs and gaze.has_field(recs[0], "image"):
            return recs
    raise InputError(f"{source}: no struct array with an 'image' field")


def parse_isun(contents: dict, source: str) -> list[IsunRecord]:
    """Interpret a ``scipy.io.loadmat`` dict of ``training.mat``/``validation.mat``."""
    result = []
    for n, rec in enumerate(_entries(contents, source), start=1):
        where = f"{source}: entry {n}"
        try:
            name = gaze.as_text(gaze.field(rec, "image"))
            resolution = gaze.as_vector(gaze.field(rec, "resolution"))
            if resolution.size != 2:
                raise ValueError(f"resolution has {resolution.size} values, expected [height, width]")
            scene = gaze.as_text(gaze.field(rec, "scenecategory")) if gaze.has_field(
                rec, "scenecategory") else ""
            observers = []
            for i, obs in enumerate(gaze.records(gaze.field(rec, "gaze"))):
                location = gaze.as_points(gaze.field(obs, "location"))
                timestamp = gaze.as_vector(gaze.field(obs, "timestamp"))
                fixations = gaze.as_points(gaze.field(obs, "fixation", "fixations"))
                if len(timestamp) != len(location):
                    raise ValueError(f"gaze({i + 1}) has {len(location)} samples but "
                                     f"{len(timestamp)} timestamps")
                observers.append((location, timestamp, fixations))
        except KeyError as err:
            raise InputError(f"{where}: missing field {err}") from None
        except (ValueError, TypeError, InputError) as err:
            raise InputError(f"{where}: {err}") from None
        result.append(IsunRecord(name, int(resolution[0]), int(resolution[1]), scene, observers))
    return result


def read_isun(path: str | os.PathLike) -> list[IsunRecord]:
    """Read an iSUN ``training.mat`` / ``validation.mat``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: iSUN annotation file not found")
    contents = gaze.load_mat(path)
    return parse_isun(contents, str(path))


def isun_fixations(record: IsunRecord, radius: float | None = None) -> pd.DataFrame:
    """Fixation table (observer, fixation, t, x, y) of one record; radius in pixels."""
    return gaze.fixation_table(record.observers, record.width, radius)


def image_file(root: str | os.PathLike, name: str) -> Path:
    """Path of the stimulus ``name`` under ``root/images``; InputError if none exists."""
    folder = Path(root) / "images"
    direct = folder / name
    if direct.suffix.lower() in IMAGE_SUFFIXES and direct.is_file():
        return direct
    for suffix in IMAGE_SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    raise InputError(f"{folder / name}: iSUN image not found (tried {', '.join(IMAGE_SUFFIXES)})")


def isun_samples(root: str | os.PathLike, split: str,
                 radius: float | None = None) -> Iterator[Sample]:
    """Yield the iSUN ``split`` ("train" or "val") images of ``root`` one at a time as Samples."""
    from data_prep.images import load_image

    root = Path(root)
    if split not in SPLIT_FILES:
        raise InputError(f"{root}: unknown iSUN split {split!r} (expected train or val)")
    mat_path = root / SPLIT_FILES[split]
    for record in read_isun(mat_path):
        path = image_file(root, record.image)
        image = load_image(path)
        height, width = image.shape[:2]
        if (record.height, record.width) != (height, width):
            raise InputError(f"{mat_path}: {record.image} declares {record.width}x{record.height}, "
                             f"image is {width}x{height}")
        yield Sample(name=Path(record.image).stem if Path(record.image).suffix.lower()
                     in IMAGE_SUFFIXES else record.image,
                     image=image, fixations=isun_fixations(record, radius), saliency=None)
