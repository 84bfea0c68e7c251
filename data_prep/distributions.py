"""Empirical distributions of fixation counts and durations: load, learn, save, draw.

A distribution is a histogram (probabilities, numpy-style bin edges). As in the released
SaltiNet code, a draw picks a bin by its probability and returns the bin's left edge
(truncated to an integer for counts). The released histograms are kept in
``published_distributions.json`` beside this module.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep.errors import InputError, atomic_write_text

PUBLISHED = Path(__file__).with_name("published_distributions.json")
COUNT_KEY = "fixations_per_scanpath"
DURATION_KEY = "fixation_duration_seconds"


@dataclass(frozen=True)
class Histogram:
    """A histogram: ``probabilities`` (k,) summing to 1 and ``edges`` (k+1,)."""

    probabilities: np.ndarray
    edges: np.ndarray

    def draw(self, rng: np.random.Generator, size) -> np.ndarray:
        """Draw left bin edges with the bins' probabilities."""
        idx = rng.choice(len(self.probabilities), size=size, p=self.probabilities)
        return self.edges[idx]

    def to_json(self) -> dict:
        return {"probabilities": self.probabilities.tolist(), "bin_edges": self.edges.tolist()}


@dataclass(frozen=True)
class ScanpathStats:
    """Fixation-count and fixation-duration histograms of a set of scan-paths."""

    counts: Histogram
    durations: Histogram
    source: str = ""

    def draw_counts(self, rng: np.random.Generator, size) -> np.ndarray:
        """Number of fixations per scan-path (integers >= 1)."""
        return np.maximum(self.counts.draw(rng, size).astype(np.int64), 1)

    def draw_durations(self, rng: np.random.Generator, size) -> np.ndarray:
        """Fixation durations in seconds."""
        return self.durations.draw(rng, size).astype(np.float64)


def _histogram(entry: dict, name: str, path: os.PathLike) -> Histogram:
    try:
        p = np.asarray(entry["probabilities"], dtype=np.float64)
        e = np.asarray(entry["bin_edges"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: '{name}' is not a histogram with probabilities and bin_edges") from err
    if p.ndim != 1 or e.shape != (p.size + 1,) or p.size == 0:
        raise InputError(f"{path}: '{name}' needs k probabilities and k+1 bin edges")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0 or np.any(np.diff(e) <= 0):
        raise InputError(f"{path}: '{name}' has negative/NaN probabilities or unsorted edges")
    return Histogram(p / p.sum(), e)


def load_stats(path: str | os.PathLike = PUBLISHED) -> ScanpathStats:
    """Read a stats JSON (the released histograms by default)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise InputError(f"{path}: stats file not found (sample_scanpaths.py writes one as stats.json)") from err
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: not a readable JSON file ({err})") from err
    if not isinstance(data, dict) or COUNT_KEY not in data or DURATION_KEY not in data:
        raise InputError(f"{path}: needs '{COUNT_KEY}' and '{DURATION_KEY}' histograms")
    return ScanpathStats(
        _histogram(data[COUNT_KEY], COUNT_KEY, path),
        _histogram(data[DURATION_KEY], DURATION_KEY, path),
        source=str(path),
    )


def published_stats() -> ScanpathStats:
    """The histograms used by the released SaltiNet code."""
    return load_stats(PUBLISHED)


def learn_stats(counts, durations, count_bins: int = 60, duration_bins: int = 40, source: str = "") -> ScanpathStats:
    """Histograms of fixation counts per scan-path and durations (s), numpy.histogram style."""
    counts = np.asarray(counts, dtype=np.float64)
    durations = np.asarray(durations, dtype=np.float64)
    durations = durations[np.isfinite(durations) & (durations > 0)]
    if counts.size == 0 or durations.size == 0:
        raise InputError(f"{source or 'scan-paths'}: no fixations to learn counts and durations from")
    hists = []
    for values, bins in ((counts, count_bins), (durations, duration_bins)):
        lo, hi = float(values.min()), float(values.max())
        if hi <= lo:
            hi = lo + 1.0
        freq, edges = np.histogram(values, bins=bins, range=(lo, hi))
        hists.append(Histogram(freq / freq.sum(), edges))
    return ScanpathStats(hists[0], hists[1], source=source)


def save_stats(stats: ScanpathStats, path: str | os.PathLike, force: bool = False) -> Path:
    """Write ``stats`` as JSON in the published file's layout."""
    data = {
        "description": f"Fixation-count and duration histograms learned from {stats.source or 'scan-paths'}; "
        "draws use the left bin edge (counts truncated to int).",
        COUNT_KEY: stats.counts.to_json(),
        DURATION_KEY: stats.durations.to_json(),
    }
    return atomic_write_text(path, json.dumps(data, indent=1) + "\n", force=force)
