"""Tests of loading SaltiNet checkpoints and predicting volumes and maps."""

from __future__ import annotations

import sys
import types

import h5py
import keras
import numpy as np
import pytest

from data_prep.errors import InputError
from data_prep.images import preprocess
from models.inference import (
    inspect_weights_file,
    load_volume_model,
    predict_maps,
    predict_volumes,
)
from models.saltinet import build_saltinet

TINY = (32, 64, 3)


def _rgb(height: int, width: int, seed: int) -> np.ndarray:
    """A random uint8 RGB image."""
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _batch(n: int = 2) -> np.ndarray:
    """Model-size float inputs for comparing outputs."""
    return np.stack([preprocess(_rgb(32, 64, s), 32, 64) for s in range(n)])


@pytest.mark.parametrize("arch", ["paper", "published"])
def test_weights_h5_round_trip(tmp_path, arch):
    model = build_saltinet(12, TINY, arch=arch)
    path = tmp_path / "volume.weights.h5"
    model.save_weights(path)
    assert inspect_weights_file(path) == {
        "arch": arch, "outputs": 12, "width": 64 if arch == "published" else None,
        "input_shape": None,  # plain save_weights records no size (training's checkpoints do)
    }
    shape = TINY if arch == "paper" else None  # the published width is read from the BN weights
    loaded = load_volume_model(path, outputs=12, input_shape=shape)
    assert loaded.input_shape == (None, 32, 64, 3)
    assert loaded.output_shape == (None, 32, 64, 12)
    np.testing.assert_array_equal(model.predict_on_batch(_batch()), loaded.predict_on_batch(_batch()))


def test_weights_h5_map_model_default_size_and_wrong_head(tmp_path):
    path = tmp_path / "map.weights.h5"
    build_saltinet(1, TINY).save_weights(path)
    loaded = load_volume_model(path)  # the paper model is fully convolutional: default 300x600
    assert loaded.output_shape == (None, 300, 600, 1)
    with pytest.raises(InputError, match=r"map\.weights\.h5: model has 1 output \(saliency map "
                                         r"model\), but 12 outputs \(saliency volume model\)"):
        load_volume_model(path, outputs=12)


def test_keras_file_and_wrong_head(tmp_path):
    model = build_saltinet(1, TINY)
    path = tmp_path / "map.keras"
    model.save(path)
    loaded = load_volume_model(path, outputs=1)
    np.testing.assert_array_equal(model.predict_on_batch(_batch()), loaded.predict_on_batch(_batch()))
    with pytest.raises(InputError, match=r"map\.keras: model has 1 output"):
        load_volume_model(path, outputs=12)


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="missing.weights.h5: model file not found"):
        load_volume_model(tmp_path / "missing.weights.h5")
    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(b"not an hdf5 file")
    with pytest.raises(InputError, match="junk.weights.h5: cannot read HDF5"):
        load_volume_model(junk)
    other = tmp_path / "other.weights.h5"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save_weights(other)
    with pytest.raises(InputError, match="other.weights.h5: cannot infer a SaltiNet head"):
        load_volume_model(other)
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(InputError, match="empty.h5: neither a Keras 3 weights file"):
        load_volume_model(empty)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK not a zip")
    with pytest.raises(InputError, match="broken.keras: cannot load Keras model"):
        load_volume_model(broken)


def test_legacy_file_goes_to_models_legacy(tmp_path, monkeypatch):
    legacy = tmp_path / "pathnet.h5"
    with h5py.File(legacy, "w") as f:
        f.attrs["keras_version"] = "1.2.2"
        f.attrs["model_config"] = "{}"
        f.create_group("model_weights")
    seen = []
    fake = types.ModuleType("models.legacy")

    def fake_loader(path):
        seen.append(path)
        return build_saltinet(12, TINY, arch="published")

    fake.load_legacy_model = fake_loader
    monkeypatch.setitem(sys.modules, "models.legacy", fake)
    model = load_volume_model(legacy, outputs=12)
    assert seen == [legacy] and model.output_shape == (None, 32, 64, 12)
    with pytest.raises(InputError, match="pathnet.h5: model has 12 outputs"):
        load_volume_model(legacy, outputs=1)


def test_predict_volumes_shapes_sums_and_batching():
    model = build_saltinet(12, TINY)
    images = [_rgb(50, 80, 0), _rgb(40, 40, 1), _rgb(32, 64, 2)]
    volumes = predict_volumes(model, images, batch_size=2)
    assert len(volumes) == 3
    for vol in volumes:
        assert vol.shape == (12, 32, 64) and vol.dtype == np.float32
        np.testing.assert_allclose(vol.sum(axis=(1, 2)), 1.0, rtol=1e-5)
        assert np.all(vol > 0)
    # independent computation: preprocess, run, move channels first, divide by the slice sums
    raw = model.predict_on_batch(np.stack([preprocess(im, 32, 64) for im in images]))
    for vol, out in zip(volumes, raw, strict=True):
        expected = np.moveaxis(out, -1, 0) / out.sum(axis=(0, 1))[:, None, None]
        np.testing.assert_allclose(vol, expected, rtol=1e-4)
    one_by_one = predict_volumes(model, images, batch_size=1)
    for a, b in zip(volumes, one_by_one, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-9)


def test_predict_maps_and_bad_inputs():
    map_model = build_saltinet(1, TINY)
    maps = predict_maps(map_model, [_rgb(64, 128, 4)])
    assert len(maps) == 1 and maps[0].shape == (32, 64) and maps[0].dtype == np.float32
    np.testing.assert_allclose(maps[0].sum(), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="1-output map model"):
        predict_maps(build_saltinet(12, TINY), [_rgb(32, 64, 0)])
    with pytest.raises(ValueError, match="image 1: expected a uint8"):
        predict_volumes(map_model, [_rgb(32, 64, 0), np.zeros((32, 64, 3), np.float32)])
    with pytest.raises(ValueError, match="batch_size"):
        predict_volumes(map_model, [_rgb(32, 64, 0)], batch_size=0)
    assert predict_volumes(map_model, []) == []


def test_predict_volumes_all_zero_slice_becomes_uniform():
    model = build_saltinet(2, TINY)
    conv9 = model.get_layer("conv9")
    conv9.set_weights([np.zeros(conv9.kernel.shape, "float32"), np.array([-1e4, 0.0], "float32")])
    deconv = model.get_layer("deconv")
    deconv.set_weights([np.ones(deconv.kernel.shape, "float32")])
    raw = model.predict_on_batch(_batch(1))
    assert np.all(raw[..., 0] == 0)  # sigmoid underflows to exactly zero
    (vol,) = predict_volumes(model, [_rgb(32, 64, 0)])
    np.testing.assert_allclose(vol[0], 1.0 / (32 * 64), rtol=1e-6)
    np.testing.assert_allclose(vol.sum(axis=(1, 2)), 1.0, rtol=1e-5)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_published_weights_at_the_wrong_width_is_one_clear_line(tmp_path):
    path = tmp_path / "pub.weights.h5"
    build_saltinet(12, TINY, arch="published").save_weights(path)
    with pytest.raises(InputError) as info:
        load_volume_model(path, input_shape=(32, 128, 3))
    message = str(info.value)
    assert message.startswith(f"{path}: weights do not fit a published SaltiNet at (32, 128, 3)")
    assert "\n" not in message
