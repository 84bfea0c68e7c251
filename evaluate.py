"""Step 5: official Salient360! 2017 evaluation, the paper's Tables 1–3 and figures.

    python evaluate.py scanpath --dataset ROOT --image N --pred FILE   -> {"image": N, "score": ...}
    python evaluate.py saliency --dataset ROOT --image N --pred FILE   -> {"image": N, "KL": ..., ...}
    python evaluate.py tables   --dataset ROOT --runs DIR --out DIR [--map-weights CKPT]
    python evaluate.py figures  --dataset ROOT --runs DIR --out DIR [--volume-weights CKPT] ...

The single-image commands print one JSON object on stdout; non-finite values are written as null. Bad input: one line
``error: <file>: <problem>`` on stderr and exit status 2. The semantics (SPEC section 7)
live in :mod:`data_prep.metrics`; this file only reads files and prints.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from data_prep import metrics, salient360
from data_prep.errors import InputError, run_cli
from data_prep.images import image_size

MAP_SUFFIXES = (".bin", ".npy")


def _finite_or_none(value: float) -> float | None:
    """JSON-safe number: non-finite values become None (null)."""
    value = float(value)
    return value if math.isfinite(value) else None


def check_image(root: str | Path, n: int, need_map: bool) -> tuple[int, int]:
    """Ensure image ``n`` of the dataset has what the command needs; return (width, height)."""
    root = Path(root)
    salient360.list_dataset(root)  # root and Images/ exist
    needed = [salient360.image_path(root, n), salient360.scanpath_path(root, n)]
    if need_map:
        needed.append(salient360.head_eye_map_path(root, n))
    missing = [str(p.relative_to(root)) for p in needed if not p.is_file()]
    if missing:
        raise InputError(f"{root}: image {n} not in the dataset (missing {', '.join(missing)})")
    return image_size(salient360.image_path(root, n))


def read_prediction_map(path: str | Path, width: int, height: int) -> np.ndarray:
    """A predicted map: ``.bin`` (float32 at image size), ``.npy`` (2-D) or an image file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: prediction file not found")
    suffix = path.suffix.lower()
    if suffix == ".bin":
        arr = salient360.read_saliency_bin(path, width, height)
    elif suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise InputError(f"{path}: cannot read .npy file ({err})") from None
        if arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
            raise InputError(f"{path}: expected a 2-D numeric map, got {arr.dtype} {arr.shape}")
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as img:
                mode = "F" if img.mode in ("I", "F") or img.mode.startswith("I;16") else "L"
                arr = np.asarray(img.convert(mode), dtype=np.float64)
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise InputError(f"{path}: not a .bin, .npy or readable image ({err})") from None
    return metrics.check_map(arr, str(path))


def cmd_scanpath(args: argparse.Namespace) -> dict:
    """Official scan-path score of one model scan-path file."""
    width, height = check_image(args.dataset, args.image, need_map=False)
    df = salient360.read_scanpaths(salient360.scanpath_path(args.dataset, args.image), width, height)
    rows = salient360.read_model_scanpaths(args.pred, width, height)
    gt = metrics.gt_scanpaths_official(df)
    score = metrics.scanpath_score(gt, metrics.model_scanpaths(rows), width, height)
    return {"image": args.image, "score": _finite_or_none(score)}


def cmd_saliency(args: argparse.Namespace) -> dict:
    """KL, CC, NSS and ROC of one predicted saliency map."""
    width, height = check_image(args.dataset, args.image, need_map=True)
    pred = read_prediction_map(args.pred, width, height)
    gt_path = salient360.head_eye_map_path(args.dataset, args.image)
    gt = salient360.read_saliency_bin(gt_path, width, height)
    df = salient360.read_scanpaths(salient360.scanpath_path(args.dataset, args.image), width, height)
    scores = metrics.saliency_scores(pred, gt, metrics.fixation_map(df, width, height),
                                     pred_name=str(args.pred), gt_name=str(gt_path))
    return {"image": args.image, **{k: _finite_or_none(v) for k, v in scores.items()}}


def evaluation_ids(words: list[str] | None, root: Path) -> list[int]:
    """--images (numbers or val/train/head-eye; default val), each checked to be in the dataset."""
    ids = salient360.parse_ids(words or ["val"], "--images")
    for n in ids:
        check_image(root, n, need_map=False)
    return ids


def predict_map_files(weights: Path, root: Path, ids: list[int], out: Path, batch_size: int,
                      force: bool) -> Path:
    """Run the map model on the images (batched) and write P<n>.bin maps at image size."""
    from data_prep.images import load_image
    from models.inference import load_volume_model, predict_maps

    model = load_volume_model(weights, outputs=1)
    out.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        images = [load_image(salient360.image_path(root, n)) for n in chunk]
        for n, image, small in zip(chunk, images, predict_maps(model, images, batch_size), strict=True):
            full = metrics.resize_map(small, image.shape[1], image.shape[0])
            salient360.write_saliency_bin(out / f"P{n}.bin", (full / full.sum()).astype(np.float32), force)
        print(f"map model: {min(start + batch_size, len(ids))}/{len(ids)} images", file=sys.stderr)
    return out


def cmd_tables(args: argparse.Namespace) -> None:
    """Tables 1–3 (Markdown and CSV) from sampler runs and the map model's predictions."""
    from data_prep import tables

    ids = evaluation_ids(args.images, args.dataset)
    if not args.runs.is_dir():
        raise InputError(f"{args.runs}: runs folder not found (sample_scanpaths.py writes RUNS/<method>/seed<k>/)")
    maps = None
    if args.map_weights is not None:
        maps = predict_map_files(args.map_weights, args.dataset, ids, args.out / "maps",
                                 args.batch_size, args.force)
    elif (args.runs / "maps").is_dir():
        maps = args.runs / "maps"
    else:
        print("note: no --map-weights and no RUNS/maps/: Table 3 is skipped", file=sys.stderr)
    for path in tables.write_tables(args.dataset, args.runs, args.out, ids, maps, args.force):
        print(path)


def cmd_figures(args: argparse.Namespace) -> None:
    """The paper's Figures 1, 3, 4, 5 and 6 for one image."""
    from data_prep.figures import make_figures

    image = args.image if args.image is not None else salient360.VALIDATION_IDS[0]
    check_image(args.dataset, image, need_map=False)
    histories = {}
    for item in args.history or []:
        name, _, csv = item.partition("=")
        if not csv:
            raise InputError(f"--history {item!r}: expected NAME=CSV, e.g. map=weights/map.history.csv")
        histories[name] = Path(csv)
    stats = args.stats
    if stats is None and args.runs is not None and (args.runs / "stats.json").is_file():
        stats = args.runs / "stats.json"
    for path in make_figures(args.dataset, image, args.out, runs=args.runs,
                             volume_weights=args.volume_weights, histories=histories,
                             stats_path=stats, seed=args.seed, force=args.force):
        print(path)


def _common(p: argparse.ArgumentParser, pred_help: str) -> None:
    """Flags shared by the single-image commands."""
    p.add_argument("--dataset", required=True, type=Path,
                   help="Salient360! root with Images/, Scanpaths/ and HeadEyeSalMaps/")
    p.add_argument("--image", required=True, type=int, help="image number N (P<N>.jpg)")
    p.add_argument("--pred", required=True, type=Path, help=pred_help)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one sub-command per evaluation."""
    parser = argparse.ArgumentParser(
        description="Official Salient360! 2017 metrics (lower scan-path score is better; "
                    "note the official flaw: a single-fixation scan-path scores 0).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("scanpath", help="scan-path score of one image (prints JSON)")
    _common(p, "model scan-paths: N x 5 CSV (scan-path, fixation, start time s, x, y; "
               "1-based pixels of the full image) or .mat with variable 'scanpath'")
    p.set_defaults(func=cmd_scanpath)
    p = sub.add_parser("saliency", help="KL, CC, NSS, ROC of one saliency map (prints JSON)")
    _common(p, "predicted map: .bin (float32, image size), .npy (2-D) or an image file; "
               "resized to the image size (MATLAB-style bicubic) when it differs")
    p.set_defaults(func=cmd_saliency)

    p = sub.add_parser("tables", help="Tables 1–3 as Markdown and CSV from sampler runs")
    p.add_argument("--dataset", required=True, type=Path, help="Salient360! root (real or demo)")
    p.add_argument("--runs", required=True, type=Path,
                   help="sampler outputs: RUNS/<method>/seed<k>/P<n>.csv for the methods random, "
                        "naive, ior, gaussian, gt-map, gt-volume (missing methods are left out); "
                        "RUNS/maps/P<n>.bin predicted maps are used for Table 3 without --map-weights")
    p.add_argument("--out", required=True, type=Path, help="folder for tables.md and table*.csv")
    p.add_argument("--images", nargs="+", metavar="ID",
                   help="evaluation images: numbers or val/train/head-eye (default: the 4 validation images)")
    p.add_argument("--map-weights", type=Path,
                   help="map-model checkpoint: run it on the images (batched) for Table 3 and write "
                        "OUT/maps/P<n>.bin (float32, image size) for other tools")
    p.add_argument("--batch-size", type=int, default=4, help="images per map-model batch (default 4)")
    p.add_argument("--force", action="store_true", help="overwrite existing tables and maps")
    p.set_defaults(func=cmd_tables)

    p = sub.add_parser("figures", help="the paper's Figures 1, 3, 4, 5, 6 as PNG")
    p.add_argument("--dataset", required=True, type=Path, help="Salient360! root (real or demo)")
    p.add_argument("--image", type=int, help="head+eye image to show (default: first validation image)")
    p.add_argument("--runs", type=Path, help="sampler outputs (gaussian/seed0/P<n>.csv, volumes/, stats.json)")
    p.add_argument("--out", required=True, type=Path, help="folder for figure*.png")
    p.add_argument("--volume-weights", type=Path, help="volume-model checkpoint for the predicted volume")
    p.add_argument("--history", action="append", metavar="NAME=CSV",
                   help="training history for Figure 3, e.g. map=weights/map.history.csv (repeatable)")
    p.add_argument("--stats", type=Path, help="fixation statistics JSON for Figure 4 "
                   "(default RUNS/stats.json, else the released histograms)")
    p.add_argument("--seed", type=int, default=0, help="seed of the scan-paths sampled for Figure 1")
    p.add_argument("--force", action="store_true", help="overwrite existing figures")
    p.set_defaults(func=cmd_figures)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the command, print its JSON result."""
    args = build_parser().parse_args(argv)
    result = args.func(args)
    if result is not None:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
