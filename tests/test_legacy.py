"""Tests for models/legacy.py: Keras 1.2.2 / Keras 2 HDF5 files rebuilt as Keras 3 models.

The files are written here with h5py in the layout Keras 1.2.2 (``save_model`` and
``save_weights_to_hdf5_group``) and Keras 2 used; the converted models are compared with an
independent numpy forward pass of the original semantics (Theano: true convolution, padding
'half' plus crop; TensorFlow: cross-correlation with TF padding; transposed convolutions as the
transpose of that forward map; BN with ``running_std`` used as a variance).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
from scipy import signal

from data_prep.errors import InputError, run_cli
from models.legacy import convert_legacy, load_legacy_model, main, read_legacy_config

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- numpy reference


def ref_conv(x: np.ndarray, w: np.ndarray, mode: str, stride: int, backend: str) -> np.ndarray:
    """2-D convolution as Keras 1 computed it; x (N, I, H, W), w (O, I, kh, kw) -> (N, O, ., .)."""
    n, _, height, width = x.shape
    kh, kw = w.shape[2:]
    if backend == "theano":  # border 'half'/'full' pads both sides, then crops 'same' results
        ph = {"valid": 0, "same": kh // 2, "full": kh - 1}[mode]
        pw = {"valid": 0, "same": kw // 2, "full": kw - 1}[mode]
        pads = ((ph, ph), (pw, pw))
        op = signal.convolve  # true convolution
    else:
        pads = []
        for size, k in ((height, kh), (width, kw)):
            total = max((-(-size // stride) - 1) * stride + k - size, 0) if mode == "same" else 0
            pads.append((total // 2, total - total // 2))
        op = signal.correlate
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    out = np.stack([
        sum(op(xp[:, i], w[o, i][None], mode="valid") for i in range(x.shape[1]))
        for o in range(w.shape[0])
    ], axis=1)[:, :, ::stride, ::stride]
    if mode == "same":
        out = out[:, :, : -(-height // stride), : -(-width // stride)]
    return out


def ref_deconv(z: np.ndarray, w: np.ndarray, out_hw: tuple, mode: str, stride: int,
               backend: str) -> np.ndarray:
    """Transposed convolution: the transpose of the forward map out_hw -> z's size.

    w is the Keras 1 'th' kernel (nb_filter, stack_size, kh, kw); the forward convolution maps
    nb_filter channels to stack_size channels with kernel w.transpose(1, 0, 2, 3).
    """
    channels = w.shape[0]
    size = channels * out_hw[0] * out_hw[1]
    basis = np.eye(size).reshape(size, channels, *out_hw)
    forward = ref_conv(basis, w.transpose(1, 0, 2, 3), mode, stride, backend)
    assert forward.shape[2:] == z.shape[2:], (forward.shape, z.shape)
    matrix = forward.reshape(size, -1)  # rows: output basis vectors
    return (z.reshape(z.shape[0], -1) @ matrix.T).reshape(z.shape[0], channels, *out_hw)


def bn_axis(kind: str) -> int:
    """Channels-first axis normalised by a BN of this kind."""
    return {"channels": 1, "height": 2, "width": 3}[kind]


def forward(chain: list[dict], x: np.ndarray, backend: str, calibrate: bool = False) -> np.ndarray:
    """Run the chain on channels-first x (float64); with ``calibrate`` fill BN running stats."""
    rng = np.random.default_rng(7)
    for layer in chain:
        kind = layer["kind"]
        if kind == "conv":
            x = ref_conv(x, layer["w"], layer["mode"], layer["stride"], backend)
        elif kind == "deconv":
            x = ref_deconv(x, layer["w"], layer["out"], layer["mode"], layer["stride"], backend)
        if kind in ("conv", "deconv") and layer.get("b") is not None:
            x = x + layer["b"][None, :, None, None]
        if kind == "bn":
            axis = bn_axis(layer["axis"])
            shape = [1, 1, 1, 1]
            shape[axis] = x.shape[axis]
            if calibrate:
                others = tuple(a for a in range(4) if a != axis)
                size = x.shape[axis]
                layer["mean"] = x.mean(others) + rng.normal(0, 0.05, size)
                layer["var"] = x.var(others) * rng.uniform(0.8, 1.25, size) + 1e-3
                layer["gamma"] = rng.uniform(0.5, 1.5, size)
                layer["beta"] = rng.uniform(-0.3, 0.3, size)
            x = (x - layer["mean"].reshape(shape)) / np.sqrt(layer["var"].reshape(shape)
                                                             + layer["eps"])
            x = x * layer["gamma"].reshape(shape) + layer["beta"].reshape(shape)
        elif kind == "act":
            x = np.maximum(x, 0) if layer["fn"] == "relu" else 1 / (1 + np.exp(-x))
        elif kind == "pool":
            n, c, h, w = x.shape
            x = x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max((3, 5))
        elif kind == "up":
            x = x.repeat(layer["size"], axis=2).repeat(layer["size"], axis=3)
        elif kind == "pad":
            (t, b), (left, r) = layer["pads"]
            x = np.pad(x, ((0, 0), (0, 0), (t, b), (left, r)))
    return x


# ----------------------------------------------------------------------------- Keras 1.2.2 files


def conv(rng, name, out, inp, k, mode="same", stride=1, bias=False, kw=None) -> dict:
    """A convolution layer of the test chain (kernel stored as (out, in, kh, kw))."""
    kw = k if kw is None else kw
    w = rng.normal(0, 1 / np.sqrt(inp * k * kw), (out, inp, k, kw))
    return {"kind": "conv", "name": name, "w": w, "mode": mode, "stride": stride,
            "b": rng.normal(0, 0.1, out) if bias else None}


def published_chain(rng, filters, outputs, bn_kind="width", eps=1e-3) -> list[dict]:
    """The released layer chain (SPEC section 2) with the given filter counts."""
    kernels = (7, 5, 3, 5, 5, 7, 11, 11, 13)
    names = ("conv1", "conv2", "conv3") + tuple(f"conv{i}_n" for i in range(4, 10))
    chain, inp = [], 3
    layers = zip(names, kernels, list(filters) + [outputs], strict=True)
    for i, (name, k, out) in enumerate(layers, start=1):
        chain.append(conv(rng, name, out, inp, k))
        chain.append({"kind": "bn", "name": f"batchnormalization_{i}", "axis": bn_kind,
                      "eps": eps})
        chain.append({"kind": "act", "name": f"activation_{i}", "fn": "relu"})
        if i in (1, 2):
            chain.append({"kind": "pool", "name": f"pool{i}"})
        inp = out
    chain.append({"kind": "up", "name": "upsampling2d_1", "size": 4})
    chain.append(conv(rng, "convolution2d_1", outputs, outputs, 9))
    chain.append({"kind": "act", "name": "activation_10", "fn": "sigmoid"})
    return chain


def keras1_layer(layer: dict, ordering: str) -> tuple[dict, list[tuple[str, np.ndarray]]]:
    """(model_config entry with Keras 1.2.2 argument names, weight arrays as Keras 1 stored them)."""
    name, kind = layer["name"], layer["kind"]
    base = {"name": name, "trainable": True}
    if kind in ("conv", "deconv"):
        w = layer["w"] if ordering == "th" else layer["w"].transpose(2, 3, 1, 0)
        cfg = dict(base, nb_filter=layer["w"].shape[0], nb_row=layer["w"].shape[2],
                   nb_col=layer["w"].shape[3], init="glorot_uniform", activation="linear",
                   border_mode=layer["mode"], subsample=[layer["stride"]] * 2,
                   dim_ordering=ordering, W_regularizer=None, b_regularizer=None,
                   activity_regularizer=None, W_constraint=None, b_constraint=None,
                   bias=layer["b"] is not None)
        weights = [(f"{name}_W", w)] + ([(f"{name}_b", layer["b"])] if cfg["bias"] else [])
        if kind == "deconv":
            out = [None, layer["w"].shape[0], *layer["out"]]
            cfg["output_shape"] = out if ordering == "th" else [None, *layer["out"], out[1]]
            return {"class_name": "Deconvolution2D", "config": cfg}, weights
        return {"class_name": "Convolution2D", "config": cfg}, weights
    if kind == "bn":
        axis = {"th": {"channels": 1, "height": 2, "width": -1},
                "tf": {"channels": -1, "height": 1, "width": 2}}[ordering][layer["axis"]]
        cfg = dict(base, epsilon=layer["eps"], mode=0, axis=axis, gamma_regularizer=None,
                   beta_regularizer=None, momentum=0.99)
        weights = [(f"{name}_{key}", layer[src]) for key, src in (
            ("gamma", "gamma"), ("beta", "beta"), ("running_mean", "mean"), ("running_std", "var"))]
        return {"class_name": "BatchNormalization", "config": cfg}, weights
    if kind == "act":
        return {"class_name": "Activation", "config": dict(base, activation=layer["fn"])}, []
    if kind == "pool":
        cfg = dict(base, pool_size=[2, 2], strides=[2, 2], border_mode="valid",
                   dim_ordering=ordering)
        return {"class_name": "MaxPooling2D", "config": cfg}, []
    if kind == "up":
        cfg = dict(base, size=[layer["size"]] * 2, dim_ordering=ordering)
        return {"class_name": "UpSampling2D", "config": cfg}, []
    if kind == "pad":
        (t, b), (left, r) = layer["pads"]
        cfg = dict(base, padding=[t, b, left, r], dim_ordering=ordering)
        return {"class_name": "ZeroPadding2D", "config": cfg}, []
    if kind == "dropout":
        return {"class_name": "Dropout", "config": dict(base, p=0.5)}, []
    raise AssertionError(kind)


def write_keras1(path: Path, chain: list[dict], input_chw: tuple, ordering: str = "th",
                 backend: str = "theano", extra_layers: tuple = ()) -> Path:
    """Write a Sequential model file the way Keras 1.2.2's ``save_model`` did."""
    entries, weights = [], []
    for layer in chain:
        entry, arrays = keras1_layer(layer, ordering)
        entries.append(entry)
        weights.append((layer["name"], arrays))
    for entry in extra_layers:
        entries.append(entry)
        weights.append((entry["config"]["name"], []))
    c, h, w = input_chw
    entries[0]["config"]["batch_input_shape"] = [None, c, h, w] if ordering == "th" else [
        None, h, w, c]
    entries[0]["config"]["input_dtype"] = "float32"
    suffix = ":0" if backend == "tensorflow" else ""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"1.2.2"
        f.attrs["model_config"] = json.dumps(
            {"class_name": "Sequential", "config": entries}).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode("utf8") for name, _ in weights]
        for name, arrays in weights:
            g = group.create_group(name)
            names = [(n + suffix).encode("utf8") for n, _ in arrays]
            g.attrs["weight_names"] = names
            for n, (_, a) in zip(names, arrays, strict=True):
                g.create_dataset(n, data=np.asarray(a, dtype=np.float32))
        f.attrs["training_config"] = json.dumps({
            "optimizer_config": {"class_name": "Adam", "config": {"lr": 0.001}},
            "loss": "binary_crossentropy", "metrics": [], "sample_weight_mode": None,
            "loss_weights": None}).encode("utf8")
        opt = f.create_group("optimizer_weights")
        opt.attrs["weight_names"] = [b"iterations"]
        opt.create_dataset("iterations", data=np.float32(10))
    return path


def image_batch(rng, n: int, h: int, w: int) -> np.ndarray:
    """Random RGB 0-255 images, channels-first float64."""
    return rng.uniform(0, 255, (n, 3, h, w))


def predict(model: keras.Model, x_chw: np.ndarray) -> np.ndarray:
    """Run a channels-last Keras model on channels-first data; return channels-first output."""
    y = np.asarray(model(x_chw.transpose(0, 2, 3, 1).astype(np.float32), training=False))
    return y.transpose(0, 3, 1, 2) if y.ndim == 4 else y


# ----------------------------------------------------------------------------- fixtures

SMALL = {"filters": (4, 6, 8, 8, 8, 6, 5, 4), "outputs": 3, "hw": (16, 32)}


@pytest.fixture(scope="module")
def released_small(tmp_path_factory) -> dict:
    """A small released-chain Keras 1.2.2 / Theano file and its numpy reference outputs."""
    rng = np.random.default_rng(0)
    h, w = SMALL["hw"]
    chain = published_chain(rng, SMALL["filters"], SMALL["outputs"])
    x = image_batch(rng, 2, h, w)
    forward(chain, x, "theano", calibrate=True)
    path = write_keras1(tmp_path_factory.mktemp("legacy") / "pathnet_small.h5", chain, (3, h, w))
    return {"path": path, "chain": chain, "x": x,
            "theano": forward(chain, x, "theano"), "tensorflow": forward(chain, x, "tensorflow")}


# ----------------------------------------------------------------------------- tests


def test_released_chain_from_theano_matches_numpy(released_small):
    """Keras 1.2.2/Theano released chain: converted output equals the Theano reference."""
    info = read_legacy_config(released_small["path"])
    assert info["keras_version"] == "1.2.2"
    assert (info["backend"], info["dim_ordering"]) == ("theano", "th")
    assert info["input_shape"] == [None, 3, 16, 32]
    assert info["weights"]["conv1"] == [("conv1_W", (4, 3, 7, 7))]
    assert info["weights"]["batchnormalization_1"][3] == ("batchnormalization_1_running_std", (32,))

    model, report = convert_legacy(released_small["path"])
    assert report["flipped"] and report["input_size"] == (16, 32)
    assert len(report["fixed_input"]) == 9
    assert report["fixed_input"][0] == ("batchnormalization_1",
                                        "BatchNormalization per image width position")
    names = [layer.name for layer in model.layers]
    assert names[:6] == ["conv1_input", "conv1", "batchnormalization_1", "activation_1", "pool1",
                         "conv2"]
    assert names[-3:] == ["upsampling2d_1", "convolution2d_1", "activation_10"]
    bn = model.get_layer("batchnormalization_3")
    assert bn.axis == 2 and tuple(bn.gamma.shape) == (8,)  # one entry per column of 4x8 maps
    assert model.get_layer("conv1").kernel.shape == (7, 7, 3, 4)
    assert model.get_layer("conv1").bias is None

    got = predict(model, released_small["x"])
    want = released_small["theano"]
    assert got.shape == want.shape == (2, 3, 16, 32)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    spread = (want > 0.05) & (want < 0.95)
    assert spread.mean() > 0.3  # not a saturated, trivially matching output
    # Without the flip (a plain Keras 2 port) the result is wrong: the test can fail.
    assert np.abs(released_small["tensorflow"] - want).max() > 1e-2


def test_backend_override_skips_the_flip(released_small):
    """backend='tensorflow' on a Theano file gives cross-correlation semantics."""
    model = load_legacy_model(released_small["path"], backend="tensorflow")
    np.testing.assert_allclose(predict(model, released_small["x"]), released_small["tensorflow"],
                               atol=1e-4, rtol=0)


@pytest.mark.parametrize("ordering,bn_kind", [("th", "height"), ("tf", "channels")])
def test_keras1_tensorflow_backend_file(tmp_path, ordering, bn_kind):
    """Keras 1 TF-backend files (weights 'name:0'): no flip, (h,w,in,out) kernels for 'tf'."""
    rng = np.random.default_rng(1)
    chain = published_chain(rng, (3, 4, 4, 4, 3, 3, 3, 3), 2, bn_kind=bn_kind, eps=1e-4)
    chain[0]["b"] = rng.normal(0, 0.5, 3)  # a conv with bias too
    x = image_batch(rng, 1, 8, 16)
    forward(chain, x, "tensorflow", calibrate=True)
    path = write_keras1(tmp_path / "tf.h5", chain, (3, 8, 16), ordering, backend="tensorflow")
    info = read_legacy_config(path)
    assert info["backend"] == "tensorflow" and info["dim_ordering"] == ordering
    model, report = convert_legacy(path)
    assert not report["flipped"]
    assert model.get_layer("batchnormalization_1").epsilon == pytest.approx(1e-4)
    np.testing.assert_allclose(predict(model, x), forward(chain, x, "tensorflow"), atol=1e-4,
                               rtol=0)


@pytest.mark.parametrize("backend", ["theano", "tensorflow"])
def test_padding_strides_and_deconvolution(tmp_path, backend):
    """Even kernels, strided 'same', 'full' (Theano) and Deconvolution2D keep Keras 1 semantics."""
    rng = np.random.default_rng(2)
    chain = [
        conv(rng, "even", 3, 3, 4, bias=True),                      # 9x10 -> 9x10
        {"kind": "pad", "name": "zeropadding2d_1", "pads": ((1, 0), (0, 2))},  # -> 10x12
        conv(rng, "strided", 4, 3, 3, stride=2, kw=5),             # -> 5x6
        {"kind": "bn", "name": "bn_h", "axis": "height", "eps": 1e-3},
        {"kind": "act", "name": "act_a", "fn": "relu"},
    ]
    if backend == "theano":
        chain.append(conv(rng, "full", 4, 4, 3, mode="full"))     # -> 7x8
    n_hw = (7, 8) if backend == "theano" else (5, 6)
    w1 = rng.normal(0, 0.3, (3, 4, 3, 3))
    chain.append({"kind": "deconv", "name": "up_same", "w": w1, "mode": "same", "stride": 2,
                  "out": (2 * n_hw[0], 2 * n_hw[1]), "b": rng.normal(0, 0.1, 3)})
    out2 = tuple((s - 1) * 2 + 4 + 1 for s in (2 * n_hw[0], 2 * n_hw[1]))
    chain.append({"kind": "deconv", "name": "up_valid", "w": rng.normal(0, 0.3, (2, 3, 4, 4)),
                  "mode": "valid", "stride": 2, "out": out2, "b": None})
    chain.append({"kind": "dropout", "name": "dropout_1"})
    chain.append({"kind": "act", "name": "act_b", "fn": "sigmoid"})
    x = image_batch(rng, 2, 9, 10) / 255.0
    forward(chain, x, backend, calibrate=True)
    path = write_keras1(tmp_path / "pads.h5", chain, (3, 9, 10), "th", backend=backend)
    model, report = convert_legacy(path)
    want = forward(chain, x, backend)
    assert want.shape == (2, 2) + out2
    np.testing.assert_allclose(predict(model, x), want, atol=1e-4, rtol=0)
    assert ("bn_h", "BatchNormalization per image height position") in report["fixed_input"]
    if backend == "theano":  # explicit padding replaces Theano's 'half' border mode
        assert {"even_pad", "strided_pad", "full_pad"} <= {layer.name for layer in model.layers}


def keras2_file(path: Path, config: dict, weights: list, backend: str) -> Path:
    """Write a model file in the Keras 2.1 layout (backend attributes, nested weight names)."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.1.6"
        f.attrs["backend"] = backend.encode()
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode() for name, _ in weights]
        group.attrs["backend"] = backend.encode()
        group.attrs["keras_version"] = b"2.1.6"
        for name, arrays in weights:
            g = group.create_group(name)
            g.attrs["weight_names"] = [f"{name}/{n}:0".encode() for n, _ in arrays]
            for n, a in arrays:
                g.create_dataset(f"{name}/{n}:0", data=np.asarray(a, dtype=np.float32))
    return path


def test_keras2_functional_channels_first_flatten_dense(tmp_path):
    """Keras 2 functional model, channels_first: Flatten keeps the Dense weights valid."""
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.2, (4, 3, 3, 3))  # (out, in, h, w) for the reference
    bias = rng.normal(0, 0.1, 4)
    bn = {"kind": "bn", "name": "bn", "axis": "channels", "eps": 1e-3}
    chain = [{"kind": "conv", "name": "conv", "w": w, "mode": "same", "stride": 1, "b": bias},
             bn, {"kind": "act", "name": "relu", "fn": "relu"}, {"kind": "pool", "name": "pool"}]
    x = rng.normal(0, 1, (2, 3, 6, 8))
    feats = forward(chain, x, "tensorflow", calibrate=True)
    dense_w, dense_b = rng.normal(0, 0.3, (4 * 3 * 4, 5)), rng.normal(0, 0.1, 5)
    logits = feats.reshape(2, -1) @ dense_w + dense_b  # channels-first (C, H, W) order
    want = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)

    def node(name):
        return [[[name, 0, 0, {}]]]

    cf = {"data_format": "channels_first"}
    layers = [
        {"name": "input_1", "class_name": "InputLayer", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 3, 6, 8], "dtype": "float32", "sparse": False,
                    "name": "input_1"}},
        {"name": "conv", "class_name": "Conv2D", "inbound_nodes": node("input_1"),
         "config": dict(cf, name="conv", trainable=True, filters=4, kernel_size=[3, 3],
                        strides=[1, 1], padding="same", dilation_rate=[1, 1],
                        activation="linear", use_bias=True, kernel_initializer={
                            "class_name": "VarianceScaling", "config": {"scale": 1.0}},
                        bias_initializer={"class_name": "Zeros", "config": {}},
                        kernel_regularizer=None, bias_regularizer=None,
                        activity_regularizer=None, kernel_constraint=None,
                        bias_constraint=None)},
        {"name": "bn", "class_name": "BatchNormalization", "inbound_nodes": node("conv"),
         "config": {"name": "bn", "trainable": True, "axis": 1, "momentum": 0.99,
                    "epsilon": 0.001, "center": True, "scale": True,
                    "beta_initializer": {"class_name": "Zeros", "config": {}},
                    "gamma_regularizer": None}},
        {"name": "relu", "class_name": "Activation", "inbound_nodes": node("bn"),
         "config": {"name": "relu", "trainable": True, "activation": "relu"}},
        {"name": "pool", "class_name": "MaxPooling2D", "inbound_nodes": node("relu"),
         "config": dict(cf, name="pool", trainable=True, pool_size=[2, 2], padding="valid",
                        strides=[2, 2])},
        {"name": "flatten", "class_name": "Flatten", "inbound_nodes": node("pool"),
         "config": {"name": "flatten", "trainable": True, "data_format": "channels_last"}},
        {"name": "dense", "class_name": "Dense", "inbound_nodes": node("flatten"),
         "config": {"name": "dense", "trainable": True, "units": 5, "activation": "softmax",
                    "use_bias": True, "kernel_regularizer": None}},
    ]
    config = {"class_name": "Model", "config": {"name": "model_1", "layers": layers,
                                                "input_layers": [["input_1", 0, 0]],
                                                "output_layers": [["dense", 0, 0]]}}
    weights = [("input_1", []), ("conv", [("kernel", w.transpose(2, 3, 1, 0)), ("bias", bias)]),
               ("bn", [("gamma", bn["gamma"]), ("beta", bn["beta"]),
                       ("moving_mean", bn["mean"]), ("moving_variance", bn["var"])]),
               ("relu", []), ("pool", []), ("flatten", []),
               ("dense", [("kernel", dense_w), ("bias", dense_b)])]
    path = keras2_file(tmp_path / "k2.h5", config, weights, "tensorflow")
    model, report = convert_legacy(path)
    assert report["keras_version"] == "2.1.6" and report["backend_source"].startswith("the file")
    assert "flatten_to_channels_first" in [layer.name for layer in model.layers]
    assert [layer for layer, _ in report["fixed_input"]] == ["flatten"]
    np.testing.assert_allclose(predict(model, x), want, atol=1e-5, rtol=0)


def test_keras2_sequential_dict_form_from_theano(tmp_path):
    """Keras 2 Sequential (dict form) saved on Theano: Conv2D/Conv2DTranspose kernels flipped."""
    rng = np.random.default_rng(4)
    w = rng.normal(0, 0.3, (3, 2, 3, 3))
    wt = rng.normal(0, 0.3, (2, 3, 3, 3))  # Keras 1 'th' layout (nb_filter, stack, kh, kw)
    chain = [{"kind": "conv", "name": "c", "w": w, "mode": "same", "stride": 1, "b": None},
             {"kind": "deconv", "name": "t", "w": wt, "mode": "same", "stride": 2,
              "out": (10, 12), "b": None},
             {"kind": "up", "name": "u", "size": 2}]
    x = rng.normal(0, 1, (1, 2, 5, 6))
    want = forward(chain, x, "theano")
    cl = {"data_format": "channels_last", "trainable": True}
    layers = [
        {"class_name": "Conv2D", "config": dict(cl, name="c", filters=3, kernel_size=[3, 3],
                                                strides=[1, 1], padding="same",
                                                dilation_rate=[1, 1], activation="linear",
                                                use_bias=False, batch_input_shape=[None, 5, 6, 2],
                                                dtype="float32")},
        {"class_name": "Conv2DTranspose", "config": dict(cl, name="t", filters=2,
                                                         kernel_size=[3, 3], strides=[2, 2],
                                                         padding="same", activation="linear",
                                                         use_bias=False)},
        {"class_name": "UpSampling2D", "config": dict(cl, name="u", size=[2, 2])},
    ]
    config = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": layers}}
    weights = [("c", [("kernel", w.transpose(2, 3, 1, 0))]),
               ("t", [("kernel", wt.transpose(2, 3, 0, 1))]), ("u", [])]
    path = keras2_file(tmp_path / "k2th.h5", config, weights, "theano")
    model, report = convert_legacy(path)
    assert report["backend"] == "theano" and report["flipped"]
    assert report["fixed_input"] == []
    np.testing.assert_allclose(predict(model, x), want, atol=1e-5, rtol=0)


def small_file(tmp_path, name="f.h5", extra_layers=()) -> Path:
    """A tiny valid Keras 1.2.2 file: conv -> BN -> relu."""
    rng = np.random.default_rng(5)
    chain = [conv(rng, "conv1", 2, 3, 3),
             {"kind": "bn", "name": "batchnormalization_1", "axis": "width", "eps": 1e-3,
              "gamma": np.ones(8), "beta": np.zeros(8), "mean": np.zeros(8), "var": np.ones(8)},
             {"kind": "act", "name": "activation_1", "fn": "relu"}]
    return write_keras1(tmp_path / name, chain, (3, 4, 8), extra_layers=extra_layers)


def test_unknown_layer_and_arguments_are_refused(tmp_path):
    """An unknown layer type or argument value gives one line naming the file and layer."""
    lam = {"class_name": "Lambda", "config": {"name": "lambda_1", "trainable": True,
                                              "function": ["4wEAAAAAAAAA", None, None],
                                              "function_type": "lambda"}}
    path = small_file(tmp_path, "lambda.h5", extra_layers=(lam,))
    with pytest.raises(InputError) as err:
        load_legacy_model(path)
    message = str(err.value)
    assert message == f"{path}: layer 'lambda_1' (Lambda): unsupported layer type"
    bad = small_file(tmp_path, "mode2.h5")
    with h5py.File(bad, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"][1]["config"]["mode"] = 2
        config["config"][0]["config"]["border_mode"] = "causal"
        f.attrs["model_config"] = json.dumps(config).encode()
    with pytest.raises(InputError, match=r"layer 'conv1' \(Convolution2D\): unsupported "
                                         r"border_mode 'causal'"):
        load_legacy_model(bad)
    with h5py.File(bad, "r+") as f:
        config["config"][0]["config"]["border_mode"] = "same"
        f.attrs["model_config"] = json.dumps(config).encode()
    with pytest.raises(InputError, match=r"'batchnormalization_1' \(BatchNormalization\): "
                                         r"unsupported mode 2"):
        load_legacy_model(bad)


def test_broken_files_are_refused(tmp_path):
    """Truncated files, missing parts and misshaped weights: one line naming the file."""
    good = small_file(tmp_path)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"truncated\.h5: not a readable Keras HDF5 model file"):
        load_legacy_model(truncated)
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(InputError, match="garbage.h5: not a readable"):
        read_legacy_config(garbage)
    with pytest.raises(InputError, match="missing.h5: no such file"):
        read_legacy_config(tmp_path / "missing.h5")
    with h5py.File(good, "r+") as f:
        del f["model_weights"]["conv1"]["conv1_W"]
        f["model_weights"]["conv1"].create_dataset("conv1_W", data=np.zeros((2, 3, 5, 5)))
    with pytest.raises(InputError, match=r"f\.h5: layer 'conv1' \(Convolution2D\): weight "
                                         r"'conv1_W' has shape \(2, 3, 5, 5\)"):
        load_legacy_model(good)
    with h5py.File(good, "r+") as f:
        del f.attrs["model_config"]
    with pytest.raises(InputError, match="f.h5: no model_config attribute"):
        load_legacy_model(good)


def test_cli_round_trip_through_keras_file(released_small, tmp_path, capsys):
    """CLI: writes OUT.keras (safe-mode loadable), prints the chain, refuses to overwrite."""
    out = tmp_path / "converted.keras"
    src = str(released_small["path"])
    assert run_cli(main, [src, str(out)]) == 0
    printed = capsys.readouterr().out
    model = keras.saving.load_model(out, safe_mode=True)
    assert "conv9_n" in printed and "batchnormalization_1" in printed
    assert f"parameters: {model.count_params():,}" in printed
    assert "fixed input size: 16x32" in printed and "flipped" in printed
    assert "width position: batchnormalization_1 ... batchnormalization_9 (9 layers)" in printed
    np.testing.assert_allclose(predict(model, released_small["x"]), released_small["theano"],
                               atol=1e-4, rtol=0)
    before = out.read_bytes()
    assert run_cli(main, [src, str(out)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out.read_bytes() == before
    assert run_cli(main, [src, str(out), "--force", "--backend", "theano"]) == 0
    capsys.readouterr()
    assert run_cli(main, [src, str(tmp_path / "x.h5")]) == 2
    assert "must be a .keras file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["converted.keras"]


def test_module_entry_point(released_small, tmp_path):
    """``python -m models.legacy`` runs as a module and converts the file."""
    out = tmp_path / "m.keras"
    done = subprocess.run([sys.executable, "-m", "models.legacy", str(released_small["path"]),
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "parameters:" in done.stdout and out.is_file()


def test_converted_file_loads_by_name_into_published_arch(tmp_path):
    """A released-chain file (real filter counts, small input) fills build_saltinet 'published'."""
    saltinet = pytest.importorskip("models.saltinet")
    rng = np.random.default_rng(6)
    chain = published_chain(rng, (96, 256, 512, 512, 512, 256, 128, 32), 12)
    for layer in chain:
        if layer["kind"] == "bn":
            size = 16 if layer["name"] == "batchnormalization_1" else (
                8 if layer["name"] == "batchnormalization_2" else 4)
            layer.update(gamma=rng.uniform(0.5, 1.5, size), beta=rng.normal(0, 0.1, size),
                         mean=rng.normal(0, 0.1, size), var=rng.uniform(0.5, 2, size))
    path = write_keras1(tmp_path / "full.h5", chain, (3, 8, 16))
    converted = load_legacy_model(path)
    target = saltinet.build_saltinet(12, input_shape=(8, 16, 3), arch="published")
    assert converted.count_params() == target.count_params()
    filled = saltinet.transfer_weights(converted, target, match="name")
    assert sorted(filled) == sorted(layer.name for layer in target.layers if layer.weights)
    x = rng.uniform(0, 255, (1, 8, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(target(x)), np.asarray(converted(x)), atol=1e-5)


# ----------------------------------------------------------------------------- weights/fetch.py


def load_fetch():
    """Import weights/fetch.py (a script, not a package module)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("weights_fetch", ROOT / "weights" / "fetch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeResponse:
    """A urlopen() result serving ``data`` in small pieces."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0
        self.headers = {"Content-Length": str(len(data))}

    def read(self, n: int) -> bytes:
        """Next piece (at most 7 bytes, to exercise the loop)."""
        piece = self.data[self.pos: self.pos + min(n, 7)]
        self.pos += len(piece)
        return piece

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def fake_manifest(tmp_path: Path, sha256=None, size=None) -> Path:
    """A manifest with one entry, like weights/manifest.json."""
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"format_version": 1, "files": [{
        "name": "model.h5", "url": "https://example.org/model.h5", "size_bytes": size,
        "sha256": sha256, "sha256_note": "recorded on first successful download"}]}))
    return path


def test_manifest_lists_the_published_model():
    """weights/manifest.json describes pathnet_model_v2.h5 as the brief requires."""
    fetch = load_fetch()
    entry = fetch.find_entry(fetch.load_manifest(), "pathnet_model_v2.h5")
    assert entry["url"].startswith("https://github.com/massens/saliency-360salient-2017/")
    assert entry["url"].endswith("/pathnet_model_v2.h5")
    assert (entry["arch"], entry["input_size"]) == ("published", [300, 600])
    assert entry["framework"] == "Keras 1.2.2 / Theano"
    assert entry["sha256"] is None or len(entry["sha256"]) == 64


def test_fetch_without_network_fails_in_one_line(tmp_path, monkeypatch, capsys):
    """No network: exit 2, one line naming the URL and where to save the file, no file."""
    import urllib.error
    import urllib.request

    fetch = load_fetch()
    manifest = fake_manifest(tmp_path)

    def offline(url, timeout=None):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    dest = tmp_path / "out"
    assert run_cli(fetch.main, ["model.h5", "--dest", str(dest), "--manifest", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    line = err.strip()
    assert line.startswith(f"error: {dest / 'model.h5'}: cannot download")
    assert "name resolution" in line
    assert "download it by hand from https://example.org/model.h5" in line
    assert line.endswith(f"save it as {dest / 'model.h5'}")
    assert not dest.exists() or not any(dest.iterdir())
    assert json.loads(manifest.read_text())["files"][0]["sha256"] is None


def test_fetch_checks_and_records_checksums(tmp_path, monkeypatch, capsys):
    """A wrong sha256 or size is rejected (nothing kept); the first good download records it."""
    import hashlib
    import urllib.request

    fetch = load_fetch()
    data = b"pretend these are 100 MB of Keras 1.2.2 weights"
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: FakeResponse(data))
    args = ["model.h5", "--dest", str(tmp_path / "w")]
    bad = fake_manifest(tmp_path, sha256="0" * 64)
    assert run_cli(fetch.main, args + ["--manifest", str(bad)]) == 2
    assert "does not match the manifest's" in capsys.readouterr().err
    assert not any((tmp_path / "w").iterdir())
    bad = fake_manifest(tmp_path, size=len(data) + 1)
    assert run_cli(fetch.main, args + ["--manifest", str(bad)]) == 2
    assert f"downloaded {len(data)} bytes but the manifest says" in capsys.readouterr().err
    assert not any((tmp_path / "w").iterdir())

    manifest = fake_manifest(tmp_path)
    assert run_cli(fetch.main, args + ["--manifest", str(manifest)]) == 0
    assert (tmp_path / "w" / "model.h5").read_bytes() == data
    entry = json.loads(manifest.read_text())["files"][0]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["size_bytes"] == len(data)
    capsys.readouterr()
    assert run_cli(fetch.main, args + ["--manifest", str(manifest)]) == 2  # no overwrite
    assert "already exists" in capsys.readouterr().err
    assert run_cli(fetch.main, args + ["--manifest", str(manifest), "--force"]) == 0  # verified
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["model.h5"]


def test_converted_and_legacy_files_sample_scanpaths(released_small, tmp_path):
    """The issue's chain: convert with models.legacy, then sample_scanpaths.py --weights on an image."""
    from PIL import Image

    import sample_scanpaths
    from data_prep.salient360 import read_model_scanpaths

    converted = tmp_path / "pathnet_small.keras"
    assert run_cli(main, [str(released_small["path"]), str(converted)]) == 0
    pano = tmp_path / "pano.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (50, 100, 3), dtype=np.uint8)).save(pano)
    for weights, out in ((converted, tmp_path / "a"), (released_small["path"], tmp_path / "b")):
        assert run_cli(sample_scanpaths.main, ["--image", str(pano), "--weights", str(weights),
                                               "--n-paths", "5", "--out", str(out), "--no-figures"]) == 0
        rows = read_model_scanpaths(out / "pano.csv", 100, 50)
        assert rows[:, 0].max() == 5
    # the legacy file is converted on the fly to the same model: identical scan-paths
    assert (tmp_path / "a" / "pano.csv").read_bytes() == (tmp_path / "b" / "pano.csv").read_bytes()
