"""Figures: scan-paths drawn on equirectangular images, volume slices, learning curves, histograms.

Every function writes one PNG atomically and returns its path. Matplotlib runs headless (Agg).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from data_prep.errors import atomic_path  # noqa: E402

PATH_COLOURS = plt.get_cmap("tab10").colors


def save_figure(fig, path: str | os.PathLike, force: bool = False) -> Path:
    """Write a Matplotlib figure as PNG atomically and close it."""
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def seam_segments(x: np.ndarray, y: np.ndarray, width: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split a polyline on an equirectangular image where the shorter way crosses the 360° seam.

    Consecutive points more than half the width apart are joined the short way: the segment
    leaves one edge and re-enters at the other, the crossing height interpolated linearly.
    Returns the pieces as (xs, ys) arrays in drawing order.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    pieces: list[tuple[list, list]] = [([x[0]], [y[0]])] if x.size else []
    for i in range(1, x.size):
        dx = x[i] - x[i - 1]
        if abs(dx) <= width / 2:
            pieces[-1][0].append(x[i])
            pieces[-1][1].append(y[i])
            continue
        # crossing: go out through the nearer edge, come back in through the other
        exit_edge, entry_edge = (width, 0.0) if dx < 0 else (0.0, width)
        out_dist = abs(exit_edge - x[i - 1])
        total = width - abs(dx)
        y_cross = y[i - 1] + (y[i] - y[i - 1]) * (out_dist / total if total > 0 else 0.5)
        pieces[-1][0].append(exit_edge)
        pieces[-1][1].append(y_cross)
        pieces.append(([entry_edge, x[i]], [y_cross, y[i]]))
    return [(np.asarray(px), np.asarray(py)) for px, py in pieces]


def scanpaths_on_axes(ax, image: np.ndarray, rows: np.ndarray, width: int | None = None,
                      height: int | None = None, max_paths: int = 5) -> int:
    """Draw up to ``max_paths`` scan-paths (N×5 rows, 1-based pixels) on ``image`` in ``ax``.

    Fixations are numbered; lines take the short way across the 360° seam. Returns the
    number of scan-paths drawn.
    """
    width = width or image.shape[1]
    height = height or image.shape[0]
    ax.imshow(image, extent=(0, width, height, 0))
    ids = np.unique(rows[:, 0]).astype(int)[:max_paths]
    for k, sp in enumerate(ids):
        pts = rows[rows[:, 0] == sp]
        pts = pts[np.argsort(pts[:, 1])]
        colour = PATH_COLOURS[k % len(PATH_COLOURS)]
        xs, ys = pts[:, 3] - 0.5, pts[:, 4] - 0.5
        for px, py in seam_segments(xs, ys, width):
            ax.plot(px, py, "-", color=colour, lw=1.6, alpha=0.9)
        ax.scatter(xs, ys, s=70, color=colour, edgecolors="white", linewidths=0.8, zorder=3,
                   label=f"scan-path {sp}")
        for j, (px, py) in enumerate(zip(xs, ys, strict=True), start=1):
            ax.annotate(str(j), (px, py), color="white", fontsize=7, ha="center", va="center",
                        zorder=4, weight="bold")
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_xlabel("x (pixels; longitude −180° … 180°)")
    ax.set_ylabel("y (pixels; latitude 90° … −90°)")
    if len(ids):
        ax.legend(loc="upper right", fontsize=8, framealpha=0.7)
    return len(ids)


def draw_scanpaths(
    image: np.ndarray,
    rows: np.ndarray,
    path: str | os.PathLike,
    width: int | None = None,
    height: int | None = None,
    max_paths: int = 5,
    title: str = "",
    force: bool = False,
) -> Path:
    """Write a PNG of up to ``max_paths`` scan-paths drawn on ``image`` (see scanpaths_on_axes)."""
    fig, ax = plt.subplots(figsize=(12, 6.4))
    n = scanpaths_on_axes(ax, image, rows, width, height, max_paths)
    ax.set_title(title or f"{n} scan-path(s); numbers give the fixation order")
    return save_figure(fig, path, force)


def plot_volume_slices(
    volume: np.ndarray,
    path: str | os.PathLike,
    title: str = "",
    viewing_time: float | None = None,
    image: np.ndarray | None = None,
    force: bool = False,
) -> Path:
    """Show each temporal slice of a (S, H, W) volume in a grid (optionally over the image)."""
    n = volume.shape[0]
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.2 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        if image is not None:
            ax.imshow(image, extent=(0, volume.shape[2], volume.shape[1], 0))
            ax.imshow(volume[k], cmap="inferno", alpha=0.65)
        else:
            ax.imshow(volume[k], cmap="inferno")
        if viewing_time:
            span = viewing_time / n
            ax.set_title(f"slice {k + 1}: {k * span:.1f}–{(k + 1) * span:.1f} s", fontsize=9)
        else:
            ax.set_title(f"slice {k + 1}", fontsize=9)
    fig.suptitle(title or "saliency volume, one panel per temporal slice")
    fig.tight_layout()
    return save_figure(fig, path, force)


def plot_learning_curves(
    histories: Mapping[str, object], path: str | os.PathLike, force: bool = False
) -> Path:
    """Training and validation loss per epoch for one or more runs (pandas DataFrames)."""
    fig, axes = plt.subplots(1, len(histories), figsize=(5.5 * len(histories), 3.8), squeeze=False)
    for ax, (name, hist) in zip(axes.flat, histories.items(), strict=False):
        ax.plot(hist["epoch"], hist["loss"], "o-", ms=3, label="training")
        if "val_loss" in hist and np.isfinite(np.asarray(hist["val_loss"], dtype=float)).any():
            ax.plot(hist["epoch"], hist["val_loss"], "s-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("binary cross-entropy")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return save_figure(fig, path, force)


def plot_histograms(
    panels: Sequence[tuple[str, np.ndarray, np.ndarray, str]], path: str | os.PathLike,
    title: str = "", force: bool = False,
) -> Path:
    """Bar charts of histograms; each panel is (title, probabilities, bin edges, x label)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.6), squeeze=False)
    for ax, (name, prob, edges, xlabel) in zip(axes.flat, panels, strict=True):
        ax.bar(edges[:-1], prob, width=np.diff(edges), align="edge", edgecolor="black", lw=0.3)
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("probability")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, force)
