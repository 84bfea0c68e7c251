"""Scan-path sampling (data_prep/sampling.py): statistics with fixed seeds, exactness, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.ndimage import gaussian_filter1d

from data_prep import sampling
from data_prep.distributions import Histogram, ScanpathStats
from data_prep.errors import InputError
from data_prep.geometry import to_grid
from data_prep.salient360 import read_model_scanpaths, write_model_scanpaths
from data_prep.sampling import check_volume, sample_scanpaths
from data_prep.volumes import resample_sum
from tests.benchmarks.sampling import released_scanpaths

H, W = 24, 48


def fixed_stats(count: int, duration: float = 0.5) -> ScanpathStats:
    """Every path has ``count`` fixations of ``duration`` seconds."""
    return ScanpathStats(Histogram(np.array([1.0]), np.array([count, count + 1.0])),
                         Histogram(np.array([1.0]), np.array([duration, duration + 0.1])))


def cells(rows: np.ndarray, h: int = H, w: int = W, size=None) -> np.ndarray:
    """Flat grid cell of every row (positions are in a size = (width, height) image)."""
    width, height = size or (w, h)
    r, c = to_grid(rows[:, 3], rows[:, 4], width, height, h, w)
    return r * w + c


def smooth_volume(rng: np.random.Generator, n: int, h: int = H, w: int = W) -> np.ndarray:
    """Random positive slices with some structure (blobs plus a floor)."""
    rr, cc = np.mgrid[0:h, 0:w]
    vol = np.empty((n, h, w))
    for s in range(n):
        r0, c0 = rng.integers(0, h), rng.integers(0, w)
        vol[s] = 0.05 + np.exp(-((rr - r0) ** 2 + (cc - c0) ** 2) / (2 * (h / 5) ** 2))
    return vol


def two_sample_p(a: np.ndarray, b: np.ndarray, bins: int) -> float:
    """Chi-square p-value that two samples of categories 0..bins-1 share one distribution."""
    table = np.stack([np.bincount(a, minlength=bins), np.bincount(b, minlength=bins)])
    table = table[:, table.sum(axis=0) > 0]
    return float(sps.chi2_contingency(table)[1])


def regions(cell: np.ndarray, h: int, w: int, rh: int, rw: int) -> np.ndarray:
    """Coarse region (rh x rw blocks) of flat cells."""
    return (cell // w) // (h // rh) * rw + (cell % w) // (w // rw)


# --------------------------------------------------------------------------- kernels, tables


@pytest.mark.parametrize("n,sigma", [(12, 3.0), (48, 16.0), (7, 30.0), (600, 200.0)])
def test_planar_table_is_the_released_gaussian_filter(n, sigma):
    """Rows of the table are delta images blurred by scipy (reflect), scaled to max 1."""
    ref = gaussian_filter1d(np.eye(n), sigma, axis=0, mode="reflect").T
    ref /= ref.max(axis=1, keepdims=True)
    np.testing.assert_allclose(sampling.planar_table(n, sigma), ref, rtol=0, atol=1e-12)


def test_resample_sum_matches_supersampled_block_sums():
    """Area-weighted resampling: sum kept; equals exact sub-pixel block sums (5x10 -> 3x6)."""
    rng = np.random.default_rng(0)
    a = rng.random((5, 10))
    out = resample_sum(a, 3, 6)
    fine = np.repeat(np.repeat(a, 3, axis=0), 3, axis=1) / 9.0  # 15 x 30, each output 5x5
    ref = fine.reshape(3, 5, 6, 5).sum(axis=(1, 3))
    np.testing.assert_allclose(out, ref, atol=1e-12)
    np.testing.assert_allclose(resample_sum(a, 10, 20).sum(), a.sum())


# --------------------------------------------------------------------------- distributions


def test_naive_draws_follow_the_slice():
    """Chi-square goodness of fit of naive positions to the slice; zero cells never drawn."""
    rng = np.random.default_rng(1)
    p = rng.random((6, 12)) ** 3
    p[2, 3:7] = 0.0
    rows = sample_scanpaths(p, n_paths=400, stats=fixed_stats(20), strategy="naive", seed=5)
    got = np.bincount(cells(rows, 6, 12), minlength=72)
    expected = p.ravel() / p.sum() * got.sum()
    assert got[expected == 0].sum() == 0
    keep = expected > 0
    assert sps.chisquare(got[keep], expected[keep]).pvalue > 1e-3
    # the test has power: the same draws do not fit a uniform slice
    assert sps.chisquare(got[keep], np.full(keep.sum(), got.sum() / keep.sum())).pvalue < 1e-6


def test_counts_durations_and_start_times_follow_the_histograms():
    """Counts and durations take the left bin edges with the histogram's probabilities."""
    st = ScanpathStats(Histogram(np.array([0.3, 0.7]), np.array([3.0, 4.0, 9.0])),
                       Histogram(np.array([0.6, 0.4]), np.array([0.2, 0.5, 1.0])))
    vol = np.ones((1, 4, 8))
    rows = sample_scanpaths(vol, n_paths=2000, stats=st, strategy="naive", seed=2)
    paths, first = np.unique(rows[:, 0], return_index=True)
    counts = np.diff(np.r_[first, len(rows)])
    assert set(counts.tolist()) == {3, 4}
    assert abs(np.mean(counts == 3) - 0.3) < 0.035  # 2000 paths: sd 0.010
    np.testing.assert_array_equal(paths, np.arange(1, 2001))
    fix = rows[:, 1]
    np.testing.assert_array_equal(fix, np.concatenate([np.arange(1, c + 1) for c in counts]))
    assert np.all(rows[first, 2] == 0.0)
    same = rows[1:, 0] == rows[:-1, 0]
    durations = np.diff(rows[:, 2])[same]
    assert np.all(np.isclose(durations, 0.2) | np.isclose(durations, 0.5))
    assert abs(np.mean(np.isclose(durations, 0.2)) - 0.6) < 0.02


def test_gaussian_shortens_saccades_compared_with_naive():
    """Mean saccade amplitude (grid cells) drops clearly with the Gaussian on the same volume."""
    vol = np.random.default_rng(3).random((1, H, W))

    def amplitude(rows):
        c = cells(rows)
        same = rows[1:, 0] == rows[:-1, 0]
        return np.hypot(np.diff(c // W), np.diff(c % W))[same].mean()

    naive = amplitude(sample_scanpaths(vol, 200, fixed_stats(20), strategy="naive", seed=0))
    gauss = amplitude(sample_scanpaths(vol, 200, fixed_stats(20), strategy="gaussian", seed=0))
    assert gauss < 0.8 * naive  # measured about 13.8 vs 19.5


@pytest.mark.parametrize("geometry", ["planar", "sphere"])
def test_ior_lowers_revisits_of_the_same_cell(geometry):
    """Inhibition of return: far fewer fixations land on a cell the path already visited."""
    vol = np.zeros((1, H, W))
    vol[0, 10:14, 20:26] = 1.0

    def revisits(rows):
        c = np.sort(cells(rows).reshape(-1, 8), axis=1)
        return np.mean(c[:, 1:] == c[:, :-1])

    naive = revisits(sample_scanpaths(vol, 500, fixed_stats(8), strategy="naive", seed=0))
    ior = revisits(sample_scanpaths(vol, 500, fixed_stats(8), strategy="ior",
                                    geometry=geometry, seed=0))
    assert naive > 0.1
    assert ior < 0.5 * naive  # measured about 0.05 vs 0.15


@pytest.mark.parametrize("geometry,low,high", [("planar", 0.0, 0.05), ("sphere", 0.44, 0.56)])
def test_sphere_wraps_the_seam_and_planar_does_not(geometry, low, high):
    """Previous fixation at column 0; equal mass 10-13 columns to its right and (via the seam)
    to its left: sphere picks either about equally, planar almost only the near side."""
    vol = np.zeros((2, H, W))
    vol[0, 11:13, 0] = 1.0  # first fixation: column 0 on the equator
    vol[1, 11:13, 10:14] = 1.0  # planar distance 10..13
    vol[1, 11:13, 35:39] = 1.0  # planar 35..38, across the seam 13..10
    rows = sample_scanpaths(vol, 2000, fixed_stats(2), strategy="gaussian", geometry=geometry,
                            slices="even", sigma=100.0, seed=4)
    col = cells(rows[rows[:, 1] == 2]) % W
    assert np.all((col >= 10) & (col < 14) | (col >= 35) & (col < 39))
    assert low <= np.mean(col >= 35) <= high


# --------------------------------------------------------------------------- slices


def banded_volume(n: int = 12) -> np.ndarray:
    """Slice s holds mass only in columns 4s..4s+3 of a 24 x 48 grid."""
    vol = np.zeros((n, H, W))
    for s in range(n):
        vol[s, :, 4 * s : 4 * s + 4] = 1.0
    return vol


@pytest.mark.parametrize("strategy", ["naive", "gaussian", "ior"])
def test_by_time_picks_the_slice_from_the_start_time(strategy):
    """1 s fixations over a 12 s viewing time: fixation at start t reads slice min(t, 11)."""
    rows = sample_scanpaths(banded_volume(), 30, fixed_stats(15, 1.0), strategy=strategy,
                            viewing_time=12.0, seed=0)
    band = (cells(rows) % W) // 4
    np.testing.assert_array_equal(band, np.minimum(np.floor(rows[:, 2] + 1e-9), 11))


@pytest.mark.parametrize("count", [6, 24, 12])
def test_even_spreads_fixations_over_the_slices(count):
    """Fixation i (0-based) of n reads slice floor(i * 12 / n), whatever the times."""
    rows = sample_scanpaths(banded_volume(), 10, fixed_stats(count, 3.0), strategy="naive",
                            slices="even", seed=0)
    band = (cells(rows) % W) // 4
    np.testing.assert_array_equal(band, ((rows[:, 1] - 1) * 12) // count)


# --------------------------------------------------------------------------- exactness


@pytest.fixture
def dense_only(monkeypatch):
    """Force every gaussian/ior draw after the first through the dense fallback."""
    monkeypatch.setattr(sampling, "_ROUNDS", 0)


@pytest.mark.parametrize("path", ["rejection", "dense"])
def test_fast_sampler_matches_the_released_algorithm(path, request):
    """Positions of fixations 2 and 3 (planar gaussian, sigma 100) match the straightforward
    reference (gaussian_filter per fixation) -- two-sample chi-square on 4x8 regions."""
    if path == "dense":
        request.getfixturevalue("dense_only")
    h, w = 12, 24
    vol = smooth_volume(np.random.default_rng(7), 3, h, w)
    st = fixed_stats(3)
    fast = sample_scanpaths(vol, 3000, st, strategy="gaussian", slices="even", sigma=100.0,
                            seed=11)
    ref = released_scanpaths(vol, 1500, st, np.random.default_rng(12), sigma=100.0,
                             slices="even")
    for k in (2, 3):
        a = regions(cells(fast[fast[:, 1] == k], h, w), h, w, 4, 8)
        b = regions(cells(ref[ref[:, 1] == k], h, w), h, w, 4, 8)
        assert two_sample_p(a, b, 32) > 1e-3
    # power check: the reference without the Gaussian (naive) is told apart
    naive = released_scanpaths(vol, 1500, st, np.random.default_rng(13), strategy="naive",
                               slices="even")
    a = regions(cells(fast[fast[:, 1] == 3], h, w), h, w, 4, 8)
    b = regions(cells(naive[naive[:, 1] == 3], h, w), h, w, 4, 8)
    assert two_sample_p(a, b, 32) < 1e-4


def expected_second(vol: np.ndarray, prev: tuple[int, int], strategy: str, geometry: str,
                    sigma: float, ior_sigma: float, strength: float) -> np.ndarray:
    """Independent computation of P(second fixation) = slice 1 x kernel around ``prev``."""
    from scipy.ndimage import gaussian_filter

    from data_prep.geometry import cell_unit_vectors, great_circle

    _, h, w = vol.shape
    if strategy == "gaussian" and geometry == "planar":  # the released code's blurred delta
        delta = np.zeros((h, w))
        delta[prev] = 1.0
        kern = gaussian_filter(delta, sigma=(sigma * h / 300, sigma * w / 600))
    else:
        if geometry == "sphere":
            units = cell_unit_vectors(h, w)
            d = great_circle(units, units[prev]) * 600 / (2 * np.pi)
        else:
            rr, cc = np.mgrid[0:h, 0:w]
            d = np.hypot((rr - prev[0]) * 300 / h, (cc - prev[1]) * 600 / w)
        s = sigma if strategy == "gaussian" else ior_sigma
        g = np.exp(-0.5 * (d / s) ** 2)
        kern = g if strategy == "gaussian" else 1.0 - strength * g
    p = vol[1] * kern
    return p / p.sum()


@pytest.mark.parametrize("path", ["rejection", "dense"])
@pytest.mark.parametrize("strategy,geometry", [("gaussian", "planar"), ("gaussian", "sphere"),
                                               ("ior", "planar"), ("ior", "sphere")])
def test_draw_given_the_previous_fixation_is_exact(strategy, geometry, path, request):
    """First fixation pinned near a corner; the second follows slice x kernel computed
    independently (released blur for planar gaussian): chi-square over all cells."""
    if path == "dense":
        request.getfixturevalue("dense_only")
    h, w = 12, 24
    vol = np.empty((2, h, w))
    vol[1] = np.random.default_rng(5).random((h, w)) ** 2
    vol[0] = 0.0
    vol[0, 1, 2] = 1.0
    kw = dict(sigma=100.0, ior_sigma=100.0, ior_strength=0.95)
    rows = sample_scanpaths(vol, 20000, fixed_stats(2), strategy=strategy, geometry=geometry,
                            slices="even", seed=21, **kw)
    got = np.bincount(cells(rows[rows[:, 1] == 2], h, w), minlength=h * w)
    p = expected_second(vol, (1, 2), strategy, geometry, kw["sigma"], kw["ior_sigma"],
                        kw["ior_strength"]).ravel()
    live = p > 0  # the released blur is truncated at 4 sigma: cells beyond get nothing
    assert got[~live].sum() == 0
    assert sps.chisquare(got[live], p[live] * got.sum()).pvalue > 1e-3
    # power: the kernel of another width is rejected by the same draws
    q = expected_second(vol, (1, 2), strategy, geometry, 130.0, 130.0, kw["ior_strength"]).ravel()
    live = q > 0
    assert sps.chisquare(got[live], q[live] / q[live].sum() * got[live].sum()).pvalue < 1e-4


@pytest.mark.parametrize("strategy,geometry", [("gaussian", "sphere"), ("ior", "planar"),
                                               ("ior", "sphere")])
def test_rejection_and_dense_draws_agree(strategy, geometry, monkeypatch):
    """The rejection sampler and the dense inverse CDF draw from the same product."""
    h, w = 12, 24
    vol = smooth_volume(np.random.default_rng(8), 1, h, w)
    kw = dict(strategy=strategy, geometry=geometry, sigma=100.0, ior_sigma=60.0, seed=3)
    fast = sample_scanpaths(vol, 2500, fixed_stats(4), **kw)
    monkeypatch.setattr(sampling, "_ROUNDS", 0)
    dense = sample_scanpaths(vol, 2500, fixed_stats(4), **{**kw, "seed": 4})
    for k in (2, 4):
        a = regions(cells(fast[fast[:, 1] == k], h, w), h, w, 4, 8)
        b = regions(cells(dense[dense[:, 1] == k], h, w), h, w, 4, 8)
        assert two_sample_p(a, b, 32) > 1e-3


def test_all_zero_product_falls_back_to_the_slice():
    """ior of strength 1 on a one-cell slice suppresses everything: the slice is used."""
    vol = np.zeros((1, 6, 12))
    vol[0, 2, 5] = 1.0
    rows = sample_scanpaths(vol, 5, fixed_stats(6), strategy="ior", ior_strength=1.0, seed=0)
    assert np.all(cells(rows, 6, 12) == 2 * 12 + 5)


def test_random_baseline_planar_and_sphere():
    """random: uniform over pixels (planar) or over the sphere's surface (sphere)."""
    st = fixed_stats(10)
    flat = sample_scanpaths(None, 1000, st, strategy="random", image_size=(400, 200), seed=0)
    sphere = sample_scanpaths(None, 1000, st, strategy="random", geometry="sphere",
                              image_size=(400, 200), seed=0)
    for rows in (flat, sphere):
        assert rows[:, 3].min() >= 1 and rows[:, 3].max() < 401
        assert rows[:, 4].min() >= 1 and rows[:, 4].max() < 201
    polar = lambda rows: np.mean(np.abs(rows[:, 4] - 101) > 200 / 3)  # noqa: E731  |el| > 60 deg
    assert abs(polar(flat) - 1 / 3) < 0.03
    assert abs(polar(sphere) - (1 - np.sin(np.pi / 3))) < 0.02
    assert sps.chisquare(np.bincount(((flat[:, 3] - 1) // 40).astype(int))).pvalue > 1e-3


# --------------------------------------------------------------------------- output, seeds


def test_positions_are_full_image_pixels_inside_the_cell_and_csv_round_trips(tmp_path):
    """x, y are 1-based pixels of the full image inside the drawn cell; the CSV reads back."""
    vol = np.zeros((1, H, W))
    vol[0, 5, 7] = 1.0
    rows = sample_scanpaths(vol, 4, fixed_stats(5), strategy="gaussian",
                            image_size=(4800, 2400), seed=0)
    assert np.all((rows[:, 3] >= 1 + 700) & (rows[:, 3] < 1 + 800))
    assert np.all((rows[:, 4] >= 1 + 500) & (rows[:, 4] < 1 + 600))
    rows = sample_scanpaths(smooth_volume(np.random.default_rng(0), 12), 40,
                            image_size=(4800, 2400), seed=1)
    write_model_scanpaths(tmp_path / "P1.csv", rows)
    back = read_model_scanpaths(tmp_path / "P1.csv", 4800, 2400)
    np.testing.assert_allclose(back, rows, rtol=1e-8, atol=1e-6)


def test_same_seed_same_paths_other_seed_other_paths():
    """Determinism by seed, for every strategy."""
    vol = smooth_volume(np.random.default_rng(0), 12)
    for strategy in sampling.STRATEGIES:
        a = sample_scanpaths(vol, 10, strategy=strategy, seed=9)
        b = sample_scanpaths(vol, 10, strategy=strategy, seed=9)
        c = sample_scanpaths(vol, 10, strategy=strategy, seed=10)
        np.testing.assert_array_equal(a, b)
        assert a.shape != c.shape or not np.array_equal(a, c)


def test_image_seed_is_stable_and_name_dependent():
    """Per-image seeds: the same for the same (seed, name), different across names."""
    draw = lambda seed, name: np.random.default_rng(sampling.image_seed(seed, name)).random()  # noqa: E731
    assert draw(0, "P41") == draw(0, "P41")
    assert len({draw(0, "P41"), draw(0, "P42"), draw(1, "P41")}) == 3


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("value,problem", [(np.nan, "NaN"), (np.inf, "NaN or infinite"),
                                           (-1e-3, "negative")])
def test_bad_values_name_the_slice(value, problem):
    vol = np.ones((12, 4, 8))
    vol[3, 1, 2] = value
    with pytest.raises(InputError, match=rf"^P9: slice 3 .*{problem}"):
        sample_scanpaths(vol, 2, name="P9")


def test_all_zero_slice_fails_or_reads_the_nearest_slice():
    vol = banded_volume(12)
    vol[2] = 0.0
    vol[7:9] = 0.0
    with pytest.raises(InputError, match=r"^v: slice 2 .*all zero.*--allow-empty-slices"):
        sample_scanpaths(vol, 2, name="v")
    np.testing.assert_array_equal(check_volume(vol, allow_empty_slices=True).nearest,
                                  [0, 1, 1, 3, 4, 5, 6, 6, 9, 9, 10, 11])
    rows = sample_scanpaths(vol, 20, fixed_stats(24, 3.0), strategy="naive", slices="even",
                            allow_empty_slices=True, seed=0)
    band = (cells(rows) % W) // 4
    np.testing.assert_array_equal(band, np.array([0, 1, 1, 3, 4, 5, 6, 6, 9, 9, 10, 11])[
        ((rows[:, 1].astype(int) - 1) * 12) // 24])
    with pytest.raises(InputError, match="every slice is all zero"):
        sample_scanpaths(np.zeros((3, 4, 8)), 2, allow_empty_slices=True)


def test_wrong_shapes_and_arguments():
    with pytest.raises(InputError, match=r"expected a numeric \(S, H, W\) volume"):
        sample_scanpaths(np.ones((2, 3, 4, 5)), 2)
    with pytest.raises(ValueError, match="unknown strategy"):
        sample_scanpaths(np.ones((1, 4, 8)), 2, strategy="greedy")
    with pytest.raises(ValueError, match="ior_strength"):
        sample_scanpaths(np.ones((1, 4, 8)), 2, strategy="ior", ior_strength=1.5)
    with pytest.raises(ValueError, match="image_size"):
        sample_scanpaths(None, 2, strategy="random")


# --------------------------------------------------------------------------- sources


def test_counts_and_durations_from_fixations():
    df = pd.DataFrame({"observer": [0, 0, 0, 1, 1], "fixation": [1, 2, 3, 1, 2],
                       "t": [0.0, 0.4, 1.0, 0.0, 0.25], "x": 1.0, "y": 1.0})
    counts, durations = sampling.counts_and_durations(df)
    np.testing.assert_array_equal(counts, [3, 2])
    np.testing.assert_allclose(durations, [0.4, 0.6, 0.25])


def test_ground_truth_volume_and_map_from_a_dataset(tmp_path):
    from data_prep.demo_dataset import make_demo_dataset
    from data_prep.salient360 import head_eye_map_path, read_saliency_bin

    root = make_demo_dataset(tmp_path / "d", width=128, height=64, observers=6, ids=[29, 35])
    vol, size = sampling.volume_from_gt(root, 35, "volume", shape=(12, 24))
    assert size == (128, 64) and vol.shape == (12, 12, 24)
    sums = vol.reshape(12, -1).sum(axis=1)
    assert np.allclose(sums[sums > 0], 1.0, atol=1e-5)
    gmap, size = sampling.volume_from_gt(root, 35, "map", shape=(16, 32))
    full = read_saliency_bin(head_eye_map_path(root, 35), 128, 64)
    assert gmap.shape == (1, 16, 32) and abs(gmap.sum() - 1) < 1e-5
    ref = full.reshape(16, 4, 32, 4).sum(axis=(1, 3))  # integer factor 4: plain block sums
    np.testing.assert_allclose(gmap[0], ref / ref.sum(), rtol=1e-4, atol=1e-8)
    learned = sampling.stats_from_dataset(root, [29])
    assert learned.counts.probabilities.sum() == pytest.approx(1.0)
