"""Decode one image file (or bytes) into a fully loaded 8-bit RGB :class:`PIL.Image.Image`.

Everything downstream (encoders, colour analysis) assumes plain RGB, so all the odd modes
found in real catalogs – palette, grey+alpha, CMYK JPEGs, 16-bit PNGs – are normalised
here, once. Every failure a user's file can cause becomes an :class:`ImageError` with a
one-line message; nothing from PIL leaks out.
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .._errors import ImageError

DEFAULT_MAX_PIXELS = 40_000_000

#: The longest side an image is kept at once decoded. It must stay above the most the pipeline
#: reads of a photo: the dense pass's short side (``scene/_windows.DENSE_SHORT_SIDE``), the
#: grids of crops the image network reads at its input size (``embed/_offline.py``), colour
#: k-means' thumbnail. A large upload then costs its full size only while it is decoded, not
#: in every later copy (orientation, conversion).
DEFAULT_MAX_SIDE = 2048
#: ...but the short side is never scaled below this (or below what it was): a panorama keeps
#: enough height for the network's 224 px input instead of being refused as a sliver.
MIN_SHORT_SIDE = 256

# Modes that carry an alpha channel; they are composited on white because product shots
# with transparent backgrounds are meant to be seen on a light page, and black (what a
# plain convert("RGB") effectively gives) would skew the colour analysis.
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})

# Exceptions PIL's decoders raise for corrupt or truncated data. PIL is not consistent:
# depending on the plugin it is OSError, SyntaxError, ValueError, EOFError or struct.error.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)


def open_image(source: str | Path | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               max_side: int = DEFAULT_MAX_SIDE) -> Image.Image:
    """Open ``source`` (a path or the raw bytes of a file) as a loaded RGB image.

    EXIF orientation is applied, transparency is composited on white, and images whose
    header claims more than ``max_pixels`` pixels are refused before any pixel is decoded.
    Larger images are scaled down to fit ``max_side`` (aspect ratio kept): JPEGs already
    while decoding, every format before the mode conversion.

    Raises:
        ImageError: missing file, directory, not an image, corrupt/truncated data, or too
            many pixels. The message names the file when a path was given.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = "image data"
        fp: io.BytesIO | Path = io.BytesIO(bytes(source))
    else:
        path = Path(source)
        label = str(path)
        _check_path(path)
        fp = path

    try:
        # Turn PIL's own bomb warning into an exception so it cannot slip through as a
        # mere log line; PIL's hard DecompressionBombError (2× its limit) is caught too.
        # PIL's global MAX_IMAGE_PIXELS is left alone – other code in the process may rely on it.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fp) as im:
                # Image.open only parsed the header: check the claimed size now, before
                # load() allocates width*height pixels.
                _check_size(im.size, max_pixels, label)
                scale = _scale(im.size, max_side)
                if im.format == "JPEG" and scale < 1:
                    # The decoder scales by 1/2, 1/4 or 1/8, never below the size asked for
                    # (the image fitted to max_side): the full-size pixels are never allocated.
                    im.draft("RGB", (math.ceil(im.width * scale), math.ceil(im.height * scale)))
                im.load()
                return _to_rgb(_apply_orientation(_reduce(im, max_side)), label)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # PIL checked the header before we could (its limit is lower than max_pixels, or the
        # image is past 2× its limit): same message as our own check.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        claimed = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
        raise ImageError(f"{label}: image is too large ({claimed}, limit {limit:,})") from None
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not an image (unrecognised or unsupported format)") from None
    except FileNotFoundError:
        # The file vanished between the check and the open.
        raise ImageError(f"{label}: file not found") from None
    except PermissionError:
        raise ImageError(f"{label}: permission denied") from None
    except MemoryError:
        raise ImageError(f"{label}: not enough memory to decode the image") from None
    except _DECODE_ERRORS as exc:
        raise ImageError(f"{label}: corrupt or truncated image ({_short(exc)})") from None


def _check_path(path: Path) -> None:
    if not path.exists():
        raise ImageError(f"{path}: file not found")
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not an image file")
    if not path.is_file():
        raise ImageError(f"{path}: not a regular file")


def _check_size(size: tuple[int, int], max_pixels: int, label: str) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"{label}: invalid image size {width}×{height}")
    if width * height > max_pixels:
        raise ImageError(
            f"{label}: image is too large ({width}×{height} = {width * height:,} pixels, "
            f"limit {max_pixels:,})"
        )


def _scale(size: tuple[int, int], max_side: int) -> float:
    """The factor (at most 1) that fits the long side to ``max_side`` without taking the
    short side below MIN_SHORT_SIDE."""
    long, short = max(size), min(size)
    floor = min(short, MIN_SHORT_SIDE) / short
    return min(1.0, max(max_side / long, floor))


def _reduce(im: Image.Image, max_side: int) -> Image.Image:
    """``im`` scaled by :func:`_scale`; before any conversion, so none of them (RGBA for
    compositing, floats for 16-bit) is ever made at full size."""
    scale = _scale(im.size, max_side)
    if scale >= 1:
        return im
    if im.mode in ("1", "P"):
        # Averaging palette indices or single bits means nothing (PIL would fall back to
        # nearest-neighbour): resize the colours they stand for.
        im = im.convert("L" if im.mode == "1" else "RGBA" if "transparency" in im.info else "RGB")
    # In place; reduces by whole factors first, then resamples.
    im.thumbnail((math.ceil(im.width * scale), math.ceil(im.height * scale)))
    return im


def _apply_orientation(im: Image.Image) -> Image.Image:
    try:
        out = ImageOps.exif_transpose(im)
    except _DECODE_ERRORS:
        # A malformed EXIF block should not reject an otherwise good photo: keep the
        # pixels as stored. copy() so the result outlives the closed file.
        return im.copy()
    assert out is not None  # in_place=False always returns an image
    return out


def _to_rgb(im: Image.Image, label: str) -> Image.Image:
    mode = im.mode
    if mode == "RGB":
        return im
    if mode.startswith("I") or mode == "F":
        # 16/32-bit grey: PIL's convert() clips everything above 255 to white, which
        # destroys 16-bit PNGs; rescale to 8 bits instead.
        return Image.fromarray(_to_uint8(np.asarray(im)), mode="L").convert("RGB")
    if mode in _ALPHA_MODES or "transparency" in im.info:
        # "transparency" covers palette/grey/RGB images with a tRNS-style key colour.
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return im.convert("RGB")  # "1", "L", "P", "CMYK", "YCbCr", …
    except ValueError:
        raise ImageError(f"{label}: unsupported colour mode {mode!r}") from None


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    is_float = arr.dtype.kind == "f"
    arr = np.nan_to_num(arr.astype(np.float64))
    if is_float and arr.size and float(arr.max()) <= 1.0:
        arr = arr * 255.0  # float images are conventionally 0..1
    elif arr.size and float(arr.max()) > 255.0:
        arr = arr / 257.0  # 16-bit range 0..65535 → 0..255
    return np.clip(arr, 0, 255).round().astype(np.uint8)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
