"""evaluate.py: JSON output of the scan-path and saliency commands, and every bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import evaluate
from data_prep import metrics, salient360
from data_prep.errors import run_cli

ROOT = Path(__file__).resolve().parents[1]
W, H, N = 64, 32, 29
SCANPATHS = """1,10.0,5,6
2,10.4,20,10
3,11.0,40,20
1,59.5,60,30
2,0.3,30,16
1,5.0,12,12
2,5.6,50,8
3,6.1,33,25
"""


@pytest.fixture()
def dataset(tmp_path):
    """A one-image Salient360!-style root: P29 (64 x 32), SP29.txt, SHE29.bin."""
    root = tmp_path / "data"
    for folder in ("Images", "Scanpaths", "HeadEyeSalMaps"):
        (root / folder).mkdir(parents=True)
    Image.fromarray(np.full((H, W, 3), 120, dtype=np.uint8)).save(root / "Images" / f"P{N}.jpg")
    (root / "Scanpaths" / f"SP{N}.txt").write_text(SCANPATHS)
    yy, xx = np.mgrid[0:H, 0:W]
    gt = np.exp(-((xx - 30) ** 2 + (yy - 15) ** 2) / 50.0) + 1e-3
    salient360.write_saliency_bin(root / "HeadEyeSalMaps" / f"SHE{N}.bin", gt / gt.sum())
    return root


def _run(capsys, *argv):
    """Run the CLI in-process: (exit status, parsed stdout JSON or None, stderr)."""
    status = run_cli(evaluate.main, [str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out.strip() else None), err


def _write_csv(path, rows):
    np.savetxt(path, np.asarray(rows, dtype=float), delimiter=",", fmt="%.10g")
    return path


def test_scanpath_json_matches_the_metric(dataset, tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [[k, i, 0.3 * (i - 1), rng.integers(1, W + 1), rng.integers(1, H + 1)]
            for k in (1, 2) for i in (1, 2, 3, 4)]
    pred = _write_csv(tmp_path / "pred.csv", rows)
    status, out, err = _run(capsys, "scanpath", "--dataset", dataset, "--image", N, "--pred", pred)
    assert status == 0 and err == ""
    df = salient360.read_scanpaths(dataset / "Scanpaths" / f"SP{N}.txt", W, H)
    gt = metrics.gt_scanpaths_official(df)
    expect = metrics.scanpath_score(gt, metrics.model_scanpaths(np.array(rows, float)), W, H)
    assert set(out) == {"image", "score"} and out["image"] == N
    assert out["score"] == pytest.approx(expect, rel=1e-12) and out["score"] > 0


def test_scanpath_ground_truth_and_single_fixation(dataset, tmp_path, capsys):
    df = salient360.read_scanpaths(dataset / "Scanpaths" / f"SP{N}.txt", W, H)
    gt = metrics.gt_scanpaths_official(df)  # 3 observers; the first two get an end point
    assert [len(p) for p in gt] == [4, 3, 3]
    rows = [[k + 1, i + 1, *p] for k, path in enumerate(gt) for i, p in enumerate(path)]
    salient360.write_model_scanpaths(tmp_path / "gt.mat", np.array(rows, float))
    status, out, _ = _run(capsys, "scanpath", "--dataset", dataset, "--image", N,
                          "--pred", tmp_path / "gt.mat")
    assert status == 0 and 0 <= out["score"] < 1e-7
    single = _write_csv(tmp_path / "one.csv", [[1, 1, 0.0, 10, 10]])
    status, out, _ = _run(capsys, "scanpath", "--dataset", dataset, "--image", N, "--pred", single)
    assert status == 0 and out["score"] == 0.0


def test_saliency_json(dataset, tmp_path, capsys):
    gt_bin = dataset / "HeadEyeSalMaps" / f"SHE{N}.bin"
    status, out, err = _run(capsys, "saliency", "--dataset", dataset, "--image", N, "--pred", gt_bin)
    assert status == 0 and err == ""
    assert set(out) == {"image", "KL", "CC", "NSS", "ROC"} and out["image"] == N
    assert abs(out["KL"]) < 1e-9 and out["CC"] == pytest.approx(1.0)
    assert out["NSS"] > 0 and 0.5 < out["ROC"] <= 1
    gt = salient360.read_saliency_bin(gt_bin, W, H)
    np.save(tmp_path / "half.npy", gt[::2, ::2])
    status, half, _ = _run(capsys, "saliency", "--dataset", dataset, "--image", N,
                           "--pred", tmp_path / "half.npy")
    assert status == 0 and half["CC"] > 0.95
    png = (gt / gt.max() * 255).astype(np.uint8)
    Image.fromarray(png).save(tmp_path / "pred.png")
    status, img, _ = _run(capsys, "saliency", "--dataset", dataset, "--image", N,
                          "--pred", tmp_path / "pred.png")
    assert status == 0 and img["CC"] > 0.99


def _bad_inputs(dataset, tmp_path):
    """(command, image, pred file, expected fragment of the message) for every bad input."""
    t = tmp_path
    _write_csv(t / "ok.csv", [[1, 1, 0, 5, 5], [1, 2, 0.5, 6, 6]])
    (t / "cols.csv").write_text("1,1,0,5\n")
    (t / "text.csv").write_text("1,1,zero,5,5\n")
    _write_csv(t / "outside.csv", [[1, 1, 0, 5, 5], [1, 2, 0.5, W + 40, 6]])
    np.save(t / "nan.npy", np.full((H, W), np.nan))
    np.save(t / "zeros.npy", np.zeros((H, W)))
    np.zeros(10, dtype="<f4").tofile(t / "short.bin")
    (t / "junk.png").write_bytes(b"not an image")
    return [
        ("scanpath", N, t / "missing.csv", "missing.csv"),
        ("scanpath", N, t / "cols.csv", "expected 5 columns"),
        ("scanpath", N, t / "text.csv", "non-numeric"),
        ("scanpath", N, t / "outside.csv", "outside the image"),
        ("scanpath", 31, t / "ok.csv", "image 31 not in the dataset"),
        ("saliency", N, t / "missing.npy", "missing.npy"),
        ("saliency", 31, t / "nan.npy", "image 31 not in the dataset"),
        ("saliency", N, t / "nan.npy", "NaN"),
        ("saliency", N, t / "zeros.npy", "all zeros"),
        ("saliency", N, t / "short.bin", "short.bin"),
        ("saliency", N, t / "junk.png", "junk.png"),
    ]


def test_every_bad_input_is_one_line_and_exit_2(dataset, tmp_path, capsys):
    for command, image, pred, fragment in _bad_inputs(dataset, tmp_path):
        status, out, err = _run(capsys, command, "--dataset", dataset, "--image", image,
                                "--pred", pred)
        assert status == 2 and out is None, (command, pred)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err
        named = str(pred) if "not in the dataset" not in fragment else str(dataset)
        assert named in lines[0]


def test_missing_dataset_root(tmp_path, capsys):
    status, _, err = _run(capsys, "scanpath", "--dataset", tmp_path / "nope", "--image", N,
                          "--pred", tmp_path / "p.csv")
    assert status == 2 and "nope" in err


def test_real_process_exit_status(dataset, tmp_path):
    _write_csv(tmp_path / "ok.csv", [[1, 1, 0, 5, 5], [1, 2, 0.5, 6, 6]])
    base = [sys.executable, str(ROOT / "evaluate.py"), "scanpath", "--dataset", str(dataset)]
    good = subprocess.run(base + ["--image", str(N), "--pred", str(tmp_path / "ok.csv")],
                          capture_output=True, text=True, cwd=ROOT)
    assert good.returncode == 0 and json.loads(good.stdout)["image"] == N
    bad = subprocess.run(base + ["--image", str(N), "--pred", str(tmp_path / "none.csv")],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "none.csv" in bad.stderr
