"""iSUN reader on small training.mat / validation.mat files written in the released layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from data_prep.errors import InputError
from data_prep.isun import image_file, isun_samples, parse_isun, read_isun
from data_prep.make_dataset import write_pack
from data_prep.pipeline import check_pack

GAZE_DTYPE = [("location", object), ("timestamp", object), ("fixation", object)]
ENTRY_DTYPE = [("image", object), ("resolution", object), ("scenecategory", object),
               ("gaze", object)]


def gaze(*observers: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """A 1 x n struct array of observers (location, timestamp, fixation)."""
    arr = np.zeros((1, len(observers)), dtype=GAZE_DTYPE)
    for i, obs in enumerate(observers):
        arr[0, i] = obs
    return arr


# Observer A: samples at 0.5 px steps along a line, 10 ms apart, starting at 2000 ms; its
# fixations are fractional and listed in reverse time order. Radius = 2% of 50 px = 1 px.
LOC_A = np.array([[10.25, 5.5], [10.5, 5.5], [30.0, 12.0], [30.5, 12.0], [40.0, 20.0]])
TS_A = np.array([2000.0, 2010.0, 2250.0, 2260.0, 3000.0])
FIX_A = np.array([[30.4, 12.1], [10.3, 5.6]])
# Hand-worked: (10.3, 5.6) -> first sample within 1 px is 2000 ms -> 0.0 s;
# (30.4, 12.1) -> the sample at 2250 ms (0.41 px away) -> 0.25 s.
EXPECTED_A = [[10.3, 5.6, 0.0], [30.4, 12.1, 0.25]]
OBS_B = (np.array([[1.0, 1.0], [48.0, 30.0]]), np.array([500.0, 1700.0]),
         np.array([[47.5, 29.5]]))  # nearest sample (0.7 px) -> 1.2 s


def write_split(root: Path, filename: str, entries: list[tuple], var: str) -> Path:
    """A training.mat / validation.mat with a 1 x N struct array ``var``."""
    arr = np.zeros((1, len(entries)), dtype=ENTRY_DTYPE)
    for i, entry in enumerate(entries):
        arr[0, i] = entry
    root.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(root / filename, {var: arr})
    return root / filename


def write_image(path: Path, width: int, height: int, seed: int) -> np.ndarray:
    """A random RGB PNG saved under ``path`` (a .jpg name is stored as PNG data too)."""
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, format="PNG")
    return rgb


@pytest.fixture()
def root(tmp_path) -> Path:
    """Two training images (sizes 50x30 and 40x20) and one validation image."""
    entries = [
        ("sun_aaa", np.array([[30.0, 50.0]]), "kitchen",
         gaze((LOC_A, TS_A[None, :], FIX_A), OBS_B,
              (np.zeros((0, 2)), np.zeros((0, 1)), np.zeros((0, 2))))),
        ("sun_bbb.png", np.array([[20.0, 40.0]]), "beach",
         gaze((np.array([[3.0, 4.0]]), np.array([[42.0]]), np.array([[3.0, 4.0]])))),
    ]
    write_split(tmp_path, "training.mat", entries, "training")
    write_split(tmp_path, "validation.mat", [entries[1]], "validation")
    write_image(tmp_path / "images" / "sun_aaa.jpg", 50, 30, 0)
    write_image(tmp_path / "images" / "sun_bbb.png", 40, 20, 1)
    return tmp_path


def test_parse_every_loadmat_form(root):
    for options in ({}, {"squeeze_me": True}, {"squeeze_me": True, "struct_as_record": False},
                    {"simplify_cells": True}):
        records = parse_isun(scipy.io.loadmat(root / "training.mat", **options), "training.mat")
        assert [(r.image, r.height, r.width, r.scene) for r in records] == [
            ("sun_aaa", 30, 50, "kitchen"), ("sun_bbb.png", 20, 40, "beach")]
        assert [len(r.observers) for r in records] == [3, 1]
        np.testing.assert_array_equal(records[0].observers[0][0], LOC_A)
        np.testing.assert_array_equal(records[0].observers[0][1], TS_A)
        np.testing.assert_array_equal(records[1].observers[0][2], [[3.0, 4.0]])


def test_isun_samples_derive_fixation_times(root):
    samples = list(isun_samples(root, "train"))
    assert [s.name for s in samples] == ["sun_aaa", "sun_bbb"]
    assert samples[0].image.shape == (30, 50, 3) and samples[0].saliency is None
    frame = samples[0].fixations
    assert frame.observer.tolist() == [0, 0, 1]  # the observer without fixations is dropped
    assert frame.fixation.tolist() == [1, 2, 1]
    np.testing.assert_allclose(frame[["x", "y", "t"]].to_numpy()[:2], EXPECTED_A, atol=1e-9)
    np.testing.assert_allclose(frame[["x", "y", "t"]].to_numpy()[2], [47.5, 29.5, 1.2])
    # a larger matching radius changes which sample a fixation is timed by
    wide = list(isun_samples(root, "train", radius=25.0))[0].fixations
    assert wide.t.tolist()[:2] == [0.0, 0.0]
    val = list(isun_samples(root, "val"))
    assert [s.name for s in val] == ["sun_bbb"] and val[0].fixations.t.tolist() == [0.0]


def test_isun_packs_into_a_volume_pack(root, tmp_path):
    pack = write_pack(tmp_path / "packs" / "train.h5", isun_samples(root, "train"), 16, 32,
                      attrs={"source": "isun"}, report=lambda _: None)
    spec = check_pack(pack, "volume")
    assert (spec.count, spec.channels, spec.source) == (2, 12, "isun")
    assert check_pack(pack, "map").channels == 1


def test_isun_bad_inputs(root, tmp_path):
    with pytest.raises(InputError, match="unknown iSUN split"):
        list(isun_samples(root, "test"))
    with pytest.raises(InputError, match=r"validation.mat: iSUN annotation file not found"):
        list(isun_samples(tmp_path / "nothing", "val"))
    (root / "images" / "sun_bbb.png").unlink()
    with pytest.raises(InputError, match=r"sun_bbb.png: iSUN image not found"):
        list(isun_samples(root, "val"))
    with pytest.raises(InputError, match="sun_zzz: iSUN image not found"):
        image_file(root, "sun_zzz")
    write_image(root / "images" / "sun_bbb.png", 41, 20, 1)
    with pytest.raises(InputError, match=r"sun_bbb.png declares 40x20, image is 41x20"):
        list(isun_samples(root, "val"))
    bad = tmp_path / "odd" / "training.mat"
    bad.parent.mkdir()
    scipy.io.savemat(bad, {"something": np.arange(3)})
    with pytest.raises(InputError, match="training.mat: no struct array with an 'image' field"):
        read_isun(bad)
    entry = ("x", np.array([[30.0, 50.0]]), "k", gaze((LOC_A, TS_A[:2], FIX_A)))
    path = write_split(tmp_path / "short", "training.mat", [entry], "training")
    with pytest.raises(InputError, match=r"entry 1: gaze\(1\) has 5 samples but 2 timestamps"):
        read_isun(path)
    only_location = np.zeros((1, 1), dtype=[("location", object)])
    only_location[0, 0] = (LOC_A,)
    entry = ("x", np.array([[30.0, 50.0]]), "k", only_location)
    path = write_split(tmp_path / "nofield", "training.mat", [entry], "training")
    with pytest.raises(InputError, match=r"entry 1: missing field 'timestamp'"):
        read_isun(path)
