"""Equirectangular pixels <-> the sphere: the one implementation every module uses.

Conventions (those of the Salient360! 2017 toolbox, SPEC section 7): for an image of
``width`` x ``height`` pixels, azimuth = 2*pi*x/W - pi and elevation = pi*y/H - pi/2,
with the unit vector (cos az cos el, sin az cos el, -sin el). ``x``/``y`` are the pixel
coordinates as written in the data files (1-based); arrays broadcast.
"""

from __future__ import annotations

import numpy as np


def pixel_to_angles(x, y, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates -> (azimuth, elevation) in radians, the official mapping."""
    # the toolbox's order of operations (2*pi*(x/W)), so results agree to the last bit
    az = 2.0 * np.pi * (np.asarray(x, dtype=np.float64) / width) - np.pi
    el = np.pi * (np.asarray(y, dtype=np.float64) / height) - np.pi / 2.0
    return az, el


def angles_to_unit(az, el) -> np.ndarray:
    """(azimuth, elevation) -> unit vectors, shape (..., 3), the official axis order."""
    az, el = np.broadcast_arrays(np.asarray(az, dtype=np.float64), np.asarray(el, dtype=np.float64))
    cos_el = np.cos(el)
    return np.stack([np.cos(az) * cos_el, np.sin(az) * cos_el, -np.sin(el)], axis=-1)


def pixel_to_unit(x, y, width: float, height: float) -> np.ndarray:
    """Pixel coordinates -> unit vectors on the sphere, shape (..., 3)."""
    return angles_to_unit(*pixel_to_angles(x, y, width, height))


def great_circle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in radians between unit vectors ``u`` and ``v`` (broadcast over leading axes)."""
    dot = np.sum(np.asarray(u) * np.asarray(v), axis=-1)
    return np.arccos(np.clip(dot, -1.0, 1.0))


def cell_centres(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth (width,) and elevation (height,) of the centres of an H x W equirectangular grid."""
    az = (np.arange(width) + 0.5) * (2.0 * np.pi / width) - np.pi
    el = (np.arange(height) + 0.5) * (np.pi / height) - np.pi / 2.0
    return az, el


def cell_unit_vectors(height: int, width: int) -> np.ndarray:
    """Unit vectors of the centres of an H x W equirectangular grid, shape (H, W, 3)."""
    az, el = cell_centres(height, width)
    return angles_to_unit(az[None, :], el[:, None])


def to_grid(x, y, width: float, height: float, grid_h: int, grid_w: int) -> tuple[np.ndarray, np.ndarray]:
    """1-based full-image pixel coordinates -> 0-based (row, col) cells of a grid_h x grid_w grid.

    Columns wrap around the 360-degree seam; rows are clamped to the image.
    """
    col = np.floor((np.asarray(x, dtype=np.float64) - 1.0) * grid_w / width).astype(np.int64) % grid_w
    row = np.floor((np.asarray(y, dtype=np.float64) - 1.0) * grid_h / height).astype(np.int64)
    return np.clip(row, 0, grid_h - 1), col


def from_grid(row, col, width: float, height: float, grid_h: int, grid_w: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """0-based grid cells -> 1-based full-image pixel coordinates.

    With ``rng`` (a numpy Generator) the position is uniform within the cell; without, the
    cell centre. Returned as floats in [1, width+1) x [1, height+1).
    """
    row = np.asarray(row, dtype=np.float64)
    col = np.asarray(col, dtype=np.float64)
    if rng is None:
        fr = fc = 0.5
    else:
        fr = rng.random(row.shape)
        fc = rng.random(col.shape)
    x = 1.0 + (col + fc) * (width / grid_w)
    y = 1.0 + (row + fr) * (height / grid_h)
    return x, y
