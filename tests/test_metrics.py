"""Official Salient360! 2017 metrics: hand-worked cases, the Dijkstra ports, saliency metrics."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from data_prep import metrics
from data_prep.errors import InputError
from tests.official_dijkstra import heap_dijkstra, pair_cost, scan_dijkstra

# On a 360 x 180 image, x is the azimuth + 180 in degrees and y the elevation + 90:
# (x=180, y=90) -> (1, 0, 0); (270, 90) -> (0, 1, 0); (360, 90) -> (-1, 0, 0);
# (270, 45) -> (0, sqrt(1/2), sqrt(1/2)).
W, H = 360, 180
SQ48 = math.sqrt(48.0)


def _frame(observers):
    """DataFrame [observer, fixation, t, x, y] from lists of (t, x, y) per observer."""
    rows = [(o, i + 1, t, x, y) for o, obs in enumerate(observers) for i, (t, x, y) in enumerate(obs)]
    return pd.DataFrame(rows, columns=["observer", "fixation", "t", "x", "y"])


def _random_paths(rng, count, lo, hi, width=5000, height=2500):
    """Random (n, 3) paths with increasing times and integer pixels."""
    out = []
    for _ in range(count):
        n = int(rng.integers(lo, hi + 1))
        t = np.cumsum(rng.uniform(0.1, 0.8, n)) - 0.1
        out.append(np.column_stack([t, rng.integers(1, width + 1, n), rng.integers(1, height + 1, n)])
                   .astype(np.float64))
    return out


# ----------------------------------------------------------------------------- ground truth


def test_gt_official_appends_end_points_except_last_observer():
    df = _frame([[(0, 10, 20), (0.5, 11, 21)], [(0, 30, 40)], [(0, 50, 60), (1.5, 51, 61)]])
    paths = metrics.gt_scanpaths_official(df)
    assert [len(p) for p in paths] == [3, 2, 2]
    np.testing.assert_array_equal(paths[0], [[0, 10, 20], [0.5, 11, 21], [25, 11, 21]])
    np.testing.assert_array_equal(paths[1], [[0, 30, 40], [25, 30, 40]])
    np.testing.assert_array_equal(paths[2], [[0, 50, 60], [1.5, 51, 61]])  # last: untouched


def test_model_scanpaths_groups_by_number_in_file_order():
    rows = np.array([[2, 1, 0.0, 5, 6], [1, 1, 0.0, 1, 2], [2, 2, 0.3, 7, 8], [1, 2, 0.2, 3, 4]])
    paths = metrics.model_scanpaths(rows)
    np.testing.assert_array_equal(paths[0], [[0.0, 1, 2], [0.2, 3, 4]])
    np.testing.assert_array_equal(paths[1], [[0.0, 5, 6], [0.3, 7, 8]])
    with pytest.raises(ValueError, match="scan-path 2 is empty"):
        metrics.model_scanpaths(np.array([[1, 1, 0, 1, 1], [3, 1, 0, 1, 1.0]]))


# ----------------------------------------------------------------------------- hand-worked


def test_two_fixations_each_cost_matrix_and_diagonal_tie():
    # A: (1,0,0) -> (0,1,0); B: (1,0,0) -> (0,-1,0), times 0 at the starts.
    a = np.array([[0.0, 180, 90], [1.0, 270, 90]])
    b = np.array([[0.0, 180, 90], [2.0, 90, 90]])
    # saccade difference (1,-1,0) - (1,1,0) = (0,-2,0): v = 2/sqrt(48); p = 0; t = 0
    s00 = (2 / SQ48) / 4  # 0.0721687836...
    expect = np.array([[s00, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(metrics.scanpath_cost_matrix(a, b, W, H), expect, atol=1e-15)
    # (0,0)->(1,1) diagonally (1 step) ties with (0,0)->(0,1)->(1,1) (2 steps): the toolbox
    # keeps the diagonal, so the cost is s00 / 1, not s00 / 2.
    assert heap_dijkstra(expect) == (pytest.approx(s00), 1)
    assert metrics.scanpath_score([a], [b], W, H) == pytest.approx(s00, abs=1e-15)


def test_three_fixations_each_worked_example():
    a = np.array([[0.0, 180, 90], [1.0, 270, 90], [2.0, 270, 45]])
    b = np.array([[0.0, 180, 90], [1.0, 270, 90], [3.0, 360, 90]])
    tq = 2 * (1 - math.exp(-0.15))  # 2t for a time difference of 1 s
    s01 = (2 / SQ48 + 0.5 + tq) / 4  # (1,-1,0)-(1,1,0); 90 degrees apart; 1 s apart
    s10 = (math.sqrt(6 - 2 * math.sqrt(2)) / SQ48 + 0.5 + tq) / 4  # |(-1, 2-r, -r)|, r=sqrt(1/2)
    s11 = (math.sqrt(2) / SQ48) / 4  # |(-1, -r, -r)| = sqrt 2; same start, same time
    expect = np.array([[0.0, s01, 0.0], [s10, s11, 0.0], [0.0, 0.0, 0.0]])
    assert (s01, s10, s11) == pytest.approx((0.2668147954, 0.2589083817, 0.0510310363))
    cost = metrics.scanpath_cost_matrix(a, b, W, H)
    np.testing.assert_allclose(cost, expect, atol=1e-15)
    # cheapest path (0,0) -> (1,1) -> (2,2): total s11 in 2 steps (the zero-cost detours
    # through (1,2) or (2,1) tie but take 3 steps)
    total, steps = metrics.cheapest_paths(cost[None], 3, 3)
    assert (total[0], steps[0]) == (pytest.approx(s11), 2)
    assert metrics.scanpath_score([a], [b], W, H) == pytest.approx(s11 / 2, abs=1e-15)


def test_single_fixation_model_scores_exactly_zero():
    df = _frame([[(0, 10, 20), (0.4, 300, 100), (0.9, 50, 170)], [(0, 200, 30), (0.7, 20, 20)]])
    gt = metrics.gt_scanpaths_official(df)
    single = [np.array([[0.0, 123.0, 45.0]])]
    costs = metrics.scanpath_pair_costs(gt, single, W, H)
    assert np.all(costs == 0.0)
    assert metrics.scanpath_score(gt, single, W, H) == 0.0
    # a real path costs more
    assert metrics.scanpath_score(gt, [np.array([[0, 100, 100], [0.5, 300, 20.0]])], W, H) > 0


def test_ground_truth_against_itself_is_about_zero():
    rng = np.random.default_rng(3)
    obs = [[(float(t), float(x), float(y)) for t, x, y in p] for p in _random_paths(rng, 6, 3, 25)]
    gt = metrics.gt_scanpaths_official(_frame(obs))
    costs = metrics.scanpath_pair_costs(gt, gt, 5000, 2500)
    assert np.all(np.diag(costs) < 1e-8)
    off = costs[~np.eye(len(gt), dtype=bool)]
    assert off.min() > 1e-3
    score = metrics.scanpath_score(gt, gt, 5000, 2500)
    assert 0 <= score < 1e-7


# ----------------------------------------------------------------------------- tie-breaking


def _dp_with_order(cost: np.ndarray, order: tuple[str, ...]) -> tuple[float, int]:
    """Plain-Python cheapest path keeping the first predecessor of ``order`` among equals."""
    n, m = cost.shape
    d = {(0, 0): (float(cost[0, 0]), 0)}
    moves = {"diag": (-1, -1), "up": (-1, 0), "left": (0, -1)}
    for r in range(n):
        for c in range(m):
            if (r, c) == (0, 0):
                continue
            best = None
            for name in order:
                pr, pc = r + moves[name][0], c + moves[name][1]
                if pr >= 0 and pc >= 0 and (best is None or d[(pr, pc)][0] < best[0]):
                    best = d[(pr, pc)]
            d[(r, c)] = (best[0] + float(cost[r, c]), best[1] + 1)
    return d[(n - 1, m - 1)]


def _tie_heavy(rng, trial: int) -> np.ndarray:
    """Small cost matrices built to tie: tiny value sets, many zeros, absorbed costs."""
    n, m = (int(v) for v in rng.integers(1, 7, size=2))
    sets = [(0.0, 0.0, 0.0, 0.25, 0.5, 1.0), (0.0, 1e-17, 0.1, 1 / 3, 0.2), (0.0, 0.5)]
    kind = trial % 4
    cost = rng.random((n, m)) if kind == 3 else rng.choice(sets[kind], size=(n, m))
    if trial % 2:  # the toolbox's shape: zero last row and column
        cost[-1, :] = 0.0
        cost[:, -1] = 0.0
    return cost


def test_heap_port_equals_literal_scan_port():
    rng = np.random.default_rng(11)
    for trial in range(400):
        cost = _tie_heavy(rng, trial)
        assert heap_dijkstra(cost) == scan_dijkstra(cost)


def test_dp_equals_dijkstra_on_random_and_tie_heavy_inputs():
    rng = np.random.default_rng(12)
    costs = [_tie_heavy(rng, trial) for trial in range(1500)]
    rows, cols = max(c.shape[0] for c in costs), max(c.shape[1] for c in costs)
    stack = np.full((len(costs), rows, cols), 7.0)  # padding must not leak into results
    for i, c in enumerate(costs):
        stack[i, : c.shape[0], : c.shape[1]] = c
    totals, steps = metrics.cheapest_paths(stack, [c.shape[0] for c in costs],
                                           [c.shape[1] for c in costs])
    for i, c in enumerate(costs):
        assert (totals[i], steps[i]) == heap_dijkstra(c), f"case {i}: {c}"


def test_tie_order_is_determined_diagonal_up_left():
    # the tie-heavy set separates every other order from the toolbox's behaviour
    rng = np.random.default_rng(13)
    costs = [_tie_heavy(rng, trial) for trial in range(600)]
    truth = [heap_dijkstra(c) for c in costs]
    for order in itertools.permutations(("diag", "up", "left")):
        agree = all(_dp_with_order(c, order) == t for c, t in zip(costs, truth, strict=True))
        assert agree == (order == ("diag", "up", "left")), order


def test_dp_equals_dijkstra_on_real_cost_matrices_with_duplicates():
    rng = np.random.default_rng(14)
    gt = _random_paths(rng, 5, 1, 9, W, H)
    model = _random_paths(rng, 6, 1, 9, W, H)
    model[0] = gt[0].copy()  # identical paths: zero saccade costs, plateaus of ties
    model[1] = np.vstack([gt[1][:2], gt[1][:2]])  # repeated fixations
    model[2] = model[2][:1]  # single fixation
    costs = metrics.scanpath_pair_costs(gt, model, W, H)
    for i, a in enumerate(gt):
        for j, b in enumerate(model):
            ref = pair_cost(metrics.scanpath_cost_matrix(a, b, W, H))
            assert (math.isnan(ref) and math.isnan(costs[i, j])) or costs[i, j] == ref


# ----------------------------------------------------------------------------- matching


def test_nan_pairs_cannot_be_matched():
    # the toolbox maximises the number of usable pairs, then minimises their sum
    assert metrics.match_score(np.array([[np.nan, 2.0], [3.0, 0.5]])) == 5.0
    assert metrics.match_score(np.array([[1.0, np.nan], [np.nan, np.nan]])) == 1.0
    assert metrics.match_score(np.full((2, 3), np.nan)) == 0.0
    # a single-point last observer against a single-fixation model path: 0 steps -> NaN
    gt = [np.array([[0, 10, 10], [1, 20, 20], [2, 40, 30.0]]), np.array([[0, 50, 50.0]])]
    model = [np.array([[0, 60, 60.0]]), np.array([[0, 10, 10], [1, 200, 100.0]])]
    costs = metrics.scanpath_pair_costs(gt, model, W, H)
    assert math.isnan(costs[1, 0]) and costs[0, 0] == 0.0 and costs[1, 1] == 0.0
    assert metrics.scanpath_score(gt, model, W, H) == 0.0


def _brute_force(cost: np.ndarray) -> float:
    """Most usable pairs, then cheapest: exhaustive over injective row->column maps."""
    n, m = cost.shape
    best = (-1, math.inf)
    rows_first = n <= m
    mat = cost if rows_first else cost.T
    for perm in itertools.permutations(range(mat.shape[1]), mat.shape[0]):
        vals = [mat[i, j] for i, j in enumerate(perm) if np.isfinite(mat[i, j])]
        key = (len(vals), sum(vals))
        if key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
            best = key
    return best[1] if best[0] > 0 else 0.0


def test_unequal_observers_and_model_paths_against_brute_force():
    rng = np.random.default_rng(15)
    for shape in [(3, 2), (2, 4), (4, 4), (5, 3)]:
        for _ in range(5):
            cost = rng.random(shape)
            cost[rng.random(shape) < 0.3] = np.nan
            assert metrics.match_score(cost) == pytest.approx(_brute_force(cost), abs=1e-12)
    gt, model = _random_paths(rng, 4, 2, 6, W, H), _random_paths(rng, 2, 2, 6, W, H)
    costs = metrics.scanpath_pair_costs(gt, model, W, H)
    assert costs.shape == (4, 2)
    assert metrics.scanpath_score(gt, model, W, H) == pytest.approx(_brute_force(costs))


# ----------------------------------------------------------------------------- saliency


def test_spiral_mapping_against_a_plain_loop():
    width, height = 96, 48
    rows, cols = metrics.sphere_samples(width, height)
    n = metrics.N_SPHERE
    assert n == 1256637 and rows.shape == cols.shape == (n,)
    golden_angle = 2 * math.pi * (1 - 2 / (1 + math.sqrt(5)))
    rng = np.random.default_rng(16)
    picks = np.concatenate([np.arange(5), n - 1 - np.arange(5), rng.integers(0, n, 3000)])
    for i in picks.tolist():
        lat = math.acos(1 - 2 * i / (n - 1))
        lon = (i * golden_angle) % (2 * math.pi)
        col = min(max(1 + math.floor(width * lon / (2 * math.pi)), 1), width)
        z = math.cos(lat)
        row = min(max(1 + math.floor(height * (math.asin(z) / math.pi + 0.5)), 1), height)
        assert (rows[i], cols[i]) == (row - 1, col - 1), i
    # equal-area sampling: each half of the sphere gets half of the points
    assert abs(np.mean(rows < height // 2) - 0.5) < 1e-3
    assert metrics.sphere_samples(width, height)[0] is rows  # cached


def _smooth_map(height, width, cx, cy, sigma, floor=0.0):
    yy, xx = np.mgrid[0:height, 0:width]
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma ** 2)) + floor


def test_kl_symmetric_zero_for_identical_and_cc_one():
    a = _smooth_map(48, 96, 30, 20, 8, 0.01)
    b = _smooth_map(48, 96, 60, 30, 12)
    assert metrics.kl_sphere(a, b) == metrics.kl_sphere(b, a)
    assert metrics.kl_sphere(a, b) > 0.1
    assert abs(metrics.kl_sphere(a, 3 * a)) < 1e-9
    assert metrics.cc_sphere(a, a) == pytest.approx(1.0, abs=1e-12)
    assert metrics.cc_sphere(a, b) < 0.9


def test_kl_and_cc_from_samples_hand_worked():
    p, q = np.array([1.0, 3.0, 0.0]), np.array([2.0, 2.0, 4.0])
    pn, qn = [0.25, 0.75, 1e-50], [0.25, 0.25, 0.5]
    eps = 2.0 ** -52
    expect = 0.5 * (sum(b * math.log(eps + b / (a + eps)) for a, b in zip(pn, qn, strict=True))
                    + sum(a * math.log(eps + a / (b + eps)) for a, b in zip(pn, qn, strict=True)))
    assert metrics.kl_from_samples(p, q) == pytest.approx(expect, rel=1e-12)
    # Pearson r of (1, 3, 0) and (2, 2, 4): deviations (-1/3, 5/3, -4/3) and (-2/3, -2/3, 4/3),
    # sum of products -8/3, sums of squares 14/3 and 8/3
    assert metrics.cc_from_samples(p, q) == pytest.approx((-8 / 3) / math.sqrt(14 / 3 * 8 / 3))


def test_nss_hand_worked():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])  # mean 2.5, sample std sqrt(5/3)
    fix = np.array([[0, 1], [0, 1]])  # values 2 and 4: z = (-0.5 + 1.5) / 2 / sqrt(5/3)
    assert metrics.nss(pred, fix) == pytest.approx(0.5 / math.sqrt(5 / 3))
    assert metrics.nss(pred, np.array([[0, 0], [0, 1]])) == pytest.approx(1.5 / math.sqrt(5 / 3))


def test_auc_judd_hand_worked():
    pred = np.array([[0.1, 0.4, 0.2], [0.3, 0.6, 0.5]])
    fix = np.array([[0, 1, 0], [1, 0, 0]])  # fixated values 0.4 and 0.3; P = 6, F = 2
    # 0.4: 3 values >= -> (tp, fp) = (1/2, 2/4); 0.3: 4 values >= -> (1, 2/4)
    # curve (0,0) (.5,.5) (.5,1) (1,1): area .125 + 0 + .5
    assert metrics.auc_judd(pred, fix) == pytest.approx(0.625)
    # ties with non-fixated pixels count against the map
    assert metrics.auc_judd(np.array([[1.0, 1.0], [1.0, 2.0]]), np.array([[1, 0], [0, 0]])) == 0.5
    assert metrics.auc_judd(pred, np.zeros((2, 3))) != metrics.auc_judd(pred, np.zeros((2, 3)))


def _auc_loop(pred, fix):
    """AUC-Judd as SPEC section 7 states it, one threshold at a time."""
    s = (pred / pred.sum()).ravel()
    values = sorted(s[np.asarray(fix).ravel() > 0], reverse=True)
    f, p = len(values), s.size
    tp, fp = [0.0], [0.0]
    for i, th in enumerate(values, start=1):
        tp.append(i / f)
        fp.append((int(np.sum(s >= th)) - i) / (p - f))
    tp.append(1.0)
    fp.append(1.0)
    return sum((fp[k + 1] - fp[k]) * (tp[k + 1] + tp[k]) / 2 for k in range(len(tp) - 1))


def test_auc_judd_against_a_plain_loop():
    rng = np.random.default_rng(17)
    pred = np.round(rng.random((20, 30)), 2)  # many ties
    fix = (rng.random((20, 30)) < 0.05).astype(int)
    assert metrics.auc_judd(pred, fix) == pytest.approx(_auc_loop(pred, fix), abs=1e-12)


def test_fixation_map_without_end_points_and_clamped():
    df = _frame([[(0, 1, 1), (0.5, 10, 5)], [(0, 12, 8), (0.2, 0, 9)]])
    fix = metrics.fixation_map(df, 12, 8)
    assert fix.shape == (8, 12) and fix.sum() == 4
    assert fix[0, 0] and fix[4, 9] and fix[7, 11] and fix[7, 0]


def test_resize_matches_bicubic_interior_and_keeps_constants():
    rng = np.random.default_rng(18)
    a = rng.random((30, 60))
    for width, height in [(250, 125), (40, 20)]:  # up and down (antialiased)
        mine = metrics.resize_map(a, width, height)
        assert mine.shape == (height, width) and mine.min() >= 0
        pil = np.asarray(Image.fromarray(a.astype(np.float32), "F").resize(
            (width, height), Image.BICUBIC), dtype=np.float64)
        m = 6
        np.testing.assert_allclose(mine[m:-m, m:-m], np.maximum(pil, 0)[m:-m, m:-m], atol=1e-6)
    np.testing.assert_allclose(metrics.resize_map(np.full((5, 10), 0.3), 37, 19), 0.3, atol=1e-12)


def test_saliency_scores_resize_and_reject_bad_maps():
    gt = _smooth_map(48, 96, 40, 20, 10, 0.001)
    fix = np.zeros((48, 96), dtype=np.uint8)
    fix[20, 40] = fix[22, 45] = fix[10, 80] = 1
    same = metrics.saliency_scores(gt, gt, fix)
    assert same["KL"] == pytest.approx(0, abs=1e-9) and same["CC"] == pytest.approx(1)
    assert same["NSS"] > 1 and 0.5 < same["ROC"] <= 1
    small = gt[::2, ::2]
    scores = metrics.saliency_scores(small, gt, fix)
    direct = metrics.saliency_scores(metrics.resize_map(small, 96, 48), gt, fix)
    assert scores == direct and scores["CC"] > 0.99
    for bad, msg in [(np.full((48, 96), np.nan), "NaN"), (np.zeros((48, 96)), "all zeros"),
                     (gt - 0.5, "negative")]:
        with pytest.raises(InputError, match=f"pred.bin: .*{msg}"):
            metrics.saliency_scores(bad, gt, fix, pred_name="pred.bin")


def test_pair_costs_do_not_depend_on_chunking(monkeypatch):
    rng = np.random.default_rng(19)
    gt, model = _random_paths(rng, 7, 1, 12, W, H), _random_paths(rng, 5, 1, 12, W, H)
    whole = metrics.scanpath_pair_costs(gt, model, W, H)
    monkeypatch.setattr(metrics, "_CHUNK", 1)  # one ground-truth path at a time
    np.testing.assert_array_equal(metrics.scanpath_pair_costs(gt, model, W, H), whole)
    monkeypatch.setattr(metrics, "_AUC_CHUNK", 7)
    pred = rng.random((12, 20))
    fix = (rng.random((12, 20)) < 0.1).astype(int)
    assert metrics.auc_judd(pred, fix) == pytest.approx(_auc_loop(pred, fix), abs=1e-12)
