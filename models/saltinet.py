"""The SaltiNet network (SPEC section 2): the paper's architecture and the released one.

Two architectures share one builder, :func:`build_saltinet`:

``arch="paper"``
    The network as the paper describes it (the deep SalNet of Pan et al. 2016 with a new
    last layer): conv1 96@7 -> ReLU -> LRN -> max-pool 3x3/2 -> conv2 256@5 -> ReLU ->
    max-pool 3x3/2 -> conv3 512@3 -> conv4 512@5 -> conv5 512@5 -> conv6 256@7 ->
    conv7 128@11 -> conv8 32@11 (all ReLU) -> conv9 C@13 (linear) -> 8x8 stride-4
    transposed convolution without bias -> sigmoid. Stride 1 and 'same' padding everywhere,
    pools in 'same' (ceil) mode. The input (RGB 0-255) first goes through a parameter-free
    ``Rescaling`` layer, ``x / 127.5 - 1``, which maps it to [-1, 1] so that training from
    scratch starts well conditioned; it has no weights, so parameter counts are the paper's.
    Layer names: ``rescale``, ``conv1`` ... ``conv9``, ``lrn``, ``pool1``, ``pool2``,
    ``deconv``, ``sigmoid`` (stable: conv1-conv8 transfer by name between the C=1 map model
    and the C=12 volume model).

``arch="published"``
    The chain of the released weights ``pathnet_model_v2.h5`` (Keras 1.2.2, Theano): every
    convolution without bias, then BatchNormalization over the image *width* (axis 2 in
    channels-last, because the original used ``axis=-1`` on channels-first data), then ReLU;
    2x2 stride-2 'valid' max-pools after the first two blocks; conv9 (C filters) -> BN ->
    ReLU; UpSampling2D(4) -> 9x9 convolution without bias (C filters) -> sigmoid. No input
    rescaling (the released code feeds RGB 0-255 as is) and no LRN. Because BN has one
    weight per image column, the model is tied to its input width. Layer names are
    :data:`PUBLISHED_LAYER_NAMES`: the explicit names of the released file (conv1, conv2,
    conv3, conv4_n ... conv9_n, pool1, pool2) and, for the layers the original code left
    unnamed, the names Keras 1.2.2 generates in a fresh session (``batchnormalization_1``
    ..., ``activation_1`` ..., ``upsampling2d_1``, ``convolution2d_1``). When a file numbers
    its unnamed layers differently, :func:`transfer_weights` with ``match="order"`` pairs
    the weighted layers in sequence instead.
"""

from __future__ import annotations

import numbers

import keras

from models.layers import LocalResponseNormalization

ARCHS = ("paper", "published")

# (filters, kernel) of conv1..conv8, shared by both architectures (only the names differ).
_TRUNK = ((96, 7), (256, 5), (512, 3), (512, 5), (512, 5), (256, 7), (128, 11), (32, 11))
PAPER_CONV_NAMES = tuple(f"conv{i}" for i in range(1, 10))
PUBLISHED_CONV_NAMES = ("conv1", "conv2", "conv3") + tuple(f"conv{i}_n" for i in range(4, 10))
PUBLISHED_LAST_CONV = "convolution2d_1"
PUBLISHED_UPSAMPLING = "upsampling2d_1"


def _published_layer_names() -> tuple[str, ...]:
    """Layer names of the published chain in order (the Keras-1.2.2 names, see module doc)."""
    names: list[str] = []
    for i, conv in enumerate(PUBLISHED_CONV_NAMES, start=1):
        names += [conv, f"batchnormalization_{i}", f"activation_{i}"]
        if i in (1, 2):
            names.append(f"pool{i}")
    return tuple(names + [PUBLISHED_UPSAMPLING, PUBLISHED_LAST_CONV, "activation_10"])


PUBLISHED_LAYER_NAMES = _published_layer_names()


def check_input_shape(input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """Validate ``(height, width, 3)`` with height and width positive multiples of 4."""
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (height, width, 3), got {input_shape}")
    height, width, channels = shape
    if not isinstance(channels, numbers.Integral) or channels != 3:
        raise ValueError(f"input_shape {shape}: the network takes 3 (RGB) channels, got {channels}")
    for label, size in (("height", height), ("width", width)):
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 4 or size % 4:
            raise ValueError(
                f"input size {height}x{width}: {label} {size} is not a positive multiple of 4, so "
                "the two stride-2 pools and the 4x upsampling do not map back to the input size; "
                "use e.g. 300x600 or 96x192"
            )
    return int(height), int(width), 3


def build_saltinet(
    outputs: int = 12,
    input_shape: tuple[int, int, int] = (300, 600, 3),
    arch: str = "paper",
    name: str | None = None,
) -> keras.Model:
    """Build SaltiNet: RGB 0-255 float32 (None, H, W, 3) -> float32 sigmoid (None, H, W, outputs).

    ``outputs=12`` is the saliency-volume model, ``outputs=1`` the saliency-map model.
    Height and width must be multiples of 4. Under the ``mixed_bfloat16`` policy the network
    computes in bfloat16 and the final sigmoid stays in float32.

    Example:
    ```python
    from models.saltinet import build_saltinet

    volume_model = build_saltinet(outputs=12)            # 25,874,860 parameters
    map_model = build_saltinet(outputs=1)                # 25,806,209 parameters
    tiny = build_saltinet(12, input_shape=(96, 192, 3))  # fully convolutional
    released = build_saltinet(12, arch="published")      # 25,882,792 parameters
    ```
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; expected one of {ARCHS}")
    if int(outputs) != outputs or outputs < 1:
        raise ValueError(f"outputs must be a positive integer, got {outputs}")
    shape = check_input_shape(input_shape)
    inputs = keras.Input(shape=shape, dtype="float32", name="image")
    if arch == "paper":
        result = _paper(inputs, int(outputs))
        default_name = "saltinet_volume" if outputs > 1 else "saltinet_map"
    else:
        result = _published(inputs, int(outputs))
        default_name = "saltinet_published"
    return keras.Model(inputs, result, name=name or default_name)


def _paper(x, outputs: int):
    """The paper's layer chain (see the module docstring)."""
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(x)
    filters = list(_TRUNK) + [(outputs, 13)]
    for i, (count, size) in enumerate(filters, start=1):
        x = keras.layers.Conv2D(
            count,
            size,
            padding="same",
            activation="relu" if i < 9 else None,
            name=PAPER_CONV_NAMES[i - 1],
        )(x)
        if i == 1:
            x = LocalResponseNormalization(size=5, alpha=1e-4, beta=0.75, k=1.0, name="lrn")(x)
        if i in (1, 2):
            x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{i}")(x)
    x = keras.layers.Conv2DTranspose(
        outputs, 8, strides=4, padding="same", use_bias=False, name="deconv"
    )(x)
    return keras.layers.Activation("sigmoid", dtype="float32", name="sigmoid")(x)


def _published(x, outputs: int):
    """The released layer chain (see the module docstring)."""
    names = iter(PUBLISHED_LAYER_NAMES)
    filters = list(_TRUNK) + [(outputs, 13)]
    for i, (count, size) in enumerate(filters, start=1):
        x = keras.layers.Conv2D(count, size, padding="same", use_bias=False, name=next(names))(x)
        x = keras.layers.BatchNormalization(axis=2, name=next(names))(x)
        x = keras.layers.Activation("relu", name=next(names))(x)
        if i in (1, 2):
            x = keras.layers.MaxPooling2D(2, strides=2, padding="valid", name=next(names))(x)
    x = keras.layers.UpSampling2D(4, interpolation="nearest", name=next(names))(x)
    x = keras.layers.Conv2D(outputs, 9, padding="same", use_bias=False, name=next(names))(x)
    return keras.layers.Activation("sigmoid", dtype="float32", name=next(names))(x)


def transfer_weights(source: keras.Model, target: keras.Model, match: str = "name") -> list[str]:
    """Copy weights from ``source`` into ``target``; return the target layer names filled.

    ``match="name"``: every target layer that has weights and a source layer of the same name
    whose weight shapes are identical (e.g. conv1-conv8 between the map and volume heads;
    conv9 and deconv differ and are skipped). ``match="order"``: the layers with weights are
    paired in sequence (same count, class and weight shapes required; a ValueError names the
    first mismatch) - for files whose auto-generated layer names differ.
    """
    if match == "name":
        by_name = {layer.name: layer for layer in source.layers}
        done = []
        for layer in target.layers:
            other = by_name.get(layer.name)
            if not layer.weights or other is None or not other.weights:
                continue
            values = other.get_weights()
            if [v.shape for v in values] != [tuple(w.shape) for w in layer.weights]:
                continue
            layer.set_weights(values)
            done.append(layer.name)
        return done
    if match != "order":
        raise ValueError(f"match must be 'name' or 'order', got {match!r}")
    src = [layer for layer in source.layers if layer.weights]
    dst = [layer for layer in target.layers if layer.weights]
    if len(src) != len(dst):
        raise ValueError(f"source has {len(src)} layers with weights, target {len(dst)}")
    for a, b in zip(src, dst, strict=True):
        shapes_a = [tuple(w.shape) for w in a.weights]
        shapes_b = [tuple(w.shape) for w in b.weights]
        if type(a).__name__ != type(b).__name__ or shapes_a != shapes_b:
            raise ValueError(
                f"layer {a.name} ({type(a).__name__} {shapes_a}) does not match "
                f"{b.name} ({type(b).__name__} {shapes_b})"
            )
    for a, b in zip(src, dst, strict=True):
        b.set_weights(a.get_weights())
    return [layer.name for layer in dst]
