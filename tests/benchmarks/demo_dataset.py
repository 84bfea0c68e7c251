"""Benchmark: writing the default demo dataset and packing it.

Times ``make_demo_dataset`` with its defaults (60 images, 1024 x 512, 40 observers), then
``make_dataset``'s packing of the train/val splits at 300 x 600 and 96 x 192. For the
ground-truth maps it also compares the coarse-grid evaluation (sphere_map) with the direct
evaluation of every kernel at every full-size pixel, on one image: time ratio and the
largest difference relative to the map's peak.

    .venv/bin/python tests/benchmarks/demo_dataset.py [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from data_prep import demo_dataset as dd  # noqa: E402
from data_prep.geometry import cell_unit_vectors, pixel_to_unit  # noqa: E402
from data_prep.make_dataset import main as pack_main  # noqa: E402
from data_prep.salient360 import read_scanpaths, scanpath_path  # noqa: E402


def direct_map(points: np.ndarray, height: int, width: int, sigma_deg: float) -> np.ndarray:
    """Every kernel at every pixel (the reference sphere_map approximates), sum 1."""
    cells = cell_unit_vectors(height, width).reshape(-1, 3).astype(np.float32)
    kappa = np.float32(1.0 / np.radians(sigma_deg) ** 2)
    out = np.empty(len(cells), dtype=np.float64)
    p = points.astype(np.float32).T
    for start in range(0, len(cells), 8192):
        out[start : start + 8192] = np.exp(kappa * (cells[start : start + 8192] @ p - 1)).sum(axis=1)
    return (out / out.sum()).reshape(height, width)


def main() -> None:
    """Run the timings and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the outputs (temp)")
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="bench_demo."))
    root = work / "demo"
    t0 = time.perf_counter()
    dd.make_demo_dataset(root, force=True)
    t1 = time.perf_counter()
    print(f"demo dataset, 60 images 1024x512, 40 observers: {t1 - t0:.1f} s "
          f"({(t1 - t0) / 60 * 1000:.0f} ms per image)")
    for h, w in ((300, 600), (96, 192)):
        t = time.perf_counter()
        pack_main([str(root), str(work / f"packs{h}"), "--height", str(h), "--width", str(w),
                   "--force"])
        print(f"packing train+val (40 images) at {h}x{w}: {time.perf_counter() - t:.1f} s")

    df = read_scanpaths(scanpath_path(root, 29), 1024, 512)
    points = pixel_to_unit(df["x"].to_numpy() - 0.5, df["y"].to_numpy() - 0.5, 1024, 512)
    t = time.perf_counter()
    fast = dd.sphere_map(points, np.ones(len(points)), 512, 1024, dd.EYE_SIGMA_DEG)
    t_fast = time.perf_counter() - t
    t = time.perf_counter()
    ref = direct_map(points, 512, 1024, dd.EYE_SIGMA_DEG)
    t_ref = time.perf_counter() - t
    err = np.abs(fast - ref).max() / ref.max()
    print(f"head+eye map of P29 ({len(points)} fixations): coarse grid {t_fast * 1000:.0f} ms, "
          f"direct {t_ref * 1000:.0f} ms (x{t_ref / t_fast:.0f}); max difference {err:.2%} of the peak")


if __name__ == "__main__":
    main()
