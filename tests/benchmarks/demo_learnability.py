"""Measurement: can a CNN learn the demo dataset, and does the demo make the official metric move?

Generates the demo dataset (or takes ``--root``), packs it at ``--height x --width``, trains
a volume model (``--model saltinet``: build_saltinet(12) from scratch; ``small``: a 4-layer
CNN of ~0.2 M parameters) on the 36 training images with BCE, then on the 4 validation
images compares, with the official Salient360! scan-path score (lower is better, 40 paths
per image, mean over images and ``--seeds`` sampling seeds):

- random scan-paths (uniform over the image),
- the image-independent prior: the mean training volume (centre and time bias only),
- the trained model's volume, ``gaussian`` strategy, as output and with each slice's median
  subtracted (the sigmoid never reaches 0, and its floor spreads mass over the whole image),
- the ground-truth volume, ``gaussian`` strategy;

and the CC (Fibonacci-sphere samples) of each model's time-summed map with the ground-truth
head+eye map. Prints the figures; not a test.

    .venv/bin/python tests/benchmarks/demo_learnability.py [--root DEMO] [--model small]
        [--epochs 8] [--lr 0.01] [--optimizer adam]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from data_prep import metrics, salient360  # noqa: E402
from data_prep.demo_dataset import make_demo_dataset  # noqa: E402
from data_prep.make_dataset import write_pack  # noqa: E402
from data_prep.records import salient360_samples  # noqa: E402
from data_prep.sampling import sample_scanpaths, stats_from_dataset  # noqa: E402


def small_cnn(height: int, width: int) -> keras.Model:
    """A small fully convolutional volume model (no position input, 'same' padding)."""
    x = inp = keras.Input((height, width, 3))
    x = keras.layers.Rescaling(1 / 255.0)(x)
    for filters, kernel in ((32, 5), (64, 5), (64, 7), (64, 9)):
        x = keras.layers.Conv2D(filters, kernel, padding="same", activation="relu")(x)
        if filters == 32 or kernel == 5:
            x = keras.layers.MaxPooling2D(2, padding="same")(x)
    x = keras.layers.Conv2D(12, 1)(x)
    x = keras.layers.UpSampling2D(4, interpolation="bilinear")(x)
    return keras.Model(inp, keras.layers.Activation("sigmoid", dtype="float32")(x))


def probabilities(volume_hwc: np.ndarray) -> np.ndarray:
    """(H, W, S) model output -> (S, H, W), each slice summing to 1."""
    vol = np.moveaxis(np.asarray(volume_hwc, dtype=np.float64), -1, 0) + 1e-12
    return (vol / vol.sum(axis=(1, 2), keepdims=True)).astype(np.float32)


def score(root: Path, n: int, volume, strategy: str, stats, seeds: int) -> float:
    """Mean official score of 40 sampled paths over ``seeds`` seeds."""
    df, (width, height) = salient360.load_fixations(root, n)
    gt = metrics.gt_scanpaths_official(df)
    out = []
    for seed in range(seeds):
        rows = sample_scanpaths(volume, 40, stats, strategy=strategy, image_size=(width, height),
                                seed=[seed, n], allow_empty_slices=True)
        out.append(metrics.scanpath_score(gt, metrics.model_scanpaths(rows), width, height))
    return float(np.mean(out))


def main() -> None:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="existing demo root")
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--width", type=int, default=192)
    parser.add_argument("--model", choices=("small", "saltinet"), default="small")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=None, help="default 1e-3 (adam) / 1e-2 (sgd)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    work = Path(tempfile.mkdtemp(prefix="learnability."))
    t0 = time.perf_counter()
    root = args.root or make_demo_dataset(work / "demo")
    t1 = time.perf_counter()
    train_ids, val_ids = salient360.train_val_split()
    h, w = args.height, args.width
    packs = {}
    for split, ids in (("train", train_ids), ("val", val_ids)):
        packs[split] = write_pack(work / f"{split}.h5", salient360_samples(root, ids), h, w,
                                  report=lambda _line: None)
    t2 = time.perf_counter()
    with h5py.File(packs["train"], "r") as f:
        x_train, y_train = f["images"][()].astype(np.float32), f["volume"][()]
    with h5py.File(packs["val"], "r") as f:
        x_val, y_val = f["images"][()].astype(np.float32), f["volume"][()]
    print(f"demo generation {t1 - t0:.1f} s, packing 40 images at {h}x{w} {t2 - t1:.1f} s")

    if args.model == "small":
        model = small_cnn(h, w)
    else:
        from models.saltinet import build_saltinet

        model = build_saltinet(12, (h, w, 3))
    lr = args.lr or (1e-3 if args.optimizer == "adam" else 1e-2)
    opt = keras.optimizers.Adam(lr) if args.optimizer == "adam" else keras.optimizers.SGD(lr, momentum=0.9)
    model.compile(optimizer=opt, loss="binary_crossentropy")
    prior_loss = float(keras.losses.binary_crossentropy(
        y_val, np.broadcast_to(y_train.mean(axis=0), y_val.shape)).numpy().mean())
    t3 = time.perf_counter()
    hist = model.fit(x_train, y_train, batch_size=1, epochs=args.epochs, shuffle=True, verbose=0,
                     validation_data=(x_val, y_val))
    t4 = time.perf_counter()
    print(f"{args.model} ({model.count_params():,} params), {args.optimizer} lr {lr}, "
          f"{args.epochs} epochs in {t4 - t3:.0f} s")
    print("val BCE per epoch:", " ".join(f"{v:.4f}" for v in hist.history["val_loss"]),
          f"| prior (mean training volume) {prior_loss:.4f}")
    pred = model.predict(x_val, batch_size=1, verbose=0)

    stats = stats_from_dataset(root, train_ids)
    prior = probabilities(y_train.mean(axis=0))
    rows = {"random": [], "prior volume": [], "model volume": [], "model - median": [],
            "GT volume": []}
    cc = {"prior": [], "model": []}
    for i, n in enumerate(val_ids):
        gt_vol = probabilities(y_val[i])
        rows["random"].append(score(root, n, None, "random", stats, args.seeds))
        rows["prior volume"].append(score(root, n, prior, "gaussian", stats, args.seeds))
        rows["model volume"].append(score(root, n, probabilities(pred[i]), "gaussian", stats,
                                          args.seeds))
        floor = np.median(pred[i], axis=(0, 1), keepdims=True)
        rows["model - median"].append(score(root, n, probabilities(np.clip(pred[i] - floor, 0, None)),
                                            "gaussian", stats, args.seeds))
        rows["GT volume"].append(score(root, n, gt_vol, "gaussian", stats, args.seeds))
        _, (width, height) = salient360.load_fixations(root, n)
        gt_map = salient360.read_saliency_bin(salient360.head_eye_map_path(root, n), width, height)
        for name, vol in (("prior", prior), ("model", probabilities(pred[i]))):
            small = vol.sum(axis=0)
            cc[name].append(metrics.cc_sphere(metrics.resize_map(small, width, height), gt_map))
    print("official scan-path score on the 4 validation images (lower is better):")
    for name, values in rows.items():
        print(f"  {name:13s} {np.mean(values):.3f}   per image {' '.join(f'{v:.2f}' for v in values)}")
    for name, values in cc.items():
        print(f"  map CC {name:6s} {np.mean(values):.3f}   per image {' '.join(f'{v:.2f}' for v in values)}")


if __name__ == "__main__":
    main()
