"""Benchmark: the four official saliency metrics on a 5000 x 2500 map (target <= 3 s).

Smooth synthetic maps and about 3000 fixated pixels, seeded. Prints the time of each
metric, of ``saliency_scores`` cold (spiral indices computed) and warm (cached), and of a
300 x 600 prediction resized to the image size first.

    python tests/benchmarks/saliency_metrics.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from data_prep import metrics  # noqa: E402

W, H = 5000, 2500


def timed(label: str, fn):
    """Run ``fn`` once, print its wall time, return its result."""
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<42s} {time.perf_counter() - t0:7.3f} s")
    return out


def main() -> None:
    """Run the benchmark and print the figures."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    gt = np.exp(-((xx - 2000) ** 2 + (yy - 1200) ** 2) / (2 * 400.0 ** 2)) + 0.01
    gt /= gt.sum()
    pred = np.exp(-((xx - 2300) ** 2 + (yy - 1100) ** 2) / (2 * 500.0 ** 2)) + 0.02
    fix = np.zeros((H, W), dtype=np.uint8)
    fix[rng.integers(0, H, 3000), rng.integers(0, W, 3000)] = 1
    print(f"map {W}x{H}, {int(fix.sum())} fixated pixels, {metrics.N_SPHERE} sphere samples")
    scores = timed("saliency_scores (cold: spiral indices)", lambda: metrics.saliency_scores(pred, gt, fix))
    timed("saliency_scores (warm)", lambda: metrics.saliency_scores(pred, gt, fix))
    timed("  KL (sphere samples)", lambda: metrics.kl_sphere(pred, gt))
    timed("  CC (sphere samples)", lambda: metrics.cc_sphere(pred, gt))
    timed("  NSS", lambda: metrics.nss(pred, fix))
    timed("  AUC-Judd", lambda: metrics.auc_judd(pred, fix))
    small = pred[::8, ::8][:300, :600].copy()
    timed("saliency_scores, 300x600 prediction resized", lambda: metrics.saliency_scores(small, gt, fix))
    print("scores:", {k: round(v, 4) for k, v in scores.items()})


if __name__ == "__main__":
    main()
