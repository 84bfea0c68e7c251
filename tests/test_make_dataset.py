"""Packing (pipeline step 1): pack layout, values against independent computations, bad input."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pandas as pd
import pytest

from data_prep import make_dataset as md
from data_prep.demo_dataset import make_demo_dataset
from data_prep.errors import InputError, run_cli
from data_prep.images import load_image, preprocess
from data_prep.records import Sample, salient360_samples
from data_prep.salient360 import (
    head_eye_map_path,
    image_path,
    read_saliency_bin,
    read_scanpaths,
    scanpath_path,
)
from data_prep.volumes import build_volume, resample_sum, saliency_map, to_target

W, H = 128, 64  # full-size demo images
PH, PW = 32, 64  # working size of the packs
IDS = [29, 31, 35, 2]  # 29, 31 train; 35 validation; 2 head-only


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("d") / "root", W, H, seed=1, observers=5, ids=IDS)


@pytest.fixture(scope="module")
def packs(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("packs") / "out"
    args = [str(root), str(out), "--height", str(PH), "--width", str(PW), "--include-head-only"]
    assert run_cli(md.main, args) == 0
    return out


def test_pack_layout_and_attributes(packs, root):
    assert sorted(p.name for p in packs.iterdir()) == ["head_only.h5", "train.h5", "val.h5"]
    with h5py.File(packs / "train.h5", "r") as h5:
        assert [x.decode() for x in h5["ids"][()]] == ["P29", "P31"]
        assert h5["images"].dtype == np.uint8 and h5["images"].shape == (2, PH, PW, 3)
        assert h5["volume"].dtype == np.float32 and h5["volume"].shape == (2, PH, PW, 12)
        assert h5["map"].dtype == np.float32 and h5["map"].shape == (2, PH, PW, 1)
        vol, smap = h5["volume"][()], h5["map"][()]
        a = dict(h5.attrs)
    assert 0 <= vol.min() and vol.max() <= 1 and 0 <= smap.min()
    peaks = vol.max(axis=(1, 2))
    assert np.allclose(peaks[peaks > 0], 1.0) and (peaks > 0).mean() > 0.8
    assert np.allclose(smap.max(axis=(1, 2, 3)), 1.0)
    assert a["source"] == "salient360-demo" and a["split"] == "train" and a["kind"] == "head_eye"
    assert (a["height"], a["width"], a["slices"], a["format_version"]) == (PH, PW, 12, 1)
    assert a["time_step"] == pytest.approx(0.1) and list(a["sigma"]) == [4, 20, 20]
    assert a["duration"] == 25.0 and a["root"] == str(root.resolve()) and a["created"]
    assert a["map_from"] == "ground truth"
    info = md.read_pack_info(packs / "val.h5", require=("volume",))
    assert info["n"] == 1 and info["ids"] == ["P35"] and info["shapes"]["volume"] == (1, PH, PW, 12)
    head = md.read_pack_info(packs / "head_only.h5")
    assert head["ids"] == ["P2"] and "volume" not in head["shapes"]
    assert head["attrs"]["kind"] == "head_only"
    with pytest.raises(InputError, match="no 'volume' dataset"):
        md.read_pack_info(packs / "head_only.h5", require=("volume",))


def test_pack_values_match_the_sources(packs, root):
    with h5py.File(packs / "train.h5", "r") as h5:
        image, vol, smap = h5["images"][0], h5["volume"][0], h5["map"][0, :, :, 0]
    full = load_image(image_path(root, 29))
    assert np.array_equal(image, np.clip(np.round(preprocess(full, PH, PW)), 0, 255).astype(np.uint8))
    gt = read_saliency_bin(head_eye_map_path(root, 29), W, H)
    blocks = gt.reshape(PH, H // PH, PW, W // PW).sum(axis=(1, 3))  # exact 2x2 area sums
    np.testing.assert_allclose(smap, blocks / blocks.max(), rtol=1e-5, atol=1e-7)
    fix = read_scanpaths(scanpath_path(root, 29), W, H)
    ref = to_target(build_volume(fix.x, fix.y, fix.t, W, H, shape=(PH, PW), slices=12, duration=25.0))
    np.testing.assert_allclose(vol, ref, atol=1e-6)


def test_resize_map_keeps_mass():
    rng = np.random.default_rng(0)
    m = rng.random((50, 70)).astype(np.float32)
    for shape in [(30, 60), (7, 11), (100, 140), (50, 70)]:
        out = resample_sum(m, *shape)
        assert out.shape == shape
        assert out.sum(dtype=np.float64) == pytest.approx(m.sum(dtype=np.float64), rel=1e-5)
    flat = resample_sum(np.ones((40, 90), np.float32), 30, 60)
    np.testing.assert_allclose(flat, 40 * 90 / (30 * 60), rtol=1e-6)
    # one bright input cell: its mass lands in the output cells it overlaps, by overlap area
    spot = np.zeros((3, 3), np.float32)
    spot[1, 1] = 1.0
    out = resample_sum(spot, 2, 2)  # input cell [1,2) spans output cells [2/3, 4/3) in both axes
    np.testing.assert_allclose(out, np.full((2, 2), 0.25), atol=1e-7)


def test_write_pack_from_records(tmp_path):
    rng = np.random.default_rng(2)
    fix = pd.DataFrame({"observer": [0, 0, 0], "fixation": [1, 2, 3], "t": [0.0, 0.05, 10.0],
                        "x": [10.0, 12.0, 70.0], "y": [20.0, 22.0, 30.0]})
    samples = [Sample(f"img{i}", rng.integers(0, 256, (40, 80, 3), dtype=np.uint8), fix) for i in range(3)]
    lines = []
    path = md.write_pack(tmp_path / "p.h5", iter(samples), 16, 32, report=lines.append,
                         attrs={"source": "test", "split": "x"})
    with h5py.File(path, "r") as h5:
        vol, smap = h5["volume"][0], h5["map"][0, :, :, 0]
        assert h5.attrs["map_from"] == "fixations" and h5.attrs["source"] == "test"
    full = build_volume(fix.x, fix.y, fix.t, 80, 40, shape=(16, 32), slices=12)
    expect = saliency_map(full)
    np.testing.assert_allclose(smap, expect / expect.max(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(vol, to_target(full), atol=1e-6)
    # the fixations at 0 s and 10 s leave the middle slices empty: reported, one line per image
    assert len(lines) == 3 and lines[0].startswith("img0: empty volume slices")
    with pytest.raises(InputError, match="already exists"):
        md.write_pack(path, iter(samples), 16, 32)
    with pytest.raises(InputError, match="no images"):
        md.write_pack(tmp_path / "empty.h5", iter([]), 16, 32)
    no_fix = Sample("bare", samples[0].image)
    with pytest.raises(InputError, match="bare: no fixations"):
        md.write_pack(tmp_path / "bare.h5", [samples[0], no_fix], 16, 32)
    # map-only records (SALICON-like): no volume dataset, the map from the ground truth
    gt = rng.random((40, 80)).astype(np.float32)
    md.write_pack(tmp_path / "m.h5", [Sample("m", samples[0].image, None, gt)], 20, 40)
    with h5py.File(tmp_path / "m.h5", "r") as h5:
        assert "volume" not in h5 and h5["map"].shape == (1, 20, 40, 1)
        blocks = gt.reshape(20, 2, 40, 2).sum(axis=(1, 3))
        np.testing.assert_allclose(h5["map"][0, :, :, 0], blocks / blocks.max(), rtol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5", "p.h5"]


def test_salient360_samples(root):
    head_eye = list(salient360_samples(root, [29], kind="head_eye"))
    assert head_eye[0].name == "P29" and head_eye[0].size == (W, H)
    assert head_eye[0].fixations.columns.tolist() == ["observer", "fixation", "t", "x", "y"]
    head = list(salient360_samples(root, [2], kind="head_only"))
    assert head[0].fixations is None and head[0].saliency.shape == (H, W)
    with pytest.raises(InputError, match="unknown image kind"):
        list(salient360_samples(root, [2], kind="eye"))


def test_refuses_to_overwrite(packs, root, capsys):
    before = (packs / "train.h5").stat().st_mtime_ns
    args = [str(root), str(packs), "--height", str(PH), "--width", str(PW)]
    assert run_cli(md.main, args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "already exists" in err and "\n" not in err
    assert (packs / "train.h5").stat().st_mtime_ns == before


def _broken(root, tmp_path, damage):
    copy = tmp_path / "root"
    shutil.copytree(root, copy)
    damage(copy)
    out = tmp_path / "out"
    return run_cli(md.main, [str(copy), str(out), "--height", str(PH), "--width", str(PW)]), out


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda r: image_path(r, 31).write_bytes(b"not a jpeg at all"), "P31.jpg: cannot decode"),
        (lambda r: head_eye_map_path(r, 35).write_bytes(b"\0" * 100), "SHE35.bin: 100 bytes"),
        (lambda r: scanpath_path(r, 29).open("a").write("1,2.5,abc,4\n"), "SP29.txt:"),
        (lambda r: shutil.rmtree(r / "Scanpaths"), "missing folder"),
    ],
)
def test_bad_input_one_line_and_no_pack(root, tmp_path, capsys, damage, message):
    status, out = _broken(root, tmp_path, damage)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err[-1].startswith("error:") and message in err[-1]
    assert not out.exists()  # neither the pack nor its temporary file nor the folder is left


def test_cli_bad_arguments(root, tmp_path, capsys):
    assert run_cli(md.main, [str(tmp_path / "nope"), str(tmp_path / "o")]) == 2
    assert "dataset root not found" in capsys.readouterr().err
    assert run_cli(md.main, [str(root), str(tmp_path / "o"), "--splits", "test"]) == 2
    assert "not available" in capsys.readouterr().err
    assert run_cli(md.main, [str(root), str(tmp_path / "o"), "--slices", "0"]) == 2
    (tmp_path / "junk.h5").write_bytes(b"junk")
    with pytest.raises(InputError, match="not a readable HDF5"):
        md.read_pack_info(tmp_path / "junk.h5")
    with pytest.raises(InputError, match="pack not found"):
        md.read_pack_info(tmp_path / "missing.h5")
    assert not (tmp_path / "o").exists()
