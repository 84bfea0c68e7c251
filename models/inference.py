"""Load a trained SaltiNet from any of its file forms and predict saliency volumes and maps.

Accepted files (:func:`load_volume_model`):

- ``*.weights.h5`` written by ``model.save_weights`` of a :func:`build_saltinet` model. Keras 3
  stores no layer names or shapes of the input there, so the file is inspected: the
  architecture from its layer classes (a transposed convolution -> "paper", batch
  normalisation -> "published"), the number of outputs from the 13x13 conv9 kernel
  (13, 13, 32, C), and for the published architecture the input width from the first
  BatchNormalization (one weight per image column; the height is taken as width / 2, the
  equirectangular ratio, unless ``input_shape`` says otherwise). The paper architecture is
  fully convolutional: it is rebuilt at ``input_shape``, else at the size recorded in the file by
  training (attribute ``saltinet_input_shape``), else at 300x600.
- ``*.keras`` (``keras.saving.load_model`` with ``safe_mode=True``).
- A legacy Keras 1/2 HDF5 model file (``model_config`` attribute / ``model_weights`` group),
  converted by :func:`models.legacy.load_legacy_model`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import h5py
import keras
import numpy as np

import models.layers  # noqa: F401  (registers LocalResponseNormalization for load_model)
from data_prep.errors import InputError
from data_prep.images import preprocess
from models.saltinet import build_saltinet

DEFAULT_SHAPE = (300, 600, 3)


INPUT_SHAPE_ATTR = "saltinet_input_shape"


def _datasets(group: h5py.Group) -> dict[str, tuple[int, ...]]:
    """Every dataset path in an HDF5 group with its shape."""
    found: dict[str, tuple[int, ...]] = {}
    group.visititems(
        lambda name, obj: found.__setitem__(name, tuple(obj.shape))
        if isinstance(obj, h5py.Dataset)
        else None
    )
    return found


def inspect_weights_file(path: str | os.PathLike) -> dict:
    """Infer ``{"arch", "outputs", "width"}`` of a build_saltinet ``*.weights.h5``; InputError if not one."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            if "layers" not in f:
                raise InputError(f"{path}: not a Keras 3 weights file (no 'layers' group)")
            layer_keys = list(f["layers"].keys())
            shapes = _datasets(f["layers"])
            stored = f.attrs.get(INPUT_SHAPE_ATTR)
    except OSError as err:
        raise InputError(f"{path}: cannot read HDF5 weights ({err})") from None
    has_bn = any(key.startswith("batch_normalization") for key in layer_keys)
    has_deconv = any(key.startswith("conv2d_transpose") for key in layer_keys)
    conv9 = [s for s in shapes.values() if len(s) == 4 and s[:3] == (13, 13, 32)]
    if has_bn == has_deconv or len(conv9) != 1:
        raise InputError(
            f"{path}: cannot infer a SaltiNet head (expected one 13x13x32 conv9 kernel and either "
            "a transposed convolution or batch normalisation layers)"
        )
    info = {"arch": "published" if has_bn else "paper", "outputs": conv9[0][3], "width": None,
            "input_shape": tuple(int(d) for d in stored) if stored is not None else None}
    if has_bn:
        gamma = shapes.get("batch_normalization/vars/0")
        if gamma is None or len(gamma) != 1:
            raise InputError(f"{path}: cannot infer the input width (no first BatchNormalization)")
        info["width"] = gamma[0]
    return info


def _one_line(err: Exception, limit: int = 300) -> str:
    """An exception message on one line, shortened to ``limit`` characters."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _head_name(outputs: int) -> str:
    """Human name of a head size."""
    if outputs == 1:
        return "1 output (saliency map model)"
    return f"{outputs} outputs (saliency volume model)" if outputs == 12 else f"{outputs} outputs"


def _is_legacy(path: Path) -> bool:
    """Whether an HDF5 file is a whole-model Keras 1/2 file rather than Keras 3 weights."""
    try:
        with h5py.File(path, "r") as f:
            if "model_config" in f.attrs or "model_weights" in f or "layer_names" in f.attrs:
                return True
            if "layers" in f:
                return False
    except OSError as err:
        raise InputError(f"{path}: cannot read HDF5 file ({err})") from None
    raise InputError(f"{path}: neither a Keras 3 weights file nor a legacy Keras model file")


def load_volume_model(
    path: str | os.PathLike,
    outputs: int | None = None,
    input_shape: tuple[int, int, int] | None = None,
) -> keras.Model:
    """Load a SaltiNet model from ``*.weights.h5``, ``*.keras`` or a legacy Keras 1 ``.h5``.

    ``outputs`` (e.g. 12 for the volume model, 1 for the map model) is checked against the
    head found; ``input_shape`` only applies to ``*.weights.h5`` (see the module docstring).
    Every problem raises InputError naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: model file not found (train_map.py / train_volume.py write checkpoints; python weights/fetch.py pathnet_model_v2.h5 downloads the published model)")
    name = path.name.lower()
    if name.endswith(".keras"):
        try:
            model = keras.saving.load_model(path, safe_mode=True)
        except Exception as err:  # any failure becomes one line naming the file
            raise InputError(
                f"{path}: cannot load Keras model ({type(err).__name__}: {_one_line(err)})"
            ) from None
    elif name.endswith(".weights.h5") or not _is_legacy(path):
        info = inspect_weights_file(path)
        _check_head(path, info["outputs"], outputs)
        shape = input_shape or info["input_shape"]  # the size it was trained at, when recorded
        if shape is None:
            shape = DEFAULT_SHAPE if info["arch"] == "paper" else (info["width"] // 2, info["width"], 3)
        try:
            model = build_saltinet(info["outputs"], tuple(shape), arch=info["arch"])
            model.load_weights(path)
        except ValueError as err:
            raise InputError(
                f"{path}: weights do not fit a {info['arch']} SaltiNet at {shape} ({_one_line(err)})"
            ) from None
    else:
        from models.legacy import load_legacy_model

        model = load_legacy_model(path)
    out_shape = tuple(model.output_shape)
    if len(out_shape) != 4:
        raise InputError(f"{path}: model output {out_shape} is not a (batch, H, W, slices) volume")
    _check_head(path, int(out_shape[-1]), outputs)
    return model


def _check_head(path: Path, found: int, wanted: int | None) -> None:
    """InputError when the head found is not the one required."""
    if wanted is not None and found != wanted:
        raise InputError(f"{path}: model has {_head_name(found)}, but {_head_name(wanted)} is required")


def _model_size(model: keras.Model) -> tuple[int, int]:
    """(height, width) of a model's fixed input."""
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[1] is None or shape[2] is None or shape[3] != 3:
        raise ValueError(f"model input {shape} is not a fixed-size (batch, H, W, 3) RGB image")
    return int(shape[1]), int(shape[2])


def _predict(model: keras.Model, images: Sequence[np.ndarray], batch_size: int) -> list[np.ndarray]:
    """Run the model on preprocessed images in batches; list of (H, W, C) float32 outputs."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    height, width = _model_size(model)
    for i, image in enumerate(images):
        arr = np.asarray(image)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise ValueError(
                f"image {i}: expected a uint8 (H, W, 3) RGB array, got {arr.dtype} {arr.shape}"
            )
    results: list[np.ndarray] = []
    for start in range(0, len(images), batch_size):
        batch = np.stack(
            [preprocess(image, height, width) for image in images[start : start + batch_size]]
        )
        out = np.asarray(model.predict_on_batch(batch), dtype=np.float32)
        results.extend(out)
    return results


def _normalise_slices(volume: np.ndarray) -> np.ndarray:
    """Scale each (H, W) slice of an (n, H, W) array to sum 1 (uniform if it sums to 0)."""
    vol = volume.astype(np.float64)
    sums = vol.sum(axis=(1, 2), keepdims=True)
    uniform = np.full_like(vol, 1.0 / (vol.shape[1] * vol.shape[2]))
    vol = np.where(sums > 0, vol / np.where(sums > 0, sums, 1.0), uniform)
    return vol.astype(np.float32)


def predict_volumes(
    model: keras.Model, images: Sequence[np.ndarray], batch_size: int = 4
) -> list[np.ndarray]:
    """Predict float32 (n_slices, H, W) saliency volumes, each slice summing to 1, at the model size.

    ``images`` are uint8 (h, w, 3) RGB arrays of any size, resized with
    ``data_prep.images.preprocess`` to the model's input size.
    """
    return [_normalise_slices(np.moveaxis(out, -1, 0)) for out in _predict(model, images, batch_size)]


def predict_maps(
    model: keras.Model, images: Sequence[np.ndarray], batch_size: int = 4
) -> list[np.ndarray]:
    """Predict float32 (H, W) saliency maps summing to 1 with a 1-output (map) model."""
    if int(model.output_shape[-1]) != 1:
        raise ValueError(
            f"predict_maps needs a 1-output map model, this one has {model.output_shape[-1]} "
            "outputs (use predict_volumes)"
        )
    return [_normalise_slices(np.moveaxis(out, -1, 0))[0] for out in _predict(model, images, batch_size)]
