"""Training SaltiNet (SPEC section 4): the one module behind train_map.py and train_volume.py.

Paper settings: binary cross-entropy (mean over every output), SGD, batch size 1, 90 epochs,
learning rate 0.01 (map model) / 0.001 (volume model), L2 weight decay, validation loss each
epoch. Not in the paper, chosen here:

- momentum 0.9 (classical, not Nesterov), as in the Caffe SalNet models the chain starts from;
- weight decay 5e-4, the SalNet/Caffe value, applied by Keras' SGD as *decoupled* decay
  (each step ``w <- w - lr * wd * w``) to the convolution kernels only (biases excluded).
  For plain SGD this equals an L2 penalty (wd / 2) * ||w||^2 added to the loss; with
  momentum m it is 1 / (1 - m) times weaker than Caffe's coupled decay. Keeping it out of the
  loss keeps the logged loss a pure BCE, so the learning curves are comparable across runs;
- a constant learning rate (the paper names no schedule).

Outputs in ``out`` (default ``weights/``), ``<name>`` = "map" / "volume" by default:

- ``<name>.last.weights.h5`` / ``<name>.best.weights.h5``: ``model.save_weights`` files
  (weights only) after the last epoch and at the lowest validation loss;
- ``<name>.history.csv``: epoch, loss, val_loss, lr, seconds; ``<name>.curve.png``: the
  learning curves (the paper's Figure 3);
- ``<name>.resume.h5``: the resume state - model weights, every optimizer variable (momenta,
  iteration count, learning rate), the completed epoch count, history, best-so-far and the
  run's settings - in ONE file, so that one rename commits an epoch atomically.

Distribution: ``strategy`` "mirrored" / "multiworker" builds and compiles the model inside
``MirroredStrategy`` / ``MultiWorkerMirroredStrategy`` (TF_CONFIG); the global batch is split
over the replicas (it must be a multiple of their number); every worker streams the packs
(tf.data DATA auto-sharding) and only the chief writes outputs (``out`` must be on a shared
filesystem for ``--resume``).

Every file is written to a temporary name and renamed; the resume state is written last, so
a kill at any moment leaves a consistent earlier state. The data order (and the ``roll``
shifts) of epoch e come from ``numpy.random.default_rng([seed, e])`` and the model is built
after ``keras.utils.set_random_seed(seed)``; with the optimizer state restored, stopping after
epoch k and resuming reproduces the uninterrupted run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from data_prep.errors import InputError, atomic_path, atomic_write_text
from data_prep.pipeline import PackSpec, check_pack, pack_dataset, target_for_outputs

HEADS = {
    "map": {"outputs": 1, "lr": 0.01},
    "volume": {"outputs": 12, "lr": 0.001},
}
DEFAULT_EPOCHS = 90
DEFAULT_BATCH_SIZE = 1
DEFAULT_MOMENTUM = 0.9
DEFAULT_WEIGHT_DECAY = 5e-4
PRECISIONS = ("float32", "mixed_bfloat16")
STRATEGIES = ("none", "mirrored", "multiworker")
STATE_VERSION = 1
HISTORY_COLUMNS = ["epoch", "loss", "val_loss", "lr", "seconds"]
# Settings a resumed run must share with the run it continues (exactness depends on them).
RESUME_KEYS = ("outputs", "height", "width", "lr", "momentum", "weight_decay", "seed",
               "batch_size", "precision", "roll", "limit")


class TrainingDiverged(InputError):
    """The loss became NaN or infinite; the run stopped, the last good checkpoint is kept."""


@dataclass
class TrainConfig:
    """Every setting of one training run (the CLI flags)."""

    train: Path
    val: Path
    outputs: int = 12
    name: str = "volume"
    out: Path = Path("weights")
    init: Path | None = None
    strict_init: bool = False
    init_head: str = "fresh"
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = DEFAULT_BATCH_SIZE
    lr: float = 0.001
    momentum: float = DEFAULT_MOMENTUM
    weight_decay: float = DEFAULT_WEIGHT_DECAY
    seed: int = 0
    precision: str = "float32"
    strategy: str = "none"
    roll: bool = False
    resume: bool = False
    force: bool = False
    limit: int | None = None
    verbose: int | str = "auto"


def output_paths(out: str | os.PathLike, name: str) -> dict[str, Path]:
    """The files a run named ``name`` writes into ``out``."""
    out = Path(out)
    return {
        "last": out / f"{name}.last.weights.h5",
        "best": out / f"{name}.best.weights.h5",
        "history": out / f"{name}.history.csv",
        "curve": out / f"{name}.curve.png",
        "state": out / f"{name}.resume.h5",
    }


def make_strategy(kind: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy for ``none``, ``mirrored`` (local devices) or ``multiworker``."""
    if kind == "none":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    if kind == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {kind!r}; expected one of {STRATEGIES}")


def build_model(outputs: int, height: int, width: int, precision: str = "float32") -> keras.Model:
    """A paper-architecture SaltiNet at (height, width) computing in ``precision``."""
    from models.saltinet import build_saltinet

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {PRECISIONS}")
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(precision)
    try:
        return build_saltinet(outputs, (height, width, 3))
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def compile_model(model: keras.Model, lr: float, momentum: float = DEFAULT_MOMENTUM,
                  weight_decay: float = DEFAULT_WEIGHT_DECAY) -> None:
    """Compile with BCE (float32, mean over all outputs) and SGD + decoupled kernel decay."""
    optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=momentum,
                                     weight_decay=weight_decay or None)
    if weight_decay:
        optimizer.exclude_from_weight_decay(var_names=["bias"])
    model.compile(optimizer=optimizer, loss=keras.losses.BinaryCrossentropy(dtype="float32"))
    optimizer.build(model.trainable_variables)


HEAD_LAYERS = ("conv9", "deconv")


def replicate_head(source: list[np.ndarray], target_shapes: list[tuple], layer: str) -> list[np.ndarray] | None:
    """A 1-output head layer's weights spread over k outputs, or None when that does not apply.

    conv9 (13, 13, 32, 1) + bias (1,) -> every output channel a copy; deconv (8, 8, 1, 1) ->
    (8, 8, k, k) with the kernel on the diagonal (slice i only reads channel i). A volume
    model initialised so predicts the map model's saliency map in every slice.
    """
    if layer == "conv9" and len(source) == 2 and source[0].shape[-1] == 1:
        k = target_shapes[0][-1]
        if source[0].shape[:-1] != target_shapes[0][:-1]:
            return None
        return [np.repeat(source[0], k, axis=-1), np.repeat(source[1], k)]
    if layer == "deconv" and len(source) == 1 and source[0].shape[-2:] == (1, 1):
        h, w, k, k2 = target_shapes[0]
        if k != k2 or source[0].shape[:2] != (h, w):
            return None
        kernel = np.zeros((h, w, k, k), dtype=source[0].dtype)
        kernel[:, :, np.arange(k), np.arange(k)] = source[0][:, :, :1, 0]
        return [kernel]
    return None


def init_from_checkpoint(model: keras.Model, path: str | os.PathLike,
                         strict: bool = False, head: str = "fresh") -> tuple[list[str], dict[str, str]]:
    """Copy the layers whose names and weight shapes match from a checkpoint of either head.

    ``path``: a ``*.weights.h5`` of build_saltinet, a ``*.keras`` model or a legacy Keras 1
    ``.h5``. Returns (copied layer names, {fresh layer name: reason}). InputError when no layer
    matches, or (``strict``) when a layer of the same name has different shapes. With
    ``head="replicate"`` a map checkpoint's conv9/deconv are spread over every output slice
    (:func:`replicate_head`) instead of starting fresh.
    """
    from models.inference import load_volume_model

    path = Path(path)
    source = load_volume_model(path)
    theirs = {layer.name: layer for layer in source.layers if layer.weights}
    copied: list[str] = []
    fresh: dict[str, str] = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        other = theirs.get(layer.name)
        if other is None:
            fresh[layer.name] = "not in checkpoint"
            continue
        mine = [tuple(w.shape) for w in layer.weights]
        shapes = [tuple(w.shape) for w in other.weights]
        if mine != shapes:
            spread = (replicate_head(other.get_weights(), mine, layer.name)
                      if head == "replicate" and layer.name in HEAD_LAYERS else None)
            if spread is None:
                fresh[layer.name] = f"shapes {shapes} in checkpoint, {mine} here"
                continue
            layer.set_weights(spread)
            copied.append(f"{layer.name} (replicated over {mine[0][-1]} slices)")
            continue
        layer.set_weights(other.get_weights())
        copied.append(layer.name)
    mismatched = {k: v for k, v in fresh.items() if v != "not in checkpoint"}
    if strict and mismatched:
        detail = "; ".join(f"{k}: {v}" for k, v in mismatched.items())
        raise InputError(f"{path}: layers with matching names but different shapes ({detail})")
    if not copied:
        detail = "; ".join(f"{k}: {v}" for k, v in fresh.items())
        raise InputError(f"{path}: no layer matches the model by name and shape ({detail})")
    return copied, fresh


def record_input_shape(path: str | os.PathLike, model: keras.Model) -> None:
    """Store the model's input size in a weights file (attribute read by models.inference)."""
    import h5py

    from models.inference import INPUT_SHAPE_ATTR

    with h5py.File(path, "a") as f:
        f.attrs[INPUT_SHAPE_ATTR] = [int(d) for d in model.input_shape[1:]]


def save_weights(model: keras.Model, path: str | os.PathLike) -> Path:
    """``model.save_weights`` (weights only, no optimizer) via a temporary name and a rename."""
    from keras.src.saving import saving_lib

    path = Path(path)
    with atomic_path(path, force=True) as tmp:
        keras_tmp = tmp.with_name(tmp.name[: -len(".h5")] + ".weights.h5")
        try:
            optimizer = getattr(model, "optimizer", None)
            skip = [optimizer] if optimizer is not None else None
            saving_lib.save_weights_only(model, str(keras_tmp), objects_to_skip=skip)
            record_input_shape(keras_tmp, model)
            os.replace(keras_tmp, tmp)
        finally:
            if keras_tmp.exists():
                keras_tmp.unlink()
    return path


def _suffix(var_path: str) -> str:
    """A variable path without its first component (optimizer names get uniquified)."""
    return var_path.split("/", 1)[-1]


def save_state(model: keras.Model, path: str | os.PathLike, state: dict) -> Path:
    """Write the resume state (weights, optimizer variables, ``state`` as JSON) atomically."""
    path = Path(path)
    with atomic_path(path, force=True) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["state"] = json.dumps(state)
            for group_name, variables in (("model", model.weights),
                                          ("optimizer", model.optimizer.variables)):
                group = f.create_group(group_name)
                for i, var in enumerate(variables):
                    data = group.create_dataset(str(i), data=np.asarray(var.numpy()))
                    data.attrs["path"] = var.path
    return path


def read_state(path: str | os.PathLike) -> dict:
    """The JSON part of a resume state file."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            state = json.loads(f.attrs["state"])
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"{path}: not a readable resume state ({err})") from None
    if state.get("version") != STATE_VERSION:
        raise InputError(f"{path}: resume state version {state.get('version')}, "
                         f"expected {STATE_VERSION}")
    return state


def load_state(model: keras.Model, path: str | os.PathLike) -> dict:
    """Restore weights and optimizer variables from a resume state file; return its JSON."""
    path = Path(path)
    state = read_state(path)
    with h5py.File(path, "r") as f:
        for group_name, variables in (("model", model.weights),
                                      ("optimizer", model.optimizer.variables)):
            group = f[group_name]
            if len(group) != len(variables):
                raise InputError(f"{path}: {len(group)} {group_name} variables saved, "
                                 f"the model has {len(variables)}")
            for i, var in enumerate(variables):
                data = group[str(i)]
                saved = data.attrs["path"]
                saved = saved.decode() if isinstance(saved, bytes) else str(saved)
                if _suffix(saved) != _suffix(var.path) or tuple(data.shape) != tuple(var.shape):
                    raise InputError(f"{path}: saved {group_name} variable {saved} "
                                     f"{tuple(data.shape)} does not fit {var.path} "
                                     f"{tuple(var.shape)}")
                var.assign(data[()])
    return state


class _NanGuard(keras.callbacks.Callback):
    """Stop at the first batch whose running loss is not finite, naming the last good epoch."""

    def __init__(self, train_pack: Path, last_good: str):
        super().__init__()
        self.train_pack = train_pack
        self.last_good = last_good
        self.epoch = 0

    def error(self, what: str, where: str) -> TrainingDiverged:
        """The one-line error for a non-finite ``what`` at ``where``."""
        return TrainingDiverged(f"{self.train_pack}: {what} in epoch {self.epoch + 1} {where}; "
                                f"training stopped, last good checkpoint: {self.last_good}")

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Remember the epoch for the error message."""
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Raise TrainingDiverged when the running loss is NaN or infinite."""
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise self.error(f"loss {float(loss)}", f"batch {batch + 1}")


class _Progbar(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, showing the run's total epochs although fit runs one at a time."""

    def __init__(self, total: int):
        super().__init__()
        self.total = total

    def set_params(self, params: dict) -> None:
        """Keras' parameters, with the run's epoch total for the "Epoch e/N" line."""
        super().set_params(params)
        self.epochs = self.total


def _is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the outputs (always, except non-chief multi-workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if "chief" in resolver.cluster_spec().as_dict():
        return resolver.task_type == "chief"
    return resolver.task_type == "worker" and int(resolver.task_id or 0) == 0


def _check_config(config: TrainConfig) -> None:
    """Validate the settings: InputError naming the offending flag."""
    checks = [
        (config.epochs >= 1, f"--epochs must be >= 1, got {config.epochs}"),
        (config.batch_size >= 1, f"--batch-size must be >= 1, got {config.batch_size}"),
        (config.lr > 0, f"--lr must be > 0, got {config.lr}"),
        (0 <= config.momentum < 1, f"--momentum must be in [0, 1), got {config.momentum}"),
        (config.weight_decay >= 0, f"--weight-decay must be >= 0, got {config.weight_decay}"),
        (config.limit is None or config.limit >= 1, f"--limit must be >= 1, got {config.limit}"),
        (config.precision in PRECISIONS, f"--precision must be one of {PRECISIONS}"),
        (config.strategy in STRATEGIES, f"--strategy must be one of {STRATEGIES}"),
        (config.outputs in (1, 12), f"outputs must be 1 or 12, got {config.outputs}"),
    ]
    for ok, message in checks:
        if not ok:
            raise InputError(f"command line: {message}")


def _settings(config: TrainConfig, spec: PackSpec) -> dict:
    """The settings recorded in (and checked against) the resume state."""
    settings = {k: v for k, v in asdict(config).items()
                if k in RESUME_KEYS or k in ("train", "val", "init", "strategy")}
    settings.update(height=spec.height, width=spec.width)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.items()}


def _check_resume(path: Path, saved: dict, current: dict) -> None:
    """InputError listing the settings that differ from the run being resumed."""
    diffs = [f"{k}={saved.get(k)!r} (now {current[k]!r})" for k in RESUME_KEYS
             if saved.get(k) != current[k]]
    if diffs:
        raise InputError(f"{path}: the run was started with {', '.join(diffs)}; "
                         "resume with the same settings")


def _write_history(history: list[dict], paths: dict[str, Path], name: str) -> None:
    """Write the per-epoch CSV and the learning-curve PNG (both atomically)."""
    from data_prep.plots import plot_learning_curves

    frame = pd.DataFrame(history, columns=HISTORY_COLUMNS)
    atomic_write_text(paths["history"], frame.to_csv(index=False), force=True)
    plot_learning_curves({f"{name}: BCE per epoch": frame}, paths["curve"], force=True)


def _check_inputs(config: TrainConfig) -> tuple[PackSpec, PackSpec, dict[str, Path]]:
    """Validate settings, packs and outputs before anything is built; (train, val, paths)."""
    _check_config(config)
    target = target_for_outputs(config.outputs)
    train_spec = check_pack(config.train, target)
    val_spec = check_pack(config.val, target)
    if (val_spec.height, val_spec.width) != (train_spec.height, train_spec.width):
        raise InputError(f"{config.val}: images are {val_spec.height}x{val_spec.width}, the "
                         f"training pack's {train_spec.height}x{train_spec.width}")
    if train_spec.height % 4 or train_spec.width % 4:
        raise InputError(f"{config.train}: image size {train_spec.height}x{train_spec.width} is "
                         "not a multiple of 4 (the network needs it, e.g. 300x600 or 96x192)")
    paths = output_paths(config.out, config.name)
    if config.resume:
        if not paths["state"].is_file():
            raise InputError(f"{paths['state']}: no resume state to continue from")
        saved = read_state(paths["state"])["settings"]
        _check_resume(paths["state"], saved, _settings(config, train_spec))
    elif not config.force:
        for path in paths.values():
            if path.exists():
                raise InputError(f"{path}: already exists (use --force to overwrite or "
                                 "--resume to continue)")
    return train_spec, val_spec, paths


def _start(model: keras.Model, config: TrainConfig, paths: dict[str, Path]) -> dict:
    """Restore the resume state or apply --init; the run's bookkeeping (history, best)."""
    if config.resume:
        state = load_state(model, paths["state"])
        print(f"resuming {config.name} from {paths['state']} after epoch {state['epoch']}")
        if config.init:
            print("--init ignored: the resume state holds the weights")
        return {k: state[k] for k in ("history", "best_val_loss", "best_epoch")}
    if config.init:
        copied, fresh = init_from_checkpoint(model, config.init, config.strict_init,
                                             config.init_head)
        print(f"init from {config.init}: copied {', '.join(copied)}")
        print("  start fresh: " + ("; ".join(f"{k} ({v})" for k, v in fresh.items()) or "none"))
    return {"history": [], "best_val_loss": math.inf, "best_epoch": 0}


def _commit(model: keras.Model, paths: dict[str, Path], run: dict, improved: bool,
            name: str, settings: dict) -> None:
    """Write an epoch's outputs; the resume state last, so it only ever names complete files."""
    if improved:
        save_weights(model, paths["best"])
    save_weights(model, paths["last"])
    _write_history(run["history"], paths, name)
    save_state(model, paths["state"], {"version": STATE_VERSION, "epoch": len(run["history"]),
                                       "settings": settings, **run})


def train(config: TrainConfig) -> pd.DataFrame:
    """Run (or resume) one training run; return the per-epoch history (HISTORY_COLUMNS)."""
    train_spec, val_spec, paths = _check_inputs(config)
    settings = _settings(config, train_spec)
    Path(config.out).mkdir(parents=True, exist_ok=True)
    strategy = make_strategy(config.strategy)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise InputError(f"command line: --batch-size {config.batch_size} is not a multiple of "
                         f"the {replicas} replicas of --strategy {config.strategy}")
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        model = build_model(config.outputs, train_spec.height, train_spec.width, config.precision)
        compile_model(model, config.lr, config.momentum, config.weight_decay)
    run = _start(model, config, paths)
    start = len(run["history"])
    print(f"{config.name}: {config.outputs}-output model, {train_spec.height}x{train_spec.width}, "
          f"{replicas} replica(s), precision {config.precision}, lr {config.lr}, momentum "
          f"{config.momentum}, weight decay {config.weight_decay}, batch {config.batch_size}")
    if start >= config.epochs:
        print(f"{config.name}: already trained {start} epochs (>= --epochs {config.epochs})")
        return pd.DataFrame(run["history"], columns=HISTORY_COLUMNS)
    guard = _NanGuard(config.train, f"{paths['last']} (epoch {start})" if start else "none")
    callbacks: list[keras.callbacks.Callback] = [guard]
    if config.verbose not in (0, "0"):
        callbacks.append(_Progbar(config.epochs))
    chief = _is_chief(strategy)
    for epoch in range(start, config.epochs):
        train_data = pack_dataset(train_spec, config.batch_size, config.seed, epoch,
                                  shuffle=True, roll=config.roll, limit=config.limit)
        val_data = pack_dataset(val_spec, config.batch_size, config.seed, epoch,
                                shuffle=False, limit=config.limit)
        began = time.perf_counter()
        fit = model.fit(train_data, validation_data=val_data, initial_epoch=epoch,
                        epochs=epoch + 1, verbose=config.verbose, callbacks=callbacks,
                        shuffle=False)
        seconds = time.perf_counter() - began
        loss, val_loss = float(fit.history["loss"][-1]), float(fit.history["val_loss"][-1])
        if not math.isfinite(val_loss):
            raise guard.error(f"validation loss {val_loss}", "(validation)")
        lr = float(f"{float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)):.6g}")
        run["history"].append({"epoch": epoch + 1, "loss": loss, "val_loss": val_loss, "lr": lr,
                               "seconds": round(seconds, 3)})
        improved = val_loss < run["best_val_loss"]
        if improved:
            run.update(best_val_loss=val_loss, best_epoch=epoch + 1)
        if chief:  # under multiworker only the chief writes (shared --out assumed)
            _commit(model, paths, run, improved, config.name, settings)
        guard.last_good = f"{paths['last']} (epoch {epoch + 1})"
    print(f"{config.name}: done, best val_loss {run['best_val_loss']:.5f} at epoch "
          f"{run['best_epoch']}; outputs in {config.out}")
    return pd.DataFrame(run["history"], columns=HISTORY_COLUMNS)


def add_arguments(parser: argparse.ArgumentParser, head: str) -> None:
    """The flags shared by train_map.py and train_volume.py (defaults for ``head``)."""
    lr = HEADS[head]["lr"]
    data = parser.add_argument_group("data")
    data.add_argument("--train", type=Path, help="training pack (HDF5 from data_prep.make_dataset)")
    data.add_argument("--val", type=Path, help="validation pack (same image size)")
    data.add_argument("--data", type=Path,
                      help="folder holding train.h5 and val.h5 (instead of --train/--val)")
    data.add_argument("--limit", type=int, default=None,
                      help="use only the first N samples of each pack (quick runs; default all)")
    data.add_argument("--roll", action="store_true",
                      help="360-degree augmentation: shift image and target together by a random "
                           "longitude each sample (seeded); off by default, as in the paper")
    run = parser.add_argument_group("run")
    run.add_argument("--init", type=Path, default=None,
                     help="start from this checkpoint (*.weights.h5, *.keras or legacy .h5) of "
                          "either head: layers whose names and shapes match are copied (map "
                          "model -> volume model: conv1-conv8), the others start fresh")
    run.add_argument("--strict-init", action="store_true",
                     help="with --init, refuse a checkpoint whose same-named layers differ in "
                          "shape instead of starting those layers fresh")
    run.add_argument("--init-head", choices=("fresh", "replicate"), default="fresh",
                     help="with --init from a 1-output map checkpoint: fresh (default) starts "
                          "conv9/deconv from random weights; replicate copies them into every "
                          "slice, so the volume model starts by predicting the saliency map in "
                          "each slice (our option; the paper does not say)")
    run.add_argument("--out", type=Path, default=Path("weights"),
                     help="output folder (default weights/)")
    run.add_argument("--name", default=head,
                     help=f"prefix of the output files (default {head!r}): <name>.last.weights.h5,"
                          " .best.weights.h5, .history.csv, .curve.png, .resume.h5")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run from its last completed epoch (weights, "
                          "optimizer state and data order restored from <name>.resume.h5)")
    run.add_argument("--force", action="store_true", help="overwrite the outputs of an earlier run")
    run.add_argument("--seed", type=int, default=0,
                     help="seed of the initial weights and of each epoch's data order (default 0)")
    run.add_argument("--verbose", default="auto",
                     help="Keras progress output: auto/1 (bar), 2 (one line per epoch), 0 (none)")
    opt = parser.add_argument_group("optimisation (paper: SGD, BCE, batch 1, 90 epochs)")
    opt.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                     help=f"epochs (paper: {DEFAULT_EPOCHS})")
    opt.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                     help="batch size (paper: 1); with --strategy a multiple of the replicas")
    opt.add_argument("--lr", type=float, default=lr,
                     help=f"SGD learning rate, constant (paper: {lr} for this model)")
    opt.add_argument("--momentum", type=float, default=DEFAULT_MOMENTUM,
                     help=f"SGD momentum (not in the paper; default {DEFAULT_MOMENTUM}, as SalNet)")
    opt.add_argument("--weight-decay", type=float, default=DEFAULT_WEIGHT_DECAY,
                     help="L2 weight decay on the kernels, decoupled (w -= lr*wd*w each step); the "
                          f"paper gives no value; default {DEFAULT_WEIGHT_DECAY} (SalNet's); "
                          "0 disables it")
    opt.add_argument("--precision", choices=PRECISIONS, default="float32",
                     help="float32 or mixed_bfloat16 (bf16 compute, float32 weights, sigmoid and "
                          "loss; ~1.9x faster than float32 on this project's avx512_bf16 CPU)")
    opt.add_argument("--strategy", choices=STRATEGIES, default="none",
                     help="none; mirrored = tf.distribute.MirroredStrategy over all local GPUs "
                          "(or logical CPUs); multiworker = MultiWorkerMirroredStrategy from "
                          "TF_CONFIG")


def config_from_args(args: argparse.Namespace, head: str) -> TrainConfig:
    """Turn parsed flags into a TrainConfig (resolving --data)."""
    if args.data is not None:
        if args.train is not None or args.val is not None:
            raise InputError(f"{args.data}: give either --data or --train/--val, not both")
        train_pack, val_pack = args.data / "train.h5", args.data / "val.h5"
    elif args.train is None or args.val is None:
        raise InputError("command line: --train and --val (or --data DIR) are required")
    else:
        train_pack, val_pack = args.train, args.val
    verbose = int(args.verbose) if str(args.verbose).isdigit() else args.verbose
    return TrainConfig(
        train=train_pack, val=val_pack, outputs=HEADS[head]["outputs"], name=args.name,
        out=args.out, init=args.init, strict_init=args.strict_init,
        init_head=args.init_head, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
        weight_decay=args.weight_decay, seed=args.seed, precision=args.precision,
        strategy=args.strategy, roll=args.roll, resume=args.resume, force=args.force,
        limit=args.limit, verbose=verbose,
    )


SCRIPT_HELP = """

Paper settings (the defaults): binary cross-entropy averaged over all outputs, SGD, batch size
1, 90 epochs, learning rate {lr}, L2 weight decay, validation loss every epoch. Momentum (0.9)
and the decay value (5e-4, decoupled, kernels only) are not in the paper and are our choice.

Writes <out>/<name>.last.weights.h5, .best.weights.h5 (lowest validation loss), .history.csv,
.curve.png (learning curves, the paper's Figure 3) and .resume.h5 (for --resume).
Bad input (missing or mismatched pack, unusable checkpoint, NaN loss, existing outputs
without --force): one "error:" line and exit status 2."""


def cli_main(argv: list[str] | None, head: str, description: str) -> int:
    """Parse the command line of train_map.py / train_volume.py and train.

    ``description`` says what the script trains; the paper settings and outputs are added.
    """
    description += SCRIPT_HELP.format(lr=HEADS[head]["lr"])
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, head)
    args = parser.parse_args(argv)
    train(config_from_args(args, head))
    return 0
