"""Saliency volumes (SPEC section 3): fixations -> T x H x W probability volumes, and derivatives.

Method (exact, vectorised). The construction "binary volume -> 3-D Gaussian -> normalise
each slice" is computed without materialising the binary volume:
- a fixation at full-image pixel (x, y) sits in grid cell (row, col) = geometry.to_grid(...)
  and time index k = floor(t / time_step); the fine time axis has
  T = floor(duration / time_step) + 1 slices;
- the Gaussian is separable. Per fixation f: gy_f(row) along the height (no wrap: mass past
  the poles is lost, as with zero padding), gx_f(col) along the width with longitude
  wrapping (periodic images summed), and a_f(s) over the fine time slices (zero padding at
  both ends). Each kernel is a sampled Gaussian truncated at radius int(4 * sigma + 0.5), the
  convention of scipy.ndimage.gaussian_filter, so the result equals that reference;
- fine slice s = sum_f a[s, f] gy_f gx_f^T, divided by its sum Z_s (slices with Z_s = 0, i.e.
  no fixation within the temporal kernel's reach, stay zero);
- resampling to n slices: bin k covers fine-index interval [k T/n, (k+1) T/n); each fine
  slice contributes with its overlap length (area-weighted, so it also works when T < n),
  then each bin is renormalised. Everything is linear up to the per-slice normalisers, so the
  n-slice volume is Gy^T diag(b_k) Gx with b = O @ (a / Z): one matmul per output slice.

Defaults: time_step 0.1 s; sigma (4, 20, 20) in (time steps, px, px) at 300 x 600; the
spatial sigmas scale with the grid (sigma_y * H / 300, sigma_x * W / 600). Fixations later
than ``duration`` are dropped. Training targets (to_target) scale each slice by its own max.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse

from data_prep.geometry import to_grid

REF_SHAPE = (300, 600)
TRUNCATE = 4.0


def _radius(sigma: float) -> int:
    """Kernel radius in cells, scipy.ndimage's convention (truncate = 4)."""
    return int(TRUNCATE * float(sigma) + 0.5)


def _kernel_rows(centres: np.ndarray, size: int, sigma: float, wrap: bool) -> np.ndarray:
    """(F, size) sampled Gaussians centred on integer ``centres``, truncated, optionally periodic."""
    idx = np.arange(size)
    radius = _radius(sigma)
    diff = idx[None, :] - centres[:, None]
    if not wrap:
        d = diff.astype(np.float64)
        return np.where(np.abs(d) <= radius, np.exp(-0.5 * (d / sigma) ** 2), 0.0)
    out = np.zeros(diff.shape, dtype=np.float64)
    reps = radius // size + 1
    for k in range(-reps, reps + 1):  # the few periodic images that reach the grid
        d = (diff + k * size).astype(np.float64)
        out += np.where(np.abs(d) <= radius, np.exp(-0.5 * (d / sigma) ** 2), 0.0)
    return out


def _overlap(n_fine: int, n: int) -> np.ndarray:
    """(n, n_fine) overlap lengths of n equal bins of [0, n_fine) with unit fine intervals."""
    edges = np.arange(n + 1) * (n_fine / n)
    lo = np.maximum(edges[:-1, None], np.arange(n_fine)[None, :])
    hi = np.minimum(edges[1:, None], np.arange(n_fine)[None, :] + 1)
    return np.clip(hi - lo, 0.0, None)


def _normalise_slices(volume: np.ndarray) -> np.ndarray:
    """Divide each slice by its sum (zero slices stay zero), float32."""
    sums = volume.reshape(volume.shape[0], -1).sum(axis=1, dtype=np.float64)
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return (volume * scale[:, None, None]).astype(np.float32)


def build_volume(x, y, t, width: float, height: float, shape: tuple[int, int] = REF_SHAPE,
                 time_step: float = 0.1, sigma: tuple[float, float, float] = (4, 20, 20),
                 duration: float | None = None, slices: int | None = None) -> np.ndarray:
    """Fixations -> float32 (T, H, W) volume, each non-empty slice summing to 1 (see module doc).

    x, y: 1-based full-image pixels; t: seconds; width/height: the full image size.
    slices=None returns the fine volume (T = floor(duration / time_step) + 1); slices=n the
    volume resampled to n slices directly.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    t = np.asarray(t, dtype=np.float64).ravel()
    if not (x.shape == y.shape == t.shape):
        raise ValueError(f"build_volume: x, y, t differ in length ({x.size}, {y.size}, {t.size})")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(t).all()):
        raise ValueError("build_volume: non-finite fixation coordinates or times")
    if (t < 0).any():
        raise ValueError("build_volume: negative fixation time")
    if time_step <= 0 or min(sigma) <= 0:
        raise ValueError("build_volume: time_step and sigma must be positive")
    if slices is not None and slices < 1:
        raise ValueError(f"build_volume: slices must be >= 1, got {slices}")
    gh, gw = int(shape[0]), int(shape[1])
    if duration is None:
        duration = float(t.max()) if t.size else 0.0
    n_fine = int(np.floor(duration / time_step + 1e-9)) + 1
    k = np.floor(t / time_step + 1e-9).astype(np.int64)
    keep = k < n_fine
    x, y, k = x[keep], y[keep], k[keep]
    n_out = n_fine if slices is None else int(slices)
    if x.size == 0:
        return np.zeros((n_out, gh, gw), dtype=np.float32)

    sig_t = float(sigma[0])
    sig_y = float(sigma[1]) * gh / REF_SHAPE[0]
    sig_x = float(sigma[2]) * gw / REF_SHAPE[1]
    row, col = to_grid(x, y, width, height, gh, gw)
    gy = _kernel_rows(row, gh, sig_y, wrap=False)  # (F, H)
    gx = _kernel_rows(col, gw, sig_x, wrap=True)  # (F, W)
    a = _kernel_rows(k, n_fine, sig_t, wrap=False).T  # (T, F)
    mass = gy.sum(axis=1) * gx.sum(axis=1)  # (F,) spatial mass of each fixation
    z = a @ mass  # (T,) fine slice sums
    coef = a * np.divide(1.0, z, out=np.zeros_like(z), where=z > 0)[:, None]  # (T, F)

    if slices is not None:
        coef = _overlap(n_fine, n_out) @ coef  # (n, F)
    return _normalise_slices(_compose(coef, gy, gx))


def _compose(coef: np.ndarray, gy: np.ndarray, gx: np.ndarray) -> np.ndarray:
    """Slices sum_f coef[s, f] gy_f gx_f^T as float32 (S, H, W), one matmul per slice.

    Each slice uses only the fixations with a non-zero coefficient (those within the
    temporal kernel's reach), which keeps the work proportional to the actual overlap.
    """
    gyt = gy.T.astype(np.float32)  # (H, F)
    gx32 = gx.astype(np.float32)  # (F, W)
    out = np.zeros((coef.shape[0], gy.shape[1], gx.shape[1]), dtype=np.float32)
    for s in np.flatnonzero((coef != 0).any(axis=1)):
        act = np.flatnonzero(coef[s])
        np.matmul(gyt[:, act] * coef[s, act].astype(np.float32), gx32[act], out=out[s])
    return out


def empty_slices(volume: np.ndarray) -> list[int]:
    """Indices of the slices that hold no mass."""
    vol = np.asarray(volume)
    return np.flatnonzero(vol.reshape(vol.shape[0], -1).sum(axis=1) <= 0).tolist()


def resample_slices(volume: np.ndarray, n: int = 12) -> np.ndarray:
    """(T, H, W) -> (n, H, W): area-weighted average over n equal time bins, each slice sum 1 or 0."""
    vol = np.asarray(volume, dtype=np.float32)
    if vol.ndim != 3:
        raise ValueError(f"resample_slices expects (T, H, W), got shape {vol.shape}")
    if n < 1:
        raise ValueError(f"resample_slices: n must be >= 1, got {n}")
    vol = _normalise_slices(vol)
    weights = _overlap(vol.shape[0], n).astype(np.float32)
    out = np.tensordot(weights, vol, axes=(1, 0))
    return _normalise_slices(out)


def to_target(volume: np.ndarray) -> np.ndarray:
    """(n, H, W) -> float32 (H, W, n) in [0, 1], each slice divided by its max (zeros stay zero)."""
    vol = np.asarray(volume, dtype=np.float32)
    if vol.ndim != 3:
        raise ValueError(f"to_target expects (n, H, W), got shape {vol.shape}")
    peak = vol.reshape(vol.shape[0], -1).max(axis=1)
    scale = np.divide(1.0, peak, out=np.zeros_like(peak), where=peak > 0)
    return np.clip(np.moveaxis(vol * scale[:, None, None], 0, -1), 0.0, 1.0).astype(np.float32)


def weighted_map(volume: np.ndarray, weights) -> np.ndarray:
    """(H, W) map = sum_k weights[k] * slice_k, normalised to sum 1."""
    vol = np.asarray(volume, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if vol.ndim != 3 or w.size != vol.shape[0]:
        raise ValueError(f"weighted_map: {w.size} weights for a volume of shape {vol.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weighted_map: weights must be finite and non-negative")
    out = np.tensordot(w, vol, axes=(0, 0))
    total = out.sum()
    if total <= 0:
        raise ValueError("weighted_map: the weighted volume holds no mass")
    return (out / total).astype(np.float32)


def saliency_map(volume: np.ndarray) -> np.ndarray:
    """(H, W) saliency map: the sum over slices, normalised to sum 1."""
    vol = np.asarray(volume)
    return weighted_map(vol, np.ones(vol.shape[0]))


def _area_matrix(n_in: int, n_out: int) -> scipy.sparse.csr_matrix:
    """(n_out, n_in) sparse matrix: share of input cell i's mass that falls in output cell j."""
    scale = n_out / n_in  # input cell i spans [i*scale, (i+1)*scale) in output units
    span = int(math.ceil(scale)) + 1
    i = np.repeat(np.arange(n_in), span)
    j = (np.floor(np.arange(n_in) * scale).astype(np.int64)[:, None] + np.arange(span)).ravel()
    lo = np.maximum(i * scale, j)
    hi = np.minimum((i + 1) * scale, j + 1)
    share = np.clip(hi - lo, 0.0, None) / scale
    keep = (share > 0) & (j < n_out)
    return scipy.sparse.csr_matrix((share[keep], (j[keep], i[keep])), shape=(n_out, n_in))


def resample_sum(saliency: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resample a (H0, W0) map to (height, width) by area (float64); the total mass is kept."""
    arr = np.asarray(saliency, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"resample_sum expects a 2-D map, got shape {arr.shape}")
    if arr.shape == (height, width):
        return arr.copy()
    rows = _area_matrix(arr.shape[0], height) @ arr  # (height, W0)
    out = (_area_matrix(arr.shape[1], width) @ np.asarray(rows).T).T
    return np.asarray(out, dtype=np.float64)
