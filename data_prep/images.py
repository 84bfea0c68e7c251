"""Stimulus images: loading any colour mode as RGB, reading the size cheaply, THE preprocessing.

Choices:
- Transparent images (RGBA, LA, palette with transparency) are composited onto a white
  background, so transparent regions look as a viewer would show them on a white page.
- CMYK is converted with Pillow's plain conversion (no colour profile).
- 16/32-bit grayscale is scaled to 8 bits (16-bit by >> 8; 32-bit integer and float
  clipped to 0-255).
- EXIF orientation is ignored, as the Salient360! fixation data is recorded on the raw
  pixel grid.
- Pillow's decompression-bomb guard is raised to 200 megapixels so that the 8888x4444
  stimuli open; larger images still fail loudly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from data_prep.errors import InputError

MAX_PIXELS = 200_000_000
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_WHITE = (255, 255, 255)


def _open(path: str | os.PathLike) -> Image.Image:
    """Open an image lazily, turning every failure into an InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: image file not found")
    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise InputError(f"{path}: cannot decode image ({err})") from None


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB (alpha composited on white)."""
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _WHITE + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I;16"):
        arr = (np.asarray(img, dtype=np.uint16) >> 8).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if mode in ("I", "F"):
        arr = np.clip(np.asarray(img, dtype=np.float64), 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if mode != "RGB":
        return img.convert("RGB")
    return img


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Load an image as uint8 (H, W, 3) RGB; InputError if it is missing or does not decode."""
    img = _open(path)
    try:
        with img:
            img.load()
            rgb = _to_rgb(img)
            arr = np.asarray(rgb, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise InputError(f"{path}: cannot decode image ({err})") from None
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.size == 0:
        raise InputError(f"{path}: decoded to an unexpected shape {arr.shape}")
    return np.ascontiguousarray(arr)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image read from its header, without decoding the pixels."""
    img = _open(path)
    with img:
        width, height = img.size
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: image has an empty size {width}x{height}")
    return int(width), int(height)


def preprocess(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an RGB image (uint8 or float, 0-255) to float32 (height, width, 3), bicubic, no mean.

    Each channel is resized in floating point with Pillow's antialiased bicubic filter and the
    result clipped to [0, 255]. A 2-D (grayscale) array is replicated to three channels.
    """
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"preprocess expects an (H, W, 3) RGB image, got shape {arr.shape}")
    if height <= 0 or width <= 0:
        raise ValueError(f"preprocess: invalid target size {height}x{width}")
    if arr.shape[0] == height and arr.shape[1] == width:
        return arr.astype(np.float32)
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(arr[:, :, c], dtype=np.float32), "F").resize(
                (width, height), Image.Resampling.BICUBIC
            ),
            dtype=np.float32,
        )
        for c in range(3)
    ]
    return np.clip(np.stack(channels, axis=2), 0.0, 255.0)
