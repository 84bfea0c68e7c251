"""Sample scan-paths from saliency volumes (paper section 6.3) and write them as N x 5 CSVs.

Sources of volumes (one of):
  --weights CKPT      a trained volume model, run on --image files or on --dataset images
  --volumes PATH      saved volumes: a .npy (S, H, W), a folder of them, or an HDF5 pack
  --source gt-volume  the volume built from the real fixations of --dataset images
  --source gt-map     the head+eye map SHE<n>.bin of --dataset images as a 1-slice volume
The ``random`` strategy needs no volume: it only takes the images' names and sizes from
whichever source is given (or from --image / --dataset alone).

Outputs in --out: <name>.csv per image (P<n> for dataset ids, the file stem otherwise):
rows "scan-path, fixation, start time (s), x, y" with x, y 1-based pixels of the full-size
image; <name>.mat too with --mat; volumes/<name>.npy with --save-volumes; stats.json when
the fixation statistics were learned from --dataset. Nothing is written unless every image
succeeds; existing files are kept unless --force. The same --seed gives identical files
(each image's seed is derived from --seed and its name).

Examples:
  python sample_scanpaths.py --weights volume.weights.h5 --dataset DATA --out out/gaussian
  python sample_scanpaths.py --source gt-volume --dataset DATA --strategy naive --out out/gt
  python sample_scanpaths.py --weights volume.weights.h5 --image pano.jpg --out out/pano
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep import sampling
from data_prep.distributions import ScanpathStats, load_stats, published_stats, save_stats
from data_prep.errors import InputError, atomic_path, check_writable, run_cli
from data_prep.salient360 import parse_ids
from data_prep.volumes import resample_sum

PREDICT_OUT = "results/predict"


@dataclass
class Job:
    """One image to sample: its output name, stimulus file, and how to get its volume.

    ``load`` returns (volume (S, H, W) or None, full image (width, height)).
    """

    name: str
    image: Path | None
    load: Callable[[], tuple[np.ndarray | None, tuple[int, int]]]


@dataclass
class ImageResult:
    """What the run produced for one image (passed to ``on_image`` hooks, e.g. figures)."""

    name: str
    image: Path | None
    image_size: tuple[int, int]
    volume: np.ndarray | None
    rows: np.ndarray
    out_dir: Path


def build_parser() -> argparse.ArgumentParser:
    """The command line (every flag documented)."""
    p = argparse.ArgumentParser(
        prog="sample_scanpaths.py", description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("sources")
    src.add_argument("--weights", type=Path, metavar="CKPT",
                     help="trained saliency-volume model: *.weights.h5 (build_saltinet), *.keras, "
                          "or the legacy Keras-1 .h5; a 1-output map model is refused")
    src.add_argument("--volumes", type=Path, metavar="PATH",
                     help="saved volumes: a .npy (S, H, W) or (H, W), a folder of .npy files "
                          "(name = file stem), or an HDF5 pack (its 'volume' dataset, names from "
                          "'ids')")
    src.add_argument("--source", choices=("gt-volume", "gt-map"),
                     help="ground truth of --dataset images: gt-volume = the volume built from the "
                          "real fixations (12 slices over --viewing-time); gt-map = the head+eye "
                          "map SHE<n>.bin as a 1-slice volume")
    src.add_argument("--dataset", type=Path, metavar="ROOT",
                     help="Salient360! 2017 root (Images/, Scanpaths/, HeadEyeSalMaps/): images "
                          "for --weights, ground truth for --source, image sizes for --volumes "
                          "named P<n>, and the training scan-paths the fixation statistics are "
                          "learned from")
    src.add_argument("--ids", nargs="+", metavar="ID",
                     help="dataset images: numbers (41 42 or 41,42) and/or the words val (the 4 "
                          "validation ids), train (the 36 training ids), head-eye (all 40); "
                          "default val (for --volumes: every volume in PATH)")
    src.add_argument("--image", type=Path, nargs="+", metavar="FILE",
                     help="equirectangular image files of any size (a warning if not 2:1) to run "
                          "--weights on (or to take names and sizes from for --strategy random); "
                          "outputs are named by file stem")
    src.add_argument("--image-size", type=int, nargs=2, metavar=("W", "H"),
                     help="full-size image width and height for --volumes whose image is not in "
                          "--dataset (default: the volume's own grid size)")
    smp = p.add_argument_group("sampling")
    smp.add_argument("--strategy", choices=sampling.STRATEGIES, default="gaussian",
                     help="naive: draw from the slice; gaussian: slice x Gaussian around the "
                          "previous fixation (the paper's best); ior: slice x inhibition of return "
                          "around every earlier fixation; random: uniform positions, same counts "
                          "and durations (baseline) (default gaussian)")
    smp.add_argument("--geometry", choices=sampling.GEOMETRIES, default="planar",
                     help="distances for gaussian/ior: planar = the released code's flat image "
                          "(gaussian_filter with reflecting borders); sphere = great-circle, "
                          "longitude wraps. For random: uniform over pixels (planar) or over the "
                          "sphere (default planar)")
    smp.add_argument("--slices", choices=sampling.SLICE_MODES, default="by-time",
                     help="slice of each fixation: by-time = start time / (viewing time / S); "
                          "even = a path's fixations spread evenly over the S slices, like the "
                          "released code (default by-time)")
    smp.add_argument("--sigma", type=float, default=sampling.DEFAULT_SIGMA,
                     help="gaussian width in pixels of the 300x600 grid, scaled to the working "
                          "grid (default 200, the released code's)")
    smp.add_argument("--ior-sigma", type=float, default=sampling.DEFAULT_IOR_SIGMA,
                     help="ior suppression width in pixels of the 300x600 grid (default 20)")
    smp.add_argument("--ior-strength", type=float, default=sampling.DEFAULT_IOR_STRENGTH,
                     help="ior suppression depth at an earlier fixation, 0..1 (default 0.9)")
    smp.add_argument("--n-paths", type=int, default=40, help="scan-paths per image (default 40)")
    smp.add_argument("--seed", type=int, default=0,
                     help="random seed; each image's seed is derived from it and the image name "
                          "(default 0)")
    smp.add_argument("--stats", type=Path, metavar="FILE",
                     help="fixation-count and duration histograms (JSON, e.g. a stats.json of an "
                          "earlier run); default: learned from the training scan-paths of "
                          "--dataset (saved as OUT/stats.json), else the released code's")
    smp.add_argument("--viewing-time", type=float, default=sampling.DEFAULT_VIEWING_TIME,
                     help="seconds the S slices span (by-time slicing and gt-volume) (default 25)")
    smp.add_argument("--size", type=int, nargs=2, metavar=("H", "W"),
                     help="working resolution: model input (a *.weights.h5 paper model is built "
                          "at it; otherwise volumes are area-resampled to it); default: the "
                          "model's own input size, 300 600 for --source, the saved volumes' size")
    smp.add_argument("--allow-empty-slices", action="store_true",
                     help="an all-zero slice reads the nearest non-empty slice instead of failing")
    smp.add_argument("--batch-size", type=int, default=4, help="images per model batch (default 4)")
    out = p.add_argument_group("outputs")
    out.add_argument("--out", type=Path, metavar="DIR",
                     help="output folder (created if missing) for <name>.csv per image and the files "
                          f"below; required except with --image (default there: {PREDICT_OUT})")
    out.add_argument("--mat", action="store_true",
                     help="also write <name>.mat (variable 'scanpath'), like the released code")
    out.add_argument("--save-volumes", action="store_true",
                     help="also write volumes/<name>.npy, the (S, H, W) volume sampled from")
    out.add_argument("--figures", action=argparse.BooleanOptionalAction, default=None,
                     help="also draw <name>.scanpaths.png (the first --figure-paths scan-paths on the "
                          "image, numbered, lines crossing the 360° seam the short way) and "
                          "<name>.volume.png (the volume's slices); default on with --image")
    out.add_argument("--figure-paths", type=int, default=3, metavar="K",
                     help="scan-paths drawn per image in <name>.scanpaths.png (default 3)")
    out.add_argument("--force", action="store_true", help="overwrite existing outputs")
    return p


def _warn(message: str) -> None:
    """A warning line on stderr."""
    print(f"warning: {message}", file=sys.stderr)


def _check_args(args: argparse.Namespace) -> None:
    """Combinations of flags that cannot work: one InputError line."""
    if args.out is None:
        if not args.image:
            raise InputError("--out DIR is required (except with --image)")
        args.out = Path(PREDICT_OUT)
    if args.figures is None:
        args.figures = bool(args.image)
    sources = [f for f, v in (("--weights", args.weights), ("--volumes", args.volumes),
                              ("--source", args.source)) if v is not None]
    if len(sources) > 1:
        raise InputError(f"give one source of volumes, not {' and '.join(sources)}")
    if not sources and args.strategy != "random":
        raise InputError("no volumes: give --weights, --volumes or --source "
                         "(only --strategy random works without)")
    if args.source and args.dataset is None:
        raise InputError(f"--source {args.source} needs --dataset ROOT")
    if (args.weights or not sources) and not args.image and args.dataset is None:
        raise InputError("no images: give --image FILE ... or --dataset ROOT [--ids ...]")
    if args.n_paths < 1 or args.batch_size < 1 or args.viewing_time <= 0:
        raise InputError("--n-paths, --batch-size and --viewing-time must be positive")
    if args.sigma <= 0 or args.ior_sigma <= 0 or not 0 <= args.ior_strength <= 1:
        raise InputError("--sigma and --ior-sigma must be positive, --ior-strength in [0, 1]")
    if args.size is not None and min(args.size) < 1:
        raise InputError(f"--size {args.size[0]} {args.size[1]}: must be positive")


def _load_npy(path: Path) -> np.ndarray:
    """A saved (S, H, W) or (H, W) volume."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read .npy volume ({err})") from None
    if arr.ndim not in (2, 3):
        raise InputError(f"{path}: expected an (S, H, W) volume, got shape {arr.shape}")
    return arr[None] if arr.ndim == 2 else arr


def _pack_entries(path: Path) -> list[tuple[str, int]]:
    """(name, index) of every volume in an HDF5 pack."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "volume" not in f:
                raise InputError(f"{path}: no 'volume' dataset (a map-only pack?)")
            n = f["volume"].shape[0]
            ids = [i.decode() if isinstance(i, bytes) else str(i) for i in f["ids"][:]] \
                if "ids" in f else [f"{path.stem}_{i}" for i in range(n)]
    except OSError as err:
        raise InputError(f"{path}: cannot read HDF5 pack ({err})") from None
    return list(zip(ids, range(n), strict=False))


def _load_pack(path: Path, index: int) -> np.ndarray:
    """Volume ``index`` of a pack, (H, W, S) channels-last -> (S, H, W)."""
    import h5py

    with h5py.File(path, "r") as f:
        vol = np.asarray(f["volume"][index], dtype=np.float32)
    return np.moveaxis(vol, -1, 0) if vol.ndim == 3 else vol


def _volume_jobs(args: argparse.Namespace, ids: list[int] | None) -> list[Job]:
    """Jobs for --volumes (a .npy, a folder of .npy, or an HDF5 pack)."""
    from data_prep.images import image_size
    from data_prep.salient360 import image_path

    path = args.volumes

    def size_of(name: str, vol: np.ndarray) -> tuple[int, int]:
        if args.dataset is not None and name[:1] == "P" and name[1:].isdigit():
            img = image_path(args.dataset, int(name[1:]))
            if img.is_file():
                return image_size(img)
        if args.image_size is not None:
            return int(args.image_size[0]), int(args.image_size[1])
        return vol.shape[2], vol.shape[1]

    def job(name: str, read: Callable[[], np.ndarray]) -> Job:
        def load() -> tuple[np.ndarray, tuple[int, int]]:
            vol = read()
            return vol, size_of(name, vol)
        return Job(name, None, load)

    if path.is_dir():
        files = sorted(path.glob("*.npy"))
        if not files:
            raise InputError(f"{path}: no .npy volumes in this folder")
        jobs = [job(f.stem, lambda f=f: _load_npy(f)) for f in files]
    elif not path.is_file():
        raise InputError(f"{path}: volumes not found (sample_scanpaths.py --weights CKPT --save-volumes writes OUT/volumes/)")
    elif path.suffix.lower() == ".npy":
        jobs = [job(path.stem, lambda: _load_npy(path))]
    elif path.suffix.lower() in (".h5", ".hdf5"):
        jobs = [job(name, lambda i=i: _load_pack(path, i)) for name, i in _pack_entries(path)]
    else:
        raise InputError(f"{path}: volumes must be .npy, a folder of .npy, or an HDF5 pack (.h5)")
    if ids is not None:
        wanted = {f"P{n}" for n in ids}
        jobs = [j for j in jobs if j.name in wanted]
        if not jobs:
            raise InputError(f"{path}: none of the --ids are among its volumes")
    return jobs


def _image_jobs(args: argparse.Namespace, ids: list[int]) -> list[Job]:
    """Jobs over stimulus files (--image, or dataset ids) for --weights and random."""
    from data_prep.images import image_size
    from data_prep.salient360 import image_path

    if args.image:
        named = [(Path(f).stem, Path(f)) for f in args.image]
        seen: set[str] = set()
        for name, f in named:
            if name in seen:
                raise InputError(f"{f}: another --image has the same name {name!r} "
                                 "(outputs are named by file stem)")
            seen.add(name)
    else:
        named = [(f"P{n}", image_path(args.dataset, n)) for n in ids]
    jobs = []
    for name, f in named:
        width, height = image_size(f)  # fails early on a missing or undecodable file
        if width != 2 * height:
            _warn(f"{f}: {width}x{height} is not 2:1; sampling it as an equirectangular image")
        jobs.append(Job(name, f, lambda size=(width, height): (None, size)))
    return jobs


def make_jobs(args: argparse.Namespace) -> list[Job]:
    """The images of this run, in order."""
    from data_prep.salient360 import VALIDATION_IDS

    given = parse_ids(args.ids)
    ids = given if given is not None else list(VALIDATION_IDS)
    if args.volumes is not None:
        return _volume_jobs(args, given)
    if args.source is not None:
        kind = "volume" if args.source == "gt-volume" else "map"
        shape = tuple(args.size) if args.size else (sampling.REF_H, sampling.REF_W)
        return [Job(f"P{n}", None, lambda n=n: sampling.volume_from_gt(
            args.dataset, n, kind, shape=shape, slices=12, duration=args.viewing_time))
            for n in ids]
    return _image_jobs(args, ids)


def load_model(path: Path, size: tuple[int, int] | None):
    """A saliency-volume model (InputError for a 1-output map model)."""
    from models.inference import load_volume_model

    model = load_volume_model(path, input_shape=(size[0], size[1], 3) if size else None)
    if int(model.output_shape[-1]) == 1:
        raise InputError(f"{path}: a saliency-map model (1 output); sampling needs a "
                         "saliency-volume model (12 outputs)")
    return model


def _resized(volume: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Volume area-resampled to ``size`` (H, W) when it differs."""
    if size is None or tuple(volume.shape[1:]) == tuple(size):
        return volume
    return np.stack([resample_sum(s, size[0], size[1]) for s in volume]).astype(np.float32)


def iter_volumes(args: argparse.Namespace, jobs: list[Job]
                 ) -> Iterator[tuple[Job, np.ndarray | None, tuple[int, int]]]:
    """(job, volume or None, image size) per job; the model runs in batches of --batch-size."""
    size = tuple(args.size) if args.size else None
    if args.weights is None or args.strategy == "random":
        for job in jobs:
            vol, image_size = job.load()
            yield job, (None if vol is None else _resized(vol, size)), image_size
        return
    from data_prep.images import load_image
    from models.inference import predict_volumes

    model = load_model(args.weights, size)
    for start in range(0, len(jobs), args.batch_size):
        batch = jobs[start : start + args.batch_size]
        images = [load_image(job.image) for job in batch]
        shapes = [(img.shape[1], img.shape[0]) for img in images]
        vols = predict_volumes(model, images, batch_size=args.batch_size)
        del images
        for job, vol, image_size in zip(batch, vols, shapes, strict=True):
            yield job, _resized(vol, size), image_size


def choose_stats(args: argparse.Namespace) -> tuple[ScanpathStats, bool]:
    """(stats, learned): --stats, else learned from --dataset training scan-paths, else released."""
    if args.stats is not None:
        return load_stats(args.stats), False
    if args.dataset is None:
        return published_stats(), False
    from data_prep.salient360 import TRAIN_IDS, list_dataset

    present = [n for n in list_dataset(args.dataset)["head_eye"] if n in TRAIN_IDS]
    if not present:
        raise InputError(f"{args.dataset}: no training scan-paths to learn fixation counts and "
                         "durations from (pass --stats FILE)")
    return sampling.stats_from_dataset(args.dataset, present), True


def run(args: argparse.Namespace,
        on_image: Callable[[ImageResult], None] | None = None) -> list[Path]:
    """Sample every image of the run and write its outputs (all or nothing); return the paths.

    ``on_image`` is called with each image's :class:`ImageResult` (a hook for figures).
    """
    _check_args(args)
    jobs = make_jobs(args)
    stats, learned = choose_stats(args)
    out = args.out
    targets = [out / f"{job.name}.csv" for job in jobs]
    if args.mat:
        targets += [out / f"{job.name}.mat" for job in jobs]
    save_vols = args.save_volumes and args.strategy != "random"
    if args.save_volumes and not save_vols:
        _warn("--save-volumes ignored: --strategy random samples no volume")
    if save_vols:
        targets += [out / "volumes" / f"{job.name}.npy" for job in jobs]
    if args.figures:
        targets += [out / f"{job.name}.{kind}.png" for job in jobs for kind in ("scanpaths", "volume")]
    if learned:
        targets.append(out / "stats.json")
    for target in targets:  # refuse before any work, not half-way
        check_writable(target, args.force)

    written: list[Path] = []
    new_dirs = [d for d in (out / "volumes", out) if not d.exists()]
    try:
        _write_all(args, jobs, stats, learned, save_vols, written, on_image)
    except BaseException:
        for d in new_dirs:  # leave no empty folders behind either
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
    return written


def _write_all(args: argparse.Namespace, jobs: list[Job], stats: ScanpathStats, learned: bool,
               save_vols: bool, written: list[Path],
               on_image: Callable[[ImageResult], None] | None) -> None:
    """Sample and stage every output; all are renamed into place only when every image succeeded."""
    from data_prep.salient360 import write_model_scanpaths

    out = args.out
    with contextlib.ExitStack() as stack:

        def staged(path: Path) -> Path:
            written.append(path)
            return stack.enter_context(atomic_path(path, args.force))

        if learned:
            save_stats(stats, staged(out / "stats.json"), force=True)
        for i, (job, vol, image_size) in enumerate(iter_volumes(args, jobs), start=1):
            rows = sampling.sample_scanpaths(
                None if args.strategy == "random" else vol, n_paths=args.n_paths, stats=stats,
                strategy=args.strategy, geometry=args.geometry, slices=args.slices,
                viewing_time=args.viewing_time,
                sigma=args.sigma, ior_sigma=args.ior_sigma, ior_strength=args.ior_strength,
                image_size=image_size, seed=sampling.image_seed(args.seed, job.name),
                allow_empty_slices=args.allow_empty_slices, name=job.name)
            write_model_scanpaths(staged(out / f"{job.name}.csv"), rows, force=True)
            if args.mat:
                write_model_scanpaths(staged(out / f"{job.name}.mat"), rows, force=True)
            if save_vols:
                np.save(staged(out / "volumes" / f"{job.name}.npy"), vol.astype(np.float32))
            result = ImageResult(job.name, job.image, image_size, vol, rows, out)
            if args.figures:
                draw_figures(result, staged, args.figure_paths, args.viewing_time)
            if on_image is not None:
                on_image(result)
            print(f"[{i}/{len(jobs)}] {job.name}: {args.n_paths} scan-paths, {len(rows)} "
                  f"fixations", file=sys.stderr)


def draw_figures(result: ImageResult, staged: Callable[[Path], Path], n_paths: int,
                 viewing_time: float) -> None:
    """<name>.scanpaths.png (scan-paths on the image) and <name>.volume.png (the slices)."""
    from data_prep import plots
    from data_prep.images import load_image, preprocess

    width, height = result.image_size
    image = (load_image(result.image) if result.image is not None
             else np.full((max(height // 8, 1), max(width // 8, 1), 3), 128, np.uint8))
    name = result.name
    plots.draw_scanpaths(image, result.rows, staged(result.out_dir / f"{name}.scanpaths.png"),
                         width, height, max_paths=n_paths, force=True,
                         title=f"{name}: {n_paths} of the sampled scan-paths "
                               "(numbers give the fixation order)")
    if result.volume is not None:
        small = preprocess(image, *result.volume.shape[1:]).astype(np.uint8)
        plots.plot_volume_slices(result.volume, staged(result.out_dir / f"{name}.volume.png"),
                                 title=f"{name}: saliency volume sampled from",
                                 viewing_time=viewing_time if result.volume.shape[0] > 1 else None,
                                 image=small, force=True)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    args = build_parser().parse_args(argv)
    written = run(args)
    csvs = sum(p.suffix == ".csv" for p in written)
    print(f"wrote {csvs} scan-path files ({args.strategy}) to {args.out}"
          + (" (statistics: stats.json)" if any(p.name == "stats.json" for p in written) else ""))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(run_cli(main))
