"""Translate Keras 1.x / 2.x layer configs into channels-last Keras 3 layers (issue 6, SPEC section 8).

Used by :mod:`models.legacy`. Every supported layer type has one translator that reads the
layer's arguments (Keras 1 or Keras 2 names), refuses anything it does not understand with an
``InputError`` naming the layer, adds the equivalent Keras 3 layer(s) to the graph and records a
:class:`WeightPlan` that turns the file's arrays into the Keras 3 layout:

- convolution kernels: Keras 1 channels-first ``(out, in, h, w)`` -> ``(h, w, in, out)``;
  transposed convolutions -> ``(h, w, out, in)``; files saved by Theano (true convolution) get
  both spatial axes flipped;
- BatchNormalization: a channels-first axis maps to the channels-last one
  (1 -> channels, 2 -> height, 3 or -1 -> width); ``running_std`` is used as the variance;
- Theano 'same'/'full' convolutions whose padding differs from TensorFlow's (strided or even
  kernels) become an explicit ZeroPadding2D and a 'valid' convolution;
- Flatten after channels-first data gets a Permute to channels-first order first, so the
  following Dense weights keep their meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from data_prep.errors import InputError

# Arguments that only matter for training or bookkeeping; they never change the forward pass.
_IGNORED = {
    "name", "trainable", "dtype", "input_dtype", "batch_input_shape", "batch_size",
    "input_shape", "input_dim", "momentum", "renorm_momentum", "fused", "noise_shape", "seed",
    "activity_regularizer",
}
_IGNORED_SUFFIX = re.compile(r"(_regularizer|_constraint|_initializer|_init|^init)$")
_ACTIVATIONS = {
    "linear": None, "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
    "softplus": "softplus", "softsign": "softsign", "elu": "elu", "softmax": "softmax",
}
_MISSING = object()


@dataclass
class LayerSpec:
    """One layer of the file's model_config: name, class, arguments and its input layer."""

    name: str
    class_name: str
    config: dict
    inbound: str | None = None


@dataclass
class WeightPlan:
    """How the file's arrays of one layer become the weights of a Keras 3 layer."""

    spec: LayerSpec
    layer: keras.layers.Layer
    convert: Callable[[list[np.ndarray]], list[np.ndarray]]


@dataclass
class Context:
    """State of one conversion: file, backend, data ordering, names in use, weight plans."""

    path: str
    backend: str
    ordering: str | None
    taken: set[str] = field(default_factory=set)
    plans: list[WeightPlan] = field(default_factory=list)
    fixed: list[tuple[str, str]] = field(default_factory=list)  # (layer, why it fixes the size)
    notes: list[str] = field(default_factory=list)

    def error(self, spec: LayerSpec, problem: str) -> InputError:
        """An InputError naming the file and the layer."""
        return InputError(f"{self.path}: layer '{spec.name}' ({spec.class_name}): {problem}")

    def helper_name(self, base: str) -> str:
        """A fresh layer name for a layer the conversion inserts (padding, crop, permute)."""
        name, i = base, 1
        while name in self.taken:
            name, i = f"{base}_{i}", i + 1
        self.taken.add(name)
        return name


def _arg(ctx: Context, spec: LayerSpec, keys: tuple[str, ...], default: Any = _MISSING) -> Any:
    """The first of ``keys`` present in the layer's config (Keras 1 name first, then Keras 2)."""
    for key in keys:
        if key in spec.config:
            return spec.config[key]
    if default is _MISSING:
        raise ctx.error(spec, f"missing argument {'/'.join(keys)}")
    return default


def _check_keys(ctx: Context, spec: LayerSpec, known: set[str]) -> None:
    """Refuse any argument that is neither understood nor known to be training-only."""
    for key, value in spec.config.items():
        if key in known or key in _IGNORED or _IGNORED_SUFFIX.search(key):
            continue
        raise ctx.error(spec, f"unsupported argument {key}={value!r}")


def _ints(ctx: Context, spec: LayerSpec, value: Any, what: str, n: int = 2) -> tuple[int, ...]:
    """An int or a list of ``n`` ints as a tuple of ``n`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if (
        isinstance(value, (list, tuple))
        and len(value) == n
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return tuple(value)
    raise ctx.error(spec, f"unsupported {what} {value!r}")


def _rank(x: Any) -> int:
    """Rank of a Keras tensor, batch axis included."""
    return len(x.shape)


def _layout(ctx: Context, spec: LayerSpec, x: Any) -> str:
    """Check the layer works on 4-D data in the model's ordering; return 'th' or 'tf'."""
    if _rank(x) != 4:
        raise ctx.error(spec, f"expects 4-D image data, got a {_rank(x)}-D tensor")
    ordering = layer_ordering(spec.config)
    if ordering == "invalid":
        raise ctx.error(spec, "unsupported dim_ordering/data_format "
                        f"{spec.config.get('dim_ordering', spec.config.get('data_format'))!r}")
    if ctx.ordering is None or (ordering is not None and ordering != ctx.ordering):
        raise ctx.error(spec, "mixes channels-first and channels-last data (unsupported)")
    return ctx.ordering


def layer_ordering(config: dict) -> str | None:
    """'th', 'tf', None (not stated) or 'invalid' from dim_ordering (Keras 1) / data_format."""
    value = config.get("dim_ordering", config.get("data_format"))
    if value is None:
        return None
    return {"th": "th", "tf": "tf", "channels_first": "th", "channels_last": "tf"}.get(
        value, "invalid"
    )


def _activation(ctx: Context, spec: LayerSpec, value: Any, rank: int) -> str | None:
    """Keras 3 activation name for a Keras 1/2 one; refuse unknown ones."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in _ACTIVATIONS:
        raise ctx.error(spec, f"unsupported activation {value!r}")
    if value == "softmax" and rank != 2:
        raise ctx.error(spec, f"unsupported softmax on a {rank}-D tensor")
    return _ACTIVATIONS[value]


def _flip(kernel: np.ndarray, ctx: Context) -> np.ndarray:
    """Flip both spatial axes of an (h, w, ., .) kernel when the file comes from Theano."""
    return kernel[::-1, ::-1].copy() if ctx.backend == "theano" else kernel


def _theano_pad(size: int, mode: str) -> tuple[int, int]:
    """(before, after) zero padding that reproduces Theano's 'same' ('half' + crop) or 'full'."""
    if mode == "full":
        return size - 1, size - 1
    if mode == "same":
        return size // 2, size // 2 if size % 2 else size // 2 - 1
    return 0, 0


def _conv_args(ctx: Context, spec: LayerSpec, transposed: bool) -> dict:
    """Common arguments of Conv2D / Conv2DTranspose in either Keras generation."""
    keras1 = "nb_filter" in spec.config
    if keras1:
        known = {"nb_filter", "nb_row", "nb_col", "border_mode", "subsample", "dim_ordering",
                 "bias", "activation"} | ({"output_shape"} if transposed else set())
    else:
        known = {"filters", "kernel_size", "strides", "padding", "data_format",
                 "dilation_rate", "use_bias", "activation", "groups"}
        known |= {"output_padding"} if transposed else set()
    _check_keys(ctx, spec, known)
    if keras1:
        kernel = (int(_arg(ctx, spec, ("nb_row",))), int(_arg(ctx, spec, ("nb_col",))))
    else:
        kernel = _ints(ctx, spec, _arg(ctx, spec, ("kernel_size",)), "kernel_size")
        if _ints(ctx, spec, spec.config.get("dilation_rate", 1), "dilation_rate") != (1, 1):
            raise ctx.error(spec, f"unsupported dilation_rate {spec.config['dilation_rate']!r}")
        if spec.config.get("groups", 1) != 1:
            raise ctx.error(spec, f"unsupported groups {spec.config['groups']!r}")
    mode = _arg(ctx, spec, ("border_mode", "padding"), "valid")
    if mode not in ("valid", "same", "full"):
        raise ctx.error(spec, f"unsupported border_mode {mode!r}")
    if mode == "full" and ctx.backend != "theano":
        raise ctx.error(spec, "border_mode 'full' exists only on Theano")
    return {
        "keras1": keras1,
        "filters": int(_arg(ctx, spec, ("nb_filter", "filters"))),
        "kernel": kernel,
        "strides": _ints(ctx, spec, _arg(ctx, spec, ("subsample", "strides"), 1), "subsample"),
        "mode": mode,
        "bias": bool(_arg(ctx, spec, ("bias", "use_bias"), True)),
    }


def _conv2d(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """Convolution2D (Keras 1) / Conv2D (Keras 2)."""
    ordering = _layout(ctx, spec, x)
    a = _conv_args(ctx, spec, transposed=False)
    act = _activation(ctx, spec, spec.config.get("activation"), 4)
    (kh, kw), mode = a["kernel"], a["mode"]
    odd = kh % 2 == 1 and kw % 2 == 1
    if ctx.backend == "theano" and (mode == "full" or (mode == "same" and (
        a["strides"] != (1, 1) or not odd
    ))):
        pads = (_theano_pad(kh, mode), _theano_pad(kw, mode))
        x = keras.layers.ZeroPadding2D(
            pads, data_format="channels_last", name=ctx.helper_name(f"{spec.name}_pad")
        )(x)
        mode = "valid"
    layer = keras.layers.Conv2D(
        a["filters"], (kh, kw), strides=a["strides"], padding=mode, use_bias=a["bias"],
        activation=act, data_format="channels_last", name=spec.name,
    )
    y = layer(x)
    channels_first_kernel = a["keras1"] and ordering == "th"

    def convert(arrays: list[np.ndarray]) -> list[np.ndarray]:
        kernel = arrays[0].transpose(2, 3, 1, 0) if channels_first_kernel else arrays[0]
        return [_flip(kernel, ctx)] + arrays[1:]

    ctx.plans.append(WeightPlan(spec, layer, convert))
    return y


def _deconv_size(
    ctx: Context, spec: LayerSpec, a: dict, n: int, axis: int, out: int | None, pad_extra: Any
) -> tuple[int, int, int]:
    """(output size, start offset into the full transposed output, output_padding) for one axis."""
    k, s, mode = a["kernel"][axis], a["strides"][axis], a["mode"]
    if ctx.backend == "theano" and mode == "same" and k % 2 == 0:
        raise ctx.error(spec, "unsupported 'same' transposed convolution with an even kernel "
                        "on Theano")
    pad = {"valid": 0, "same": k // 2, "full": k - 1}[mode]
    full = (n - 1) * s + k
    if out is None:
        if pad_extra is not None:  # Keras 2 with output_padding
            out = full - 2 * pad + int(pad_extra)
        elif a["keras1"]:  # output_shape entry None: Keras 1 derived it like this
            out = full - 2 * pad
        else:  # Keras 2 deconv_length without output_padding
            out = {"same": n * s, "valid": n * s + max(k - s, 0)}[mode]
    if ctx.backend == "theano":
        start = pad
    else:
        start = max(full - out, 0) // 2 if mode == "same" else 0
    # The forward convolution this one transposes must map ``out`` back to ``n``.
    if ctx.backend != "theano" and mode == "same":
        back = -(-out // s)
    else:
        back = (out + 2 * pad - k) // s + 1 if out + 2 * pad >= k else 0
    extra = max(0, start + out - full)
    if back != n or extra >= s:
        raise ctx.error(spec, f"unsupported output size {out} for input size {n} "
                        f"(kernel {k}, stride {s}, border_mode {mode!r})")
    return out, start, extra


def _deconv2d(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """Deconvolution2D (Keras 1) / Conv2DTranspose (Keras 2) as a valid transposed conv + crop."""
    ordering = _layout(ctx, spec, x)
    a = _conv_args(ctx, spec, transposed=True)
    act = _activation(ctx, spec, spec.config.get("activation"), 4)
    sizes = x.shape[1:3]
    if None in sizes:
        raise ctx.error(spec, "needs a fixed input size (batch_input_shape)")
    outs: list[int | None] = [None, None]
    if a["keras1"]:
        shape = spec.config.get("output_shape")
        if not isinstance(shape, (list, tuple)) or len(shape) != 4:
            raise ctx.error(spec, f"unsupported output_shape {shape!r}")
        outs = list(shape[2:4] if ordering == "th" else shape[1:3])
    extras = spec.config.get("output_padding")
    extras = [None, None] if extras is None else _ints(ctx, spec, extras, "output_padding")
    geometry = [
        _deconv_size(ctx, spec, a, int(sizes[i]), i, outs[i], extras[i]) for i in range(2)
    ]
    out_pad = tuple(g[2] for g in geometry)
    layer = keras.layers.Conv2DTranspose(
        a["filters"], a["kernel"], strides=a["strides"], padding="valid",
        output_padding=out_pad if any(out_pad) else None, use_bias=a["bias"], activation=act,
        data_format="channels_last", name=spec.name,
    )
    y = layer(x)
    crops = tuple(
        (start, int(y.shape[1 + i]) - start - out) for i, (out, start, _) in enumerate(geometry)
    )
    if any(any(c) for c in crops):
        y = keras.layers.Cropping2D(
            crops, data_format="channels_last", name=ctx.helper_name(f"{spec.name}_crop")
        )(y)
    keras1, channels_first = a["keras1"], ordering == "th"

    def convert(arrays: list[np.ndarray]) -> list[np.ndarray]:
        kernel = arrays[0]
        if keras1:  # (out, in, h, w) or (h, w, in, out) -> (h, w, out, in)
            kernel = kernel.transpose(2, 3, 0, 1) if channels_first else kernel.transpose(0, 1, 3, 2)
        return [_flip(kernel, ctx)] + arrays[1:]

    ctx.plans.append(WeightPlan(spec, layer, convert))
    return y


def _batchnorm(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """BatchNormalization: Keras 1 mode 0 (running_std holds a variance) or Keras 2."""
    _check_keys(ctx, spec, {"axis", "epsilon", "mode", "center", "scale", "renorm",
                            "renorm_clipping", "virtual_batch_size", "adjustment",
                            "synchronized", "beta_init", "gamma_init"})
    if spec.config.get("mode", 0) != 0:
        raise ctx.error(spec, f"unsupported mode {spec.config['mode']!r} (only mode 0)")
    for key in ("renorm", "renorm_clipping", "virtual_batch_size", "adjustment", "synchronized"):
        if spec.config.get(key):
            raise ctx.error(spec, f"unsupported {key}={spec.config[key]!r}")
    axis = spec.config.get("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    rank = _rank(x)
    if not isinstance(axis, int) or isinstance(axis, bool) or not -rank <= axis < rank:
        raise ctx.error(spec, f"unsupported axis {axis!r}")
    axis %= rank
    if axis == 0:
        raise ctx.error(spec, "unsupported axis 0 (the batch axis)")
    if rank == 4:
        _layout(ctx, spec, x)
        if ctx.ordering == "th":
            axis = {1: 3, 2: 1, 3: 2}[axis]
        if axis in (1, 2):
            what = "height" if axis == 1 else "width"
            if x.shape[axis] is None:
                raise ctx.error(spec, f"normalises over the image {what}, which needs a fixed "
                                "input size (batch_input_shape)")
            ctx.fixed.append((spec.name, f"BatchNormalization per image {what} position"))
    elif rank != 2:
        raise ctx.error(spec, f"unsupported {rank}-D input")
    center = bool(spec.config.get("center", True))
    scale = bool(spec.config.get("scale", True))
    layer = keras.layers.BatchNormalization(
        axis=-1 if axis == rank - 1 else axis, epsilon=float(spec.config.get("epsilon", 1e-3)),
        center=center, scale=scale, name=spec.name,
    )
    y = layer(x)
    ctx.plans.append(WeightPlan(spec, layer, lambda arrays: list(arrays)))
    return y


def _activation_layer(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """Activation."""
    _check_keys(ctx, spec, {"activation"})
    act = _activation(ctx, spec, _arg(ctx, spec, ("activation",)), _rank(x))
    return keras.layers.Activation(act or "linear", name=spec.name)(x)


def _dropout(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """Dropout (identity at inference, kept for a faithful layer chain)."""
    _check_keys(ctx, spec, {"p", "rate"})
    rate = _arg(ctx, spec, ("p", "rate"), 0.0)
    if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ctx.error(spec, f"unsupported rate {rate!r}")
    return keras.layers.Dropout(float(rate), name=spec.name)(x)


def _pooling(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """MaxPooling2D / AveragePooling2D."""
    _layout(ctx, spec, x)
    _check_keys(ctx, spec, {"pool_size", "strides", "border_mode", "padding", "dim_ordering",
                            "data_format"})
    pool = _ints(ctx, spec, _arg(ctx, spec, ("pool_size",), 2), "pool_size")
    strides = spec.config.get("strides")
    strides = pool if strides is None else _ints(ctx, spec, strides, "strides")
    mode = _arg(ctx, spec, ("border_mode", "padding"), "valid")
    if mode not in ("valid", "same"):
        raise ctx.error(spec, f"unsupported border_mode {mode!r}")
    if mode == "same" and ctx.backend == "theano":
        raise ctx.error(spec, "unsupported 'same' pooling from Theano (its padding differs)")
    cls = keras.layers.MaxPooling2D if spec.class_name == "MaxPooling2D" else (
        keras.layers.AveragePooling2D
    )
    return cls(pool, strides=strides, padding=mode, data_format="channels_last",
               name=spec.name)(x)


def _upsampling(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """UpSampling2D (nearest neighbour)."""
    _layout(ctx, spec, x)
    _check_keys(ctx, spec, {"size", "dim_ordering", "data_format", "interpolation"})
    if spec.config.get("interpolation", "nearest") != "nearest":
        raise ctx.error(spec, f"unsupported interpolation {spec.config['interpolation']!r}")
    size = _ints(ctx, spec, _arg(ctx, spec, ("size",), 2), "size")
    return keras.layers.UpSampling2D(
        size, interpolation="nearest", data_format="channels_last", name=spec.name
    )(x)


def _margins(ctx: Context, spec: LayerSpec, value: Any, what: str) -> tuple:
    """((top, bottom), (left, right)) from the Keras 1/2 padding / cropping forms."""
    if isinstance(value, dict):
        keys = ("top_pad", "bottom_pad", "left_pad", "right_pad")
        if set(value) != set(keys):
            raise ctx.error(spec, f"unsupported {what} {value!r}")
        value = [value[k] for k in keys]
    if isinstance(value, (list, tuple)) and len(value) == 4:
        top, bottom, left, right = _ints(ctx, spec, list(value), what, 4)
        return (top, bottom), (left, right)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, (list, tuple)) for v in value
    ):
        return tuple(_ints(ctx, spec, list(v), what) for v in value)
    rows, cols = _ints(ctx, spec, value, what)
    return (rows, rows), (cols, cols)


def _zeropadding(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """ZeroPadding2D."""
    _layout(ctx, spec, x)
    _check_keys(ctx, spec, {"padding", "dim_ordering", "data_format"})
    pads = _margins(ctx, spec, _arg(ctx, spec, ("padding",), 1), "padding")
    return keras.layers.ZeroPadding2D(pads, data_format="channels_last", name=spec.name)(x)


def _cropping(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """Cropping2D."""
    _layout(ctx, spec, x)
    _check_keys(ctx, spec, {"cropping", "dim_ordering", "data_format"})
    crops = _margins(ctx, spec, _arg(ctx, spec, ("cropping",), 0), "cropping")
    return keras.layers.Cropping2D(crops, data_format="channels_last", name=spec.name)(x)


def _flatten(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """Flatten; channels-first data are permuted back to (C, H, W) order first."""
    _check_keys(ctx, spec, {"data_format"})
    if _rank(x) == 4:
        if None in x.shape[1:]:
            raise ctx.error(spec, "needs a fixed input size (batch_input_shape)")
        # Keras 2's Flatten(data_format='channels_first') already flattened in (H, W, C) order.
        if ctx.ordering == "th" and spec.config.get("data_format") != "channels_first":
            x = keras.layers.Permute(
                (3, 1, 2), name=ctx.helper_name(f"{spec.name}_to_channels_first")
            )(x)
        ctx.fixed.append((spec.name, "Flatten (the next Dense weights expect its length)"))
    elif _rank(x) != 2:
        raise ctx.error(spec, f"unsupported {_rank(x)}-D input")
    return keras.layers.Flatten(name=spec.name)(x)


def _dense(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """Dense on 2-D data (kernel (in, out) in every Keras generation)."""
    _check_keys(ctx, spec, {"output_dim", "units", "bias", "use_bias", "activation"})
    if _rank(x) != 2:
        raise ctx.error(spec, f"unsupported {_rank(x)}-D input (only 2-D)")
    act = _activation(ctx, spec, spec.config.get("activation"), 2)
    layer = keras.layers.Dense(
        int(_arg(ctx, spec, ("output_dim", "units"))), activation=act,
        use_bias=bool(_arg(ctx, spec, ("bias", "use_bias"), True)), name=spec.name,
    )
    y = layer(x)
    ctx.plans.append(WeightPlan(spec, layer, lambda arrays: list(arrays)))
    return y


TRANSLATORS: dict[str, Callable[[Context, LayerSpec, Any], Any]] = {
    "Convolution2D": _conv2d, "Conv2D": _conv2d,
    "Deconvolution2D": _deconv2d, "Conv2DTranspose": _deconv2d,
    "BatchNormalization": _batchnorm, "Activation": _activation_layer, "Dropout": _dropout,
    "MaxPooling2D": _pooling, "AveragePooling2D": _pooling, "UpSampling2D": _upsampling,
    "ZeroPadding2D": _zeropadding, "Cropping2D": _cropping, "Flatten": _flatten,
    "Dense": _dense,
}


def translate(ctx: Context, spec: LayerSpec, x: Any) -> Any:
    """Add the Keras 3 equivalent of one file layer on top of ``x``; return its output."""
    translator = TRANSLATORS.get(spec.class_name)
    if translator is None:
        raise ctx.error(spec, "unsupported layer type")
    return translator(ctx, spec, x)
