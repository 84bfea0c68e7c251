"""Training: learning, --init transfer, exact resume, NaN stop, refusals, MirroredStrategy, CLI."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import train_map
import train_volume
from data_prep.errors import InputError, run_cli
from data_prep.pipeline import check_pack, epoch_plan, pack_dataset
from models.training import (
    TrainConfig,
    TrainingDiverged,
    build_model,
    init_from_checkpoint,
    output_paths,
    save_weights,
    train,
)

ROOT = Path(__file__).resolve().parents[1]
H, W = 32, 64


def write_pack(path: Path, images: np.ndarray, maps: np.ndarray | None = None,
               volume: np.ndarray | None = None) -> Path:
    """A pack in data_prep.make_dataset's layout, written directly with h5py."""
    n = len(images)
    maps = images[..., :1].astype(np.float32) / 255.0 if maps is None else maps
    with h5py.File(path, "w") as f:
        f["images"] = images
        f["map"] = maps.astype(np.float32)
        if volume is not None:
            f["volume"] = volume.astype(np.float32)
        f["ids"] = np.array([f"P{i}".encode() for i in range(n)])
        f.attrs.update(source="test", split=path.stem, height=images.shape[1],
                       width=images.shape[2], format_version=1,
                       slices=12 if volume is None else volume.shape[3])
    return path


def learnable(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random images whose map/volume targets are a fixed function of the pixels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, H, W, 3), dtype=np.uint8)
    maps = np.full((n, H, W, 1), 0.1, np.float32)
    volume = np.repeat(images[..., :1].astype(np.float32) / 255.0 * 0.2, 12, axis=3)
    return images, maps, volume


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> dict[str, Path]:
    """Tiny train/val packs with both targets, and a map-only pack."""
    root = tmp_path_factory.mktemp("packs")
    tr, va = learnable(4, 0), learnable(2, 1)
    return {
        "train": write_pack(root / "train.h5", *tr),
        "val": write_pack(root / "val.h5", *va),
        "map_only": write_pack(root / "map_only.h5", tr[0], tr[1]),
        "wrong_slices": write_pack(root / "wrong.h5", tr[0], tr[1], tr[2][..., :8]),
    }


def config(packs, out: Path, **kw) -> TrainConfig:
    """A quick config on the tiny packs."""
    base = TrainConfig(train=packs["train"], val=packs["val"], outputs=1, name="map", out=out,
                       epochs=2, lr=0.05, verbose=0)
    return replace(base, **kw)


def stored_weights(path: Path) -> list[np.ndarray]:
    """Every array of a Keras weights file, in file order."""
    arrays: list[np.ndarray] = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: arrays.append(obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return arrays


def digest(path: Path) -> str:
    """SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_epoch_plan_is_a_function_of_seed_and_epoch():
    a, sa = epoch_plan(10, seed=3, epoch=1, roll=True, width=64)
    b, sb = epoch_plan(10, seed=3, epoch=1, roll=True, width=64)
    c, _ = epoch_plan(10, seed=3, epoch=2, roll=True, width=64)
    assert np.array_equal(a, b) and np.array_equal(sa, sb)
    assert sorted(a) == list(range(10)) and not np.array_equal(a, c)
    assert (0 <= sa).all() and (sa < 64).all() and sa.any()
    order, shifts = epoch_plan(10, 0, 0, shuffle=False, limit=3)
    assert order.tolist() == [0, 1, 2] and not shifts.any()


def test_pipeline_streams_and_rolls_image_and_target_together(packs):
    spec = check_pack(packs["train"], "volume")
    assert (spec.count, spec.height, spec.width, spec.channels) == (4, H, W, 12)
    order, shifts = epoch_plan(4, seed=5, epoch=2, roll=True, width=W)
    batches = list(pack_dataset(spec, batch_size=1, seed=5, epoch=2, roll=True))
    with h5py.File(packs["train"], "r") as f:
        raw = f["images"][()]
    assert len(batches) == 4
    for (x, y), i, s in zip(batches, order, shifts, strict=True):
        x, y = x.numpy()[0], y.numpy()[0]
        assert x.dtype == np.float32 and x.max() <= 255 and x.max() > 1
        np.testing.assert_array_equal(x, np.roll(raw[i], s, axis=1))
        # the volume target is a function of channel 0: rolled with the image, it still matches
        np.testing.assert_allclose(y[..., 3], x[..., 0] / 255.0 * 0.2, rtol=1e-6)


def test_mismatched_or_missing_pack_refused(packs, tmp_path):
    with pytest.raises(InputError, match=r"map_only\.h5: no 'volume' target"):
        check_pack(packs["map_only"], "volume")
    with pytest.raises(InputError, match=r"wrong\.h5: 'volume' has shape .*needs 12"):
        check_pack(packs["wrong_slices"], "volume")
    with pytest.raises(InputError, match="not found"):
        check_pack(tmp_path / "none.h5", "map")
    cfg = config(packs, tmp_path, train=packs["map_only"], outputs=12, name="volume")
    with pytest.raises(InputError, match="map_only.h5"):
        train(cfg)
    assert not any(tmp_path.iterdir())


def test_few_steps_reduce_the_loss(packs, tmp_path):
    history = train(config(packs, tmp_path / "run", epochs=3))
    assert list(history.columns) == ["epoch", "loss", "val_loss", "lr", "seconds"]
    assert history["epoch"].tolist() == [1, 2, 3]
    assert history["loss"].iloc[-1] < history["loss"].iloc[0] - 0.005
    assert history["val_loss"].iloc[-1] < history["val_loss"].iloc[0] - 0.01
    paths = output_paths(tmp_path / "run", "map")
    assert all(p.is_file() for p in paths.values())
    csv = pd.read_csv(paths["history"])
    np.testing.assert_allclose(csv["val_loss"], history["val_loss"])
    assert csv["lr"].tolist() == [0.05] * 3
    assert int(csv["val_loss"].idxmin()) == 2  # improving throughout: best == last epoch
    for x, y in zip(stored_weights(paths["best"]), stored_weights(paths["last"]), strict=True):
        np.testing.assert_array_equal(x, y)
    assert paths["curve"].stat().st_size > 1000
    # existing outputs without --force are refused, nothing is touched
    before = digest(paths["last"])
    with pytest.raises(InputError, match="already exists .*--force"):
        train(config(packs, tmp_path / "run", epochs=3))
    assert digest(paths["last"]) == before


def test_init_copies_exactly_conv1_to_conv8(tmp_path):
    import keras

    from models.saltinet import build_saltinet

    keras.utils.set_random_seed(1)
    source = build_model(1, H, W)
    ckpt = save_weights(source, tmp_path / "map.weights.h5")
    keras.utils.set_random_seed(2)
    target = build_model(12, H, W)
    before = {layer.name: layer.get_weights() for layer in target.layers if layer.weights}
    copied, fresh = init_from_checkpoint(target, ckpt)
    assert copied == [f"conv{i}" for i in range(1, 9)]
    assert sorted(fresh) == ["conv9", "deconv"]
    for layer in target.layers:
        if not layer.weights:
            continue
        expected = (source.get_layer(layer.name).get_weights() if layer.name in copied
                    else before[layer.name])
        for got, want in zip(layer.get_weights(), expected, strict=True):
            np.testing.assert_array_equal(got, want)
    with pytest.raises(InputError, match=r"map\.weights\.h5: .*different shapes.*conv9.*deconv"):
        init_from_checkpoint(target, ckpt, strict=True)
    # a .keras file works too, and into a bf16 model (float32 weights, float32 sigmoid)
    source.save(tmp_path / "map.keras")
    mixed = build_model(12, H, W, "mixed_bfloat16")
    assert keras.mixed_precision.dtype_policy().name == "float32"  # global policy restored
    assert mixed.get_layer("conv1").compute_dtype == "bfloat16"
    assert mixed.output.dtype == "float32"
    assert init_from_checkpoint(mixed, tmp_path / "map.keras")[0] == copied
    np.testing.assert_array_equal(mixed.get_layer("conv8").get_weights()[0],
                                  source.get_layer("conv8").get_weights()[0])
    published = build_saltinet(12, (H, W, 3), arch="published")
    other = save_weights(published, tmp_path / "published.weights.h5")
    with pytest.raises(InputError, match=r"published\.weights\.h5: no layer matches.*conv1"):
        init_from_checkpoint(target, other)


def test_resume_after_epoch_k_equals_uninterrupted_run(packs, tmp_path):
    kw = {"outputs": 12, "name": "volume", "epochs": 2, "lr": 0.05, "roll": True, "seed": 7}
    full = train(config(packs, tmp_path / "full", **kw))
    part = train(config(packs, tmp_path / "part", **{**kw, "epochs": 1}))
    assert len(part) == 1
    after_one = stored_weights(output_paths(tmp_path / "part", "volume")["last"])
    resumed = train(config(packs, tmp_path / "part", **kw, resume=True))
    np.testing.assert_allclose(resumed["loss"], full["loss"], rtol=1e-5)
    np.testing.assert_allclose(resumed["val_loss"], full["val_loss"], rtol=1e-5)
    a = stored_weights(output_paths(tmp_path / "full", "volume")["last"])
    b = stored_weights(output_paths(tmp_path / "part", "volume")["last"])
    assert len(a) == len(b) > 10
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)
    # the second epoch moved the weights far beyond that tolerance
    assert max(np.abs(x - y).max() for x, y in zip(a, after_one, strict=True)) > 1e-3
    # resuming with other settings is refused
    with pytest.raises(InputError, match=r"lr=0.05 \(now 0.02\)"):
        train(config(packs, tmp_path / "part", **{**kw, "lr": 0.02}, resume=True))


def test_nan_loss_stops_and_keeps_last_good_checkpoint(packs, tmp_path):
    tr = tmp_path / "train.h5"
    tr.write_bytes(packs["train"].read_bytes())
    cfg = config(packs, tmp_path / "run", train=tr, epochs=1)
    train(cfg)
    paths = output_paths(tmp_path / "run", "map")
    kept = {k: digest(paths[k]) for k in ("last", "best", "state", "history")}
    with h5py.File(tr, "r+") as f:
        f["map"][2] = np.nan
    with pytest.raises(TrainingDiverged, match=r"train\.h5: loss nan in epoch 2 .*last good "
                                                r"checkpoint: .*map\.last\.weights\.h5 \(epoch 1\)"):
        train(replace(cfg, epochs=2, resume=True))
    assert {k: digest(paths[k]) for k in kept} == kept
    assert not [p for p in paths["last"].parent.iterdir() if ".tmp" in p.name]


MIRRORED = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from pathlib import Path
from models.training import TrainConfig, train
h = train(TrainConfig(train=Path({train!r}), val=Path({val!r}), outputs=1, name="m",
                      out=Path({out!r}), epochs=1, batch_size=2, lr=0.05,
                      strategy="mirrored", verbose=2))
print("epochs", len(h), "loss", h["loss"].iloc[0])
"""


def run_python(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run the repository's Python with quiet TensorFlow logging."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_mirrored_strategy_on_two_logical_cpus(packs, tmp_path):
    code = MIRRORED.format(train=str(packs["train"]), val=str(packs["val"]), out=str(tmp_path))
    proc = run_python(["-c", textwrap.dedent(code)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "2 replica(s)" in proc.stdout
    assert "2/2" in proc.stdout  # 4 samples, global batch 2: two training steps
    loss = float(proc.stdout.split("loss")[-1])
    assert np.isfinite(loss)
    assert output_paths(tmp_path, "m")["last"].is_file()


def test_cli_map_then_volume_from_map_checkpoint(packs, tmp_path):
    out = tmp_path / "w"
    common = ["--data", str(packs["train"].parent), "--epochs", "1", "--out", str(out),
              "--limit", "2", "--verbose", "0"]
    assert run_cli(train_map.main, common) == 0  # in-process; the volume step is a real script
    map_best = out / "map.best.weights.h5"
    assert map_best.is_file() and (out / "map.curve.png").is_file()
    proc = run_python([str(ROOT / "train_volume.py"), *common, "--init", str(map_best)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "copied conv1, conv2, conv3, conv4, conv5, conv6, conv7, conv8" in proc.stdout
    assert "conv9" in proc.stdout.split("start fresh:")[1]
    assert len(pd.read_csv(out / "volume.history.csv")) == 1


def test_cli_exit_codes_and_help(packs, tmp_path, capsys):
    out = tmp_path / "w"
    out.mkdir()
    (out / "map.history.csv").write_text("old")
    argv = ["--data", str(packs["train"].parent), "--out", str(out), "--epochs", "1"]
    assert run_cli(train_map.main, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "already exists" in err[0]
    assert (out / "map.history.csv").read_text() == "old"
    assert run_cli(train_volume.main, ["--train", str(packs["map_only"]), "--val",
                                       str(packs["val"]), "--out", str(out)]) == 2
    assert "map_only.h5: no 'volume' target" in capsys.readouterr().err
    assert run_cli(train_map.main, ["--out", str(out)]) == 2
    assert "--train and --val" in capsys.readouterr().err
    assert run_cli(train_volume.main, [*argv, "--init", str(tmp_path / "none.weights.h5"),
                                       "--name", "v2"]) == 2
    assert "none.weights.h5: model file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_map.main(["--help"])
    help_text = capsys.readouterr().out
    for flag in ("--init", "--momentum", "--weight-decay", "--resume", "--strategy", "--roll",
                 "--precision", "--limit", "--force", "0.01", "90"):
        assert flag in help_text


def test_checkpoints_record_their_input_size(tmp_path):
    """A trained checkpoint reloads at the size it was trained at, not at the 300x600 default."""
    from models.inference import inspect_weights_file, load_volume_model
    from models.saltinet import build_saltinet
    from models.training import save_weights

    path = save_weights(build_saltinet(1, (32, 64, 3)), tmp_path / "m.best.weights.h5")
    assert inspect_weights_file(path)["input_shape"] == (32, 64, 3)
    assert load_volume_model(path, outputs=1).input_shape == (None, 32, 64, 3)
    assert load_volume_model(path, outputs=1, input_shape=(96, 192, 3)).input_shape == (None, 96, 192, 3)


def test_init_head_replicate_makes_every_slice_the_map(tmp_path):
    """--init-head replicate: a volume model initialised from a map model predicts its map per slice."""
    from models.saltinet import build_saltinet
    from models.training import init_from_checkpoint, save_weights

    map_model = build_saltinet(1, (32, 64, 3))
    ckpt = save_weights(map_model, tmp_path / "map.weights.h5")
    volume = build_saltinet(12, (32, 64, 3))
    copied, fresh = init_from_checkpoint(volume, ckpt, head="replicate")
    assert fresh == {} and "conv9 (replicated over 12 slices)" in copied
    x = np.random.default_rng(0).uniform(0, 255, (1, 32, 64, 3)).astype("float32")
    expect = np.repeat(map_model.predict_on_batch(x), 12, axis=-1)
    np.testing.assert_allclose(volume.predict_on_batch(x), expect, rtol=1e-5, atol=1e-6)
    # the default copies only conv1-conv8
    _, fresh = init_from_checkpoint(build_saltinet(12, (32, 64, 3)), ckpt)
    assert sorted(fresh) == ["conv9", "deconv"]
