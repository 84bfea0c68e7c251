"""The paper's figures (1, 3, 4, 5, 6) from a dataset root, sampler runs and checkpoints.

- Figure 1: a saliency volume and what derives from it (saliency map, temporally weighted
  map, sampled scan-paths).
- Figure 3: learning curves of the map and volume models (the training history CSVs).
- Figure 4: histograms of fixation counts and durations used by the sampler.
- Figure 5: a ground-truth and a predicted scan-path on the image.
- Figure 6: ground-truth and predicted volume slices.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from data_prep import plots, salient360
from data_prep.distributions import ScanpathStats, load_stats, published_stats
from data_prep.errors import InputError
from data_prep.images import load_image
from data_prep.sampling import sample_scanpaths, volume_from_gt
from data_prep.volumes import saliency_map, weighted_map

plt = plots.plt


def temporal_weights(n: int) -> np.ndarray:
    """Weights of the temporally weighted map: linearly decreasing, early slices count most."""
    return np.linspace(1.0, 1.0 / n, n)


def gt_rows(fixations: pd.DataFrame) -> np.ndarray:
    """Ground-truth fixations (read_scanpaths' DataFrame) as N×5 rows like a model's output."""
    return np.column_stack([fixations["observer"] + 1, fixations["fixation"], fixations["t"],
                            fixations["x"], fixations["y"]]).astype(np.float64)


def _map_axes(ax, image, values, title):
    ax.imshow(image, extent=(0, values.shape[1], values.shape[0], 0))
    ax.imshow(values, cmap="inferno", alpha=0.7)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("longitude (cells)")
    ax.set_ylabel("latitude (cells)")


def figure1(volume: np.ndarray, image: np.ndarray, rows: np.ndarray, width: int, height: int,
            path: str | os.PathLike, viewing_time: float = 25.0, force: bool = False) -> Path:
    """Figure 1: the volume's slices, its saliency map, temporally weighted map and scan-paths."""
    n = volume.shape[0]
    small = np.asarray(plots_resize(image, volume.shape[1], volume.shape[2]))
    fig = plt.figure(figsize=(16, 6.6))
    grid = fig.add_gridspec(3, 6, height_ratios=[0.5, 0.5, 1.9])
    span = viewing_time / n
    for k in range(min(n, 12)):
        ax = fig.add_subplot(grid[k // 6, k % 6])
        ax.imshow(volume[k], cmap="inferno")
        ax.set_title(f"slice {k + 1}: {k * span:.1f}–{(k + 1) * span:.1f} s", fontsize=8)
        ax.axis("off")
    _map_axes(fig.add_subplot(grid[2, 0:2]), small, saliency_map(volume), "saliency map (sum of slices)")
    _map_axes(fig.add_subplot(grid[2, 2:4]), small, weighted_map(volume, temporal_weights(n)),
              "temporally weighted map (early slices weigh more)")
    ax = fig.add_subplot(grid[2, 4:6])
    plots.scanpaths_on_axes(ax, image, rows, width, height, max_paths=3)
    ax.set_title("scan-paths sampled from the volume", fontsize=10)
    fig.suptitle("Figure 1 — a saliency volume (time × height × width) and its derived representations")
    fig.tight_layout()
    return plots.save_figure(fig, path, force)


def plots_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The image at the volume's grid size, for overlays."""
    from data_prep.images import preprocess

    return preprocess(image, height, width).astype(np.uint8)


def figure3(histories: dict[str, str | os.PathLike], path: str | os.PathLike, force: bool = False) -> Path:
    """Figure 3: learning curves from the training history CSVs (name -> CSV path)."""
    frames = {}
    for name, csv in histories.items():
        csv = Path(csv)
        if not csv.exists():
            raise InputError(f"{csv}: training history missing (run the {name} training step first)")
        frames[f"{name} model"] = pd.read_csv(csv)
    return plots.plot_learning_curves(frames, path, force=force)


def figure4(stats: ScanpathStats, path: str | os.PathLike, force: bool = False) -> Path:
    """Figure 4: histograms of fixations per scan-path and fixation durations."""
    return plots.plot_histograms(
        [("fixations per scan-path", stats.counts.probabilities, stats.counts.edges, "number of fixations"),
         ("fixation duration", stats.durations.probabilities, stats.durations.edges, "duration (s)")],
        path, title=f"Figure 4 — fixation statistics ({stats.source or 'learned'})", force=force)


def figure5(image: np.ndarray, gt: np.ndarray, pred: np.ndarray, width: int, height: int,
            path: str | os.PathLike, force: bool = False) -> Path:
    """Figure 5: one ground-truth and one predicted scan-path on the image."""
    fig, axes = plt.subplots(2, 1, figsize=(11, 11))
    plots.scanpaths_on_axes(axes[0], image, gt[gt[:, 0] == gt[0, 0]], width, height, max_paths=1)
    axes[0].set_title("ground-truth scan-path (one observer)")
    plots.scanpaths_on_axes(axes[1], image, pred[pred[:, 0] == pred[0, 0]], width, height, max_paths=1)
    axes[1].set_title("predicted scan-path (SaltiNet, sampled)")
    fig.suptitle("Figure 5 — numbers give the fixation order; lines cross the 360° seam the short way")
    fig.tight_layout()
    return plots.save_figure(fig, path, force)


def figure6(gt_volume: np.ndarray, pred_volume: np.ndarray, path: str | os.PathLike,
            viewing_time: float = 25.0, force: bool = False) -> Path:
    """Figure 6: ground-truth (top) and predicted (bottom) volume slices side by side."""
    n = gt_volume.shape[0]
    fig, axes = plt.subplots(4, (n + 1) // 2, figsize=(2.6 * ((n + 1) // 2), 6.2), squeeze=False)
    half = (n + 1) // 2
    span = viewing_time / n
    for k in range(n):
        for row, (vol, label) in enumerate(((gt_volume, "GT"), (pred_volume, "pred"))):
            ax = axes[2 * row + k // half, k % half]
            ax.imshow(vol[k], cmap="inferno")
            ax.set_title(f"{label} {k * span:.0f}–{(k + 1) * span:.0f} s", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle("Figure 6 — ground-truth (upper two rows) and predicted (lower two rows) volume slices")
    fig.tight_layout()
    return plots.save_figure(fig, path, force)


def make_figures(root, image_id: int, out, runs=None, volume_weights=None, histories=None,
                 stats_path=None, seed: int = 0, force: bool = False) -> list[Path]:
    """Write figure1/3/4/5/6.png into ``out`` for one head+eye image; returns the paths.

    The predicted volume comes from ``volume_weights`` (a checkpoint) or a saved
    ``RUNS/volumes/P<n>.npy``; without either, Figures 1 uses the ground-truth volume and
    Figure 6 is skipped with a note. Figure 3 needs ``histories`` (name -> CSV).
    """
    out = Path(out)
    image = load_image(salient360.image_path(root, image_id))
    fixations, (width, height) = salient360.load_fixations(root, image_id)
    pred = None
    if volume_weights is not None:
        from models.inference import load_volume_model, predict_volumes

        pred = predict_volumes(load_volume_model(volume_weights, outputs=12), [image])[0]
    elif runs is not None and (Path(runs) / "volumes" / f"P{image_id}.npy").exists():
        pred = np.load(Path(runs) / "volumes" / f"P{image_id}.npy")
    shape = pred.shape[1:] if pred is not None else (150, 300)
    gt_volume, _ = volume_from_gt(root, image_id, "volume", shape=shape)
    stats = load_stats(stats_path) if stats_path else published_stats()
    volume = pred if pred is not None else gt_volume
    sampled = sample_scanpaths(volume, n_paths=3, stats=stats, image_size=(width, height), seed=seed)
    written = [figure1(volume, image, sampled, width, height, out / "figure1.png", force=force)]
    if histories:
        written.append(figure3(histories, out / "figure3.png", force=force))
    written.append(figure4(stats, out / "figure4.png", force=force))
    pred_csv = Path(runs) / "gaussian" / "seed0" / f"P{image_id}.csv" if runs is not None else None
    pred_rows = (salient360.read_model_scanpaths(pred_csv, width, height)
                 if pred_csv is not None and pred_csv.exists() else sampled)
    written.append(figure5(image, gt_rows(fixations), pred_rows, width, height, out / "figure5.png", force=force))
    if pred is not None:
        written.append(figure6(gt_volume, pred, out / "figure6.png", force=force))
    return written
