"""The official Salient360! 2017 metrics (SPEC section 7), reproduced exactly and vectorised.

Scan-paths
----------
A path is an (n, 3) float array of fixations ``[t, x, y]`` (seconds, 1-based pixels of the
full image). For a ground-truth path A (n points) and a model path B (m points) the cost
matrix S (n x m) is zero except on rows 0..n-2 x columns 0..m-2, where S[j, k] compares
saccade j of A with saccade k of B::

    v = |(a_j - a_j+1) - (b_k - b_k+1)| / sqrt(48)     (3-D unit vectors)
    p = |acos(sin e_j sin e_k + cos e_j cos e_k cos(az_j - az_k))| / pi
    t = 1 - exp(-0.15 |time_j - time_k|)
    S[j, k] = (v + p + 2 t) / 4

Angles and unit vectors come from :mod:`data_prep.geometry` (the toolbox's mapping). ``p``
is the great-circle angle between a_j and b_k written, as the toolbox writes it, with the
spherical law of cosines on the angles. Rounding can push the cosine just past +-1; MATLAB's
``acos`` then returns a complex number and the toolbox keeps its modulus (``acosh(c)`` for
c > 1, ``hypot(pi, acosh(-c))`` for c < -1). That is reproduced: it is why a ground-truth
path scores about 1e-8, not 0, against itself (SPEC section 1, Table 1).

The pair cost is the cheapest monotone path from (0, 0) to (n-1, m-1) with right, down and
diagonal steps, starting with cost S[0, 0], divided by its NUMBER OF STEPS (0 steps -> NaN).
Because S is zero on its last row and column, many paths tie, and the kept path's number
of steps changes the score; the toolbox's tie-breaking is therefore part of the metric.

Tie-breaking, derived from the official Dijkstra. The toolbox keeps a tentative distance
per cell (1000 when unreached), settles the unsettled cell with the smallest distance,
scanning rows then columns and keeping the first strict minimum (so among equal distances
the cell first in row-major order wins), relaxes its down, right and diagonal neighbours
with a strict ``>`` (an equal candidate never replaces a stored predecessor), and stops
when the last cell is settled; the path is traced back through the stored predecessors.
Two facts fix which predecessor is kept:

1. Cells are settled in non-decreasing order of their final distance (non-negative costs;
   floating-point addition is monotone), so a predecessor with a strictly smaller distance
   is settled, and relaxes the cell, first: the kept predecessor has the minimal distance,
   and the cell's distance is ``fl(min_u D[u] + S[v])``, the same floating-point sum the
   Dijkstra forms. (A predecessor whose distance is larger but whose sum rounds to the same
   value loses, because it comes later and ``>`` is strict.)
2. Among cells of EQUAL distance the settle order is row-major: every neighbour that a
   settled cell can lower to the same distance (zero cost, or a cost absorbed by rounding)
   lies after it in row-major order, so each next minimum of the scan lies after the
   previous one and the scan visits a plateau of equal distances in row-major order.

Of the three predecessors of (r, c), diagonal (r-1, c-1) < up (r-1, c) < left (r, c-1) in
row-major order. Hence the rule the dynamic programme implements::

    D[r, c] = fl(min(D[diag], D[up], D[left]) + S[r, c]),
    predecessor = the first of (diag, up, left) whose D equals that minimum,
    steps[r, c] = steps[predecessor] + 1.

This agrees with SPEC's one-line description ("diagonal before up before left"). A heap
Dijkstra reproduces the toolbox exactly when its key is (distance, row, column); the port
in ``tests/official_dijkstra.py`` does that and is checked against a literal port of the
row-major scan and against the programme here, on random and tie-heavy inputs. The only
toolbox behaviour not modelled: paths whose total reaches its 1000 sentinel (over 1000
fixations) make the toolbox fail; here they get their true cost.

The programme runs over anti-diagonals, vectorised across every (ground truth, model)
pair of an image at once (pairs padded to a common shape; a pair's result is read at its
own corner, which depends only on cells inside its own shape).

The image score is a 1-to-1 Hungarian match of the (observers x model paths) cost matrix in
which NaN entries cannot be used and rows/columns without a usable entry drop out (the
toolbox's ``munkres``): among the matchings with the most usable pairs, the cheapest. The
score is the SUM of the matched costs (0 when nothing can be matched, as in the toolbox).
Known flaw of the official score: a single-fixation model path costs exactly 0 against any
ground-truth path with two or more points, and short paths are strongly favoured.

Saliency maps
-------------
KL (symmetric) and CC on the values at the N = floor(4 pi 1e5) Fibonacci-spiral points,
NSS and AUC-Judd on the whole map against the binary fixation map (SPEC section 7). A
prediction of another size is resized like MATLAB's ``imresize`` default (bicubic, Keys
a = -0.5, antialiased when shrinking, mirrored borders); bicubic overshoot below 0 is
clipped to 0 (the toolbox would take logarithms of negative numbers in KL). ``eps`` is
MATLAB's eps, 2^-52 (SPEC prints it as 2.2204e-16). All arithmetic is float64.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from data_prep.errors import InputError
from data_prep.geometry import angles_to_unit, pixel_to_angles

END_TIME = 25.0  # time of the end point the toolbox appends to every observer but the last
SQRT48 = float(np.sqrt(48.0))
N_SPHERE = int(np.floor(4.0 * np.pi * 100000.0))
EPS = float(np.finfo(np.float64).eps)  # MATLAB eps
KL_FLOOR = 1e-50
_CHUNK = 1_000_000  # padded cost-matrix cells processed at once (bounds memory)
_AUC_CHUNK = 1 << 18  # map values binned at once by auc_judd


# ----------------------------------------------------------------------------- scan-paths


def gt_scanpaths_official(df: pd.DataFrame) -> list[np.ndarray]:
    """Ground-truth paths as the toolbox builds them: (n, 3) [t, x, y] per observer.

    Every observer but the last one in the file gets a final point at its last position
    with time 25. Rows keep their file order.
    """
    obs = df["observer"].to_numpy()
    data = df[["t", "x", "y"]].to_numpy(dtype=np.float64)
    if len(data) == 0:
        raise ValueError("gt_scanpaths_official: no fixations")
    cuts = np.flatnonzero(obs[1:] != obs[:-1]) + 1
    paths = [np.array(chunk) for chunk in np.split(data, cuts)]
    for i in range(len(paths) - 1):
        last = paths[i][-1]
        paths[i] = np.vstack([paths[i], [END_TIME, last[1], last[2]]])
    return paths


def model_scanpaths(rows: np.ndarray) -> list[np.ndarray]:
    """N x 5 model rows -> (m, 3) [t, x, y] per scan-path number 1..K, rows in file order."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != 5 or len(rows) == 0:
        raise ValueError(f"model_scanpaths: expected N x 5 rows, got shape {rows.shape}")
    number = rows[:, 0].astype(np.int64)
    paths = []
    for k in range(1, int(number.max()) + 1):
        chunk = rows[number == k][:, 2:5]
        if len(chunk) == 0:
            raise ValueError(f"model_scanpaths: scan-path {k} is empty (numbers must run 1..K)")
        paths.append(chunk)
    return paths


def _check_paths(paths: list[np.ndarray], what: str) -> list[np.ndarray]:
    """Validate a list of (n, 3) paths; return them as float64 arrays."""
    if len(paths) == 0:
        raise ValueError(f"{what}: no scan-paths")
    out = []
    for i, p in enumerate(paths):
        p = np.asarray(p, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0:
            raise ValueError(f"{what}[{i}]: expected an (n, 3) [t, x, y] array, got {p.shape}")
        if not np.all(np.isfinite(p)):
            raise ValueError(f"{what}[{i}]: non-finite values")
        out.append(p)
    return out


def _pad(paths: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack paths into (P, L, 3) by repeating each last point; also return the lengths."""
    lengths = np.array([len(p) for p in paths], dtype=np.int64)
    out = np.empty((len(paths), int(lengths.max()), 3))
    for i, p in enumerate(paths):
        out[i, : len(p)] = p
        out[i, len(p):] = p[-1]
    return out, lengths


def _features(padded: np.ndarray, width: float, height: float):
    """Per point: time, azimuth, sin/cos elevation, unit vector; per saccade: start - end."""
    az, el = pixel_to_angles(padded[..., 1], padded[..., 2], width, height)
    unit = angles_to_unit(az, el)
    return padded[..., 0], az, np.sin(el), np.cos(el), unit[:, :-1] - unit[:, 1:]


def _official_acos_modulus(c: np.ndarray) -> np.ndarray:
    """``abs(acos(c))`` as MATLAB computes it, also for |c| > 1 where acos is complex."""
    out = np.arccos(np.clip(c, -1.0, 1.0))
    above, below = c > 1.0, c < -1.0
    if above.any():
        out[above] = np.arccosh(c[above])
    if below.any():
        out[below] = np.hypot(np.pi, np.arccosh(-c[below]))
    return out


def _cost_stack(gt: np.ndarray, n: np.ndarray, model: np.ndarray, m: np.ndarray,
                width: float, height: float) -> np.ndarray:
    """Cost matrices of all pairs, (G, M, Lg, Lm), zero outside each pair's saccade block."""
    ta, aza, sea, cea, da = _features(gt, width, height)
    tb, azb, seb, ceb, db = _features(model, width, height)
    g, lg = ta.shape
    k, lm = tb.shape
    # saccade rows j < n-1, columns k < m-1: shapes (G, 1, Lg-1, 1) against (1, M, 1, Lm-1)
    diff = da[:, None, :, None, :] - db[None, :, None, :, :]
    v = np.sqrt(diff[..., 0] * diff[..., 0] + diff[..., 1] * diff[..., 1]
                + diff[..., 2] * diff[..., 2]) / SQRT48
    s = (slice(None), None, slice(0, lg - 1), None)
    r = (None, slice(None), None, slice(0, lm - 1))
    cosine = sea[s] * seb[r] + cea[s] * ceb[r] * np.cos(aza[s] - azb[r])
    p = _official_acos_modulus(cosine) / np.pi
    t = 1.0 - np.exp(-0.15 * np.abs(ta[s] - tb[r]))
    block = (v + p + 2.0 * t) / 4.0
    keep = ((np.arange(lg - 1)[None, None, :, None] < (n - 1)[:, None, None, None])
            & (np.arange(lm - 1)[None, None, None, :] < (m - 1)[None, :, None, None]))
    costs = np.zeros((g, k, lg, lm))
    costs[:, :, : lg - 1, : lm - 1] = np.where(keep, block, 0.0)
    return costs


def scanpath_cost_matrix(a: np.ndarray, b: np.ndarray, width: float, height: float) -> np.ndarray:
    """The official cost matrix S (n x m) of ground-truth path ``a`` against model path ``b``."""
    a, b = _check_paths([a], "a")[0], _check_paths([b], "b")[0]
    return _cost_stack(a[None], np.array([len(a)]), b[None], np.array([len(b)]),
                       width, height)[0, 0]


def cheapest_paths(costs: np.ndarray, n_rows, n_cols) -> tuple[np.ndarray, np.ndarray]:
    """Official cheapest-path totals and step counts for a stack of cost matrices.

    ``costs`` is (P, R, C); pair p uses its top-left ``n_rows[p] x n_cols[p]`` block and
    ends at its bottom-right cell. Returns float64 totals and int64 numbers of steps, with
    the toolbox's tie-breaking (see the module docstring).
    """
    costs = np.asarray(costs, dtype=np.float64)
    if costs.ndim != 3:
        raise ValueError(f"cheapest_paths: expected (P, R, C) costs, got {costs.shape}")
    npairs, rows, cols = costs.shape
    n_rows = np.broadcast_to(np.asarray(n_rows, dtype=np.int64), (npairs,))
    n_cols = np.broadcast_to(np.asarray(n_cols, dtype=np.int64), (npairs,))
    if np.any((n_rows < 1) | (n_rows > rows) | (n_cols < 1) | (n_cols > cols)):
        raise ValueError("cheapest_paths: block sizes outside the cost stack")
    # padded by one row and column of +inf so that missing predecessors never win
    dist = np.full((npairs, rows + 1, cols + 1), np.inf)
    steps = np.zeros((npairs, rows + 1, cols + 1), dtype=np.int64)
    dist[:, 1, 1] = costs[:, 0, 0]
    for diag in range(1, rows + cols - 1):
        r = np.arange(max(0, diag - cols + 1), min(diag, rows - 1) + 1)
        c = diag - r
        best = dist[:, r, c]  # diagonal predecessor (r-1, c-1)
        best_steps = steps[:, r, c]
        for pr, pc in ((r, c + 1), (r + 1, c)):  # then up (r-1, c), then left (r, c-1)
            cand = dist[:, pr, pc]
            better = cand < best
            best = np.where(better, cand, best)
            best_steps = np.where(better, steps[:, pr, pc], best_steps)
        dist[:, r + 1, c + 1] = best + costs[:, r, c]
        steps[:, r + 1, c + 1] = best_steps + 1
    idx = np.arange(npairs)
    return dist[idx, n_rows, n_cols], steps[idx, n_rows, n_cols]


def scanpath_pair_costs(gt_list: list[np.ndarray], model_list: list[np.ndarray],
                        width: float, height: float) -> np.ndarray:
    """Official pair costs, (n_gt, n_model): cheapest path / number of steps (NaN for 0 steps)."""
    gt_list = _check_paths(gt_list, "gt_list")
    model_list = _check_paths(model_list, "model_list")
    gt, n = _pad(gt_list)
    model, m = _pad(model_list)
    per_gt = len(model_list) * gt.shape[1] * model.shape[1]
    chunk = max(1, _CHUNK // per_gt)
    out = np.empty((len(gt_list), len(model_list)))
    for start in range(0, len(gt_list), chunk):
        sl = slice(start, start + chunk)
        costs = _cost_stack(gt[sl], n[sl], model, m, width, height)
        g = costs.shape[0]
        totals, nsteps = cheapest_paths(costs.reshape(g * len(model_list), *costs.shape[2:]),
                                        np.repeat(n[sl], len(model_list)), np.tile(m, g))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[sl] = np.where(nsteps > 0, totals / np.maximum(nsteps, 1), np.nan).reshape(g, -1)
    return out


def match_score(pair_costs: np.ndarray) -> float:
    """Sum of the Hungarian 1-to-1 match of a cost matrix whose NaN entries cannot be used."""
    cost = np.asarray(pair_costs, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"match_score: expected a 2-D matrix, got {cost.shape}")
    valid = np.isfinite(cost)
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    if rows.size == 0:
        return 0.0
    sub, ok = cost[np.ix_(rows, cols)], valid[np.ix_(rows, cols)]
    # an unusable entry costs more than all usable ones together: the match first uses as
    # many usable pairs as possible, then is the cheapest of those
    big = float(np.sum(sub[ok])) + 1.0
    r, c = linear_sum_assignment(np.where(ok, sub, big))
    total = 0.0
    for i, j in zip(r, c, strict=True):  # row order, as the toolbox's trace
        if ok[i, j]:
            total += float(sub[i, j])
    return total


def scanpath_score(gt_list: list[np.ndarray], model_list: list[np.ndarray],
                   width: float, height: float) -> float:
    """Official image score: sum of the Hungarian-matched pair costs (lower is better)."""
    return match_score(scanpath_pair_costs(gt_list, model_list, width, height))


# ----------------------------------------------------------------------------- saliency maps


def check_map(arr: np.ndarray, name: str = "map") -> np.ndarray:
    """A 2-D, finite, non-negative, not all-zero real map (dtype kept); InputError naming ``name``."""
    arr = np.asarray(arr)
    if arr.ndim != 2 or arr.size == 0:
        raise InputError(f"{name}: expected a 2-D map, got shape {arr.shape}")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise InputError(f"{name}: map values must be real numbers, got {arr.dtype}")
    lo, hi = float(arr.min()), float(arr.max())  # NaN propagates through min/max
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise InputError(f"{name}: map holds NaN or infinite values")
    if lo < 0:
        raise InputError(f"{name}: map holds negative values")
    if hi == 0:
        raise InputError(f"{name}: map is all zeros")
    return arr


@functools.lru_cache(maxsize=1)
def _spiral_fractions() -> tuple[np.ndarray, np.ndarray]:
    """Longitude / 2pi in [0, 1) and asin(z)/pi + 0.5 of the official spiral points."""
    i = np.arange(N_SPHERE, dtype=np.float64)
    golden = (1.0 + np.sqrt(5.0)) / 2.0
    angle = 2.0 * np.pi * (1.0 - 1.0 / golden)
    lat = np.arccos(1.0 - 2.0 * i / (N_SPHERE - 1))
    lon = i * angle
    x = np.sin(lat) * np.cos(lon)
    y = np.sin(lat) * np.sin(lon)
    z = np.cos(lat)
    ang = np.arctan2(y, x)
    ang = np.where(ang < 0, ang + 2.0 * np.pi, ang)
    return ang / (2.0 * np.pi), np.arcsin(z / np.sqrt(x * x + y * y + z * z)) / np.pi + 0.5


@functools.lru_cache(maxsize=8)
def sphere_samples(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """0-based (rows, cols) of the official Fibonacci-spiral samples on a width x height map."""
    lon_frac, lat_frac = _spiral_fractions()
    cols = np.clip(np.floor(width * lon_frac).astype(np.int64), 0, width - 1)
    rows = np.clip(np.floor(height * lat_frac).astype(np.int64), 0, height - 1)
    rows.flags.writeable = False
    cols.flags.writeable = False
    return rows, cols


def _samples(arr: np.ndarray) -> np.ndarray:
    """The map's values at the spiral points, float64."""
    rows, cols = sphere_samples(arr.shape[1], arr.shape[0])
    return np.asarray(arr[rows, cols], dtype=np.float64)


def kl_from_samples(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric KL of two sample vectors, the toolbox's formula (exactly symmetric)."""
    p = np.asarray(a, dtype=np.float64) / np.sum(a)
    q = np.asarray(b, dtype=np.float64) / np.sum(b)
    p = np.where(p == 0, KL_FLOOR, p)
    q = np.where(q == 0, KL_FLOOR, q)
    one = float(np.sum(q * np.log(EPS + q / (p + EPS))))
    two = float(np.sum(p * np.log(EPS + p / (q + EPS))))
    return 0.5 * (one + two)  # swapping a and b swaps one and two: exactly symmetric


def cc_from_samples(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two vectors (NaN when one is constant)."""
    a = np.asarray(a, dtype=np.float64) - np.mean(a)
    b = np.asarray(b, dtype=np.float64) - np.mean(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))


def kl_sphere(pred: np.ndarray, gt: np.ndarray) -> float:
    """Official symmetric KL between two same-size maps on the spiral samples."""
    return kl_from_samples(_samples(gt), _samples(pred))


def cc_sphere(pred: np.ndarray, gt: np.ndarray) -> float:
    """Official CC between two same-size maps on the spiral samples."""
    return cc_from_samples(_samples(gt), _samples(pred))


def nss(pred: np.ndarray, fixmap: np.ndarray) -> float:
    """NSS: whole map z-scored (sample std, ddof=1), averaged at the fixated pixels."""
    pred = np.asarray(pred, dtype=np.float64)
    mask = np.asarray(fixmap) > 0
    if not mask.any():
        return float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (pred[mask] - pred.mean()) / pred.std(ddof=1)
    return float(np.mean(z))


def auc_judd(pred: np.ndarray, fixmap: np.ndarray) -> float:
    """AUC-Judd without jitter: thresholds at the fixated values of the map / its sum."""
    flat = np.asarray(pred, dtype=np.float64).ravel()
    mask = (np.asarray(fixmap) > 0).ravel()
    if mask.shape != flat.shape:
        raise ValueError(f"auc_judd: map {np.shape(pred)} and fixations {np.shape(fixmap)} differ")
    total = np.sum(flat)
    n_fix, n_pix = int(mask.sum()), flat.size
    if n_fix == 0 or n_fix == n_pix:
        return float("nan")
    thresholds = np.sort(flat[mask] / total)  # ascending; the k-th largest is [F - k]
    # hist[b]: values with exactly b thresholds <= them (chunked: cache-sized temporaries)
    hist = np.zeros(n_fix + 1, dtype=np.int64)
    for start in range(0, n_pix, _AUC_CHUNK):
        values = flat[start:start + _AUC_CHUNK] / total
        values = values[values >= thresholds[0]]
        hist += np.bincount(np.searchsorted(thresholds, values, side="right"),
                            minlength=n_fix + 1)
    above = np.cumsum(hist[::-1])[::-1][1:]  # above[j] = #values >= thresholds[j]
    k = np.arange(1, n_fix + 1)
    tp = np.concatenate([[0.0], k / n_fix, [1.0]])
    fp = np.concatenate([[0.0], (above[::-1] - k) / (n_pix - n_fix), [1.0]])
    return float(np.dot(np.diff(fp), tp[:-1] + tp[1:]) / 2.0)


def fixation_map(df: pd.DataFrame, width: int, height: int) -> np.ndarray:
    """Binary (height, width) map of all fixations (no appended end points), 1-based pixels."""
    x = np.floor(df["x"].to_numpy(dtype=np.float64)).astype(np.int64) - 1
    y = np.floor(df["y"].to_numpy(dtype=np.float64)).astype(np.int64) - 1
    out = np.zeros((int(height), int(width)), dtype=np.uint8)
    out[np.clip(y, 0, height - 1), np.clip(x, 0, width - 1)] = 1
    return out


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys cubic kernel, a = -0.5 (MATLAB's bicubic)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2)))


def _resize_matrix(in_len: int, out_len: int) -> sparse.csr_matrix:
    """(out_len, in_len) bicubic weights as MATLAB's imresize builds them (antialiased)."""
    scale = out_len / in_len
    width = 4.0 / scale if scale < 1 else 4.0
    u = np.arange(1, out_len + 1) / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    taps = int(np.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    dist = u[:, None] - idx
    w = scale * _cubic(scale * dist) if scale < 1 else _cubic(dist)
    w = w / w.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len)[::-1]])
    cols = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    rows = np.repeat(np.arange(out_len), taps)
    return sparse.csr_matrix((w.ravel(), (rows, cols.ravel())), shape=(out_len, in_len))


def resize_map(pred: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a map to (height, width) like MATLAB's ``imresize`` default; overshoot clipped at 0."""
    arr = np.asarray(pred, dtype=np.float64)
    if arr.shape == (height, width):
        return arr.copy()
    scales = (height / arr.shape[0], width / arr.shape[1])
    for axis in np.argsort(scales, kind="stable"):  # smallest scale first, as MATLAB
        if axis == 0:
            arr = _resize_matrix(arr.shape[0], height) @ arr
        else:
            arr = (_resize_matrix(arr.shape[1], width) @ arr.T).T
    return np.maximum(np.ascontiguousarray(arr), 0.0)


def saliency_scores(pred: np.ndarray, gt: np.ndarray, fixmap: np.ndarray,
                    pred_name: str = "prediction map",
                    gt_name: str = "ground-truth map") -> dict[str, float]:
    """KL, CC (sphere samples), NSS and ROC (AUC-Judd) of ``pred`` against the ground truth."""
    gt = check_map(gt, gt_name)  # only sampled: its dtype is kept (values read exactly)
    pred = np.asarray(check_map(pred, pred_name), dtype=np.float64)
    fixmap = np.asarray(fixmap)
    if fixmap.shape != gt.shape:
        raise ValueError(f"fixation map {fixmap.shape} and ground truth {gt.shape} differ in size")
    if pred.shape != gt.shape:
        pred = check_map(resize_map(pred, gt.shape[1], gt.shape[0]), f"{pred_name} (resized)")
    a, b = _samples(gt), _samples(pred)
    return {"KL": kl_from_samples(a, b), "CC": cc_from_samples(a, b),
            "NSS": nss(pred, fixmap), "ROC": auc_judd(pred, fixmap)}
