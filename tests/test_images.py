"""Tests for data_prep.images: colour-mode conversion, EXIF, bad files, size, preprocessing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from data_prep.errors import InputError
from data_prep.images import image_size, load_image, preprocess


def _rgb(h: int = 6, w: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_rgb_png_round_trip(tmp_path):
    arr = _rgb()
    Image.fromarray(arr).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == (6, 10, 3)
    np.testing.assert_array_equal(out, arr)


def test_grayscale_is_replicated(tmp_path):
    gray = _rgb()[:, :, 0]
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    out = load_image(tmp_path / "g.png")
    assert out.shape == (6, 10, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], gray)


def test_rgba_composited_on_white(tmp_path):
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)  # opaque: kept
    rgba[0, 1] = (10, 20, 30, 0)  # transparent: white
    rgba[0, 2] = (0, 0, 0, 128)  # half: blend with white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png").astype(int)
    assert tuple(out[0, 0]) == (10, 20, 30)
    assert tuple(out[0, 1]) == (255, 255, 255)
    expected = round(255 * (1 - 128 / 255))
    assert np.all(np.abs(out[0, 2] - expected) <= 1)


def test_palette_and_palette_transparency(tmp_path):
    img = Image.new("P", (4, 2))
    img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    img.putdata([0, 1, 2, 0, 1, 2, 0, 1])
    img.save(tmp_path / "p.png")
    out = load_image(tmp_path / "p.png")
    assert tuple(out[0, 0]) == (255, 0, 0) and tuple(out[0, 1]) == (0, 255, 0)
    assert tuple(out[0, 2]) == (0, 0, 255)
    img.info["transparency"] = 1
    img.save(tmp_path / "pt.png", transparency=1)
    out = load_image(tmp_path / "pt.png")
    assert tuple(out[0, 1]) == (255, 255, 255) and tuple(out[0, 0]) == (255, 0, 0)


def test_cmyk(tmp_path):
    cmyk = np.zeros((1, 3, 4), dtype=np.uint8)
    cmyk[0, 1] = (255, 0, 0, 0)  # full cyan
    cmyk[0, 2] = (0, 0, 0, 255)  # full black
    Image.fromarray(cmyk, "CMYK").save(tmp_path / "c.tif")
    out = load_image(tmp_path / "c.tif")
    assert tuple(out[0, 0]) == (255, 255, 255)
    assert tuple(out[0, 1]) == (0, 255, 255)
    assert tuple(out[0, 2]) == (0, 0, 0)


def test_sixteen_bit_grayscale(tmp_path):
    arr = np.array([[0, 256, 65535]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "i16.png")
    out = load_image(tmp_path / "i16.png")
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 255])


def test_exif_orientation_ignored(tmp_path):
    arr = _rgb(4, 8)
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees" - the dataset ignores it, so do we
    img.save(tmp_path / "e.jpg", exif=exif, quality=95)
    assert load_image(tmp_path / "e.jpg").shape == (4, 8, 3)
    assert image_size(tmp_path / "e.jpg") == (8, 4)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.jpg: image file not found"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(InputError, match="nope.jpg"):
        image_size(tmp_path / "nope.jpg")


def test_undecodable_file(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"this is not an image at all")
    with pytest.raises(InputError, match=r"bad\.jpg: cannot decode image"):
        load_image(bad)


def test_truncated_jpeg_fails_but_size_reads_header(tmp_path):
    Image.fromarray(_rgb(64, 96)).save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    assert image_size(cut) == (96, 64)  # header only: no decoding
    with pytest.raises(InputError, match=r"cut\.jpg: cannot decode image"):
        load_image(cut)


def test_large_stimuli_not_blocked():
    assert Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS >= 8888 * 4444 * 2


def test_preprocess_shape_dtype_and_identity():
    arr = _rgb(8, 16)
    out = preprocess(arr, 8, 16)
    assert out.dtype == np.float32 and out.shape == (8, 16, 3)
    np.testing.assert_array_equal(out, arr.astype(np.float32))
    small = preprocess(arr, 4, 6)
    assert small.shape == (4, 6, 3) and small.dtype == np.float32
    assert small.min() >= 0 and small.max() <= 255


def test_preprocess_reproduces_a_linear_ramp():
    # A symmetric, normalised resampling kernel reproduces a linear ramp away from borders:
    # output column j (factor-2 downscale) is centred on input coordinate 2j + 0.5.
    cols = np.arange(64, dtype=np.float32)
    ramp = np.broadcast_to(2 * cols + 10, (8, 64))
    img = np.stack([ramp, ramp, ramp], axis=2)
    out = preprocess(img, 8, 32)
    j = np.arange(32)
    np.testing.assert_allclose(out[4, 3:-3, 0], (4 * j + 11)[3:-3], atol=1e-3)
    const = preprocess(np.full((20, 40, 3), 77, np.uint8), 10, 15)
    np.testing.assert_allclose(const, 77, atol=1e-3)


def test_preprocess_grayscale_and_bad_shape():
    gray = np.full((4, 4), 9, np.uint8)
    assert preprocess(gray, 2, 2).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="RGB"):
        preprocess(np.zeros((4, 4, 4), np.uint8), 2, 2)
