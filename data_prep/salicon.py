"""SALICON reader (SPEC section 5): images, mouse-tracking fixations and ground-truth maps.

Expected layout under ``root`` (``split`` is ``train`` or ``val``)::

    images/<split>/COCO_<split>2014_000000000009.jpg     all 640x480
    fixations/<split>/COCO_<split>2014_000000000009.mat  2016/2017 release: one file per image
    fixations_<split>2014.json                           2015 release: one COCO-style file
    maps/<split>/COCO_<split>2014_000000000009.png       ground-truth saliency maps

Either fixation form may be present (a per-image ``.mat`` wins when both are); maps are
optional when fixations exist and vice versa. The JSON may also sit in ``fixations/`` or be
passed explicitly.

Per-image ``.mat``: ``image`` (name), ``resolution`` ([height, width]) and ``gaze``, one
struct per observer with ``location`` (mouse samples, [x, y] 1-based), ``timestamp`` (ms per
sample) and ``fixations`` ([x, y] 1-based, no times). Releases nest ``gaze`` either as a
struct array (n x 1) or as a cell array of 1 x 1 structs; both, and every form
``scipy.io.loadmat`` returns them in, are accepted. Fixation start times are derived from the
timed samples as described in :mod:`data_prep.gaze`.

2015 JSON: ``images`` (``id``, ``file_name``, ``width``, ``height``) and ``annotations``
(``image_id``, ``worker_id``, ``fixations`` as [row, col] 1-based). One observer per
annotation, numbered in file order; these fixations carry no timing, so ``t`` is NaN and the
fixation numbers follow the listed order.

Ground-truth PNG maps are returned as float32 in [0, 1] (8-bit / 255, 16-bit / 65535).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from data_prep import gaze
from data_prep.errors import InputError
from data_prep.records import Sample

SPLITS = ("train", "val")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class SaliconMat:
    """Contents of one per-image SALICON ``.mat``: observers as (samples, ms, fixations)."""

    image: str
    height: int
    width: int
    observers: list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def parse_salicon_mat(contents: dict, source: str) -> SaliconMat:
    """Interpret a ``scipy.io.loadmat`` dict (any nesting/options) of a SALICON fixation file."""
    try:
        name = gaze.as_text(contents["image"]) if "image" in contents else ""
        resolution = gaze.as_vector(contents["resolution"])
        if resolution.size != 2:
            raise ValueError(f"resolution has {resolution.size} values, expected [height, width]")
        observers = []
        for i, rec in enumerate(gaze.records(contents["gaze"])):
            try:
                location = gaze.as_points(gaze.field(rec, "location"))
                timestamp = gaze.as_vector(gaze.field(rec, "timestamp"))
                fixations = gaze.as_points(gaze.field(rec, "fixations", "fixation"))
            except (KeyError, ValueError, TypeError) as err:
                raise ValueError(f"gaze({i + 1}): {type(err).__name__} {err}") from None
            if len(timestamp) != len(location):
                raise ValueError(f"gaze({i + 1}): {len(location)} samples but "
                                 f"{len(timestamp)} timestamps")
            observers.append((location, timestamp, fixations))
    except KeyError as err:
        raise InputError(f"{source}: missing variable {err}") from None
    except (ValueError, TypeError, InputError) as err:
        raise InputError(f"{source}: {err}") from None
    return SaliconMat(name, int(resolution[0]), int(resolution[1]), observers)


def read_salicon_mat(path: str | os.PathLike) -> SaliconMat:
    """Read a per-image SALICON fixation ``.mat``."""
    path = Path(path)
    contents = gaze.load_mat(path)
    return parse_salicon_mat(contents, str(path))


def mat_fixations(mat: SaliconMat, radius: float | None = None) -> pd.DataFrame:
    """Fixation table (observer, fixation, t, x, y) of a parsed ``.mat``; radius in pixels."""
    return gaze.fixation_table(mat.observers, mat.width, radius)


def read_salicon_json(path: str | os.PathLike) -> dict[str, tuple[pd.DataFrame, tuple[int, int]]]:
    """Read a 2015 COCO-style fixation JSON: image stem -> (fixations, (width, height))."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        images = {int(im["id"]): (Path(im["file_name"]).stem, int(im["width"]), int(im["height"]))
                  for im in data["images"]}
        grouped: dict[int, list[np.ndarray]] = {}
        for i, ann in enumerate(data["annotations"]):
            if int(ann["image_id"]) not in images:
                raise ValueError(f"annotation {i} refers to unknown image_id {ann['image_id']}")
            points = np.asarray(ann["fixations"], dtype=np.float64).reshape(-1, 2)
            grouped.setdefault(int(ann["image_id"]), []).append(points)
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err})") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from None
    except (KeyError, ValueError, TypeError) as err:
        raise InputError(f"{path}: not a SALICON fixation file ({type(err).__name__} {err})") from None
    result = {}
    for image_id, (stem, width, height) in images.items():
        observers = [(np.zeros((0, 2)), None, rc[:, ::-1]) for rc in grouped.get(image_id, [])]
        result[stem] = (gaze.observers_frame(observers, radius=0.0), (width, height))
    return result


def read_salicon_map(path: str | os.PathLike) -> np.ndarray:
    """Read a ground-truth PNG saliency map as float32 (H, W) in [0, 1]."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode.startswith("I;16") or img.mode == "I":
                arr = np.asarray(img, dtype=np.float64) / 65535.0
            else:
                arr = np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    except FileNotFoundError:
        raise InputError(f"{path}: map file not found") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise InputError(f"{path}: cannot decode map ({err})") from None
    return np.clip(arr, 0.0, 1.0).astype(np.float32)


def find_json(root: str | os.PathLike, split: str) -> Path | None:
    """The 2015 fixation JSON for ``split`` under ``root`` (or ``root/fixations``), if any."""
    root = Path(root)
    for folder in (root, root / "fixations"):
        for name in (f"fixations_{split}2014.json", f"{split}.json"):
            if (folder / name).is_file():
                return folder / name
    return None


def salicon_samples(root: str | os.PathLike, split: str, json_path: str | os.PathLike | None = None,
                    radius: float | None = None) -> Iterator[Sample]:
    """Yield the SALICON ``split`` images of ``root`` one at a time as Samples (sorted by name)."""
    from data_prep.images import load_image

    root = Path(root)
    if split not in SPLITS:
        raise InputError(f"{root}: unknown SALICON split {split!r} (expected train or val)")
    image_dir = root / "images" / split
    if not image_dir.is_dir():
        raise InputError(f"{image_dir}: SALICON images folder not found")
    paths = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise InputError(f"{image_dir}: no images")
    json_file = Path(json_path) if json_path is not None else find_json(root, split)
    from_json = read_salicon_json(json_file) if json_file is not None else {}
    for path in paths:
        image = load_image(path)
        height, width = image.shape[:2]
        fixations = None
        mat_path = root / "fixations" / split / f"{path.stem}.mat"
        if mat_path.is_file():
            mat = read_salicon_mat(mat_path)
            _check_size(mat_path, (mat.width, mat.height), (width, height))
            fixations = mat_fixations(mat, radius)
        elif path.stem in from_json:
            fixations, size = from_json[path.stem]
            _check_size(json_file, size, (width, height))
        map_path = root / "maps" / split / f"{path.stem}.png"
        saliency = read_salicon_map(map_path) if map_path.is_file() else None
        if saliency is not None and saliency.shape != (height, width):
            raise InputError(f"{map_path}: map is {saliency.shape[1]}x{saliency.shape[0]}, "
                             f"image is {width}x{height}")
        if fixations is None and saliency is None:
            raise InputError(f"{path}: no fixations (.mat or JSON) and no map found")
        yield Sample(name=path.stem, image=image, fixations=fixations, saliency=saliency)


def _check_size(source: Path | None, declared: tuple[int, int], actual: tuple[int, int]) -> None:
    """InputError when the resolution a fixation file declares differs from the image's."""
    if tuple(declared) != tuple(actual):
        raise InputError(f"{source}: declares {declared[0]}x{declared[1]}, "
                         f"image is {actual[0]}x{actual[1]}")
