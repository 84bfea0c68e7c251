"""Figures: the seam-aware polyline split and that each plotting function writes a PNG."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from data_prep import plots
from data_prep.errors import InputError


def test_segments_without_crossing_stay_one_piece():
    pieces = plots.seam_segments(np.array([10.0, 50, 90]), np.array([5.0, 6, 7]), 100)
    assert len(pieces) == 1
    np.testing.assert_array_equal(pieces[0][0], [10, 50, 90])


def test_segment_crossing_the_seam_leaves_and_reenters_at_the_edges():
    # 95 -> 5 on a 100-wide image: the short way is +10 through the right edge
    (x1, y1), (x2, y2) = plots.seam_segments(np.array([95.0, 5.0]), np.array([10.0, 30.0]), 100)
    np.testing.assert_allclose(x1, [95, 100])
    np.testing.assert_allclose(x2, [0, 5])
    # the crossing is half-way along the short segment: y = 20 on both sides
    assert y1[-1] == pytest.approx(20.0) and y2[0] == pytest.approx(20.0)


def test_segment_crossing_leftwards():
    (x1, y1), (x2, y2) = plots.seam_segments(np.array([2.0, 92.0]), np.array([0.0, 10.0]), 100)
    np.testing.assert_allclose(x1, [2, 0])
    np.testing.assert_allclose(x2, [100, 92])
    assert y1[-1] == pytest.approx(2.0)  # 2 of the 10 pixels of the short way


def test_figures_are_written_and_refuse_overwrite(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (32, 64, 3), dtype=np.uint8)
    rows = np.array([[1, 1, 0.0, 60, 10], [1, 2, 0.4, 3, 12], [2, 1, 0.0, 30, 20]], dtype=float)
    out = plots.draw_scanpaths(image, rows, tmp_path / "paths.png")
    assert Image.open(out).size[0] > 100
    with pytest.raises(InputError, match="already exists"):
        plots.draw_scanpaths(image, rows, out)
    vol = rng.random((12, 8, 16))
    plots.plot_volume_slices(vol, tmp_path / "vol.png", viewing_time=25.0, image=image)
    hist = pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.7, 0.5, 0.4], "val_loss": [0.8, 0.6, 0.5]})
    plots.plot_learning_curves({"map": hist, "volume": hist}, tmp_path / "curves.png")
    plots.plot_histograms([("counts", np.array([0.5, 0.5]), np.array([1.0, 2, 3]), "n")],
                          tmp_path / "hist.png")
    for name in ("vol.png", "curves.png", "hist.png"):
        assert Image.open(tmp_path / name).format == "PNG"
    assert not list(tmp_path.glob("*.tmp*"))
