"""The record every dataset reader yields to the packer, and the Salient360! 2017 reader."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_prep.errors import InputError

KINDS = ("head_eye", "head_only")


@dataclass
class Sample:
    """One stimulus: its name, RGB image and whatever ground truth the source has.

    ``fixations`` has columns observer, fixation, t (s from the observer's first fixation),
    x, y (1-based pixels of ``image``) or is None (map-only sources); ``saliency`` is a
    full-size (H, W) ground-truth map or None (it is then derived from the fixations).
    """

    name: str
    image: np.ndarray
    fixations: pd.DataFrame | None = None
    saliency: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the full-size image."""
        return int(self.image.shape[1]), int(self.image.shape[0])


def salient360_samples(
    root: str | os.PathLike, ids: Iterable[int], kind: str = "head_eye"
) -> Iterator[Sample]:
    """Yield the Salient360! 2017 images ``ids`` of ``root`` one at a time.

    ``kind="head_eye"``: scan-paths from ``Scanpaths/SP<n>.txt`` and the ``SHE<n>.bin`` map;
    ``kind="head_only"``: no scan-paths (fixations None), the ``SH<n>.bin`` head map.
    """
    from data_prep.images import load_image
    from data_prep.salient360 import (
        head_eye_map_path,
        head_map_path,
        image_path,
        read_saliency_bin,
        read_scanpaths,
        scanpath_path,
    )

    if kind not in KINDS:
        raise InputError(
            f"{root}: unknown image kind {kind!r} (expected one of {', '.join(KINDS)})"
        )
    for n in ids:
        image = load_image(image_path(root, n))
        height, width = image.shape[:2]
        if kind == "head_eye":
            fixations = read_scanpaths(scanpath_path(root, n), width=width, height=height)
            saliency = read_saliency_bin(head_eye_map_path(root, n), width, height)
        else:
            fixations = None
            saliency = read_saliency_bin(head_map_path(root, n), width, height)
        yield Sample(name=f"P{n}", image=image, fixations=fixations, saliency=saliency)
