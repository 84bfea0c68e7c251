"""Benchmark: build_volume (12 x 300 x 600, 40 observers) vs a plain scipy.ndimage reference.

Run from the repository root: .venv/bin/python -m tests.benchmarks.volumes
The reference fills a binary fine volume, blurs it with scipy.ndimage.gaussian_filter
(wrap on the width axis), normalises each slice and resamples with explicit loops.
"""

from __future__ import annotations

import time

import numpy as np

from data_prep.volumes import build_volume

WIDTH, HEIGHT = 5000, 2500
SHAPE = (300, 600)
STEP, SIGMA, SLICES = 0.1, (4.0, 20.0, 20.0), 12


def synthetic(seed: int = 0, observers: int = 40, mean_fix: int = 22):
    """Synthetic fixations: per observer a Poisson count, gamma durations, uniform positions."""
    rng = np.random.default_rng(seed)
    xs, ys, ts = [], [], []
    for _ in range(observers):
        n = max(1, rng.poisson(mean_fix))
        dur = rng.gamma(2.0, 0.5, size=n)
        ts.append(np.r_[0.0, np.cumsum(dur[:-1])])
        xs.append(rng.uniform(1, WIDTH + 1, n))
        ys.append(np.clip(rng.normal(HEIGHT / 2, HEIGHT / 6, n), 1, HEIGHT))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)


def reference(x, y, t):
    """The 12-slice reference volume of the benchmark's image (see tests/test_volumes.py)."""
    from tests.test_volumes import _reference_fine, _reference_resample

    fine = _reference_fine(x, y, t, shape=SHAPE, step=STEP, sigma=SIGMA, width=WIDTH, height=HEIGHT)
    return _reference_resample(fine, SLICES)


def main() -> None:
    """Time both, print the figures and the ratio, check agreement."""
    x, y, t = synthetic()
    print(f"{x.size} fixations, 40 observers, latest t = {t.max():.2f} s, grid {SHAPE}")
    build_volume(x, y, t, WIDTH, HEIGHT, SHAPE, STEP, SIGMA, slices=SLICES)  # warm-up
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        fast = build_volume(x, y, t, WIDTH, HEIGHT, SHAPE, STEP, SIGMA, slices=SLICES)
    t_fast = (time.perf_counter() - start) / runs
    start = time.perf_counter()
    ref = reference(x, y, t)
    t_ref = time.perf_counter() - start
    start = time.perf_counter()
    fine = build_volume(x, y, t, WIDTH, HEIGHT, SHAPE, STEP, SIGMA)
    t_fine = time.perf_counter() - start
    err = np.abs(fast - ref).max() / ref.max()
    print(f"build_volume(slices=12): {t_fast * 1000:.1f} ms (mean of {runs})")
    print(f"build_volume fine ({fine.shape[0]} slices): {t_fine * 1000:.1f} ms")
    print(f"scipy reference:        {t_ref * 1000:.1f} ms")
    print(f"speed-up: {t_ref / t_fast:.1f}x; max relative difference {err:.2e}")
    assert err < 1e-4, "build_volume disagrees with the reference"


if __name__ == "__main__":
    main()
