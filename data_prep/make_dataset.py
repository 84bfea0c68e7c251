"""Step 1 of the pipeline: pack a dataset into one HDF5 file per split at the working size.

``python -m data_prep.make_dataset ROOT OUT_DIR`` writes ``OUT_DIR/<split>.h5`` with

- ``images`` uint8 (N, H, W, 3): the stimuli through ``images.preprocess`` (bicubic), rounded;
- ``volume`` float32 (N, H, W, slices): saliency volumes (``volumes.build_volume`` with
  ``slices``) as training targets, each slice divided by its max (``volumes.to_target``);
  absent from map-only packs (SALICON, Salient360! head-only images);
- ``map`` float32 (N, H, W, 1): the source's ground-truth map resized to H x W by area
  averaging (mass-preserving) when there is one, otherwise the saliency map of the volume;
  divided by its max, so in [0, 1];
- ``ids`` (N,) variable-length ASCII byte strings: image names ("P41", "COCO_...").

Attributes: source ("salient360", "salient360-demo", "salicon", "isun"), split, kind,
height, width, slices, time_step, sigma, duration (NaN: each image's latest fixation),
root, created (ISO time, UTC), format_version = 1, map_from ("ground truth", "fixations"
or "ground truth and fixations") and whatever the caller adds. Images are written one at a
time into resizable datasets; every pack is written under a temporary name and renamed
only when all the packs of the command are complete.

Salient360!: ``train`` = data_prep.salient360.TRAIN_IDS, ``val`` = VALIDATION_IDS (head+eye
images with scan-paths: volume and map); ``head_only`` (``--include-head-only``) = the
head-only images, a map-only pack made from their head maps. The demo dataset is
recognised by its README.txt and recorded as "salient360-demo".
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np

from data_prep.errors import InputError, atomic_path, check_writable, run_cli
from data_prep.records import Sample
from data_prep.volumes import resample_sum

FORMAT_VERSION = 1
FORMATS = ("salient360", "salicon", "isun")
SPLITS = {
    "salient360": ("train", "val", "head_only"),
    "salicon": ("train", "val"),
    "isun": ("train", "val"),
}
REQUIRED = ("images", "map", "ids")
DEMO_MARKER = "SYNTHETIC DEMO DATA"
SALIENT360_VIEWING_TIME = 25.0  # seconds each observer explored a Salient360! image


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


class _PackWriter:
    """Appends samples to the resizable datasets of an open HDF5 file."""

    def __init__(self, h5: h5py.File, height: int, width: int, slices: int, volumes: bool):
        self.h5, self.n = h5, 0
        opts = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
        h5.create_dataset(
            "images",
            (0, height, width, 3),
            np.uint8,
            maxshape=(None, height, width, 3),
            chunks=(1, height, width, 3),
            **opts,
        )
        if volumes:
            h5.create_dataset(
                "volume",
                (0, height, width, slices),
                np.float32,
                maxshape=(None, height, width, slices),
                chunks=(1, height, width, slices),
                **opts,
            )
        h5.create_dataset(
            "map",
            (0, height, width, 1),
            np.float32,
            maxshape=(None, height, width, 1),
            chunks=(1, height, width, 1),
            **opts,
        )
        h5.create_dataset("ids", (0,), h5py.string_dtype("ascii"), maxshape=(None,), chunks=(256,))

    def append(
        self, name: str, image: np.ndarray, volume: np.ndarray | None, saliency: np.ndarray
    ) -> None:
        for key in self.h5:
            self.h5[key].resize(self.n + 1, axis=0)
        self.h5["images"][self.n] = image
        if volume is not None:
            self.h5["volume"][self.n] = volume
        self.h5["map"][self.n] = saliency[..., None]
        self.h5["ids"][self.n] = name.encode("ascii", errors="replace")
        self.n += 1


def _fixation_arrays(sample: Sample) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f = sample.fixations
    return (f["x"].to_numpy(np.float64), f["y"].to_numpy(np.float64), f["t"].to_numpy(np.float64))


def _pack_samples(
    tmp: Path,
    samples: Iterable[Sample],
    height: int,
    width: int,
    slices: int,
    time_step: float,
    sigma: tuple[float, float, float],
    duration: float | None,
    attrs: dict,
    volumes: bool | None,
    report: Callable[[str], None],
) -> int:
    """Write ``samples`` into the HDF5 file ``tmp``; returns the number of images."""
    from data_prep.images import preprocess
    from data_prep.volumes import build_volume, empty_slices, saliency_map, to_target

    map_from: set[str] = set()
    with h5py.File(tmp, "w") as h5:
        writer = None
        for sample in samples:
            where = (
                f"{attrs['root']}: image {sample.name}"
                if attrs.get("root")
                else f"image {sample.name}"
            )
            image = np.asarray(sample.image)
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise InputError(
                    f"{where}: expected a uint8 RGB image, got {image.dtype} {image.shape}"
                )
            has_fix = sample.fixations is not None
            if volumes is None:
                volumes = has_fix
            if writer is None:
                writer = _PackWriter(h5, height, width, slices, volumes)
            full_w, full_h = image.shape[1], image.shape[0]
            volume = None
            if volumes or sample.saliency is None:
                if not has_fix:
                    raise InputError(
                        f"{where}: no fixations (needed for its saliency volume or map)"
                    )
                x, y, t = _fixation_arrays(sample)
                if not volumes:
                    t = np.where(
                        np.isfinite(t), t, 0.0
                    )  # only the map is wanted: times do not matter
                elif not np.isfinite(t).all():
                    raise InputError(
                        f"{where}: fixations without times cannot make a saliency volume"
                    )
                volume = build_volume(
                    x,
                    y,
                    t,
                    full_w,
                    full_h,
                    shape=(height, width),
                    time_step=time_step,
                    sigma=sigma,
                    duration=duration,
                    slices=slices,
                )
                empty = empty_slices(volume)
                if empty:
                    report(f"{sample.name}: empty volume slices {empty} of {slices}")
            if sample.saliency is not None:
                gt = np.asarray(sample.saliency, dtype=np.float32)
                if gt.shape != (full_h, full_w):
                    raise InputError(
                        f"{where}: ground-truth map is {gt.shape[1]}x{gt.shape[0]}, image is {full_w}x{full_h}"
                    )
                if not np.isfinite(gt).all() or (gt < 0).any():
                    raise InputError(
                        f"{where}: ground-truth map holds negative or non-finite values"
                    )
                small = resample_sum(gt, height, width)
                map_from.add("ground truth")
            else:
                if not any(volume.reshape(volume.shape[0], -1).sum(axis=1) > 0):
                    raise InputError(
                        f"{where}: no fixations inside the time range, cannot make a map"
                    )
                small = saliency_map(volume)
                map_from.add("fixations")
            peak = float(small.max())
            if peak <= 0:
                raise InputError(f"{where}: ground-truth map is all zero")
            rgb = np.clip(np.round(preprocess(image, height, width)), 0, 255).astype(np.uint8)
            writer.append(sample.name, rgb, to_target(volume) if volumes else None, small / peak)
        if writer is None:
            raise InputError(
                f"{attrs.get('root', tmp)}: no images for split {attrs.get('split', '?')!r}"
            )
        meta = {
            "source": "unknown",
            "split": "",
            "kind": "",
            "root": "",
            "height": height,
            "width": width,
            "slices": slices,
            "time_step": float(time_step),
            "sigma": np.asarray(sigma, dtype=np.float64),
            "duration": float("nan") if duration is None else float(duration),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "format_version": FORMAT_VERSION,
            "map_from": " and ".join(sorted(map_from)),
        }
        meta.update(attrs)
        for key, value in meta.items():
            h5.attrs[key] = "" if value is None else value
        n = writer.n
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # the temporary file was created 0600
    return n


def write_pack(
    path: str | os.PathLike,
    samples: Iterable[Sample],
    height: int,
    width: int,
    slices: int = 12,
    time_step: float = 0.1,
    sigma: tuple[float, float, float] = (4, 20, 20),
    duration: float | None = None,
    attrs: dict | None = None,
    force: bool = False,
    volumes: bool | None = None,
    report: Callable[[str], None] = _stderr,
) -> Path:
    """Write one pack (see the module docstring) atomically; refuses an existing ``path``.

    ``volumes``: store the ``volume`` dataset (None: when the first sample has fixations).
    ``report`` receives one line per image with empty volume slices.
    """
    _check_params(height, width, slices, time_step, sigma, duration)
    with atomic_path(path, force) as tmp:
        _pack_samples(
            tmp,
            samples,
            height,
            width,
            slices,
            time_step,
            sigma,
            duration,
            dict(attrs or {}),
            volumes,
            report,
        )
    return Path(path)


def _check_params(height, width, slices, time_step, sigma, duration) -> None:
    if height < 1 or width < 1:
        raise InputError(f"working size {height}x{width}: height and width must be positive")
    if slices < 1:
        raise InputError(f"--slices {slices}: must be at least 1")
    if not time_step > 0 or len(sigma) != 3 or not all(s > 0 for s in sigma):
        raise InputError(
            f"time step {time_step} / sigma {tuple(sigma)}: must be positive (3 sigmas)"
        )
    if duration is not None and not duration > 0:
        raise InputError(f"--duration {duration}: must be positive")


def read_pack_info(path: str | os.PathLike, require: Iterable[str] = ()) -> dict:
    """Attributes, image count, dataset shapes and ids of a pack; InputError if missing or inconsistent.

    Returns {"path", "attrs", "n", "shapes": {dataset: shape}, "ids": [str]}. ``require`` names
    datasets that must be present (e.g. "volume" for the volume model).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: pack not found (python -m data_prep.make_dataset writes it)")
    try:
        with h5py.File(path, "r") as h5:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in h5.attrs.items()}
            shapes = {k: tuple(h5[k].shape) for k in h5 if isinstance(h5[k], h5py.Dataset)}
            ids = (
                [v.decode("ascii") if isinstance(v, bytes) else str(v) for v in h5["ids"][()]]
                if "ids" in h5
                else []
            )
    except OSError as err:
        raise InputError(f"{path}: not a readable HDF5 pack ({err})") from None
    missing = [k for k in (*REQUIRED, *require) if k not in shapes]
    if missing:
        raise InputError(f"{path}: no {', '.join(repr(k) for k in missing)} dataset in this pack")
    if attrs.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: pack format_version {attrs.get('format_version')!r}, expected {FORMAT_VERSION}"
        )
    n = shapes["images"][0]
    height, width = int(attrs.get("height", -1)), int(attrs.get("width", -1))
    expected = {"images": (n, height, width, 3), "map": (n, height, width, 1), "ids": (n,)}
    if "volume" in shapes:
        expected["volume"] = (n, height, width, int(attrs.get("slices", -1)))
    for key, shape in expected.items():
        if shapes[key] != shape:
            raise InputError(f"{path}: dataset {key!r} has shape {shapes[key]}, expected {shape}")
    if n == 0:
        raise InputError(f"{path}: pack holds no images")
    return {"path": path, "attrs": attrs, "n": n, "shapes": shapes, "ids": ids}


def is_demo_root(root: str | os.PathLike) -> bool:
    """True when ``root`` is the synthetic demo dataset (its README.txt says so)."""
    readme = Path(root) / "README.txt"
    try:
        return readme.is_file() and readme.read_text(errors="replace").startswith(DEMO_MARKER)
    except OSError:
        return False


def _salient360_split(root: Path, split: str) -> tuple[list[int], str, Iterator[Sample], bool]:
    """(ids, kind, samples, volumes) of a Salient360! split; notes ids missing from ``root``."""
    from data_prep import salient360
    from data_prep.records import salient360_samples

    kind = "head_only" if split == "head_only" else "head_eye"
    wanted = {
        "train": salient360.TRAIN_IDS,
        "val": salient360.VALIDATION_IDS,
        "head_only": salient360.HEAD_ONLY_IDS,
    }[split]
    present = salient360.list_dataset(root, require=(kind,))[kind]
    ids = [n for n in wanted if n in present]
    if len(ids) < len(wanted):
        missing = [f"P{n}" for n in wanted if n not in present]
        _stderr(
            f"note: {root}: split {split}: {len(missing)} of {len(wanted)} images missing or incomplete "
            f"({' '.join(missing)})"
        )
    if not ids:
        raise InputError(f"{root}: none of the {split} images is complete ({kind})")
    return ids, kind, salient360_samples(root, ids, kind=kind), kind == "head_eye"


def _split_samples(fmt: str, root: Path, split: str) -> tuple[Iterator[Sample], dict, bool | None]:
    """Samples, extra attributes and the volumes flag of one split of a source."""
    if fmt == "salient360":
        ids, kind, samples, volumes = _salient360_split(root, split)
        source = "salient360-demo" if is_demo_root(root) else "salient360"
        return samples, {"source": source, "kind": kind}, volumes
    if fmt == "salicon":
        from data_prep.salicon import salicon_samples

        return salicon_samples(root, split), {"source": "salicon", "kind": "map"}, False
    from data_prep.isun import isun_samples

    return isun_samples(root, split), {"source": "isun", "kind": "fixations"}, True


def main(argv: list[str] | None = None) -> int:
    """Command line: pack ROOT into OUT_DIR/<split>.h5."""
    parser = argparse.ArgumentParser(
        prog="python -m data_prep.make_dataset",
        description="Step 1: pack a dataset into one HDF5 file per split (images, 12-slice saliency "
        "volumes, saliency maps) at the working size.",
    )
    parser.add_argument(
        "root",
        type=Path,
        help="dataset root (Salient360! 2017 layout, the demo dataset, SALICON or iSUN)",
    )
    parser.add_argument("out_dir", type=Path, help="folder for <split>.h5")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="salient360",
        help="dataset layout (default salient360)",
    )
    parser.add_argument(
        "--height", type=int, default=300, help="working height (default 300, the paper's)"
    )
    parser.add_argument(
        "--width", type=int, default=600, help="working width (default 600, the paper's)"
    )
    parser.add_argument(
        "--splits",
        nargs="+",
        default=["train", "val"],
        help="splits to pack (default train val; Salient360! also head_only)",
    )
    parser.add_argument(
        "--include-head-only",
        action="store_true",
        help="Salient360!: also pack the head-only images as a map-only head_only.h5",
    )
    parser.add_argument(
        "--slices", type=int, default=12, help="temporal slices of the volumes (default 12)"
    )
    parser.add_argument(
        "--time-step", type=float, default=0.1, help="time quantisation step in s (default 0.1)"
    )
    parser.add_argument(
        "--sigma",
        type=float,
        nargs=3,
        default=(4.0, 20.0, 20.0),
        metavar=("T", "Y", "X"),
        help="Gaussian bandwidths in (time steps, px, px) at 300x600 (default 4 20 20)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="time span of the volumes in s, split into --slices equal slices (default: 25 for "
        "salient360, the viewing time, as sample_scanpaths.py --viewing-time; each image's latest "
        "fixation for isun)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing packs")
    args = parser.parse_args(argv)

    splits = list(dict.fromkeys(args.splits + (["head_only"] if args.include_head_only else [])))
    bad = [s for s in splits if s not in SPLITS[args.format]]
    if bad or (args.include_head_only and args.format != "salient360"):
        raise InputError(
            f"{args.root}: split(s) {', '.join(bad) or 'head_only'} not available for "
            f"{args.format} (choose from {', '.join(SPLITS[args.format])})"
        )
    sigma = tuple(args.sigma)
    if args.duration is None and args.format == "salient360":
        args.duration = SALIENT360_VIEWING_TIME
    _check_params(args.height, args.width, args.slices, args.time_step, sigma, args.duration)
    if not args.root.is_dir():
        raise InputError(f"{args.root}: dataset root not found (python -m data_prep.demo_dataset ROOT writes the demo dataset; README 'Data' says where to get the real ones)")
    paths = [check_writable(args.out_dir / f"{split}.h5", args.force) for split in splits]
    created_dir = not args.out_dir.exists()
    counts = []
    try:
        with (
            contextlib.ExitStack() as stack
        ):  # all packs are renamed into place together at the end
            for split, path in zip(splits, paths, strict=True):
                tmp = stack.enter_context(atomic_path(path, args.force))
                samples, attrs, volumes = _split_samples(args.format, args.root, split)
                attrs.update(split=split, root=str(args.root.resolve()))
                counts.append(
                    _pack_samples(
                        tmp,
                        samples,
                        args.height,
                        args.width,
                        args.slices,
                        args.time_step,
                        sigma,
                        args.duration,
                        attrs,
                        volumes,
                        _stderr,
                    )
                )
    except BaseException:
        if created_dir and args.out_dir.is_dir() and not any(args.out_dir.iterdir()):
            args.out_dir.rmdir()
        raise
    for path, n in zip(paths, counts, strict=True):
        print(f"wrote {path}: {n} images at {args.height}x{args.width}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
