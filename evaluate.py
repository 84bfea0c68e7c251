"""Official Salient360! 2017 evaluation of one image: scan-path score or saliency-map metrics.

    python evaluate.py scanpath --dataset ROOT --image N --pred FILE   -> {"image": N, "score": ...}
    python evaluate.py saliency --dataset ROOT --image N --pred FILE   -> {"image": N, "KL": ..., ...}

One JSON object on stdout; non-finite values are written as null. Bad input: one line
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
