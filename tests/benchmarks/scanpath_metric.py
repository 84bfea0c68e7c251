"""Benchmark: the official scan-path score of one image, vectorised DP vs the Dijkstra port.

One 5000 x 2500 image, 40 ground-truth observers (official form, with the appended end
points) and 40 model scan-paths of about 22 fixations, synthetic and seeded. Prints the
full 40 x 40 image time (target <= 0.5 s), the time per pair of the vectorised programme
and of the Python port of the official Dijkstra on a subset of pairs, and their ratio;
checks that both give the same pair costs on that subset.

    python tests/benchmarks/scanpath_metric.py [--subset 80] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from data_prep import metrics  # noqa: E402
from tests.official_dijkstra import heap_dijkstra, scan_dijkstra  # noqa: E402

W, H = 5000, 2500


def synthetic(seed: int = 0, count: int = 40, mean_len: int = 22):
    """Seeded ground truth (official form) and model paths of about ``mean_len`` fixations."""
    rng = np.random.default_rng(seed)
    rows = []
    for o in range(count):
        n = int(rng.integers(mean_len - 4, mean_len + 5))
        t = np.cumsum(rng.uniform(0.1, 0.8, n))
        t -= t[0]
        x, y = rng.integers(1, W + 1, n), rng.integers(1, H + 1, n)
        rows += [(o, i + 1, t[i], float(x[i]), float(y[i])) for i in range(n)]
    gt = metrics.gt_scanpaths_official(pd.DataFrame(rows, columns=["observer", "fixation", "t", "x", "y"]))
    model = []
    for _ in range(count):
        n = int(rng.integers(mean_len - 4, mean_len + 5))
        model.append(np.column_stack([np.cumsum(rng.uniform(0.1, 0.8, n)) - 0.1,
                                      rng.uniform(1, W, n), rng.uniform(1, H, n)]))
    return gt, model


def best_of(fn, repeats: int) -> float:
    """Fastest wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", type=int, default=80, help="pairs timed with the Dijkstra port")
    ap.add_argument("--repeats", type=int, default=5, help="repeats of the full-image timing")
    args = ap.parse_args()
    gt, model = synthetic()
    pairs = len(gt) * len(model)
    print(f"image {W}x{H}: {len(gt)} ground-truth paths (mean {np.mean([len(p) for p in gt]):.1f} "
          f"points), {len(model)} model paths (mean {np.mean([len(p) for p in model]):.1f})")

    full = best_of(lambda: metrics.scanpath_score(gt, model, W, H), args.repeats)
    costs = metrics.scanpath_pair_costs(gt, model, W, H)
    print(f"full image score (cost matrices + DP + Hungarian): {full * 1e3:.1f} ms "
          f"(target <= 500 ms) -> {full / pairs * 1e6:.1f} us per pair")

    rng = np.random.default_rng(1)
    subset = [(int(i), int(j)) for i, j in zip(rng.integers(0, len(gt), args.subset),
                                                rng.integers(0, len(model), args.subset), strict=True)]
    mats = {p: metrics.scanpath_cost_matrix(gt[p[0]], model[p[1]], W, H) for p in subset}
    t0 = time.perf_counter()
    ref = {p: heap_dijkstra(mats[p]) for p in subset}
    dijkstra = (time.perf_counter() - t0) / len(subset)
    t0 = time.perf_counter()
    for p in subset:
        metrics.scanpath_cost_matrix(gt[p[0]], model[p[1]], W, H)
    per_matrix = (time.perf_counter() - t0) / len(subset)
    same = all(costs[p] == ref[p][0] / ref[p][1] for p in subset)
    print(f"Dijkstra port (heap): {dijkstra * 1e3:.2f} ms per pair search only, "
          f"{(dijkstra + per_matrix) * 1e3:.2f} ms with its cost matrix "
          f"(x {pairs} pairs = {(dijkstra + per_matrix) * pairs:.1f} s per image)")
    print(f"ratio Dijkstra port / vectorised, per pair: {(dijkstra + per_matrix) / (full / pairs):.0f}x"
          f"; identical pair costs on the {len(subset)} pairs: {same}")
    few = subset[:3]
    t0 = time.perf_counter()
    literal = [scan_dijkstra(mats[p]) for p in few]
    scan = (time.perf_counter() - t0) / len(few)
    print(f"literal row-major-scan port (the toolbox's loop): {scan * 1e3:.0f} ms per pair; "
          f"same as the heap port: {literal == [ref[p] for p in few]}")


if __name__ == "__main__":
    main()
