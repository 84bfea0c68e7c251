"""Tests of the SaltiNet builder (both architectures) and the LRN layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from models.layers import LocalResponseNormalization
from models.saltinet import (
    PUBLISHED_CONV_NAMES,
    PUBLISHED_LAYER_NAMES,
    build_saltinet,
    transfer_weights,
)

TINY = (32, 64, 3)


@pytest.fixture
def bf16_policy():
    """Switch to mixed_bfloat16 for one test and always restore the previous policy."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _images(n: int, shape=TINY, seed: int = 0) -> np.ndarray:
    """Random RGB 0-255 float32 images."""
    return np.random.default_rng(seed).uniform(0, 255, size=(n,) + tuple(shape)).astype("float32")


def _convs(outputs: int, bias: bool) -> int:
    """Parameters of conv1..conv9 by hand: sum of k*k*in*out (+ out when with bias)."""
    chain = [(3, 96, 7), (96, 256, 5), (256, 512, 3), (512, 512, 5), (512, 512, 5),
             (512, 256, 7), (256, 128, 11), (128, 32, 11), (32, outputs, 13)]
    return sum(k * k * i * o + (o if bias else 0) for i, o, k in chain)


# --- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["paper", "published"])
@pytest.mark.parametrize("outputs", [1, 12])
def test_output_shape_and_range_at_tiny_size(arch, outputs):
    model = build_saltinet(outputs, TINY, arch=arch)
    assert model.output_shape == (None, 32, 64, outputs)
    y = keras.ops.convert_to_numpy(model(_images(2), training=False))
    assert y.shape == (2, 32, 64, outputs)
    assert y.dtype == np.float32
    assert np.all((y >= 0) & (y <= 1))


def test_shape_at_96x192_and_internal_sizes():
    model = build_saltinet(12, (96, 192, 3))
    assert model.get_layer("pool1").output.shape[1:3] == (48, 96)
    assert model.get_layer("pool2").output.shape[1:3] == (24, 48)
    assert model.get_layer("conv9").output.shape[1:] == (24, 48, 12)
    assert model.get_layer("deconv").output.shape[1:] == (96, 192, 12)
    assert model.output_shape == (None, 96, 192, 12)


def test_paper_deconv_returns_exactly_four_times_at_full_size():
    model = build_saltinet(12)
    assert model.get_layer("pool2").output.shape[1:3] == (75, 150)
    assert model.output_shape == (None, 300, 600, 12)


def test_paper_layer_names_and_rescaling():
    model = build_saltinet(1, TINY)
    names = [layer.name for layer in model.layers]
    for expected in [f"conv{i}" for i in range(1, 10)] + ["lrn", "pool1", "pool2", "deconv"]:
        assert expected in names
    rescale = model.get_layer("rescale")
    assert not rescale.weights
    out = keras.ops.convert_to_numpy(rescale(np.array([[0.0, 127.5, 255.0]], "float32")))
    np.testing.assert_allclose(out, [[-1.0, 0.0, 1.0]], atol=1e-6)
    assert model.get_layer("deconv").use_bias is False
    assert model.get_layer("conv9").activation.__name__ == "linear"
    assert model.get_layer("sigmoid").dtype_policy.compute_dtype == "float32"


# --- parameter counts (built at 300x600 without running) --------------------------------------


def test_paper_parameter_counts_exact():
    """C=1: convs with bias 25,806,145 + deconv 8*8*1*1 = 25,806,209 (the paper's 25.8 M).

    C=12: 25,800,736 (conv1-8) + 13*13*32*12 + 12 (conv9) + 8*8*12*12 (deconv) = 25,874,860.
    """
    assert build_saltinet(1).count_params() == 25_806_209
    assert build_saltinet(12).count_params() == 25_874_860
    assert _convs(1, bias=True) + 8 * 8 * 1 * 1 == 25_806_209
    assert _convs(12, bias=True) + 8 * 8 * 12 * 12 == 25_874_860


def test_published_parameter_count_matches_hand_computation():
    """Published chain at 300x600, C=12, all convolutions without bias.

    conv1..conv9: 14,112 + 614,400 + 1,179,648 + 6,553,600 + 6,553,600 + 6,422,528
    + 3,964,928 + 495,616 + 64,896 = 25,863,328; 9x9 conv10: 9*9*12*12 = 11,664.
    BN over width, 4 vectors (gamma, beta, mean, variance) of one entry per column:
    conv1 at width 600 -> 2,400; conv2 at 300 (after pool1) -> 1,200; conv3..conv9 at 150
    (after pool2) -> 7 * 600 = 4,200; total 7,800.
    Sum 25,863,328 + 11,664 + 7,800 = 25,882,792 (SPEC: "about 25.88 M").
    C=1: 25,798,432 + 13*13*32 + 9*9 + 7,800 = 25,811,721.
    """
    bn = 4 * (600 + 300 + 7 * 150)
    assert bn == 7_800
    assert _convs(12, bias=False) + 9 * 9 * 12 * 12 + bn == 25_882_792
    assert build_saltinet(12, arch="published").count_params() == 25_882_792
    assert _convs(1, bias=False) + 9 * 9 + bn == 25_811_721
    assert build_saltinet(1, arch="published").count_params() == 25_811_721


def test_published_layer_chain():
    model = build_saltinet(12, TINY, arch="published")
    names = [layer.name for layer in model.layers[1:]]
    assert tuple(names) == PUBLISHED_LAYER_NAMES
    assert PUBLISHED_CONV_NAMES == ("conv1", "conv2", "conv3", "conv4_n", "conv5_n", "conv6_n",
                                    "conv7_n", "conv8_n", "conv9_n")
    widths = [model.get_layer(f"batchnormalization_{i}").gamma.shape for i in range(1, 10)]
    assert widths == [(64,), (32,)] + [(16,)] * 7  # one entry per image column: W, W/2, W/4
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            assert layer.use_bias is False
    assert model.get_layer("pool1").pool_size == (2, 2)
    assert model.get_layer("pool1").padding == "valid"
    assert model.get_layer("upsampling2d_1").size == (4, 4)
    assert model.get_layer("convolution2d_1").kernel.shape == (9, 9, 12, 12)
    assert not any(isinstance(layer, LocalResponseNormalization) for layer in model.layers)


# --- bad sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["paper", "published"])
def test_refuses_sizes_that_do_not_map_back(arch):
    with pytest.raises(ValueError, match=r"75x150.*height 75.*96x192"):
        build_saltinet(12, (75, 150, 3), arch=arch)
    with pytest.raises(ValueError, match=r"96x190: width 190"):
        build_saltinet(12, (96, 190, 3), arch=arch)


def test_refuses_other_channel_counts_and_bad_arguments():
    with pytest.raises(ValueError, match="3 \\(RGB\\) channels, got 4"):
        build_saltinet(12, (32, 64, 4))
    with pytest.raises(ValueError, match="unknown arch"):
        build_saltinet(12, TINY, arch="vgg")
    with pytest.raises(ValueError, match="outputs"):
        build_saltinet(0, TINY)


# --- weight transfer --------------------------------------------------------------------------


def test_transfer_conv1_to_conv8_from_map_to_volume_model():
    source = build_saltinet(1, TINY)
    target = build_saltinet(12, TINY)
    before9 = target.get_layer("conv9").get_weights()
    done = transfer_weights(source, target)
    assert done == [f"conv{i}" for i in range(1, 9)]
    for i in range(1, 9):
        for a, b in zip(source.get_layer(f"conv{i}").get_weights(),
                        target.get_layer(f"conv{i}").get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert target.get_layer("conv9").kernel.shape == (13, 13, 32, 12)
    assert source.get_layer("conv9").kernel.shape == (13, 13, 32, 1)
    assert target.get_layer("deconv").kernel.shape != source.get_layer("deconv").kernel.shape
    for a, b in zip(before9, target.get_layer("conv9").get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # conv9 left untouched


def test_transfer_by_order_and_mismatch():
    source = build_saltinet(12, TINY, arch="published")
    target = build_saltinet(12, TINY, arch="published")
    x = _images(1, seed=3)
    assert not np.allclose(source.predict_on_batch(x), target.predict_on_batch(x))
    assert len(transfer_weights(source, target, match="order")) == 19
    np.testing.assert_array_equal(source.predict_on_batch(x), target.predict_on_batch(x))
    with pytest.raises(ValueError, match="layers with weights"):
        transfer_weights(build_saltinet(12, TINY), target, match="order")


# --- LRN --------------------------------------------------------------------------------------


def _lrn_loops(a: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """Independent Caffe-convention LRN with explicit loops over every element."""
    out = np.empty_like(a, dtype=np.float64)
    n_b, n_h, n_w, n_c = a.shape
    half = size // 2
    for b in range(n_b):
        for i in range(n_h):
            for j in range(n_w):
                for c in range(n_c):
                    total = 0.0
                    for cc in range(c - half, c + half + 1):
                        if 0 <= cc < n_c:
                            total += float(a[b, i, j, cc]) ** 2
                    out[b, i, j, c] = a[b, i, j, c] / (k + alpha / size * total) ** beta
    return out


@pytest.mark.parametrize(
    "size, alpha, beta, k", [(5, 1e-4, 0.75, 1.0), (5, 0.5, 0.75, 1.0), (3, 2.0, 0.5, 2.0)]
)
def test_lrn_matches_numpy_loops(size, alpha, beta, k):
    a = np.random.default_rng(1).normal(0, 3, size=(2, 3, 2, 7)).astype("float32")
    layer = LocalResponseNormalization(size=size, alpha=alpha, beta=beta, k=k)
    got = keras.ops.convert_to_numpy(layer(a))
    np.testing.assert_allclose(got, _lrn_loops(a, size, alpha, beta, k), rtol=1e-5, atol=1e-6)
    if alpha > 1e-3:
        assert not np.allclose(got, a, rtol=1e-2)  # the normalisation has a visible effect


def test_lrn_config_round_trip_and_odd_size():
    layer = LocalResponseNormalization(size=5, alpha=2e-4, beta=0.7, k=2.0, name="n")
    clone = LocalResponseNormalization.from_config(layer.get_config())
    assert (clone.size, clone.alpha, clone.beta, clone.k, clone.name) == (5, 2e-4, 0.7, 2.0, "n")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, LocalResponseNormalization) and restored.alpha == 2e-4
    with pytest.raises(ValueError, match="odd"):
        LocalResponseNormalization(size=4)


def test_lrn_under_bfloat16_matches_float32():
    a = np.random.default_rng(2).uniform(0, 40, size=(1, 4, 4, 6)).astype("float32")
    layer = LocalResponseNormalization(alpha=0.1, dtype="mixed_bfloat16")
    got = layer(keras.ops.cast(a, "bfloat16"))
    assert keras.backend.standardize_dtype(got.dtype) == "bfloat16"
    ref = _lrn_loops(a, 5, 0.1, 0.75, 1.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.cast(got, "float32")), ref,
                               rtol=2e-2, atol=1e-2)


# --- saving and mixed precision ---------------------------------------------------------------


@pytest.mark.parametrize("arch", ["paper", "published"])
def test_keras_file_round_trip_in_safe_mode(tmp_path, arch):
    model = build_saltinet(12, TINY, arch=arch)
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    x = _images(2, seed=5)
    np.testing.assert_array_equal(model.predict_on_batch(x), loaded.predict_on_batch(x))


@pytest.mark.parametrize("arch", ["paper", "published"])
def test_mixed_bfloat16_build_runs_with_float32_output(bf16_policy, arch):
    model = build_saltinet(12, TINY, arch=arch)
    assert model.get_layer("conv1").compute_dtype == "bfloat16"
    assert model.get_layer("conv1").kernel.dtype == "float32"
    y = model(_images(1), training=False)
    assert keras.backend.standardize_dtype(y.dtype) == "float32"
    y = keras.ops.convert_to_numpy(y)
    assert y.shape == (1, 32, 64, 12) and np.all(np.isfinite(y))


def test_policy_restored_after_bf16_test():
    assert keras.mixed_precision.global_policy().name == "float32"
