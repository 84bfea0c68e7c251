"""The embedded demo dataset: deterministic, in the real layout, objects attract the simulated gaze."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep import demo_dataset as dd
from data_prep.distributions import published_stats
from data_prep.errors import InputError, run_cli
from data_prep.geometry import angles_to_unit, cell_unit_vectors, great_circle, pixel_to_unit
from data_prep.images import load_image
from data_prep.salient360 import (
    head_eye_map_path,
    head_map_path,
    image_path,
    list_dataset,
    read_saliency_bin,
    read_scanpaths,
    scanpath_path,
)

W, H = 128, 64
IDS = [29, 31, 2]  # two head+eye, one head-only


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "root"
    return dd.make_demo_dataset(root, width=W, height=H, seed=3, observers=6, ids=IDS)


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_differs(demo, tmp_path):
    again = dd.make_demo_dataset(tmp_path / "again", width=W, height=H, seed=3, observers=6, ids=IDS)
    first, second = _files(demo), _files(again)
    assert first.keys() == second.keys()
    assert all(first[k] == second[k] for k in first)
    other = _files(dd.make_demo_dataset(tmp_path / "other", W, H, seed=4, observers=6, ids=[29]))
    assert other[image_path(".", 29)] != first[image_path(".", 29)]
    # a subset of ids gives the same files as the larger set (one random stream per image)
    subset = _files(dd.make_demo_dataset(tmp_path / "sub", W, H, seed=3, observers=6, ids=[31]))
    assert all(subset[k] == first[k] for k in subset if k.name != "README.txt")


def test_layout_readable_by_the_real_readers(demo):
    assert list_dataset(demo) == {"head_eye": [29, 31], "head_only": [2]}
    assert not scanpath_path(demo, 2).exists() and not head_eye_map_path(demo, 2).exists()
    assert (demo / "README.txt").read_text().startswith("SYNTHETIC DEMO DATA")
    assert load_image(image_path(demo, 29)).shape == (H, W, 3)
    for n in (29, 31):
        df = read_scanpaths(scanpath_path(demo, n), width=W, height=H)
        assert sorted(df["observer"].unique()) == list(range(6))
        assert (df.groupby("observer")["fixation"].first() == 1).all()
        assert df["x"].between(1, W).all() and df["y"].between(1, H).all()
        assert (df["x"] == df["x"].round()).all()
        # the mod-60 rule: times become increasing and stay within the 25 s viewing
        t = df["t"].to_numpy()
        same = df["observer"].to_numpy()[1:] == df["observer"].to_numpy()[:-1]
        assert (np.diff(t)[same] > 0).all()
        assert t.min() == 0.0 and t.max() < dd.VIEWING_TIME
    raw = [line.split(",") for line in scanpath_path(demo, 29).read_text().splitlines()]
    clock = np.array([float(r[1]) for r in raw])
    number = np.array([int(r[0]) for r in raw])
    assert ((np.diff(clock) < 0) & (number[1:] != 1)).any(), "no clock wrap exercised"
    for path in (head_eye_map_path(demo, 29), head_map_path(demo, 29), head_map_path(demo, 2)):
        sal = read_saliency_bin(path, W, H)
        assert sal.dtype == np.float32 and (sal >= 0).all()
        assert sal.sum(dtype=np.float64) == pytest.approx(1.0, abs=1e-5)


def test_objects_attract_fixations(tmp_path):
    root = dd.make_demo_dataset(tmp_path / "d", width=256, height=128, seed=0, observers=20, ids=[33, 41])
    for n in (33, 41):
        _, image, labels = dd.demo_scene(0, n, 128, 256)
        assert np.abs(load_image(image_path(root, n)).astype(float) - image).mean() < 6  # JPEG
        sal = read_saliency_bin(head_eye_map_path(root, n), 256, 128)
        on = labels >= 0
        assert 0.005 < on.mean() < 0.4
        assert sal[on].mean() > 8 * sal[~on].mean()
        df = read_scanpaths(scanpath_path(root, n), 256, 128)
        hit = labels[df["y"].to_numpy(int) - 1, df["x"].to_numpy(int) - 1] >= 0
        assert hit.mean() > 0.4


def _scene(objects):
    zero = np.zeros(3)
    waves = np.zeros((1, 5))
    return dd.Scene(zero, zero, zero, zero, waves, waves, waves, tuple(objects))


def _object(az_deg, category, peak):
    return dd.SceneObject(
        centre=angles_to_unit(np.radians(az_deg), 0.0),
        radius=np.radians(10),
        shape="disc",
        texture="shaded",
        colour=np.zeros(3),
        colour2=np.zeros(3),
        angle=0.0,
        frequency=2.0,
        category=category,
        salience=1.0,
        peak_time=peak,
    )


def test_temporal_dynamics():
    """Early objects are looked at early, late ones late; the gaze starts at longitude 0."""
    scene = _scene([_object(70, dd.EARLY, 2.0), _object(-70, dd.LATE, 15.0)])
    rng = np.random.default_rng(0)
    dirs, starts, durations, mask = dd.simulate_observers(scene, rng, 300, published_stats())
    assert np.allclose(starts[:, 0], 0.0) and (starts[mask] < dd.VIEWING_TIME).all()
    assert np.allclose(np.diff(starts, axis=1)[mask[:, 1:]], durations[:, :-1][mask[:, 1:]])
    assert 15 < mask.sum(axis=1).mean() < 30  # the published counts (mean about 22)
    first = dirs[:, 0]
    assert np.degrees(great_circle(first, angles_to_unit(0.0, 0.0))).mean() < 8
    near = [np.degrees(great_circle(dirs, o.centre)) < 20 for o in scene.objects]
    early = mask & (starts > 2) & (starts < 8)
    late = mask & (starts > 12)
    assert near[0][early].mean() > 2 * near[1][early].mean()
    assert near[1][late].mean() > 2 * near[0][late].mean()


def test_sphere_map_matches_a_direct_computation():
    rng = np.random.default_rng(1)
    points = angles_to_unit(rng.uniform(-np.pi, np.pi, 7), rng.uniform(-1.2, 1.2, 7))
    weights = rng.uniform(0.5, 2.0, 7)
    sigma = np.radians(10.0)
    # small grid: computed exactly at every cell
    cells = cell_unit_vectors(18, 36)
    angle = great_circle(cells[:, :, None, :], points[None, None])
    ref = (np.exp((np.cos(angle) - 1) / sigma**2) * weights).sum(axis=-1)
    got = dd.sphere_map(points, weights, 18, 36, 10.0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref / ref.sum(), rtol=1e-4, atol=1e-9)
    # large grid: interpolated from a coarser exact grid, within a few percent of the peak
    big = dd.sphere_map(points, weights, 360, 720, 10.0)
    assert big.sum(dtype=np.float64) == pytest.approx(1.0, abs=1e-5)
    cells = cell_unit_vectors(360, 720)[::7, ::11]
    angle = great_circle(cells[:, :, None, :], points[None, None])
    ref = (np.exp((np.cos(angle) - 1) / sigma**2) * weights).sum(axis=-1)
    ref_full = ref / ref.mean() / (360 * 720)  # the grid's mean approximates the full mean
    assert np.abs(big[::7, ::11] - ref_full).max() < 0.03 * ref_full.max()


def test_pixels_round_trip_through_the_official_mapping():
    az = np.radians([-179.9, -90.0, 0.0, 45.0, 179.9])
    el = np.radians([-80.0, 10.0, 0.0, -30.0, 60.0])
    x, y = dd.directions_to_pixels(angles_to_unit(az, -el), 1000, 500)
    assert ((x >= 1) & (x <= 1000) & (y >= 1) & (y <= 500)).all()
    back = pixel_to_unit(x - 0.5, y - 0.5, 1000, 500)
    assert np.degrees(great_circle(back, angles_to_unit(az, -el))).max() < 0.5
    assert y[4] < 250 < y[0]  # up is the top of the image


def test_cli_refuses_existing_and_bad_ids(demo, tmp_path, capsys):
    assert run_cli(dd.main, [str(demo), "--width", "64", "--height", "32"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "already exists" in err and "\n" not in err
    assert run_cli(dd.main, [str(tmp_path / "x"), "--ids", "1"]) == 2
    assert not (tmp_path / "x").exists()
    with pytest.raises(InputError, match="too small"):
        dd.make_demo_dataset(tmp_path / "y", width=4, height=2)
    out = tmp_path / "z"
    args = [str(out), "--width", "64", "--height", "32", "--observers", "2", "--ids", "29"]
    assert run_cli(dd.main, args) == 0
    before = (out / "Images" / "P29.jpg").read_bytes()
    assert run_cli(dd.main, [*args[:-1], "31", "--force"]) == 0
    assert list_dataset(out)["head_eye"] == [31] and before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
