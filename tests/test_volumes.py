"""Tests for data_prep.volumes on tiny grids, against an independent scipy.ndimage construction."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from data_prep.geometry import to_grid
from data_prep.volumes import (
    build_volume,
    empty_slices,
    resample_slices,
    saliency_map,
    to_target,
    weighted_map,
)

W, H = 1200, 600  # full image size
SHAPE = (32, 64)  # grid: spatial sigma = 20 * 32 / 300 = 2.133 cells


def _reference_fine(x, y, t, shape=SHAPE, step=0.1, sigma=(4, 20, 20), width=W, height=H):
    """Binary volume + scipy gaussian_filter (wrap in width) + per-slice normalisation."""
    gh, gw = shape
    x, y, t = map(np.asarray, (x, y, t))
    n_fine = int(np.floor(t.max() / step + 1e-9)) + 1
    k = np.floor(t / step + 1e-9).astype(int)
    row, col = to_grid(x, y, width, height, gh, gw)
    binary = np.zeros((n_fine, gh, gw))
    np.add.at(binary, (k, row, col), 1.0)
    sig = (sigma[0], sigma[1] * gh / 300, sigma[2] * gw / 600)
    vol = gaussian_filter(binary, sig, mode=("constant", "constant", "wrap"), truncate=4.0)
    sums = vol.sum(axis=(1, 2), keepdims=True)
    return np.divide(vol, sums, out=np.zeros_like(vol), where=sums > 0)


def _reference_resample(fine, n):
    """Area-weighted bins with explicit loops (independent of the module's overlap matrix)."""
    t_len = fine.shape[0]
    out = np.zeros((n,) + fine.shape[1:])
    for b in range(n):
        lo, hi = b * t_len / n, (b + 1) * t_len / n
        for s in range(t_len):
            w = min(hi, s + 1) - max(lo, s)
            if w > 0:
                out[b] += w * fine[s]
        total = out[b].sum()
        if total > 0:
            out[b] /= total
    return out


def _fixations(seed=0, n=30):
    rng = np.random.default_rng(seed)
    return rng.uniform(1, W + 1, n), rng.uniform(1, H + 1, n), rng.uniform(0, 3.0, n)


def test_fine_volume_matches_scipy_reference():
    x, y, t = _fixations()
    vol = build_volume(x, y, t, W, H, SHAPE)
    ref = _reference_fine(x, y, t)
    assert vol.dtype == np.float32 and vol.shape == ref.shape and ref.shape[0] == int(t.max() / 0.1) + 1
    np.testing.assert_allclose(vol, ref, atol=1e-6 * ref.max(), rtol=1e-4)


def test_twelve_slices_match_reference_and_resample():
    x, y, t = _fixations(1)
    vol12 = build_volume(x, y, t, W, H, SHAPE, slices=12)
    assert vol12.shape == (12, 32, 64)
    ref = _reference_resample(_reference_fine(x, y, t), 12)
    np.testing.assert_allclose(vol12, ref, atol=1e-6 * ref.max(), rtol=1e-4)
    via_fine = resample_slices(build_volume(x, y, t, W, H, SHAPE), 12)
    np.testing.assert_allclose(vol12, via_fine, atol=1e-6 * ref.max(), rtol=1e-4)


def test_slice_sums_and_empty_slices():
    # two fixations 5 s apart with sigma_t = 1 step: the slices in between hold nothing
    vol = build_volume([100, 900], [300, 300], [0.0, 5.0], W, H, SHAPE, sigma=(1, 20, 20))
    assert vol.shape == (51, 32, 64)
    sums = vol.sum(axis=(1, 2))
    empty = empty_slices(vol)
    assert empty == list(range(5, 46))  # kernel radius int(4*1+0.5) = 4 steps
    np.testing.assert_allclose(sums[[i for i in range(51) if i not in empty]], 1.0, rtol=1e-5)
    assert np.all(vol[empty] == 0)
    # 12 bins of 51/12 = 4.25 steps: bins 1 and 10 reach slices 4 and 46, bins 2..9 do not
    assert empty_slices(resample_slices(vol, 12)) == list(range(2, 10))


def test_wrap_across_the_seam():
    # x = 1 lies in column 0: its Gaussian continues past the left edge onto the right edge
    vol = build_volume([1.0], [300.0], [0.0], W, H, SHAPE)[0]
    row = vol[16]
    assert row[63] > 0.5 * row[0]
    np.testing.assert_allclose(row[63], row[1], rtol=1e-6)
    np.testing.assert_allclose(row[60], row[4], rtol=1e-6)
    assert np.argmax(row) == 0


def test_mass_peaks_at_the_fixation_cell():
    rng = np.random.default_rng(3)
    for x, y in zip(rng.uniform(1, W + 1, 5), rng.uniform(100, H - 100, 5), strict=True):
        vol = build_volume([x], [y], [0.0], W, H, SHAPE)
        r, c = to_grid(x, y, W, H, *SHAPE)
        assert np.unravel_index(np.argmax(vol[0]), SHAPE) == (int(r), int(c))


def test_gaussian_width_scales_with_shape():
    for shape in [(32, 64), (96, 192)]:
        gh, gw = shape
        # centre of cell (gh//2, gw//2) in full-image pixels
        x = 1 + (gw // 2 + 0.5) * W / gw
        y = 1 + (gh // 2 + 0.5) * H / gh
        m = build_volume([x], [y], [0.0], W, H, shape)[0].astype(np.float64)
        cols = np.arange(gw) - gw // 2
        rows = np.arange(gh) - gh // 2
        var_x = (m.sum(axis=0) * cols**2).sum()
        var_y = (m.sum(axis=1) * rows**2).sum()
        np.testing.assert_allclose(np.sqrt(var_x), 20 * gw / 600, rtol=0.02)
        np.testing.assert_allclose(np.sqrt(var_y), 20 * gh / 300, rtol=0.02)


def test_temporal_kernel_and_duration():
    # one fixation at t = 0: fine slices 0..16 see it (radius 16 steps), all with the same map
    vol = build_volume([600], [300], [0.0], W, H, SHAPE, duration=2.0)
    assert vol.shape == (21, 32, 64)
    assert empty_slices(vol) == [17, 18, 19, 20]
    np.testing.assert_allclose(vol[5], vol[0], rtol=1e-5)
    # fixations later than the duration are dropped
    late = build_volume([600, 100], [300, 300], [0.0, 3.0], W, H, SHAPE, duration=2.0)
    np.testing.assert_allclose(late, vol, rtol=1e-6)
    # short duration (T < n): upsampling leaves no empty bin
    short = build_volume([600], [300], [0.0], W, H, SHAPE, slices=12)
    assert short.shape == (12, 32, 64) and empty_slices(short) == []


def test_no_fixations_and_bad_input():
    assert not build_volume([], [], [], W, H, SHAPE, slices=12).any()
    with pytest.raises(ValueError, match="negative"):
        build_volume([1], [1], [-1.0], W, H, SHAPE)
    with pytest.raises(ValueError, match="differ in length"):
        build_volume([1, 2], [1], [0.0], W, H, SHAPE)


def test_to_target():
    x, y, t = _fixations(2)
    vol = build_volume(x, y, t, W, H, SHAPE, slices=12)
    target = to_target(vol)
    assert target.shape == (32, 64, 12) and target.dtype == np.float32
    assert target.min() >= 0.0 and target.max() <= 1.0
    np.testing.assert_allclose(target.max(axis=(0, 1)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(target[..., 3], vol[3] / vol[3].max(), rtol=1e-5)
    zero = to_target(np.zeros((2, 3, 4), np.float32))
    assert zero.shape == (3, 4, 2) and not zero.any()


def test_saliency_and_weighted_maps():
    x, y, t = _fixations(4)
    vol = build_volume(x, y, t, W, H, SHAPE, slices=12)
    smap = saliency_map(vol)
    assert smap.shape == SHAPE
    np.testing.assert_allclose(smap.sum(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(smap, vol.sum(axis=0) / vol.sum(), rtol=1e-4, atol=1e-9)
    onehot = np.zeros(12)
    onehot[5] = 3.0
    np.testing.assert_allclose(weighted_map(vol, onehot), vol[5], rtol=1e-4, atol=1e-9)
    w = np.linspace(1, 0, 12)
    expected = np.tensordot(w, vol.astype(np.float64), axes=1)
    np.testing.assert_allclose(weighted_map(vol, w), expected / expected.sum(), rtol=1e-4,
                               atol=1e-9)
    with pytest.raises(ValueError, match="weights"):
        weighted_map(vol, np.ones(3))
    with pytest.raises(ValueError, match="no mass"):
        weighted_map(np.zeros((2, 3, 4)), [1, 1])
