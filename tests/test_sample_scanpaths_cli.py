"""sample_scanpaths.py: sources, outputs, determinism, and every bad input (exit 2, no files)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sample_scanpaths as cli
from data_prep.distributions import load_stats
from data_prep.errors import run_cli
from data_prep.salient360 import read_model_scanpaths

ROOT = Path(__file__).resolve().parents[1]
IDS = [29, 31, 35, 46]  # 29, 31 train; 35, 46 validation


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A tiny synthetic Salient360!-layout root (128 x 64 images, 6 observers)."""
    from data_prep.demo_dataset import make_demo_dataset

    return make_demo_dataset(tmp_path_factory.mktemp("data") / "root", width=128, height=64,
                             observers=6, ids=IDS)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """Tiny Keras models saved as .keras: a 12-slice volume head and a 1-output map head."""
    import keras

    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name, outputs in (("volume", 12), ("map", 1)):
        keras.utils.set_random_seed(0)
        inp = keras.Input((32, 64, 3))
        x = keras.layers.Rescaling(1 / 255.0)(inp)
        out = keras.layers.Conv2D(outputs, 3, padding="same", activation="sigmoid")(x)
        paths[name] = folder / f"{name}.keras"
        keras.Model(inp, out).save(paths[name])
    return paths


def run(argv: list[str], capsys) -> tuple[int, str]:
    """Run the CLI in-process: (exit status, stderr)."""
    code = run_cli(cli.main, [str(a) for a in argv])
    return code, capsys.readouterr().err


def files(folder: Path) -> list[str]:
    """Every file under ``folder`` (relative), or [] if it does not exist."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) \
        if folder.exists() else []


def test_help_explains_every_flag():
    out = subprocess.run([sys.executable, str(ROOT / "sample_scanpaths.py"), "--help"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    parser = cli.build_parser()
    for action in parser._actions:
        assert action.help and len(action.help) > 15, action.option_strings
        for flag in action.option_strings:
            assert flag in out


def test_ids_words_and_numbers():
    from data_prep.salient360 import TRAIN_IDS, VALIDATION_IDS

    assert cli.parse_ids(["val"]) == sorted(VALIDATION_IDS)
    assert cli.parse_ids(["41,42", "7", "train"]) == sorted({41, 42, 7, *TRAIN_IDS})
    with pytest.raises(Exception, match="neither an image number"):
        cli.parse_ids(["P41"])


def test_gt_volume_learns_stats_and_is_deterministic(dataset, tmp_path, capsys):
    """gt-volume on val ids: CSVs readable, 40 paths, stats.json learned and reusable.

    (6 observers leave late slices empty: --allow-empty-slices.)
    """
    out = tmp_path / "a"
    code, err = run(["--source", "gt-volume", "--dataset", dataset, "--ids", "35,46",
                     "--size", 24, 48, "--out", out, "--allow-empty-slices"], capsys)
    assert code == 0, err
    assert files(out) == ["P35.csv", "P46.csv", "stats.json"]
    assert "[2/2] P46" in err
    rows = read_model_scanpaths(out / "P35.csv", 128, 64)
    assert rows[:, 0].max() == 40 and rows[:, 3].max() < 129
    stats = load_stats(out / "stats.json")
    assert stats.counts.edges[0] >= 1
    # the same seed gives identical files; the saved stats reproduce the learned run
    again = tmp_path / "b"
    assert run(["--source", "gt-volume", "--dataset", dataset, "--ids", "35", "46", "--size",
                24, 48, "--stats", out / "stats.json", "--out", again, "--allow-empty-slices"],
               capsys)[0] == 0
    assert files(again) == ["P35.csv", "P46.csv"]
    assert (again / "P35.csv").read_bytes() == (out / "P35.csv").read_bytes()
    other = tmp_path / "c"
    assert run(["--source", "gt-volume", "--dataset", dataset, "--ids", "35", "--size", 24, 48,
                "--seed", 1, "--out", other, "--allow-empty-slices"], capsys)[0] == 0
    assert (other / "P35.csv").read_bytes() != (out / "P35.csv").read_bytes()


def test_refuses_existing_outputs_without_force(dataset, tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["--source", "gt-map", "--dataset", dataset, "--ids", "35", "--size", 24, 48,
            "--stats", ROOT / "data_prep" / "published_distributions.json", "--out", out]
    assert run(argv, capsys)[0] == 0
    before = (out / "P35.csv").read_bytes()
    code, err = run(argv + ["--seed", 5], capsys)
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    assert (out / "P35.csv").read_bytes() == before
    assert run(argv + ["--seed", 5, "--force"], capsys)[0] == 0
    assert (out / "P35.csv").read_bytes() != before


def test_gt_map_mat_and_saved_volumes(dataset, tmp_path, capsys):
    out = tmp_path / "m"
    code, err = run(["--source", "gt-map", "--dataset", dataset, "--ids", "35", "--size", 16, 32,
                     "--strategy", "ior", "--geometry", "sphere", "--mat", "--save-volumes",
                     "--out", out], capsys)
    assert code == 0, err
    assert files(out) == ["P35.csv", "P35.mat", "stats.json", "volumes/P35.npy"]
    np.testing.assert_allclose(read_model_scanpaths(out / "P35.mat", 128, 64),
                               read_model_scanpaths(out / "P35.csv", 128, 64), rtol=1e-8)
    vol = np.load(out / "volumes" / "P35.npy")
    assert vol.shape == (1, 16, 32) and abs(vol.sum() - 1) < 1e-5
    # saved volumes are a source again (sizes from --dataset for P<n> names)
    again = tmp_path / "v"
    assert run(["--volumes", out / "volumes", "--dataset", dataset, "--strategy", "naive",
                "--out", again], capsys)[0] == 0
    assert read_model_scanpaths(again / "P35.csv", 128, 64).shape[1] == 5


def test_model_on_dataset_and_on_any_image(dataset, models, tmp_path, capsys):
    """A volume model runs on dataset ids and on a non-2:1 image file (warning)."""
    out = tmp_path / "w"
    code, err = run(["--weights", models["volume"], "--dataset", dataset, "--ids", "35", "46",
                     "--save-volumes", "--out", out], capsys)
    assert code == 0, err
    assert files(out) == ["P35.csv", "P46.csv", "stats.json", "volumes/P35.npy",
                          "volumes/P46.npy"]
    vol = np.load(out / "volumes" / "P35.npy")
    assert vol.shape == (12, 32, 64)
    np.testing.assert_allclose(vol.sum(axis=(1, 2)), 1.0, rtol=1e-5)
    from PIL import Image

    img = tmp_path / "pano wide.png"
    Image.fromarray(np.full((30, 90, 3), 120, np.uint8)).save(img)
    out2 = tmp_path / "i"
    code, err = run(["--weights", models["volume"], "--image", img, "--size", 32, 64,
                     "--n-paths", 5, "--out", out2], capsys)
    assert code == 0, err
    assert "not 2:1" in err
    rows = read_model_scanpaths(out2 / "pano wide.csv", 90, 30)
    assert rows[:, 0].max() == 5


def test_size_resamples_a_fixed_size_model(dataset, models, tmp_path, capsys):
    """--size differing from a .keras model's input: the volume is area-resampled to it."""
    out = tmp_path / "s"
    code, err = run(["--weights", models["volume"], "--dataset", dataset, "--ids", "35",
                     "--size", 16, 32, "--save-volumes", "--out", out], capsys)
    assert code == 0, err
    vol = np.load(out / "volumes" / "P35.npy")
    assert vol.shape == (12, 16, 32)
    np.testing.assert_allclose(vol.sum(axis=(1, 2)), 1.0, rtol=1e-5)


def test_paper_weights_file_is_built_at_size(dataset, tmp_path, capsys):
    """A build_saltinet *.weights.h5 (paper architecture) runs at --size H W."""
    import keras

    from models.saltinet import build_saltinet

    keras.utils.set_random_seed(0)
    weights = tmp_path / "volume.weights.h5"
    build_saltinet(12, (32, 64, 3)).save_weights(weights)
    out = tmp_path / "p"
    try:
        code, err = run(["--weights", weights, "--dataset", dataset, "--ids", "46", "--size",
                         32, 64, "--n-paths", 3, "--save-volumes", "--out", out], capsys)
    finally:
        weights.unlink()  # about 100 MB
    assert code == 0, err
    assert np.load(out / "volumes" / "P46.npy").shape == (12, 32, 64)
    assert read_model_scanpaths(out / "P46.csv", 128, 64)[:, 0].max() == 3


def test_random_baseline_needs_no_volume(dataset, tmp_path, capsys):
    out = tmp_path / "r"
    code, err = run(["--strategy", "random", "--dataset", dataset, "--ids", "35,46",
                     "--out", out], capsys)
    assert code == 0, err
    rows = read_model_scanpaths(out / "P46.csv", 128, 64)
    assert rows[:, 3].min() >= 1 and rows[:, 3].max() < 129


def test_hook_sees_each_image(dataset, tmp_path):
    seen = []
    args = cli.build_parser().parse_args(["--source", "gt-volume", "--dataset", str(dataset),
                                          "--ids", "35", "46", "--size", "12", "24",
                                          "--out", str(tmp_path / "h"),
                                          "--allow-empty-slices"])
    cli.run(args, on_image=seen.append)
    assert [r.name for r in seen] == ["P35", "P46"]
    assert seen[0].volume.shape == (12, 12, 24) and seen[0].image_size == (128, 64)


# --------------------------------------------------------------------------- bad input


def test_wrong_head_checkpoint(dataset, models, tmp_path, capsys):
    out = tmp_path / "x"
    code, err = run(["--weights", models["map"], "--dataset", dataset, "--ids", "35",
                     "--out", out], capsys)
    assert code == 2
    assert err.startswith("error: ") and "1 output" in err and err.count("\n") == 1
    assert not out.exists()


def test_unreadable_image(models, tmp_path, capsys):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "x"
    code, err = run(["--weights", models["volume"], "--image", bad, "--out", out], capsys)
    assert code == 2 and "broken.jpg" in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("case,message", [
    ("nan", "slice 4 (of 0..11) holds NaN or infinite values"),
    ("negative", "slice 4 (of 0..11) has negative values"),
    ("zero", "slice 4 (of 0..11) is all zero (--allow-empty-slices uses the nearest non-empty "
             "slice)")])
def test_bad_volume_leaves_no_partial_files(tmp_path, capsys, case, message):
    """The second of two volumes is bad: exit 2 naming it, and the first's CSV is not kept."""
    folder = tmp_path / "vols"
    folder.mkdir()
    good = np.ones((12, 6, 12), np.float32)
    bad = good.copy()
    bad[4, 2, 3] = {"nan": np.nan, "negative": -1.0, "zero": 1.0}[case]
    if case == "zero":
        bad[4] = 0.0
    np.save(folder / "A.npy", good)
    np.save(folder / "B.npy", bad)
    out = tmp_path / "out"
    code, err = run(["--volumes", folder, "--out", out, "--save-volumes"], capsys)
    assert code == 2
    assert err.splitlines()[-1] == f"error: B: {message}"
    assert files(out) == [] and not out.exists()
    if case == "zero":
        code, err = run(["--volumes", folder, "--out", out, "--allow-empty-slices"], capsys)
        assert code == 0, err
        assert files(out) == ["A.csv", "B.csv"]


def test_flag_combinations_fail_in_one_line(dataset, tmp_path, capsys):
    out = tmp_path / "x"
    for argv, message in (
        (["--source", "gt-map"], "needs --dataset"),
        (["--dataset", dataset], "no volumes"),
        (["--source", "gt-map", "--volumes", tmp_path, "--dataset", dataset], "one source"),
        (["--source", "gt-map", "--dataset", dataset, "--ids", "35", "--ior-strength", 2],
         "--ior-strength"),
        (["--volumes", tmp_path / "missing.npy"], "not found"),
    ):
        code, err = run(argv + ["--out", out], capsys)
        assert code == 2 and message in err and err.count("\n") == 1, (argv, err)
    assert not out.exists()


def test_image_mode_draws_scanpaths_and_volume_pngs(tmp_path):
    """--image writes the CSV plus the scan-path and volume PNGs (default out only needs --image)."""
    from PIL import Image

    from models.saltinet import build_saltinet
    from sample_scanpaths import main

    ckpt = tmp_path / "v.weights.h5"
    build_saltinet(12, (32, 64, 3)).save_weights(ckpt)
    pano = tmp_path / "pano.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 120, 3), dtype=np.uint8)).save(pano)
    out = tmp_path / "pred"
    assert main(["--image", str(pano), "--weights", str(ckpt), "--size", "32", "64",
                 "--n-paths", "4", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["pano.csv", "pano.scanpaths.png", "pano.volume.png"]
    assert Image.open(out / "pano.scanpaths.png").format == "PNG"
    assert main(["--image", str(pano), "--weights", str(ckpt), "--size", "32", "64",
                 "--out", str(tmp_path / "plain"), "--no-figures"]) == 0
    assert [p.name for p in (tmp_path / "plain").iterdir()] == ["pano.csv"]
