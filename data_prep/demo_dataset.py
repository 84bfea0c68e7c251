"""The embedded demo dataset: synthetic 360-degree scenes and simulated observers.

``python -m data_prep.demo_dataset OUT`` writes a complete dataset root in the
Salient360! 2017 layout (``Images/P<n>.jpg``, ``Scanpaths/SP<n>.txt``,
``HeadEyeSalMaps/SHE<n>.bin``, ``HeadSalMaps/SH<n>.bin``) with the real dataset's ids, so
every step of the pipeline runs without a download. It is a stand-in, not data.

Scenes are rendered on the sphere (every pixel's direction is tested against objects
defined on the sphere), so the equirectangular stretch near the poles and objects across
the 360-degree seam come out right. A scene has sky, horizon and ground, a few salient
objects and one or two dull distractors. Warm-coloured objects (red to yellow) draw the
eye early in the viewing, cool-coloured ones (cyan to violet) late; bigger and more
saturated objects draw more. Observers start at longitude 0 on the equator, move from
object to object (nearby ones first; the reach grows with time), dwell, revisit and
drift. Fixation counts and durations come from the published histograms; a scan-path
lasts at most 25 s (the viewing time of the experiment). Ground-truth maps are sums of
von Mises-Fisher kernels on the sphere: 3 degrees at the fixations for the head+eye maps,
7 degrees at the simulated head directions (weighted by dwell time) for the head maps.
"""

from __future__ import annotations

import argparse
import colorsys
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from data_prep.distributions import ScanpathStats, published_stats
from data_prep.errors import InputError, check_writable, run_cli
from data_prep.geometry import angles_to_unit, cell_centres, cell_unit_vectors, pixel_to_unit

VIEWING_TIME = 25.0  # s, the longest scan-path
REACH = (30.0, 4.0, 2.0)  # attraction falls as exp(-(d / (a + b t)) ** c), d in degrees
EYE_SIGMA_DEG = 3.0  # kernel of the head+eye maps
HEAD_SIGMA_DEG = 7.0  # kernel of the head maps
JPEG_QUALITY = 92
UP = np.array([0.0, 0.0, 1.0])

# Object categories: early and late attractors, dull distractors.
EARLY, LATE, DULL = 0, 1, 2
SHAPES = ("disc", "square", "diamond", "ring", "star", "tower", "triangle")
TEXTURES = ("shaded", "stripes", "checker", "dots")


@dataclass(frozen=True)
class SceneObject:
    """An object on the sphere: centre, angular radius, look and how it attracts the eye."""

    centre: np.ndarray  # unit vector (3,)
    radius: float  # radians
    shape: str
    texture: str
    colour: np.ndarray  # RGB 0-255 (3,)
    colour2: np.ndarray  # second texture colour
    angle: float  # texture orientation, radians
    frequency: float  # texture cycles across the object
    category: int  # EARLY, LATE or DULL
    salience: float
    peak_time: float  # s, when it attracts most


@dataclass(frozen=True)
class Scene:
    """Background parameters and the objects of one panorama."""

    sky_low: np.ndarray
    sky_high: np.ndarray
    ground_near: np.ndarray
    ground_far: np.ndarray
    horizon: np.ndarray  # (k, 3): amplitude (rad), frequency (int), phase
    clouds: np.ndarray  # (m, 5): direction (3), frequency, phase
    grain: np.ndarray  # (m, 5)
    objects: tuple[SceneObject, ...]


def _rgb(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v)) * 255.0


def _unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _waves(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    return np.column_stack(
        [_unit_rows(rng, n), rng.uniform(low, high, n), rng.uniform(0, 2 * np.pi, n)]
    )


def _tangent_basis(centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """East and north unit vectors at ``centre`` (any orthonormal pair at the poles)."""
    east = np.cross(UP, centre)
    if np.linalg.norm(east) < 1e-6:
        east = np.array([0.0, 1.0, 0.0])
    east /= np.linalg.norm(east)
    return east, np.cross(centre, east)


def make_scene(rng: np.random.Generator) -> Scene:
    """Draw a random scene: palette, horizon, clouds, 3-6 salient objects and 0-2 distractors."""
    sky_hue = rng.uniform(0.5, 0.64) if rng.random() < 0.75 else rng.uniform(0.05, 0.12)
    sky_low = _rgb(sky_hue, rng.uniform(0.05, 0.2), rng.uniform(0.8, 0.95))
    sky_high = _rgb(sky_hue, rng.uniform(0.2, 0.4), rng.uniform(0.55, 0.8))
    ground_hue = rng.choice([0.25, 0.3, 0.09, 0.11, 0.0]) + rng.uniform(-0.02, 0.02)
    ground_sat = rng.uniform(0.0, 0.1) if ground_hue < 0.05 else rng.uniform(0.2, 0.4)
    ground_far = _rgb(ground_hue, ground_sat * 0.7, rng.uniform(0.5, 0.65))
    ground_near = _rgb(ground_hue, ground_sat, rng.uniform(0.3, 0.45))
    k = np.arange(1, 7)
    horizon = np.column_stack(
        [rng.uniform(0, np.radians(2.5), 6) / k**0.5, k, rng.uniform(0, 2 * np.pi, 6)]
    )

    n_salient = int(rng.integers(3, 7))
    n_dull = int(rng.integers(0, 3))
    categories = (
        [EARLY, LATE] + [int(c) for c in rng.integers(0, 2, n_salient - 2)] + [DULL] * n_dull
    )
    categories = [categories[i] for i in rng.permutation(len(categories))]
    n = len(categories)
    spacing = 2 * np.pi / n
    seam = int(rng.integers(0, n)) if rng.random() < 0.35 else -1  # this one straddles the seam
    offset = np.pi - spacing * seam if seam >= 0 else rng.uniform(0, 2 * np.pi)
    objects = []
    for i, category in enumerate(categories):
        jitter = 0.0 if i == seam else rng.uniform(-0.2, 0.2)
        az = offset + (i + jitter) * spacing
        el = float(np.clip(rng.normal(0.0, np.radians(10)), -np.radians(30), np.radians(30)))
        if rng.random() < 0.15:  # high in the sky or low on the ground: polar stretch
            el = float(rng.choice([-1, 1]) * rng.uniform(np.radians(40), np.radians(62)))
        centre = angles_to_unit(az, -el)  # the official mapping's elevation points down
        if category == DULL:
            radius = np.radians(rng.uniform(6, 12))
            base = ground_far if el < 0.0 else sky_low
            h, s, v = colorsys.rgb_to_hsv(*(base / 255.0))
            colour = _rgb(
                h + rng.uniform(-0.05, 0.05),
                min(s + 0.1, 0.3),
                np.clip(v + rng.uniform(-0.2, 0.1), 0, 1),
            )
            colour2 = colour * rng.uniform(0.85, 0.95)
            texture, salience, peak = "shaded", 0.12, VIEWING_TIME / 2
        else:
            radius = np.radians(rng.uniform(8, 20))
            if category == EARLY:
                hue = rng.uniform(-0.03, 0.15)
                peak = rng.uniform(0.5, 5.0)
            else:
                hue = rng.uniform(0.47, 0.78)
                peak = rng.uniform(10.0, 18.0)
            sat = rng.uniform(0.65, 1.0)
            colour = _rgb(hue, sat, rng.uniform(0.8, 1.0))
            colour2 = (
                _rgb(hue, sat * rng.uniform(0.2, 0.5), 1.0)
                if rng.random() < 0.5
                else _rgb(hue, sat, 0.3)
            )
            texture = str(rng.choice(TEXTURES))
            salience = (0.5 + sat) * (np.degrees(radius) / 10.0) ** 0.5
        objects.append(
            SceneObject(
                centre=centre,
                radius=float(radius),
                shape=str(rng.choice(SHAPES)),
                texture=texture,
                colour=colour,
                colour2=colour2,
                angle=float(rng.uniform(0, np.pi)),
                frequency=float(rng.uniform(2.0, 4.0)),
                category=category,
                salience=float(salience),
                peak_time=float(peak),
            )
        )
    objects.sort(key=lambda o: -o.radius)  # small objects drawn last, on top
    return Scene(
        sky_low,
        sky_high,
        ground_near,
        ground_far,
        horizon,
        _waves(rng, 6, 2, 7),
        _waves(rng, 8, 15, 60),
        tuple(objects),
    )


class _Grid:
    """Directions of the pixel centres of an equirectangular grid, kept separable (float32)."""

    def __init__(self, height: int, width: int):
        az, el = cell_centres(height, width)  # official elevation: negative at the top
        self.cos_az, self.sin_az = np.cos(az).astype(np.float32), np.sin(az).astype(np.float32)
        self.cos_el = np.cos(el).astype(np.float32)
        self.sin_up = (-np.sin(el)).astype(np.float32)
        self.azimuth = az.astype(np.float32)
        self.elevation = (-el).astype(np.float32)  # up is positive

    def dot(self, v: np.ndarray) -> np.ndarray:
        """(H, W) dot products of every pixel direction with the vector ``v``."""
        v = np.asarray(v, dtype=np.float32)
        return (
            self.cos_el[:, None] * (self.cos_az * v[0] + self.sin_az * v[1])[None, :]
            + (self.sin_up * v[2])[:, None]
        )

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(n, 3) directions of the pixels (rows, cols)."""
        c = self.cos_el[rows]
        return np.stack([c * self.cos_az[cols], c * self.sin_az[cols], self.sin_up[rows]], axis=1)


def _field(grid: _Grid, waves: np.ndarray) -> np.ndarray:
    """Smooth seamless noise on the sphere: a sum of plane waves, in about [-1, 1]."""
    out = np.zeros((len(grid.cos_el), len(grid.cos_az)), dtype=np.float32)
    for w in waves:
        out += np.sin(np.float32(w[3]) * grid.dot(w[:3]) + np.float32(w[4]))
    return out / np.float32(np.sqrt(len(waves) / 2))


def _shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside test in the object's tangent plane, coordinates in units of its radius."""
    r = np.hypot(u, v)
    if shape == "disc":
        return r < 1.0
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) < 0.85
    if shape == "diamond":
        return np.abs(u) + np.abs(v) < 1.15
    if shape == "ring":
        return (r < 1.0) & (r > 0.55)
    if shape == "star":
        return r < 0.6 + 0.4 * np.cos(5 * np.arctan2(v, u))
    if shape == "tower":
        return (np.abs(u) < 0.45) & (np.abs(v) < 1.0)
    return (v > -0.6) & (v < 0.9 - 1.7 * np.abs(u))  # triangle


def _texture(obj: SceneObject, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Weight of the second colour at tangent-plane points, in [0, 1]."""
    c, s = np.cos(obj.angle), np.sin(obj.angle)
    a, b = (c * u + s * v) * obj.frequency, (-s * u + c * v) * obj.frequency
    if obj.texture == "stripes":
        return (np.sin(2 * np.pi * a) > 0).astype(np.float32)
    if obj.texture == "checker":
        return ((np.floor(a) + np.floor(b)) % 2).astype(np.float32)
    if obj.texture == "dots":
        return (np.hypot(a - np.round(a), b - np.round(b)) < 0.28).astype(np.float32)
    return np.clip(0.5 * (u + v) + 0.5, 0, 1).astype(np.float32) * 0.8  # shaded


def render_scene(
    scene: Scene, height: int, width: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Render an equirectangular image; returns (uint8 (H, W, 3), labels (H, W) int: object index or -1)."""
    grid = _Grid(height, width)
    horizon = np.zeros(width, dtype=np.float32)
    for amp, freq, phase in scene.horizon:
        horizon += np.float32(amp) * np.sin(np.float32(freq) * grid.azimuth + np.float32(phase))
    above = grid.elevation[:, None] - horizon[None, :]
    f32 = np.float32
    sky_t = np.clip(above / f32(np.pi / 2), 0, 1)[..., None] ** f32(0.6)
    sky = scene.sky_low.astype(f32) * (1 - sky_t) + scene.sky_high.astype(f32) * sky_t
    cloud = np.clip(_field(grid, scene.clouds) - f32(0.3), 0, 1)[..., None]
    sky = sky * (1 - f32(0.7) * cloud) + f32(245.0 * 0.7) * cloud
    ground_t = np.clip(-above / f32(np.pi / 2), 0, 1)[..., None] ** f32(0.5)
    ground = (
        scene.ground_far.astype(f32) * (1 - ground_t) + scene.ground_near.astype(f32) * ground_t
    )
    ground = ground * (1 + f32(0.12) * _field(grid, scene.grain)[..., None])
    haze = np.exp(-np.abs(above) / f32(np.radians(1.5)))[..., None] * f32(0.35)
    image = np.where((above > 0)[..., None], sky, ground) * (1 - haze) + f32(225.0) * haze
    labels = np.full((height, width), -1, dtype=np.int32)

    for index, obj in enumerate(scene.objects):
        cos_dist = grid.dot(obj.centre)
        near = cos_dist > np.cos(min(1.45 * obj.radius, 1.4))
        if not near.any():
            continue
        d = grid.at(*np.nonzero(near))
        east, north = _tangent_basis(obj.centre)
        scale = np.float32(np.tan(obj.radius))
        u = (d @ east.astype(np.float32)) / cos_dist[near] / scale
        v = (d @ north.astype(np.float32)) / cos_dist[near] / scale
        inside = _shape_mask(obj.shape, u, v)
        edge = inside & ~_shape_mask(obj.shape, u * 1.1, v * 1.1)  # dark outline
        weight = _texture(obj, u, v)[:, None]
        colour = (obj.colour * (1 - weight) + obj.colour2 * weight).astype(np.float32)
        if obj.category != DULL:
            colour = np.where(edge[:, None], colour * 0.25, colour)
        pixels = image[near]
        pixels[inside] = colour[inside]
        image[near] = pixels
        lab = labels[near]
        lab[inside] = index
        labels[near] = lab
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(3.0)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), labels


def _to_angles(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors -> (azimuth, elevation up) in radians."""
    return np.arctan2(d[..., 1], d[..., 0]), np.arcsin(np.clip(d[..., 2], -1, 1))


def _normalise(d: np.ndarray) -> np.ndarray:
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def _offsets(rng: np.random.Generator, centres: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Points around ``centres`` (n, 3), tangent-plane Gaussian offsets of std ``size`` (n,) radians."""
    east = np.cross(UP, centres)
    bad = np.linalg.norm(east, axis=1) < 1e-6
    east[bad] = [0.0, 1.0, 0.0]
    east = _normalise(east)
    north = np.cross(centres, east)
    uv = rng.normal(size=(len(centres), 2)) * size[:, None]
    return _normalise(centres + uv[:, :1] * east + uv[:, 1:] * north)


def simulate_observers(
    scene: Scene, rng: np.random.Generator, observers: int, stats: ScanpathStats
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulate scan-paths: directions (O, N, 3), start times and durations (O, N) s, mask (O, N).

    Observer o has ``mask[o].sum()`` fixations (count drawn from ``stats``), the first at 0 s;
    durations are drawn from ``stats`` and shrunk where a scan-path would exceed 25 s.
    """
    counts = stats.draw_counts(rng, observers)
    n_max = int(counts.max())
    mask = np.arange(n_max)[None, :] < counts[:, None]
    durations = stats.draw_durations(rng, (observers, n_max)) * mask
    durations *= np.minimum(1.0, VIEWING_TIME / durations.sum(axis=1))[:, None]
    starts = np.cumsum(durations, axis=1) - durations

    centres = np.array([o.centre for o in scene.objects])
    radii = np.array([o.radius for o in scene.objects])
    salience = np.array([o.salience for o in scene.objects])
    peaks = np.array([o.peak_time for o in scene.objects])
    timed = np.array([o.category != DULL for o in scene.objects])

    dirs = np.zeros((observers, n_max, 3))
    first = angles_to_unit(
        rng.normal(0, np.radians(4), observers), rng.normal(0, np.radians(3), observers)
    )
    dirs[:, 0] = first
    current = np.full(observers, -1)
    for k in range(1, n_max):
        t = starts[:, k]
        prev = dirs[:, k - 1]
        distance = np.arccos(np.clip(prev @ centres.T, -1, 1))  # (O, K)
        reach = np.radians(REACH[0] + REACH[1] * t)[:, None]
        timing = np.where(timed, 0.05 + np.exp(-0.5 * ((t[:, None] - peaks) / 3.0) ** 2), 1.0)
        weight = salience * timing * np.exp(-((distance / reach) ** REACH[2]))
        weight[np.arange(observers), current] *= np.where(current >= 0, 0.5, 1.0)
        cumulative = np.cumsum(weight, axis=1)
        pick = (cumulative < rng.random(observers)[:, None] * cumulative[:, -1:]).sum(axis=1)
        pick = np.minimum(pick, len(centres) - 1)
        on_object = _offsets(rng, centres[pick], 0.4 * radii[pick])
        step = np.radians(rng.rayleigh(10.0, observers))
        drift = _offsets(rng, prev, step)
        az, el = _to_angles(drift)
        drift = angles_to_unit(az, -0.85 * el)  # drifting gaze settles towards the horizon
        explore = rng.random(observers) < 0.15
        new = np.where(explore[:, None], drift, on_object)
        dirs[:, k] = _offsets(rng, new, np.full(observers, np.radians(0.7)))
        current = np.where(explore, -1, pick)
    return dirs, starts, durations, mask


def head_directions(dirs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Head directions that follow the gaze with lag and stay nearer the horizon, (O, N, 3)."""
    head = np.zeros_like(dirs)
    head[:, 0] = angles_to_unit(np.zeros(len(dirs)), np.zeros(len(dirs)))
    for k in range(1, dirs.shape[1]):
        head[:, k] = _normalise(0.55 * head[:, k - 1] + 0.45 * dirs[:, k])
    az, el = _to_angles(head)
    az = az + rng.normal(0, np.radians(2), az.shape)
    return angles_to_unit(az, -0.7 * el)


def directions_to_pixels(
    dirs: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors -> integer 1-based pixels (x, y) of the cell holding each direction."""
    az, el_up = _to_angles(dirs)
    x = np.floor((az + np.pi) / (2 * np.pi) * width).astype(np.int64) % width + 1
    y = np.clip(np.floor((np.pi / 2 - el_up) / np.pi * height).astype(np.int64), 0, height - 1) + 1
    return x, y


def _interp_axis(values: np.ndarray, n_out: int, axis: int, wrap: bool) -> np.ndarray:
    n_in = values.shape[axis]
    pos = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    lo = np.floor(pos).astype(np.int64)
    frac = (pos - lo).astype(np.float32)
    hi = lo + 1
    if wrap:
        lo, hi = lo % n_in, hi % n_in
    else:
        lo, hi = np.clip(lo, 0, n_in - 1), np.clip(hi, 0, n_in - 1)
    shape = [1, 1]
    shape[axis] = n_out
    frac = frac.reshape(shape)
    return np.take(values, lo, axis=axis) * (1 - frac) + np.take(values, hi, axis=axis) * frac


def sphere_map(
    dirs: np.ndarray, weights: np.ndarray, height: int, width: int, sigma_deg: float
) -> np.ndarray:
    """Sum of von Mises-Fisher kernels (std ``sigma_deg``) at ``dirs`` (N, 3); float32 (H, W), sum 1.

    Evaluated exactly on a grid of at most ``2.5/sigma`` cells per degree (the full grid for
    small images) and interpolated bilinearly (longitude wrapping) to height x width.
    """
    grid_w = min(width, 2 * int(np.ceil(360.0 * 2.5 / sigma_deg / 2)))
    grid_h = min(height, max(1, round(grid_w * height / width)))
    cells = cell_unit_vectors(grid_h, grid_w).reshape(-1, 3).astype(np.float32)
    kappa = np.float32(1.0 / np.radians(sigma_deg) ** 2)
    points = np.asarray(dirs, dtype=np.float32).reshape(-1, 3)
    w = np.asarray(weights, dtype=np.float32).reshape(-1)
    out = np.empty(len(cells), dtype=np.float32)
    chunk = max(1, 4_000_000 // max(len(points), 1))
    for start in range(0, len(cells), chunk):
        block = cells[start : start + chunk] @ points.T
        out[start : start + chunk] = np.exp(kappa * (block - 1.0)) @ w
    grid = out.reshape(grid_h, grid_w)
    if (grid_h, grid_w) != (height, width):
        grid = _interp_axis(_interp_axis(grid, height, 0, wrap=False), width, 1, wrap=True)
    grid = np.maximum(grid, 0.0).astype(np.float64)
    return (grid / grid.sum()).astype(np.float32)


def format_scanpaths(
    starts: np.ndarray, mask: np.ndarray, x: np.ndarray, y: np.ndarray, clock0: np.ndarray
) -> str:
    """Text of an ``SP<n>.txt`` file: ``fixation_number,time,x,y``, time a clock reading modulo 60."""
    ms = (np.round((clock0[:, None] + starts) * 1000).astype(np.int64)) % 60000
    number = np.broadcast_to(np.arange(1, mask.shape[1] + 1), mask.shape)
    rows = zip(number[mask], ms[mask], x[mask], y[mask], strict=True)
    return "".join(f"{n},{m // 1000}.{m % 1000:03d},{a},{b}\n" for n, m, a, b in rows)


def _readme(width: int, height: int, seed: int, observers: int, ids: list[int]) -> str:
    return (
        "SYNTHETIC DEMO DATA - not the Salient360! dataset.\n\n"
        "Written by `python -m data_prep.demo_dataset` of the SaltiNet reproduction so that every\n"
        "step of the pipeline runs without a download. The layout and file formats are those of\n"
        "the Salient360! 2017 release (Images/, Scanpaths/, HeadEyeSalMaps/, HeadSalMaps/), the\n"
        "images are procedurally rendered panoramas and the scan-paths come from simulated\n"
        "observers; results computed on it say nothing about human viewing.\n\n"
        f"size {width}x{height}, seed {seed}, {observers} observers per image, {len(ids)} images\n"
        f"ids: {' '.join(f'P{n}' for n in ids)}\n"
    )


def _streams(seed: int, n: int) -> list[np.random.Generator]:
    """Independent random streams (scene, render, eye, head) of image ``n``: ids can be subset."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence([seed, n]).spawn(4)]


def demo_scene(seed: int, n: int, height: int, width: int) -> tuple[Scene, np.ndarray, np.ndarray]:
    """The scene of demo image ``n``: (scene, rendered uint8 image, object labels (H, W), -1 = none)."""
    scene_rng, render_rng, _, _ = _streams(seed, n)
    scene = make_scene(scene_rng)
    return (scene, *render_scene(scene, height, width, render_rng))


def write_image_files(
    out: Path,
    n: int,
    head_eye: bool,
    width: int,
    height: int,
    seed: int,
    observers: int,
    stats: ScanpathStats,
) -> None:
    """Render, simulate and write every file of image ``n`` into the dataset root ``out``."""
    from data_prep.salient360 import (
        head_eye_map_path,
        head_map_path,
        image_path,
        scanpath_path,
        write_saliency_bin,
    )

    _, _, eye_rng, head_rng = _streams(seed, n)
    scene, image, _ = demo_scene(seed, n, height, width)
    Image.fromarray(image).save(image_path(out, n), quality=JPEG_QUALITY)
    dirs, starts, durations, mask = simulate_observers(scene, eye_rng, observers, stats)
    head = head_directions(dirs, head_rng)
    head_map = sphere_map(head[mask], durations[mask], height, width, HEAD_SIGMA_DEG)
    write_saliency_bin(head_map_path(out, n), head_map)
    if head_eye:
        x, y = directions_to_pixels(dirs, width, height)
        clock0 = head_rng.uniform(0.0, 60.0, len(dirs))
        scanpath_path(out, n).write_text(format_scanpaths(starts, mask, x, y, clock0))
        centres = pixel_to_unit(x[mask] - 0.5, y[mask] - 0.5, width, height)
        write_saliency_bin(
            head_eye_map_path(out, n),
            sphere_map(centres, np.ones(len(centres)), height, width, EYE_SIGMA_DEG),
        )


def _permissions(root: Path) -> None:
    """Give the temporary files and folders the modes the umask allows (mkstemp makes them 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def make_demo_dataset(
    out: str | os.PathLike,
    width: int = 1024,
    height: int = 512,
    seed: int = 0,
    observers: int = 40,
    ids: Iterable[int] | None = None,
    force: bool = False,
    stats: ScanpathStats | None = None,
) -> Path:
    """Write the demo dataset root ``out`` (all 60 ids, or ``ids``); atomic, refuses an existing ``out``."""
    from data_prep.salient360 import HEAD_EYE_IDS, HEAD_ONLY_IDS

    out = check_writable(out, force)
    if width < 8 or height < 4:
        raise InputError(f"{out}: image size {width}x{height} is too small (at least 8x4)")
    if observers < 1:
        raise InputError(f"{out}: needs at least one observer, got {observers}")
    known = set(HEAD_EYE_IDS) | set(HEAD_ONLY_IDS)
    ids = sorted(known) if ids is None else sorted({int(n) for n in ids})
    unknown = [n for n in ids if n not in known]
    if unknown or not ids:
        raise InputError(f"{out}: ids must be Salient360! 2017 ids, got {unknown or 'none'}")
    stats = stats or published_stats()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        for folder in ("Images", "Scanpaths", "HeadEyeSalMaps", "HeadSalMaps"):
            (tmp / folder).mkdir()
        for n in ids:
            write_image_files(tmp, n, n in HEAD_EYE_IDS, width, height, seed, observers, stats)
        (tmp / "README.txt").write_text(_readme(width, height, seed, observers, ids))
        _permissions(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "old")
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: write the demo dataset."""
    parser = argparse.ArgumentParser(
        prog="python -m data_prep.demo_dataset",
        description="Write the synthetic demo dataset (Salient360! 2017 layout, same ids) to OUT.",
    )
    parser.add_argument(
        "out", type=Path, help="dataset root to create (must not exist unless --force)"
    )
    parser.add_argument(
        "--width", type=int, default=1024, help="image width in pixels (default 1024)"
    )
    parser.add_argument(
        "--height", type=int, default=512, help="image height in pixels (default 512)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed; same seed, same files (default 0)"
    )
    parser.add_argument(
        "--observers", type=int, default=40, help="simulated observers per image (default 40)"
    )
    parser.add_argument(
        "--ids", type=int, nargs="+", default=None, help="only these image ids (default: all 60)"
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = parser.parse_args(argv)
    make_demo_dataset(
        args.out, args.width, args.height, args.seed, args.observers, args.ids, args.force
    )
    print(f"wrote demo dataset {args.out} (synthetic)")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
