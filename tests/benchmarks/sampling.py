"""Benchmark: the vectorised sampler against a straightforward version of the released one.

Workload (issue 4): 1,000 scan-paths -- 25 volumes of 12 x 300 x 600, 40 scan-paths each,
fixation counts and durations from the released histograms (about 22 fixations a path),
strategy ``gaussian`` (sigma 200 px, planar). The reference (:func:`released_scanpaths`)
does what the released code did per fixation: a delta image at the previous fixation
blurred with scipy.ndimage.gaussian_filter, multiplied with the slice, normalised, one
``choice`` over the flattened image. It runs on a subset (``--ref-paths`` scan-paths) and
its time per fixation is converted to scan-paths/s at the fast run's mean path length. Timing covers sampling only (volume validation and
tables included), not building the synthetic volumes.

    .venv/bin/python tests/benchmarks/sampling.py [--volumes 25] [--paths 40] [--ref-paths 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from scipy.ndimage import gaussian_filter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from data_prep.distributions import ScanpathStats, published_stats  # noqa: E402
from data_prep.geometry import from_grid  # noqa: E402
from data_prep.sampling import REF_H, REF_W, sample_scanpaths  # noqa: E402
from data_prep.volumes import build_volume  # noqa: E402


def released_scanpaths(volume: np.ndarray, n_paths: int, stats: ScanpathStats,
                       rng: np.random.Generator, strategy: str = "gaussian",
                       sigma: float = 200.0, viewing_time: float = 25.0,
                       slices: str = "by-time") -> np.ndarray:
    """Straightforward sampler, one fixation at a time, as the released code did it -> (N, 5).

    gaussian: the slice times gaussian_filter(delta at the previous cell) (reflecting
    borders), normalised, drawn with ``choice``; naive: the slice alone. Positions are
    1-based pixels of the volume's grid, uniform in the cell (as the fast sampler returns).
    """
    n_slices, h, w = volume.shape
    blur = (sigma * h / REF_H, sigma * w / REF_W)
    rows = []
    for p in range(n_paths):
        count = int(stats.draw_counts(rng, 1)[0])
        durations = stats.draw_durations(rng, count)
        start = 0.0
        prev = None
        for i in range(count):
            if slices == "by-time":
                s = min(int(np.floor(start / (viewing_time / n_slices))), n_slices - 1)
            else:
                s = i * n_slices // count
            prob = volume[s].astype(np.float64)
            if strategy == "gaussian" and prev is not None:
                delta = np.zeros((h, w))
                delta[prev] = 1.0
                prob = prob * gaussian_filter(delta, sigma=blur)
                if prob.sum() <= 0:
                    prob = volume[s].astype(np.float64)
            cell = int(rng.choice(h * w, p=(prob / prob.sum()).ravel()))
            prev = divmod(cell, w)
            x, y = from_grid(prev[0], prev[1], w, h, h, w, rng)
            rows.append((p + 1, i + 1, start, float(x), float(y)))
            start += float(durations[i])
    return np.asarray(rows, dtype=np.float64)


def synthetic_volumes(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Volumes built from clustered synthetic fixations (a few objects, equator bias)."""
    vols = []
    for _ in range(n):
        centres = np.column_stack([rng.random(6) * 5000, 1250 + rng.normal(0, 350, 6)])
        pick = rng.integers(0, 6, 400)
        x = np.mod(centres[pick, 0] + rng.normal(0, 150, 400), 5000) + 1
        y = np.clip(centres[pick, 1] + rng.normal(0, 120, 400), 1, 2500)
        t = rng.random(400) * 25.0
        vols.append(build_volume(x, y, t, 5000, 2500, shape=(REF_H, REF_W), slices=12,
                                 duration=25.0))
    return vols


def main(argv: list[str] | None = None) -> int:
    """Time both samplers and print the rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=25, help="volumes of 12x300x600 (25)")
    parser.add_argument("--paths", type=int, default=40, help="scan-paths per volume (40)")
    parser.add_argument("--ref-paths", type=int, default=2,
                        help="scan-paths sampled with the slow reference (2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed repetitions of the fast run; the best is reported (3)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    stats = published_stats()
    vols = synthetic_volumes(args.volumes, rng)
    sample_scanpaths(vols[0], n_paths=2, stats=stats, seed=0)  # warm-up (tables, caches)

    times, n_fix = [], 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        out = [sample_scanpaths(v, n_paths=args.paths, stats=stats, strategy="gaussian", seed=i)
               for i, v in enumerate(vols)]
        times.append(time.perf_counter() - t0)
        n_fix = sum(len(o) for o in out)
    n_paths = args.volumes * args.paths
    fast = min(times)
    print(f"fast sampler : {n_paths} scan-paths ({n_fix} fixations, {n_fix / n_paths:.1f} a path)"
          f" in {fast:.3f} s (best of {args.repeats}; all: "
          f"{', '.join(f'{t:.3f}' for t in times)}) -> {n_paths / fast:,.0f} scan-paths/s")

    t0 = time.perf_counter()
    ref = released_scanpaths(vols[0], args.ref_paths, stats, np.random.default_rng(1))
    slow = time.perf_counter() - t0
    slow_rate = len(ref) / slow / (n_fix / n_paths)  # per fixation, at the fast run's path length
    print(f"reference    : {args.ref_paths} scan-paths ({len(ref)} fixations) in {slow:.2f} s "
          f"({slow / len(ref):.3f} s a fixation) -> {slow_rate:.3f} scan-paths/s "
          f"at {n_fix / n_paths:.1f} fixations a path")
    print(f"ratio        : {n_paths / fast / slow_rate:,.0f}x faster; "
          f"1,000 scan-paths: {1000 / (n_paths / fast):.3f} s fast vs "
          f"{1000 / slow_rate / 60:.1f} min reference")
    target = "met" if 1000 / (n_paths / fast) <= 1.0 else "NOT met"
    print(f"target 1,000 scan-paths <= 1 s: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
