"""tf.data input pipeline streaming training pairs from an HDF5 pack, one image at a time.

A pack (see data_prep.make_dataset) holds ``images`` uint8 (N, H, W, 3) and the targets
``map`` float32 (N, H, W, 1) and/or ``volume`` float32 (N, H, W, 12). The 1-output map model
trains on ``map``, the 12-output volume model on ``volume``. Samples are read from the file
with h5py inside a generator, so a pack of any size (SALICON: 10,000 images) streams without
being loaded; only ``prefetch`` batches are held in memory.

Per epoch the order is a permutation drawn from ``np.random.default_rng([seed, epoch])``,
and so are the optional 360-degree roll shifts (one whole-pixel longitude shift per sample,
applied to the image and its target together, wrapping around). An epoch's stream therefore
depends only on (seed, epoch), which is what makes resumed training exact.
``limit`` keeps the first ``limit`` samples of the pack (before shuffling).
Images are delivered as float32 0-255 (the model rescales internally).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import tensorflow as tf

from data_prep.errors import InputError

TARGETS = {"map": 1, "volume": 12}
"""Target dataset name -> channels of the head that trains on it."""


@dataclass(frozen=True)
class PackSpec:
    """What a training run needs to know about one pack."""

    path: Path
    target: str
    count: int
    height: int
    width: int
    channels: int
    source: str


def target_for_outputs(outputs: int) -> str:
    """The pack target a head with ``outputs`` channels trains on ("map" or "volume")."""
    for name, channels in TARGETS.items():
        if channels == outputs:
            return name
    raise ValueError(f"no pack target for a {outputs}-output head (expected 1 or 12)")


def check_pack(path: str | os.PathLike, target: str) -> PackSpec:
    """Validate that ``path`` is a pack with ``images`` and a ``target`` matching its head."""
    from data_prep.make_dataset import read_pack_info

    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {sorted(TARGETS)}")
    want = TARGETS[target]
    head = "map (1-output)" if target == "map" else "volume (12-output)"
    path = Path(path)
    info = read_pack_info(path)
    if target not in info["shapes"]:
        present = [k for k in TARGETS if k in info["shapes"]]
        raise InputError(f"{path}: no '{target}' target for the {head} model (pack has: "
                         f"{', '.join(present)})")
    shape = info["shapes"][target]
    if len(shape) != 4 or shape[3] != want:
        raise InputError(f"{path}: '{target}' has shape {shape}, the {head} model needs "
                         f"{want} channel(s)")
    return PackSpec(path, target, int(info["n"]), int(shape[1]), int(shape[2]), want,
                    str(info["attrs"].get("source", "")))


def epoch_plan(count: int, seed: int, epoch: int, shuffle: bool = True, roll: bool = False,
               width: int = 1, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indices, roll shifts) of one epoch, a function of (seed, epoch) only."""
    n = count if limit is None else max(0, min(int(limit), count))
    rng = np.random.default_rng([int(seed), int(epoch)])
    order = rng.permutation(n) if shuffle else np.arange(n)
    shifts = rng.integers(0, width, size=n) if roll else np.zeros(n, dtype=np.int64)
    return order, shifts


def pack_dataset(spec: PackSpec, batch_size: int = 1, seed: int = 0, epoch: int = 0,
                 shuffle: bool = True, roll: bool = False, limit: int | None = None,
                 prefetch: int = 2) -> tf.data.Dataset:
    """Stream (image float32 0-255, target float32) batches of one epoch from a checked pack."""
    order, shifts = epoch_plan(spec.count, seed, epoch, shuffle, roll, spec.width, limit)
    if len(order) == 0:
        raise InputError(f"{spec.path}: no samples to train on (limit {limit})")
    path, target = str(spec.path), spec.target

    def generate():
        with h5py.File(path, "r") as f:
            images, targets = f["images"], f[target]
            for i, shift in zip(order, shifts, strict=True):
                image = images[int(i)]
                label = np.asarray(targets[int(i)], dtype=np.float32).reshape(
                    spec.height, spec.width, spec.channels)
                if shift:
                    image = np.roll(image, int(shift), axis=1)
                    label = np.roll(label, int(shift), axis=1)
                yield image, label

    signature = (tf.TensorSpec((spec.height, spec.width, 3), tf.uint8),
                 tf.TensorSpec((spec.height, spec.width, spec.channels), tf.float32))
    data = tf.data.Dataset.from_generator(generate, output_signature=signature)
    data = data.map(lambda x, y: (tf.cast(x, tf.float32), y))
    data = data.batch(batch_size)
    batches = -(-len(order) // batch_size)
    data = data.apply(tf.data.experimental.assert_cardinality(batches))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    options.deterministic = True
    return data.with_options(options).prefetch(prefetch)
