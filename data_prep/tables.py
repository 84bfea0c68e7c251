"""Tables 1–3 of the paper from sampler runs and predicted maps, as Markdown and CSV.

Runs layout (what ``make demo`` / ``make reproduce`` write and ``evaluate.py tables`` reads)::

    RUNS/<method>/seed<k>/P<n>.csv   model scan-paths (N×5) of image n, one folder per seed
    RUNS/maps/P<n>.bin               predicted saliency maps at image size (float32)

with ``<method>`` one of the Table 1 keys below. Scores use the official Salient360! 2017
semantics from :mod:`data_prep.metrics`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data_prep import metrics, salient360
from data_prep.errors import InputError, atomic_write_text
from data_prep.images import image_size

# (key, row label, reported score) in the paper's order
TABLE1_ROWS = (
    ("random", "Random scan-paths", 4.94),
    ("naive", "(1) Naive sampling", 3.45),
    ("ior", "(3) Avoiding fixating on the same places", 2.82),
    ("gaussian", "(2) Limiting distance between fixations", 2.27),
    ("gt-map", "Sampling the ground-truth saliency map", 1.89),
    ("gt-volume", "Sampling the ground-truth saliency volume", 1.79),
    ("gt", "Ground-truth scan-paths", 1.2e-8),
)
TABLE2_REPORTED = (("SaltiNet", 2.8697), ("SJTU", 4.6565), ("Wuhan University", 5.9517))
TABLE3_REPORTED = (
    ("SaltiNet map model", 0.1954, 0.8471, 0.7785, 0.6819),
    ("TU Munich", 0.4489, 0.5786, 0.8052, 0.7259),
    ("SJTU", 0.4805, 0.5324, 0.9180, 0.7347),
    ("Wuhan University", 0.5082, 0.5383, 0.9358, 0.7363),
    ("TU Munich (2nd)", 0.5008, 0.5535, 0.9153, 0.7467),
    ("Zhejiang University", 0.6980, 0.5270, 0.8505, 0.7140),
    ("Trinity College", 0.4865, 0.5361, 0.7574, 0.7019),
    ("USTC", 2.0171, 0.5073, 0.9175, 0.6946),
)
METRIC_FLAW = (
    "The official scan-path score has a known flaw, reproduced here on purpose: the last row and "
    "column of its cost matrix are zero, so a model scan-path with a single fixation scores exactly 0 "
    "against any ground-truth path, and short scan-paths are strongly favoured. Lower is better."
)


@dataclass(frozen=True)
class GroundTruth:
    """One image's official ground truth: scan-paths (with the appended end points) and size."""

    scanpaths: list
    fixations: pd.DataFrame
    width: int
    height: int


def is_demo_dataset(root: str | os.PathLike) -> bool:
    """Whether ``root`` is the synthetic demo dataset (it carries a marker file)."""
    from data_prep.make_dataset import is_demo_root

    return is_demo_root(root)


def data_description(root: str | os.PathLike) -> str:
    """One sentence saying which data a table was computed on."""
    if is_demo_dataset(root):
        return (f"Computed on the synthetic DEMO dataset at `{root}` (procedural scenes and simulated "
                "observers): these numbers exercise the pipeline and are NOT comparable with the paper.")
    return f"Computed on the Salient360! 2017 data at `{root}`."


def load_ground_truth(root: str | os.PathLike, image: int) -> GroundTruth:
    """Official ground truth of one head+eye image."""
    width, height = image_size(salient360.image_path(root, image))
    df = salient360.read_scanpaths(salient360.scanpath_path(root, image), width, height)
    return GroundTruth(metrics.gt_scanpaths_official(df), df, width, height)


def score_file(gt: GroundTruth, pred: str | os.PathLike) -> float:
    """Official score of one model scan-path file against one image's ground truth."""
    rows = salient360.read_model_scanpaths(pred, gt.width, gt.height)
    return float(metrics.scanpath_score(gt.scanpaths, metrics.model_scanpaths(rows), gt.width, gt.height))


def method_scores(runs: Path, method: str, truths: dict[int, GroundTruth]) -> pd.DataFrame:
    """Scores of every seed folder of a method: DataFrame (seed, image, score)."""
    if method == "gt":
        return pd.DataFrame(
            [(0, n, float(metrics.scanpath_score(g.scanpaths, g.scanpaths, g.width, g.height)))
             for n, g in truths.items()], columns=["seed", "image", "score"])
    seeds = sorted(p for p in (runs / method).glob("seed*") if p.is_dir())
    out = []
    for seed_dir in seeds:
        seed = int(seed_dir.name[4:])
        for n, gt in truths.items():
            pred = seed_dir / f"P{n}.csv"
            if not pred.exists():
                raise InputError(f"{pred}: missing (run sample_scanpaths.py for image {n}, seed {seed})")
            out.append((seed, n, score_file(gt, pred)))
    return pd.DataFrame(out, columns=["seed", "image", "score"])


def _summary(scores: pd.DataFrame) -> tuple[float, float, int]:
    """Mean over images and seeds, spread (std over the per-seed means), number of seeds."""
    if scores.empty:
        return float("nan"), float("nan"), 0
    per_seed = scores.groupby("seed")["score"].mean()
    spread = float(per_seed.std(ddof=1)) if len(per_seed) > 1 else 0.0
    return float(per_seed.mean()), spread, int(len(per_seed))


def table1(root, runs, ids) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 1 (summary rows) and the per-image, per-seed scores behind it."""
    runs = Path(runs)
    truths = {n: load_ground_truth(root, n) for n in ids}
    rows, detail = [], []
    for key, label, reported in TABLE1_ROWS:
        if key != "gt" and not (runs / key).is_dir():
            continue
        scores = method_scores(runs, key, truths)
        mean, spread, n_seeds = _summary(scores)
        rows.append({"method": key, "row": label, "score": mean, "spread": spread,
                     "seeds": n_seeds, "images": len(ids), "reported": reported})
        detail.append(scores.assign(method=key))
    return pd.DataFrame(rows), pd.concat(detail, ignore_index=True) if detail else pd.DataFrame()


def table2(t1: pd.DataFrame, method: str = "gaussian") -> pd.DataFrame:
    """Table 2: our scan-path score beside the reported challenge rows."""
    rows = [{"model": f"SaltiNet (ours, {method}, this data)", "score": np.nan, "source": "computed"}]
    mine = t1[t1["method"] == method]
    if not mine.empty:
        rows[0]["score"] = float(mine["score"].iloc[0])
    rows += [{"model": m, "score": s, "source": "reported"} for m, s in TABLE2_REPORTED]
    return pd.DataFrame(rows)


def table3(root, maps_dir, ids) -> pd.DataFrame:
    """Table 3: our map model's KL/CC/NSS/ROC (mean over images) beside the reported rows."""
    maps_dir = Path(maps_dir)
    scores = []
    for n in ids:
        pred = maps_dir / f"P{n}.bin"
        if not pred.exists():
            raise InputError(f"{pred}: missing (run evaluate.py tables with --map-weights)")
        gt = load_ground_truth(root, n)
        pmap = salient360.read_saliency_bin(pred, gt.width, gt.height)
        gmap = salient360.read_saliency_bin(salient360.head_eye_map_path(root, n), gt.width, gt.height)
        fix = metrics.fixation_map(gt.fixations, gt.width, gt.height)
        scores.append(metrics.saliency_scores(pmap, gmap, fix))
    mine = pd.DataFrame(scores).mean()
    rows = [{"model": "SaltiNet map model (ours, this data)", **{k: float(mine[k]) for k in
             ("KL", "CC", "NSS", "ROC")}, "source": "computed"}]
    rows += [{"model": m, "KL": kl, "CC": cc, "NSS": nss, "ROC": roc, "source": "reported"}
             for m, kl, cc, nss, roc in TABLE3_REPORTED]
    return pd.DataFrame(rows)


def _fmt(value: float, spread: float | None = None) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    text = f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:.4f}"
    if spread is not None and np.isfinite(spread) and spread > 0:
        text += f" ± {spread:.4f}"
    return text


def render_markdown(root, ids, t1: pd.DataFrame, t2: pd.DataFrame | None, t3: pd.DataFrame | None) -> str:
    """The three tables as one Markdown document with the data note and the metric's flaw."""
    note = data_description(root)
    lines = ["# SaltiNet reproduction: Tables 1–3", "", f"> {note}", "",
             f"> {METRIC_FLAW}", "",
             f"## Table 1 — sampling strategies on the validation images {', '.join(f'P{n}' for n in ids)}",
             "", "Scores: official Salient360! 2017 scan-path score (lower is better), mean over images and "
             "sampling seeds; ± is the standard deviation of the per-seed means.", "",
             "| row | ours | seeds | paper (*reported*) |", "|---|---|---|---|"]
    for r in t1.itertuples():
        lines.append(f"| {r.row} | {_fmt(r.score, r.spread)} | {r.seeds} | {_fmt(r.reported)} |")
    if t2 is not None:
        lines += ["", "## Table 2 — scan-path score", "",
                  "Ours on the evaluation images above; the other rows are the challenge test-set scores "
                  "*reported* by the organisers (a different image set).", "",
                  "| model | score | source |", "|---|---|---|"]
        for r in t2.itertuples():
            lines.append(f"| {r.model} | {_fmt(r.score)} | {'*reported*' if r.source == 'reported' else 'computed'} |")
    if t3 is not None:
        lines += ["", "## Table 3 — saliency maps", "",
                  "KL↓ CC↑ (on the Fibonacci-sphere samples), NSS↑, ROC (AUC-Judd)↑. Ours: mean over the "
                  "evaluation images above; the other rows are *reported* on the challenge test set.", "",
                  "| model | KL | CC | NSS | ROC | source |", "|---|---|---|---|---|---|"]
        for r in t3.itertuples():
            lines.append(f"| {r.model} | {_fmt(r.KL)} | {_fmt(r.CC)} | {_fmt(r.NSS)} | {_fmt(r.ROC)} | "
                         f"{'*reported*' if r.source == 'reported' else 'computed'} |")
    return "\n".join(lines) + "\n"


def write_tables(root, runs, out, ids, maps_dir=None, force: bool = False) -> list[Path]:
    """Compute Tables 1–3 and write tables.md plus one CSV per table (and the per-image scores)."""
    out = Path(out)
    t1, detail = table1(root, runs, ids)
    if t1.empty:
        raise InputError(f"{runs}: no method folders (random, naive, ior, gaussian, gt-map, gt-volume) found")
    t2 = table2(t1)
    t3 = table3(root, maps_dir, ids) if maps_dir is not None else None
    written = [atomic_write_text(out / "tables.md", render_markdown(root, ids, t1, t2, t3), force)]
    for name, table in (("table1", t1), ("table1_scores", detail), ("table2", t2), ("table3", t3)):
        if table is not None:
            written.append(atomic_write_text(out / f"{name}.csv", table.to_csv(index=False), force))
    return written
