"""Tables 1–3 and the figures, end to end on a tiny demo dataset (evaluate.py tables/figures)."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import evaluate
from data_prep import metrics, salient360, tables
from data_prep.demo_dataset import make_demo_dataset
from data_prep.sampling import sample_scanpaths, volume_from_gt

IDS = list(salient360.VALIDATION_IDS)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "root"
    make_demo_dataset(root, width=128, height=64, observers=6, ids=IDS)
    return root


def _write_run(root, runs, method, seed, source="volume", strategy="gaussian"):
    for n in IDS:
        vol, size = volume_from_gt(root, n, source, shape=(16, 32))
        rows = sample_scanpaths(vol, n_paths=6, strategy=strategy, image_size=size,
                                seed=seed * 100 + n, allow_empty_slices=True)
        salient360.write_model_scanpaths(runs / method / f"seed{seed}" / f"P{n}.csv", rows)


@pytest.fixture(scope="module")
def runs(demo, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    for seed in (0, 1):
        _write_run(demo, runs, "random", seed, strategy="random")
        _write_run(demo, runs, "gaussian", seed)
    _write_run(demo, runs, "gt-map", 0, source="map")
    return runs


def test_table1_matches_independent_scores_and_orders_rows(demo, runs):
    t1, detail = tables.table1(demo, runs, IDS)
    assert list(t1["method"]) == ["random", "gaussian", "gt-map", "gt"]
    # recompute one method's number independently: mean over seeds of the mean over images
    per = []
    for seed in (0, 1):
        scores = []
        for n in IDS:
            df, (w, h) = salient360.load_fixations(demo, n)
            rows = salient360.read_model_scanpaths(runs / "gaussian" / f"seed{seed}" / f"P{n}.csv")
            scores.append(metrics.scanpath_score(metrics.gt_scanpaths_official(df),
                                                 metrics.model_scanpaths(rows), w, h))
        per.append(np.mean(scores))
    row = t1.set_index("method").loc["gaussian"]
    assert row["score"] == pytest.approx(np.mean(per))
    assert row["spread"] == pytest.approx(np.std(per, ddof=1))
    assert row["seeds"] == 2 and len(detail) == 2 * 2 * 4 + 4 + 4
    assert t1.set_index("method").loc["gt", "score"] < 1e-7
    # sampling the ground-truth volume beats random scan-paths on the demo data
    assert row["score"] < t1.set_index("method").loc["random", "score"]


def test_tables_cli_writes_markdown_and_csv_with_notes(demo, runs, tmp_path, capsys):
    maps = tmp_path / "maps"
    for n in IDS:  # the ground-truth map as "prediction": CC must be 1, KL 0
        w, h = Image.open(salient360.image_path(demo, n)).size
        gt = salient360.read_saliency_bin(salient360.head_eye_map_path(demo, n), w, h)
        salient360.write_saliency_bin(maps / f"P{n}.bin", gt)
    (runs / "maps").symlink_to(maps)
    try:
        assert evaluate.main(["tables", "--dataset", str(demo), "--runs", str(runs),
                              "--out", str(tmp_path / "out")]) == 0
    finally:
        (runs / "maps").unlink()
    text = (tmp_path / "out" / "tables.md").read_text()
    assert "synthetic DEMO dataset" in text and "single fixation scores exactly 0" in text
    assert "| Random scan-paths |" in text and "*reported*" in text
    t3 = pd.read_csv(tmp_path / "out" / "table3.csv")
    ours = t3[t3["source"] == "computed"].iloc[0]
    assert ours["CC"] == pytest.approx(1.0) and ours["KL"] == pytest.approx(0.0, abs=1e-9)
    assert len(t3) == 1 + len(tables.TABLE3_REPORTED)
    t2 = pd.read_csv(tmp_path / "out" / "table2.csv")
    assert list(t2["source"]) == ["computed", "reported", "reported", "reported"]
    # a second run refuses to overwrite without --force
    assert evaluate.run_cli(evaluate.main, ["tables", "--dataset", str(demo), "--runs", str(runs),
                                            "--out", str(tmp_path / "out")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_tables_reports_a_missing_run_file(demo, runs, tmp_path, capsys):
    broken = tmp_path / "runs"
    (broken / "naive" / "seed0").mkdir(parents=True)
    code = evaluate.run_cli(evaluate.main, ["tables", "--dataset", str(demo), "--runs", str(broken),
                                            "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "P35.csv: missing" in errors[0]


def test_figures_are_written(demo, runs, tmp_path):
    hist = tmp_path / "map.history.csv"
    pd.DataFrame({"epoch": [1, 2], "loss": [0.6, 0.5], "val_loss": [0.7, 0.6]}).to_csv(hist, index=False)
    assert evaluate.main(["figures", "--dataset", str(demo), "--runs", str(runs), "--out",
                          str(tmp_path / "fig"), "--history", f"map={hist}"]) == 0
    for name in ("figure1", "figure3", "figure4", "figure5"):
        assert Image.open(tmp_path / "fig" / f"{name}.png").format == "PNG"
