"""Equirectangular <-> sphere conversions against hand-worked values."""

import math

import numpy as np
import pytest

from data_prep import geometry


def test_official_mapping_of_hand_picked_pixels():
    W, H = 400, 200
    # centre of the image: azimuth 0, elevation 0 -> (1, 0, 0)
    np.testing.assert_allclose(geometry.pixel_to_unit(200, 100, W, H), [1, 0, 0], atol=1e-12)
    # x = 300 -> azimuth pi/2 -> (0, 1, 0)
    np.testing.assert_allclose(geometry.pixel_to_unit(300, 100, W, H), [0, 1, 0], atol=1e-12)
    # y = 0 -> elevation -pi/2 -> z = -sin(-pi/2) = 1 (top of the image is up)
    np.testing.assert_allclose(geometry.pixel_to_unit(123, 0, W, H), [0, 0, 1], atol=1e-12)
    az, el = geometry.pixel_to_angles(100, 50, W, H)
    assert az == pytest.approx(-math.pi / 2) and el == pytest.approx(-math.pi / 4)


def test_great_circle_against_math():
    u = geometry.angles_to_unit(0.3, 0.2)
    v = geometry.angles_to_unit(-2.0, -0.9)
    expect = math.acos(math.sin(0.2) * math.sin(-0.9) + math.cos(0.2) * math.cos(-0.9) * math.cos(2.3))
    assert geometry.great_circle(u, v) == pytest.approx(expect)
    assert geometry.great_circle(u, u) == pytest.approx(0.0, abs=1e-7)


def test_cell_vectors_are_unit_and_wrap_neighbours():
    vec = geometry.cell_unit_vectors(6, 12)
    np.testing.assert_allclose(np.linalg.norm(vec, axis=-1), 1.0)
    # left and right edge cells of a row are as close as any two horizontal neighbours
    d_seam = geometry.great_circle(vec[3, 0], vec[3, -1])
    d_in = geometry.great_circle(vec[3, 0], vec[3, 1])
    assert d_seam == pytest.approx(d_in)


def test_grid_round_trip_and_wrap():
    W, H, gh, gw = 1000, 500, 10, 20
    row, col = geometry.to_grid(np.array([1, 1000, 1001, 500.5]), np.array([1, 500, 250, 500]), W, H, gh, gw)
    np.testing.assert_array_equal(col, [0, 19, 0, 9])  # x = W+1 wraps to the first column
    np.testing.assert_array_equal(row, [0, 9, 4, 9])
    x, y = geometry.from_grid(row, col, W, H, gh, gw)
    back = geometry.to_grid(x, y, W, H, gh, gw)
    np.testing.assert_array_equal(back[0], row)
    np.testing.assert_array_equal(back[1], col)
    rng = np.random.default_rng(0)
    x, y = geometry.from_grid(np.full(1000, 3), np.full(1000, 7), W, H, gh, gw, rng=rng)
    assert x.min() >= 1 + 7 * 50 and x.max() < 1 + 8 * 50
    assert y.min() >= 1 + 3 * 50 and y.max() < 1 + 4 * 50
