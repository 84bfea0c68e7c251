"""Tests for data_prep.salient360: ids, layout, SP files, .bin maps, model scan-paths."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.io import loadmat, savemat

from data_prep import salient360 as s3
from data_prep.errors import InputError

# ---------------------------------------------------------------- ids and layout


def test_ids_and_split():
    assert len(s3.HEAD_EYE_IDS) == 40 and len(s3.HEAD_ONLY_IDS) == 20
    assert not set(s3.HEAD_EYE_IDS) & set(s3.HEAD_ONLY_IDS)
    assert {29, 31, 39, 41, 49, 58, 62, 66, 68, 77, 80, 89} <= set(s3.HEAD_EYE_IDS)
    assert {30, 40, 48, 50, 53, 59} .isdisjoint(s3.HEAD_EYE_IDS)
    assert {2, 7, 10, 15, 17, 21, 25, 27, 28} <= set(s3.HEAD_ONLY_IDS)
    train, val = s3.train_val_split()
    assert len(train) == 36 and len(val) == 4
    assert sorted(train + val) == sorted(s3.HEAD_EYE_IDS)
    assert tuple(val) == s3.VALIDATION_IDS == (35, 46, 62, 83)
    assert s3.train_val_split() == (train, val)


def test_paths(tmp_path):
    assert s3.image_path(tmp_path, 29) == tmp_path / "Images" / "P29.jpg"
    assert s3.scanpath_path(tmp_path, 29) == tmp_path / "Scanpaths" / "SP29.txt"
    assert s3.head_eye_map_path(tmp_path, 29) == tmp_path / "HeadEyeSalMaps" / "SHE29.bin"
    assert s3.head_map_path(tmp_path, 2) == tmp_path / "HeadSalMaps" / "SH2.bin"
    (tmp_path / "Images").mkdir()
    Image.new("RGB", (4, 2)).save(tmp_path / "Images" / "P30.png")
    assert s3.image_path(tmp_path, 30).name == "P30.png"


def _make_root(root, head_eye=(29, 31), head_only=(2,), folders=None):
    """A tiny dataset root with 8x4 images, one-line scan-paths and uniform maps."""
    folders = folders or ["Images", "Scanpaths", "HeadEyeSalMaps", "HeadSalMaps"]
    for f in folders:
        (root / f).mkdir(parents=True)
    flat = np.full((4, 8), 1 / 32, np.float32)
    for n in head_eye:
        Image.new("RGB", (8, 4), (9, 9, 9)).save(root / "Images" / f"P{n}.jpg")
        if "Scanpaths" in folders:
            (root / "Scanpaths" / f"SP{n}.txt").write_text("1,10.0,3,2\n2,10.5,8,4\n")
        if "HeadEyeSalMaps" in folders:
            flat.tofile(root / "HeadEyeSalMaps" / f"SHE{n}.bin")
    for n in head_only:
        Image.new("RGB", (8, 4)).save(root / "Images" / f"P{n}.jpg")
        if "HeadSalMaps" in folders:
            flat.tofile(root / "HeadSalMaps" / f"SH{n}.bin")
    return root


def test_list_dataset(tmp_path):
    root = _make_root(tmp_path / "r")
    (root / "Images" / "P32.jpg").write_bytes(b"x")  # image without data files: not listed
    found = s3.list_dataset(root, require=["head_eye", "head_only"])
    assert found == {"head_eye": [29, 31], "head_only": [2]}
    df, size = s3.load_fixations(root, 29)
    assert size == (8, 4) and list(df.x) == [3.0, 8.0]


def test_list_dataset_errors(tmp_path):
    with pytest.raises(InputError, match="missing.*dataset root not found"):
        s3.list_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: no Images/ folder"):
        s3.list_dataset(tmp_path / "empty")
    root = _make_root(tmp_path / "r", folders=["Images", "HeadSalMaps"])
    assert s3.list_dataset(root) == {"head_eye": [], "head_only": [2]}
    with pytest.raises(InputError, match="missing folder.s. HeadEyeSalMaps, Scanpaths"):
        s3.list_dataset(root, require=["head_eye"])
    root2 = _make_root(tmp_path / "r2", head_eye=())
    with pytest.raises(InputError, match="no complete head_eye image"):
        s3.list_dataset(root2, require=["head_eye"])


# ---------------------------------------------------------------- SP<n>.txt


def _write(tmp_path, text, name="SP1.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_modulo_60_and_observer_split(tmp_path):
    text = (
        "1,58.5,100,50\n2,59.4,120,55\n3,0.3,130,60\n4,1.2,140,65\n"  # crosses the minute
        "1,10.0,10,10\n2,12.5,20,20\n"  # second observer: plain
        "1,59.9,1,1\n"  # third observer: a single fixation
    )
    df = s3.read_scanpaths(_write(tmp_path, text), width=200, height=100)
    assert list(df.columns) == ["observer", "fixation", "t", "x", "y"]
    assert df.observer.tolist() == [0, 0, 0, 0, 1, 1, 2]
    assert df.fixation.tolist() == [1, 2, 3, 4, 1, 2, 1]
    np.testing.assert_allclose(df.t, [0.0, 0.9, 1.8, 2.7, 0.0, 2.5, 0.0], atol=1e-9)
    assert df.x.tolist()[:2] == [100.0, 120.0] and df.y.tolist()[-1] == 1.0
    assert df.observer.dtype == np.int64 and df.t.dtype == np.float64


def test_header_blank_lines_and_whitespace(tmp_path):
    text = "fixation, time, x, y\n\n1 5.0 3 4\n2,\t6.0, 5,6\n\n"
    df = s3.read_scanpaths(_write(tmp_path, text))
    assert df.fixation.tolist() == [1, 2] and df.t.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("1,0,1,1\n2,0.5,1\n", r"SP1\.txt:2: expected 4 fields .* found 3"),
        ("1,0,1,1\n2,abc,1,1\n", r"SP1\.txt:2: non-numeric"),
        ("1,abc,1,1\n2,0,1,1\n", r"SP1\.txt:1: non-numeric"),
        ("1,0,1,1\n2,nan,1,1\n", r"SP1\.txt:2: non-numeric or non-finite"),
        ("1,0,1,1\n\n2,0.5,250,1\n", r"SP1\.txt:3: x = 250 outside the image \(width 200\)"),
        ("1,0,1,1\n2,0.5,10,-3\n", r"SP1\.txt:2: y = -3 outside the image \(height 100\)"),
        ("1,0,1,1\n2,0.5,1,1\n2,0.9,1,1\n", r"SP1\.txt:3: fixation number 2 after 2 without"),
        ("1,0,1,1\n0,0.5,1,1\n", r"SP1\.txt:2: fixation number 0 is not a positive integer"),
        ("1.5,0,1,1\n", r"SP1\.txt:1: fixation number 1.5"),
        ("3,0,1,1\n4,0.5,1,1\n", r"SP1\.txt:1: the first observer does not start at fixation 1"),
        ("", r"SP1\.txt: empty scan-path file"),
        ("\n  \n", r"SP1\.txt: empty scan-path file"),
        ("fixation,time,x,y\n", r"SP1\.txt: no fixations after the header"),
    ],
)
def test_scanpath_errors(tmp_path, text, pattern):
    with pytest.raises(InputError, match=pattern):
        s3.read_scanpaths(_write(tmp_path, text), width=200, height=100)


def test_scanpath_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"SP9\.txt: file not found"):
        s3.read_scanpaths(tmp_path / "SP9.txt")


def test_scanpath_2018_style(tmp_path):
    text = ("Idx, longitude, latitude, start timestamp, duration, end timestamp\n"
            "0, 0.5, 0.5, 1.0, 0.2, 1.2\n1, 0.25, 0.75, 1.5, 0.3, 1.8\n"
            "0, 0.1, 0.2, 0.4, 0.1, 0.5\n")
    path = _write(tmp_path, text, "SP2018.txt")
    df = s3.read_scanpaths(path, width=200, height=100)
    assert df.observer.tolist() == [0, 0, 1] and df.fixation.tolist() == [1, 2, 1]
    np.testing.assert_allclose(df.t, [0.0, 0.5, 0.0])
    np.testing.assert_allclose(df.x, [100, 50, 20])
    np.testing.assert_allclose(df.y, [50, 75, 20])
    with pytest.raises(InputError, match="need the image width and height"):
        s3.read_scanpaths(path)
    bad = _write(tmp_path, text.replace("0.75", "1.75"), "bad2018.txt")
    with pytest.raises(InputError, match=r"bad2018\.txt:3: longitude/latitude"):
        s3.read_scanpaths(bad, width=200, height=100)


# ---------------------------------------------------------------- .bin maps


def test_bin_round_trip(tmp_path):
    arr = np.random.default_rng(1).random((3, 5)).astype(np.float32)
    path = s3.write_saliency_bin(tmp_path / "SHE1.bin", arr)
    assert path.stat().st_size == 3 * 5 * 4
    # independent little-endian decoding of the raw bytes
    raw = np.frombuffer(path.read_bytes(), dtype="<f4").reshape(3, 5)
    np.testing.assert_array_equal(raw, arr)
    out = s3.read_saliency_bin(path, width=5, height=3)
    assert out.dtype == np.float32 and out.shape == (3, 5)
    np.testing.assert_array_equal(out, arr)
    with pytest.raises(InputError, match="already exists"):
        s3.write_saliency_bin(path, arr)
    s3.write_saliency_bin(path, arr * 2, force=True)
    np.testing.assert_array_equal(s3.read_saliency_bin(path, 5, 3), arr * 2)


def test_bin_errors(tmp_path):
    path = tmp_path / "SH2.bin"
    np.zeros((3, 5), "<f4").tofile(path)
    with pytest.raises(InputError, match=r"SH2\.bin: 60 bytes, expected 64 \(float32 4x4 map\)"):
        s3.read_saliency_bin(path, 4, 4)
    arr = np.ones((3, 5), "<f4")
    arr[1, 2] = np.nan
    arr.tofile(path)
    with pytest.raises(InputError, match=r"SH2\.bin: map holds NaN"):
        s3.read_saliency_bin(path, 5, 3)
    with pytest.raises(InputError, match=r"nothere\.bin: saliency map not found"):
        s3.read_saliency_bin(tmp_path / "nothere.bin", 5, 3)
    with pytest.raises(ValueError, match="NaN"):
        s3.write_saliency_bin(tmp_path / "x.bin", arr)
    assert not (tmp_path / "x.bin").exists()


# ---------------------------------------------------------------- model scan-paths


def _rows():
    return np.array([[1, 1, 0.0, 10.5, 20.25], [1, 2, 0.3, 100, 50], [2, 1, 0.0, 1, 1],
                     [2, 2, 1.25, 200, 100], [2, 3, 2.5, 201, 101]], dtype=np.float64)


@pytest.mark.parametrize("suffix", [".csv", ".mat"])
def test_model_scanpath_round_trip(tmp_path, suffix):
    path = s3.write_model_scanpaths(tmp_path / f"P1{suffix}", _rows())
    out = s3.read_model_scanpaths(path, width=200, height=100)
    assert out.dtype == np.float64 and out.shape == (5, 5)
    np.testing.assert_allclose(out, _rows(), rtol=1e-9)
    if suffix == ".csv":
        first = path.read_text().splitlines()[0]
        assert first.split(",")[:2] == ["1", "1"] and len(first.split(",")) == 5
    else:
        assert loadmat(path)["scanpath"].shape == (5, 5)
    with pytest.raises(InputError, match="already exists"):
        s3.write_model_scanpaths(path, _rows())


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("1,1,0,1,1\n1,2,0.5,1\n", r"P\.csv:2: expected 5 columns, found 4"),
        ("1,1,0,1,1\n1,2,0.5,1,1,7\n", r"P\.csv:2: expected 5 columns, found 6"),
        ("1,1,0,1,1\n1,2,x,1,1\n", r"P\.csv:2: non-numeric"),
        ("1,1,0,1,1\n\n1,2,0.5,500,1\n", r"P\.csv:3: x = 500 outside the image"),
        ("1,1,0,1,1\n1,2,-0.5,5,1\n", r"P\.csv:2: negative start time"),
        ("1,1,0,1,1\n0,2,0.5,5,1\n", r"P\.csv:2: scan-path and fixation numbers"),
        ("1,1,0,1,1\n3,1,0.5,5,1\n", r"P\.csv: scan-path 2 is empty"),
        ("", r"P\.csv: empty scan-path file"),
    ],
)
def test_model_scanpath_csv_errors(tmp_path, text, pattern):
    path = tmp_path / "P.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=pattern):
        s3.read_model_scanpaths(path, width=200, height=100)


def test_model_scanpath_mat_errors(tmp_path):
    savemat(tmp_path / "a.mat", {"other": np.ones((2, 5))})
    with pytest.raises(InputError, match=r"a\.mat: no variable 'scanpath'"):
        s3.read_model_scanpaths(tmp_path / "a.mat")
    savemat(tmp_path / "b.mat", {"scanpath": np.ones((2, 4))})
    with pytest.raises(InputError, match=r"b\.mat: expected N x 5 rows, got shape \(2, 4\)"):
        s3.read_model_scanpaths(tmp_path / "b.mat")
    (tmp_path / "c.mat").write_bytes(b"garbage")
    with pytest.raises(InputError, match=r"c\.mat: cannot read \.mat file"):
        s3.read_model_scanpaths(tmp_path / "c.mat")
    with pytest.raises(InputError, match=r"d\.txt: unsupported scan-path format"):
        s3.read_model_scanpaths(tmp_path / "d.txt")
    with pytest.raises(ValueError, match="N x 5"):
        s3.write_model_scanpaths(tmp_path / "e.csv", np.ones((3, 4)))
    assert not (tmp_path / "e.csv").exists()


def test_parse_ids_words_numbers_and_errors():
    """Command-line ids: words, numbers and comma lists; anything else is one clear error."""
    assert s3.parse_ids(None) is None
    assert s3.parse_ids(["val"]) == sorted(s3.VALIDATION_IDS)
    assert s3.parse_ids(["41,42", "7"]) == [7, 41, 42]
    assert len(s3.parse_ids(["head-eye", "train"])) == 40
    with pytest.raises(InputError, match="--images: 'P41' is neither"):
        s3.parse_ids(["P41"], "--images")
