"""Scan-paths sampled from saliency volumes (SPEC section 6): naive, gaussian, ior, random.

Per scan-path the number of fixations and each fixation's duration are drawn from
histograms (:class:`data_prep.distributions.ScanpathStats`); start times are the
cumulative durations (the first fixation starts at 0). Each fixation reads one temporal
slice: ``by-time`` (ours, default) takes slice floor(start / (viewing_time / S)), clipped
to the last; ``even`` (the released code) spreads a path's n fixations evenly, fixation i
(0-based) -> slice floor(i * S / n). Its position is drawn on the working grid of the
volume and returned as 1-based pixels of the full-size image, uniform inside the cell.

Strategies (``k`` is a kernel in [0, 1] around earlier fixations of the same path):
- ``naive``: the slice as it is;
- ``gaussian``: slice x Gaussian centred on the previous fixation (the first is naive);
- ``ior``: slice x prod over earlier fixations (1 - strength * exp(-d^2 / 2 ior_sigma^2));
- ``random``: the baseline; no volume: uniform over the image's pixels with ``planar``
  (like the released code), uniform over the sphere's surface with ``sphere``.

Distances and widths are in pixels of the 300 x 600 grid of the released code, scaled to
the working grid (rows by H/300, columns by W/600). Geometry ``sphere`` measures the
great-circle angle between cell centres (longitude wraps), converted to the same pixel
unit (600 px = 2 pi). Geometry ``planar`` is the flat image plane of the released code:
for ``gaussian`` the kernel is exactly what it computed, a delta image blurred with
scipy.ndimage.gaussian_filter (reflecting borders, truncate 4); that blur is separable, so
it is read from two precomputed 1-D tables (rows x rows, columns x columns) instead of
filtering an image per fixation. For ``ior`` (not in the released code) ``planar`` uses the
plain Euclidean distance, no wrap and no reflection.

Drawing (exact, vectorised over the paths of an image; paths advance one fixation at a
time): a candidate cell is drawn from the slice by inverse CDF (one cumulative table for
all slices, built once per volume, one searchsorted for all paths) and accepted with
probability k(cell) <= 1 -- rejection sampling, whose accepted draws follow slice x k
exactly. Paths still without an accepted candidate after a few rounds (k nearly zero
where the slice has its mass) draw from the dense product slice x k over the whole grid
(cumsum, one uniform per path, searchsorted). If that product is all zero (e.g. ior with
strength 1 suppressing all of the slice's mass) the draw falls back to the slice itself.
"""

from __future__ import annotations

import functools
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep.distributions import ScanpathStats, learn_stats, published_stats
from data_prep.errors import InputError
from data_prep.geometry import cell_unit_vectors, from_grid
from data_prep.volumes import resample_sum

STRATEGIES = ("naive", "gaussian", "ior", "random")
GEOMETRIES = ("planar", "sphere")
SLICE_MODES = ("by-time", "even")
REF_H, REF_W = 300, 600
DEFAULT_SIGMA = 200.0
DEFAULT_IOR_SIGMA = 20.0
DEFAULT_IOR_STRENGTH = 0.9
DEFAULT_VIEWING_TIME = 25.0
TRUNCATE = 4.0
_FIRST_CANDIDATES = 4  # candidates per path in the first rejection round; doubled each round
_ROUNDS = 8  # rejection rounds before the dense fallback


@dataclass(frozen=True)
class Table:
    """Stacked inverse-CDF table of B non-negative blocks of ``size`` cells (one cumsum).

    ``cdf`` is the running sum over all blocks (float64); block b spans ``base[b]`` to
    ``base[b] + mass[b]``; ``last[b]`` is its last cell with mass (guards rounding).
    """

    cdf: np.ndarray
    base: np.ndarray
    mass: np.ndarray
    last: np.ndarray
    size: int

    @classmethod
    def build(cls, blocks: np.ndarray) -> Table:
        """Table of a (B, size) array of non-negative weights."""
        n, size = blocks.shape
        cdf = blocks.astype(np.float64).ravel()  # a copy; the running sum is taken in place
        np.cumsum(cdf, out=cdf)
        ends = cdf[np.arange(1, n + 1) * size - 1]
        base = np.r_[0.0, ends[:-1]]
        with np.errstate(invalid="ignore"):  # inf - inf in a bad volume: caught by the caller
            mass = ends - base
        return cls(cdf, base, mass, np.searchsorted(cdf, ends, side="left"), size)

    def draw(self, block: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Cells (index within the block) for ``block`` (n,) and uniforms ``u`` (n, m) in [0, 1)."""
        v = self.base[block][:, None] + u * self.mass[block][:, None]
        idx = np.minimum(np.searchsorted(self.cdf, v, side="right"), self.last[block][:, None])
        return idx - block[:, None] * self.size


@dataclass(frozen=True)
class Volume:
    """A validated volume: raw slices ``flat`` (S, H*W), ``shape`` (S, H, W), draw table, and
    ``nearest`` (S,), the slice each slice reads (itself unless empty)."""

    flat: np.ndarray
    shape: tuple[int, int, int]
    table: Table
    nearest: np.ndarray


def check_volume(volume, name: str = "volume", allow_empty_slices: bool = False) -> Volume:
    """Validate an (S, H, W) (or (H, W)) volume of non-negative weights and prepare its draws.

    NaN/infinite or negative values, or an all-zero slice, raise an InputError naming the
    slice (0-based); with ``allow_empty_slices`` an all-zero slice reads the nearest
    non-empty slice (the earlier one on a tie). Slices need not be normalised.
    """
    vol = np.asarray(volume)
    if vol.ndim == 2:
        vol = vol[None]
    if vol.ndim != 3 or min(vol.shape) == 0 or not np.issubdtype(vol.dtype, np.number):
        raise InputError(f"{name}: expected a numeric (S, H, W) volume, got {vol.dtype} "
                         f"{vol.shape}")
    if vol.dtype not in (np.float32, np.float64):
        vol = vol.astype(np.float64)
    n = vol.shape[0]
    flat = vol.reshape(n, -1)
    table = Table.build(flat)  # NaN/inf spread through the running sum from the first bad slice
    bad = np.flatnonzero(~np.isfinite(table.base + table.mass))
    if bad.size:
        raise InputError(f"{name}: slice {bad[0]} (of 0..{n - 1}) holds NaN or infinite values")
    bad = np.flatnonzero(flat.min(axis=1) < 0)
    if bad.size:
        raise InputError(f"{name}: slice {bad[0]} (of 0..{n - 1}) has negative values")
    empty = table.mass <= 0
    if empty.all():
        raise InputError(f"{name}: every slice is all zero (nothing to sample from)")
    if empty.any() and not allow_empty_slices:
        raise InputError(f"{name}: slice {np.flatnonzero(empty)[0]} (of 0..{n - 1}) is all zero "
                         "(--allow-empty-slices uses the nearest non-empty slice)")
    full = np.flatnonzero(~empty)
    nearest = full[np.argmin(np.abs(np.arange(n)[:, None] - full[None, :]), axis=1)]
    return Volume(flat, tuple(vol.shape), table, nearest)


def image_seed(seed: int, name: str) -> np.random.SeedSequence:
    """A per-image seed derived stably (CRC-32 of the name) from a run's seed."""
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode("utf-8"))])


def _slice_of(starts: np.ndarray, index: np.ndarray, count: np.ndarray, n_slices: int,
              mode: str, viewing_time: float) -> np.ndarray:
    """Temporal slice of every fixation (``by-time`` or ``even``)."""
    if mode == "by-time":
        s = np.floor(starts / (viewing_time / n_slices)).astype(np.int64)
    else:
        s = (index * n_slices) // count
    return np.clip(s, 0, n_slices - 1)


@functools.lru_cache(maxsize=16)
def planar_table(n: int, sigma: float) -> np.ndarray:
    """(n, n) table T[i0, i]: a delta at i0 blurred by scipy's 1-D gaussian_filter (reflect).

    Built directly from the truncated kernel: output i gathers weight w[k] from input
    index reflect(i + k), so T equals gaussian_filter1d(eye(n), sigma, axis=0, mode="reflect")
    read by columns. Each row is divided by its maximum (a rejection bound of 1).
    """
    radius = int(TRUNCATE * float(sigma) + 0.5)
    k = np.arange(-radius, radius + 1)
    w = np.exp(-0.5 * (k / float(sigma)) ** 2)
    w /= w.sum()
    j = (np.arange(n)[:, None] + k[None, :]) % (2 * n)
    src = np.where(j < n, j, 2 * n - 1 - j)  # half-sample reflection, repeated as needed
    out_idx = np.broadcast_to(np.arange(n)[:, None], src.shape)
    table = np.bincount((src * n + out_idx).ravel(), weights=np.broadcast_to(w, src.shape).ravel(),
                        minlength=n * n).reshape(n, n)
    table /= table.max(axis=1, keepdims=True)
    table.setflags(write=False)
    return table


class _Kernel:
    """The multiplicative term of a strategy on an h x w grid, for candidates and dense grids."""

    def __init__(self, strategy: str, geometry: str, h: int, w: int, sigma: float,
                 ior_sigma: float, ior_strength: float):
        self.strategy, self.geometry, self.h, self.w = strategy, geometry, h, w
        self.strength = float(ior_strength)
        if geometry == "sphere":
            self.units = cell_unit_vectors(h, w).reshape(-1, 3)
            rad = 2.0 * np.pi / REF_W  # one 300 x 600 pixel in radians
            self.sigma = (sigma if strategy == "gaussian" else ior_sigma) * rad
        elif strategy == "gaussian":
            self.rows = planar_table(h, float(sigma) * h / REF_H)
            self.cols = planar_table(w, float(sigma) * w / REF_W)
        else:
            self.sigma = float(ior_sigma)
            self.scale = (REF_H / h, REF_W / w)

    def _sphere(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """exp(-angle^2 / 2 sigma^2) between cells ``a`` and ``b`` (broadcast)."""
        dot = np.einsum("...i,...i->...", self.units[a], self.units[b])
        return np.exp(-0.5 * (np.arccos(np.clip(dot, -1.0, 1.0)) / self.sigma) ** 2)

    def _planar_ior(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """exp(-d^2 / 2 sigma^2), Euclidean d in 300 x 600 pixels between cells (broadcast)."""
        dr = (a // self.w - b // self.w) * self.scale[0]
        dc = (a % self.w - b % self.w) * self.scale[1]
        return np.exp(-0.5 * (dr * dr + dc * dc) / self.sigma ** 2)

    def at(self, cells: np.ndarray, history: np.ndarray) -> np.ndarray:
        """Kernel at candidate ``cells`` (n, m); ``history`` (n, k): earlier cells of each path."""
        if self.strategy == "gaussian":
            prev = history[:, -1:]
            if self.geometry == "sphere":
                return self._sphere(cells, prev)
            return (self.rows[prev // self.w, cells // self.w]
                    * self.cols[prev % self.w, cells % self.w])
        near = self._sphere if self.geometry == "sphere" else self._planar_ior
        return np.prod(1.0 - self.strength * near(cells[:, :, None], history[:, None, :]), axis=2)

    def dense(self, history: np.ndarray) -> np.ndarray:
        """Kernel over the whole grid, (n, h*w), for each path's ``history`` (n, k)."""
        n = history.shape[0]
        if self.strategy == "gaussian":
            prev = history[:, -1]
            if self.geometry == "sphere":
                dot = self.units[prev] @ self.units.T
                return np.exp(-0.5 * (np.arccos(np.clip(dot, -1.0, 1.0)) / self.sigma) ** 2)
            return (self.rows[prev // self.w][:, :, None]
                    * self.cols[prev % self.w][:, None, :]).reshape(n, -1)
        grid = np.arange(self.h * self.w)[None, :]
        near = self._sphere if self.geometry == "sphere" else self._planar_ior
        out = np.ones((n, self.h * self.w))
        for j in range(history.shape[1]):  # rare fallback only: one grid pass per earlier fixation
            out *= 1.0 - self.strength * near(grid, history[:, j : j + 1])
        return out


def _draw_dense(vol: Volume, slice_idx: np.ndarray, kernel: _Kernel, history: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """Exact draws from slice x kernel over the whole grid (the slice alone where that is 0)."""
    flat = vol.flat[slice_idx].astype(np.float64)
    weights = flat * kernel.dense(history)
    zero = weights.sum(axis=1) <= 0
    weights[zero] = flat[zero]
    table = Table.build(weights)
    return table.draw(np.arange(len(slice_idx)), rng.random((len(slice_idx), 1)))[:, 0]


def _draw_cells(vol: Volume, slices: np.ndarray, counts: np.ndarray, strategy: str,
                kernel: _Kernel | None, rng: np.random.Generator) -> np.ndarray:
    """Grid cells (flat indices) of all fixations, ordered path by path.

    ``slices``: the slice of every fixation (same order); paths advance together.
    """
    table = vol.table
    if strategy == "naive":
        return table.draw(slices, rng.random((slices.size, 1)))[:, 0]
    offsets = np.r_[0, np.cumsum(counts)[:-1]]
    cells = np.empty(slices.size, dtype=np.int64)
    history = np.zeros((counts.size, int(counts.max())), dtype=np.int64)
    order = np.argsort(-counts, kind="stable")  # paths still running at step k: order[:alive[k]]
    alive = np.bincount(counts, minlength=int(counts.max()) + 1)[::-1].cumsum()[::-1][1:]
    for k in range(int(counts.max())):
        paths = order[: alive[k]]
        at = offsets[paths] + k
        s = slices[at]
        if k == 0:
            chosen = table.draw(s, rng.random((paths.size, 1)))[:, 0]
        else:
            chosen = _reject(vol, s, kernel, history[paths, :k], rng)
        cells[at] = chosen
        history[paths, k] = chosen
    return cells


def _reject(vol: Volume, s: np.ndarray, kernel: _Kernel, history: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """One fixation for each path: candidates from the slice accepted with the kernel."""
    chosen = np.empty(s.size, dtype=np.int64)
    pending = np.arange(s.size)
    m = _FIRST_CANDIDATES
    for _ in range(_ROUNDS):
        cand = vol.table.draw(s[pending], rng.random((pending.size, m)))
        ok = rng.random(cand.shape) < kernel.at(cand, history[pending])
        hit = ok.any(axis=1)
        first = np.argmax(ok, axis=1)
        chosen[pending[hit]] = cand[hit, first[hit]]
        pending = pending[~hit]
        if pending.size == 0:
            return chosen
        m *= 2
    chosen[pending] = _draw_dense(vol, s[pending], kernel, history[pending], rng)
    return chosen


def _random_positions(n: int, width: float, height: float, geometry: str,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform positions: over the pixels (planar) or over the sphere's surface (sphere)."""
    x = 1.0 + width * rng.random(n)
    if geometry == "sphere":
        el = np.arcsin(2.0 * rng.random(n) - 1.0)
        y = 1.0 + height * (el / np.pi + 0.5)
        return x, np.minimum(y, np.nextafter(height + 1.0, 0.0))
    return x, 1.0 + height * rng.random(n)


def sample_scanpaths(volume, n_paths: int = 40, stats: ScanpathStats | None = None,
                     strategy: str = "gaussian", geometry: str = "planar",
                     slices: str = "by-time", viewing_time: float = DEFAULT_VIEWING_TIME,
                     sigma: float = DEFAULT_SIGMA, ior_sigma: float = DEFAULT_IOR_SIGMA,
                     ior_strength: float = DEFAULT_IOR_STRENGTH,
                     image_size: tuple[float, float] | None = None, seed=None,
                     allow_empty_slices: bool = False, name: str = "volume") -> np.ndarray:
    """Sample ``n_paths`` scan-paths from a volume -> float64 (N, 5) rows (see module doc).

    Columns: scan-path (from 1), fixation (from 1), start time (s), x, y (1-based pixels of
    the full image ``image_size`` = (width, height); default the volume's grid size).
    ``volume`` (S, H, W) probability slices (may be None for ``random`` when ``image_size``
    is given); ``seed`` an int, None, SeedSequence or Generator; ``name`` labels errors.
    """
    choices = ((strategy, STRATEGIES, "strategy"), (slices, SLICE_MODES, "slices"),
               (geometry, GEOMETRIES, "geometry"))
    for value, allowed, what in choices:
        if value not in allowed:
            raise ValueError(f"sample_scanpaths: unknown {what} {value!r}; use one of {allowed}")
    if n_paths < 1 or viewing_time <= 0 or sigma <= 0 or ior_sigma <= 0:
        raise ValueError("sample_scanpaths: n_paths, viewing_time, sigma, ior_sigma must be > 0")
    if not 0.0 <= ior_strength <= 1.0:
        raise ValueError(f"sample_scanpaths: ior_strength must be in [0, 1], got {ior_strength}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    stats = stats if stats is not None else published_stats()
    vol = None
    if strategy != "random" or volume is not None:
        vol = volume if isinstance(volume, Volume) else check_volume(volume, name,
                                                                      allow_empty_slices)
    if image_size is None:
        if vol is None:
            raise ValueError("sample_scanpaths: random without a volume needs image_size")
        image_size = (vol.shape[2], vol.shape[1])
    width, height = float(image_size[0]), float(image_size[1])

    counts = stats.draw_counts(rng, n_paths)
    durations = stats.draw_durations(rng, int(counts.sum()))
    path = np.repeat(np.arange(n_paths), counts)
    offsets = np.r_[0, np.cumsum(counts)[:-1]]
    index = np.arange(path.size) - offsets[path]
    ends = np.cumsum(durations)
    starts = ends - durations - np.r_[0.0, ends[offsets[1:] - 1]][path]
    starts = np.maximum(starts, 0.0)  # guard float cancellation at each path's first fixation
    starts[offsets] = 0.0

    if strategy == "random":
        x, y = _random_positions(path.size, width, height, geometry, rng)
    else:
        n_slices, h, w = vol.shape
        slice_idx = vol.nearest[_slice_of(starts, index, counts[path], n_slices, slices,
                                          viewing_time)]
        kernel = None if strategy == "naive" else _Kernel(strategy, geometry, h, w, sigma,
                                                          ior_sigma, ior_strength)
        cells = _draw_cells(vol, slice_idx, counts, strategy, kernel, rng)
        x, y = from_grid(cells // w, cells % w, width, height, h, w, rng)
    return np.column_stack([path + 1.0, index + 1.0, starts, x, y])


# ---------------------------------------------------------------------------------------
# Sources: ground-truth volumes and maps, statistics learned from a dataset.


def volume_from_gt(root: str | os.PathLike, n: int, kind: str = "volume",
                   shape: tuple[int, int] = (REF_H, REF_W), slices: int = 12,
                   duration: float = DEFAULT_VIEWING_TIME) -> tuple[np.ndarray, tuple[int, int]]:
    """Ground truth of Salient360! image ``n`` as a volume -> (float32 (S, h, w), (width, height)).

    kind "volume": data_prep.volumes.build_volume of the real fixations with ``slices``
    slices over ``duration`` seconds (later fixations are dropped); kind "map": the
    head+eye map SHE<n>.bin, area-resampled to ``shape``, as one slice (sum 1).
    """
    from data_prep import salient360

    h, w = int(shape[0]), int(shape[1])
    if kind == "volume":
        from data_prep.volumes import build_volume

        df, (width, height) = salient360.load_fixations(root, n)
        vol = build_volume(df["x"].to_numpy(), df["y"].to_numpy(), df["t"].to_numpy(), width,
                           height, shape=(h, w), slices=slices, duration=duration)
        return vol, (width, height)
    if kind != "map":
        raise ValueError(f"volume_from_gt: kind must be 'volume' or 'map', got {kind!r}")
    from data_prep.images import image_size

    width, height = image_size(salient360.image_path(root, n))
    sal = salient360.read_saliency_bin(salient360.head_eye_map_path(root, n), width, height)
    small = np.clip(resample_sum(sal, h, w), 0.0, None)
    total = small.sum()
    return (small / total if total > 0 else small).astype(np.float32)[None], (width, height)


def counts_and_durations(fixations) -> tuple[np.ndarray, np.ndarray]:
    """Fixations per observer and durations (s, differences of consecutive start times)."""
    obs = fixations["observer"].to_numpy()
    t = fixations["t"].to_numpy(dtype=np.float64)
    _, counts = np.unique(obs, return_counts=True)
    same = obs[1:] == obs[:-1]
    return counts, (t[1:] - t[:-1])[same]


def stats_from_dataset(root: str | os.PathLike, ids) -> ScanpathStats:
    """Histograms of fixation counts and durations of the scan-paths of images ``ids``."""
    from data_prep.salient360 import load_fixations

    counts, durations = [], []
    for n in ids:
        c, d = counts_and_durations(load_fixations(root, n)[0])
        counts.append(c)
        durations.append(d)
    if not counts:
        raise InputError(f"{root}: no training scan-paths to learn fixation statistics from "
                         "(pass --stats FILE)")
    return learn_stats(np.concatenate(counts), np.concatenate(durations),
                       source=f"{Path(root)} training scan-paths ({len(counts)} images)")
