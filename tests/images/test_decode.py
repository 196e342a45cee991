from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenefit._errors import ImageError
from scenefit.images import open_image


def _save(tmp_path: Path, name: str, im: Image.Image, fmt: str, **kw) -> Path:
    path = tmp_path / name
    im.save(path, fmt, **kw)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height but whose pixel data is a few bytes.

    Decoding it would need width*height bytes; the check must refuse it from the header.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_common_formats_open_as_loaded_rgb(tmp_path: Path, fmt: str, ext: str) -> None:
    path = _save(tmp_path, f"red.{ext}", Image.new("RGB", (40, 30), (200, 20, 20)), fmt)
    im = open_image(path)
    assert im.mode == "RGB"
    assert im.size == (40, 30)
    r, g, b = im.getpixel((20, 15))
    assert r > 180 and g < 50 and b < 50
    path.unlink()  # fully loaded: pixels stay usable without the file
    assert im.getpixel((0, 0))[0] > 180


def test_accepts_str_path_and_bytes(tmp_path: Path) -> None:
    path = _save(tmp_path, "a.png", Image.new("RGB", (5, 4), (1, 2, 3)), "PNG")
    assert open_image(str(path)).getpixel((0, 0)) == (1, 2, 3)
    assert open_image(path.read_bytes()).size == (5, 4)


def test_rgba_is_composited_on_white(tmp_path: Path) -> None:
    im = Image.new("RGBA", (4, 4), (0, 0, 0, 0))  # fully transparent black
    im.putpixel((0, 0), (0, 0, 255, 255))  # one opaque blue pixel
    out = open_image(_save(tmp_path, "t.png", im, "PNG"))
    assert out.mode == "RGB"
    assert out.getpixel((1, 1)) == (255, 255, 255)
    assert out.getpixel((0, 0)) == (0, 0, 255)


def test_la_and_palette_transparency_become_white(tmp_path: Path) -> None:
    la = Image.new("LA", (3, 3), (0, 0))
    assert open_image(_save(tmp_path, "la.png", la, "PNG")).getpixel((1, 1)) == (255, 255, 255)
    pal = Image.new("P", (3, 3), 0)
    pal.putpalette([0, 0, 0] * 256)
    out = open_image(_save(tmp_path, "p.png", pal, "PNG", transparency=0))
    assert out.getpixel((1, 1)) == (255, 255, 255)


def test_cmyk_and_greyscale_convert(tmp_path: Path) -> None:
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))  # red in CMYK
    r, g, b = open_image(_save(tmp_path, "c.jpg", cmyk, "JPEG")).getpixel((2, 2))
    assert r > 200 and g < 60 and b < 60
    grey = _save(tmp_path, "l.png", Image.new("L", (2, 2), 77), "PNG")
    assert open_image(grey).getpixel((0, 0)) == (77, 77, 77)


def test_16bit_greyscale_is_rescaled_not_clipped(tmp_path: Path) -> None:
    arr = np.array([[0, 32896, 65535]], dtype=np.uint16)
    out = open_image(_save(tmp_path, "g16.png", Image.fromarray(arr), "PNG"))
    assert [out.getpixel((x, 0))[0] for x in range(3)] == [0, 128, 255]


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    im = Image.new("RGB", (60, 20), (0, 200, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    out = open_image(_save(tmp_path, "o.jpg", im, "JPEG", exif=exif.tobytes()))
    assert out.size == (20, 60)


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("<html>404 not found</html>")
    with pytest.raises(ImageError, match=r"notes\.jpg: not an image"):
        open_image(path)


def test_truncated_jpeg(tmp_path: Path) -> None:
    noise = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg: corrupt or truncated"):
        open_image(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.png: file not found"):
        open_image(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="is a directory"):
        open_image(tmp_path)


def test_bomb_is_refused_from_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bomb.png"
    # 8000×8000 = 64 M pixels: over our 40 M default, under PIL's own limit, so it is
    # our header check (not PIL's) that must stop it.
    path.write_bytes(_png_header_only(8_000, 8_000))
    assert path.stat().st_size < 200
    limit_before = Image.MAX_IMAGE_PIXELS

    # Loading pixels would be the failure: prove the check happens before load().
    def no_load(self):  # noqa: ANN001
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_load)
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_load)
    expected = r"bomb\.png: image is too large \(8000×8000 = 64,000,000 pixels, limit 40,000,000\)"
    with pytest.raises(ImageError, match=expected):
        open_image(path)
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_max_pixels_is_configurable(tmp_path: Path) -> None:
    path = _save(tmp_path, "s.png", Image.new("RGB", (100, 100)), "PNG")
    assert open_image(path, max_pixels=10_000).size == (100, 100)
    with pytest.raises(ImageError, match="limit 9,999"):
        open_image(path, max_pixels=9_999)


@pytest.mark.parametrize("max_pixels", [40_000_000, 10**12])
def test_pil_bomb_check_is_translated(tmp_path: Path, max_pixels: int) -> None:
    # 20000×20000 trips PIL's own hard limit inside Image.open, before our check runs;
    # and with our limit lifted, PIL's warning limit still applies. Either way the
    # caller gets ImageError, never DecompressionBombError/Warning.
    for name, side in (("huge.png", 20_000), ("big.png", 10_000)):
        path = tmp_path / name
        path.write_bytes(_png_header_only(side, side))
        expected = rf"{name}: image is too large \({side * side:,} pixels"
        with pytest.raises(ImageError, match=expected):
            open_image(path, max_pixels=max_pixels)


def _spy_on_conversions(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Sizes of every image converted to RGB(A) or composited while decoding (not the
    premultiplied copy PIL's own resampling makes of an alpha image)."""
    seen: list[tuple[int, int]] = []
    convert, composite = Image.Image.convert, Image.alpha_composite

    def spy_convert(self, mode=None, *a, **kw):  # noqa: ANN001, ANN002, ANN003
        if mode in ("RGB", "RGBA"):
            seen.append(self.size)
        return convert(self, mode, *a, **kw)

    def spy_composite(a, b):  # noqa: ANN001
        seen.append(b.size)
        return composite(a, b)

    monkeypatch.setattr(Image.Image, "convert", spy_convert)
    monkeypatch.setattr(Image, "alpha_composite", spy_composite)
    return seen


def test_large_image_is_reduced_before_it_is_converted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scenefit.images._decode import DEFAULT_MAX_SIDE

    path = _save(tmp_path, "big.png", Image.new("L", (6000, 6000), 90), "PNG")
    big_alpha = Image.new("LA", (3000, 1500), (0, 0))
    big_alpha.paste((20, 255), (0, 0, 1500, 1500))  # left half opaque dark, right half transparent
    alpha_path = _save(tmp_path, "alpha.png", big_alpha, "PNG")
    seen = _spy_on_conversions(monkeypatch)
    out = open_image(path)
    assert out.mode == "RGB" and out.size == (DEFAULT_MAX_SIDE, DEFAULT_MAX_SIDE)
    assert out.getpixel((100, 100)) == (90, 90, 90)
    # No full-size copy: every conversion (to RGB, to RGBA for compositing) works on the reduced image.
    out = open_image(alpha_path, max_side=600)
    assert out.size == (600, 300)
    assert out.getpixel((100, 150)) == (20, 20, 20) and out.getpixel((500, 150)) == (255, 255, 255)
    assert seen and max(max(size) for size in seen) <= DEFAULT_MAX_SIDE


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(tmp_path, "big.jpg", Image.new("RGB", (4000, 2000), (30, 160, 60)), "JPEG")
    from PIL import ImageFile

    decoded: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def spy_load(self):  # noqa: ANN001
        decoded.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    out = open_image(path, max_side=900)
    assert decoded[0] == (1000, 500)  # the decoder's 1/4 scale: the 4000×2000 pixels never exist
    assert out.size == (900, 450) and out.getpixel((450, 225))[1] > 140


def test_small_images_keep_their_size_and_orientation_applies_after_reduction(tmp_path: Path) -> None:
    im = Image.new("RGB", (3000, 1000), (0, 200, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    out = open_image(_save(tmp_path, "o.jpg", im, "JPEG", exif=exif.tobytes()), max_side=1500)
    assert out.size == (500, 1500)
    assert open_image(_save(tmp_path, "s.png", Image.new("RGB", (700, 300)), "PNG"), max_side=700).size == (700, 300)


def test_large_palette_and_16bit_images_keep_their_colours(tmp_path: Path) -> None:
    pal = Image.new("P", (2400, 1200), 1)
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0, 0, 0] * 254)
    out = open_image(_save(tmp_path, "p.png", pal, "PNG"), max_side=800)
    assert out.size == (800, 400) and out.getpixel((10, 10)) == (200, 30, 30)
    arr = np.full((1200, 2400), 32896, dtype=np.uint16)
    out = open_image(_save(tmp_path, "g16.png", Image.fromarray(arr), "PNG"), max_side=800)
    assert out.size == (800, 400) and out.getpixel((10, 10)) == (128, 128, 128)


def test_a_panorama_keeps_its_short_side_when_scaled():
    """A 20000×40 strip fits max_side only by becoming a sliver the scene pipeline refuses:
    its short side is kept instead."""
    from scenefit.images._decode import MIN_SHORT_SIDE

    buf = io.BytesIO()
    Image.new("RGB", (20000, 40), (10, 200, 30)).save(buf, "PNG")
    assert open_image(buf.getvalue(), max_side=2048).size == (20000, 40)
    buf = io.BytesIO()
    Image.new("RGB", (12000, 600), (10, 200, 30)).save(buf, "PNG")
    w, h = open_image(buf.getvalue(), max_side=2048).size
    assert h == MIN_SHORT_SIDE and abs(w - 12000 * MIN_SHORT_SIDE / 600) <= 1
