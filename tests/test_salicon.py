"""SALICON reader on small files written in the released formats (.mat both nestings, JSON, PNG)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from data_prep.errors import InputError
from data_prep.gaze import fixation_times
from data_prep.make_dataset import write_pack
from data_prep.pipeline import check_pack
from data_prep.salicon import (
    mat_fixations,
    parse_salicon_mat,
    read_salicon_json,
    read_salicon_map,
    read_salicon_mat,
    salicon_samples,
)

W, H = 64, 48
# Observer 1: four timed mouse samples (ms) and three fixations listed out of time order.
SAMPLES = np.array([[10, 10], [20, 20], [30, 30], [40, 40], [50, 50], [50.2, 50]], float)
STAMPS = np.array([1000, 1100, 1200, 1300, 1400, 1500], float)
FIXATIONS = np.array([[40.5, 40], [10, 11], [25, 26], [50.19, 50]], float)
# Hand-worked (radius 2% of 64 = 1.28 px): (10,11) is 1 px from the first sample -> 0.0 s;
# (25,26) has no sample within the radius, nearest is (30,30) -> 0.2 s; (40.5,40) -> 0.3 s;
# (50.19,50) is within the radius of both (50,50) at 1.4 s and (50.2,50) at 1.5 s -> the
# earliest, 0.4 s (the nearest would give 0.5 s).
EXPECTED = [(10, 11, 0.0), (25, 26, 0.2), (40.5, 40, 0.3), (50.19, 50, 0.4)]
OBSERVER2 = {"location": np.array([[5.0, 6.0]]), "timestamp": np.array([[300.0]]),
             "fixations": np.array([[5.0, 6.0], [60.0, 40.0]])}


def gaze_struct_array() -> np.ndarray:
    """``gaze`` as an n x 1 MATLAB struct array (one release's nesting)."""
    gaze = np.zeros((3, 1), dtype=[("location", object), ("timestamp", object),
                                   ("fixations", object)])
    gaze[0, 0] = (SAMPLES, STAMPS[:, None], FIXATIONS)
    gaze[1, 0] = (np.zeros((0, 2)), np.zeros((0, 1)), np.zeros((0, 2)))  # no fixations: dropped
    gaze[2, 0] = (OBSERVER2["location"], OBSERVER2["timestamp"], OBSERVER2["fixations"])
    return gaze


def gaze_cell_array() -> np.ndarray:
    """``gaze`` as an n x 1 cell array of 1 x 1 structs (the other nesting)."""
    cells = np.empty((2, 1), dtype=object)
    cells[0, 0] = {"location": SAMPLES, "timestamp": STAMPS, "fixations": FIXATIONS}
    cells[1, 0] = OBSERVER2
    return cells


def write_image(path: Path, seed: int, size=(W, H)) -> np.ndarray:
    """A random PNG/JPEG-losslessly-comparable image (PNG) at ``path``."""
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return rgb


def write_mat(path: Path, gaze: np.ndarray, name: str, resolution=(H, W)) -> Path:
    """A per-image SALICON fixation file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"image": name, "resolution": np.array(resolution, float),
                            "gaze": gaze})
    return path


def check_observer1(frame) -> None:
    """The first observer's fixations, re-ordered by the derived times."""
    first = frame[frame.observer == 0]
    assert first.fixation.tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(first[["x", "y", "t"]].to_numpy(), EXPECTED, atol=1e-9)


def test_fixation_times_hand_worked():
    t = fixation_times(SAMPLES, STAMPS, FIXATIONS, radius=1.28)
    np.testing.assert_allclose(t, [0.3, 0.0, 0.2, 0.4])
    # a sample order that is not chronological is sorted first
    perm = np.array([3, 1, 0, 2, 5, 4])
    np.testing.assert_allclose(fixation_times(SAMPLES[perm], STAMPS[perm], FIXATIONS, 1.28),
                               [0.3, 0.0, 0.2, 0.4])


@pytest.mark.parametrize("gaze_fn", [gaze_struct_array, gaze_cell_array])
@pytest.mark.parametrize("options", [{}, {"squeeze_me": True},
                                     {"squeeze_me": True, "struct_as_record": False},
                                     {"simplify_cells": True}])
def test_mat_both_nestings_every_loadmat_form(tmp_path, gaze_fn, options):
    path = write_mat(tmp_path / "a.mat", gaze_fn(), "COCO_train2014_000000000001")
    mat = parse_salicon_mat(scipy.io.loadmat(path, **options), str(path))
    assert (mat.image, mat.height, mat.width) == ("COCO_train2014_000000000001", H, W)
    frame = mat_fixations(mat)
    assert list(frame.columns) == ["observer", "fixation", "t", "x", "y"]
    assert frame.observer.unique().tolist() == [0, 1]
    check_observer1(frame)
    second = frame[frame.observer == 1]
    np.testing.assert_allclose(second[["x", "y", "t"]].to_numpy(), [[5, 6, 0], [60, 40, 0]])


def test_bad_mat_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"not a mat file")
    with pytest.raises(InputError, match="bad.mat: cannot read"):
        read_salicon_mat(bad)
    path = tmp_path / "nogaze.mat"
    scipy.io.savemat(path, {"image": "x", "resolution": np.array([H, W])})
    with pytest.raises(InputError, match="nogaze.mat: missing variable 'gaze'"):
        read_salicon_mat(path)
    gaze = gaze_struct_array()
    gaze[0, 0]["timestamp"] = STAMPS[:3]
    with pytest.raises(InputError, match=r"short.mat: gaze\(1\): 6 samples but 3 timestamps"):
        read_salicon_mat(write_mat(tmp_path / "short.mat", gaze, "x"))


def write_json(path: Path, names: list[str]) -> Path:
    """A 2015 COCO-style fixation file for ``names`` (ids 11, 12, ...)."""
    data = {
        "info": {}, "type": "fixations",
        "images": [{"id": 11 + i, "file_name": f"{n}.jpg", "width": W, "height": H}
                   for i, n in enumerate(names)],
        "annotations": [
            {"id": 1, "image_id": 11, "worker_id": 7, "fixations": [[5, 9], [40, 60]]},
            {"id": 2, "image_id": 11, "worker_id": 8, "fixations": [[1, 1]]},
        ],
    }
    path.write_text(json.dumps(data))
    return path


def test_json_rows_cols_become_x_y(tmp_path):
    result = read_salicon_json(write_json(tmp_path / "f.json", ["A", "B"]))
    frame, size = result["A"]
    assert size == (W, H)
    assert frame.observer.tolist() == [0, 0, 1] and frame.fixation.tolist() == [1, 2, 1]
    np.testing.assert_array_equal(frame[["x", "y"]].to_numpy(), [[9, 5], [60, 40], [1, 1]])
    assert frame.t.isna().all()
    assert len(result["B"][0]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"images": [], "annotations": [{"image_id": 3, "fixations": []}]}))
    with pytest.raises(InputError, match="bad.json: .*unknown image_id 3"):
        read_salicon_json(bad)


def make_root(root: Path) -> dict[str, np.ndarray]:
    """train: two images with .mat fixations (both nestings), one with a map; val: JSON + maps."""
    images = {}
    for i, gaze in ((1, gaze_struct_array()), (2, gaze_cell_array())):
        name = f"COCO_train2014_{i:012d}"
        images[name] = write_image(root / "images" / "train" / f"{name}.png", i)
        write_mat(root / "fixations" / "train" / f"{name}.mat", gaze, name)
    ramp = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    (root / "maps" / "train").mkdir(parents=True)
    Image.fromarray(ramp).save(root / "maps" / "train" / "COCO_train2014_000000000001.png")
    names = ["COCO_val2014_000000000011", "COCO_val2014_000000000012"]
    for i, name in enumerate(names):
        images[name] = write_image(root / "images" / "val" / f"{name}.png", 10 + i)
    (root / "maps" / "val").mkdir(parents=True)
    Image.fromarray(ramp).save(root / "maps" / "val" / f"{names[1]}.png")
    write_json(root / "fixations_val2014.json", names)
    return images


def test_salicon_samples_and_packing(tmp_path):
    images = make_root(tmp_path)
    train = list(salicon_samples(tmp_path, "train"))
    assert [s.name for s in train] == ["COCO_train2014_000000000001", "COCO_train2014_000000000002"]
    for sample in train:
        np.testing.assert_array_equal(sample.image, images[sample.name])
        check_observer1(sample.fixations)
    np.testing.assert_allclose(train[0].saliency[0], np.linspace(0, 255, W).astype(np.uint8) / 255,
                               atol=1e-6)
    assert train[0].saliency.dtype == np.float32 and train[1].saliency is None
    val = list(salicon_samples(tmp_path, "val"))
    assert val[0].fixations.x.tolist() == [9, 60, 1] and val[0].saliency is None
    assert len(val[1].fixations) == 0 and val[1].saliency is not None
    # the packing step takes them as they are (map-only pack)
    pack = write_pack(tmp_path / "train.h5", salicon_samples(tmp_path, "train"), 16, 32,
                      attrs={"source": "salicon"}, volumes=False, report=lambda _: None)
    spec = check_pack(pack, "map")
    assert (spec.count, spec.height, spec.width, spec.source) == (2, 16, 32, "salicon")
    with pytest.raises(InputError, match="no 'volume' target"):
        check_pack(pack, "volume")


def test_salicon_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="SALICON images folder not found"):
        list(salicon_samples(tmp_path, "train"))
    with pytest.raises(InputError, match="unknown SALICON split"):
        list(salicon_samples(tmp_path, "test"))
    write_image(tmp_path / "images" / "train" / "lonely.png", 0)
    with pytest.raises(InputError, match=r"lonely.png: no fixations \(.mat or JSON\) and no map"):
        list(salicon_samples(tmp_path, "train"))
    write_mat(tmp_path / "fixations" / "train" / "lonely.mat", gaze_cell_array(), "lonely",
              resolution=(480, 640))
    with pytest.raises(InputError, match="lonely.mat: declares 640x480, image is 64x48"):
        list(salicon_samples(tmp_path, "train"))
    broken = tmp_path / "m.png"
    broken.write_bytes(b"\x89PNG broken")
    with pytest.raises(InputError, match="m.png: cannot decode map"):
        read_salicon_map(broken)
