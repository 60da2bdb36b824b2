"""Safe photo loading: every kind of file a curator's folder holds, good and bad."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from saree_app import imaging
from saree_app.imaging import (
    PhotoError,
    Preprocessing,
    load_photo,
    preprocess,
    read_photo_file,
    unletterbox,
)


def _marked(width: int = 60, height: int = 40) -> Image.Image:
    """A grey picture with a red block in its top-left corner, to check orientation by pixels."""
    img = Image.new("RGB", (width, height), (128, 128, 128))
    side = max(10, min(width, height) // 4)
    img.paste((255, 0, 0), (0, 0, side, side))
    return img


def _jpeg(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95, **kw)
    return buf.getvalue()


def _red_corner(img: Image.Image) -> str:
    arr = np.asarray(img).astype(int)
    h, w = arr.shape[:2]
    corners = {
        "top-left": arr[2, 2],
        "top-right": arr[2, w - 3],
        "bottom-left": arr[h - 3, 2],
        "bottom-right": arr[h - 3, w - 3],
    }
    reds = [k for k, px in corners.items() if px[0] > 200 and px[1] < 80 and px[2] < 80]
    assert len(reds) == 1, corners
    return reds[0]


@pytest.mark.parametrize(
    ("orientation", "size", "corner"),
    [
        (1, (60, 40), "top-left"),
        (3, (60, 40), "bottom-right"),  # rotated 180
        (6, (40, 60), "top-right"),  # stored rotated: upright needs 90 clockwise
        (8, (40, 60), "bottom-left"),  # upright needs 90 anticlockwise
    ],
)
def test_exif_orientation_puts_pixels_upright(
    tmp_path: Path, orientation: int, size: tuple[int, int], corner: str
) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.jpg"
    path.write_bytes(_jpeg(_marked(), exif=exif))
    img = load_photo(path)
    assert img.mode == "RGB"
    assert img.size == size
    assert _red_corner(img) == corner


def test_cmyk_scan_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "scan.jpg"
    _marked().convert("CMYK").save(path, "JPEG", quality=95)
    img = load_photo(path)
    assert img.mode == "RGB"
    assert _red_corner(img) == "top-left"


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_keeps_tones(tmp_path: Path, fmt: str) -> None:
    ramp = (np.linspace(0, 65535, 64, dtype=np.uint16)[None, :].repeat(8, axis=0)).copy()
    path = tmp_path / f"deep.{fmt.lower()}"
    Image.fromarray(ramp).save(path, fmt)
    img = load_photo(path)
    row = np.asarray(img)[4, :, 0].astype(int)
    assert img.mode == "RGB"
    assert row[0] < 5 and row[-1] > 250  # full range kept, not clipped to white
    assert np.all(np.diff(row) >= 0)


def test_palette_png_with_transparency_is_composited_on_white(tmp_path: Path) -> None:
    img = Image.new("P", (20, 20), 0)
    img.putpalette([0, 0, 255] + [255, 0, 0] * 255)
    img.paste(1, (10, 0, 20, 20))
    path = tmp_path / "cutout.png"
    img.save(path, transparency=0)
    arr = np.asarray(load_photo(path))
    assert tuple(arr[5, 5]) == (255, 255, 255)  # transparent half: white
    assert tuple(arr[5, 15]) == (255, 0, 0)


def test_animated_gif_gives_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    path = tmp_path / "spin.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    arr = np.asarray(load_photo(path))
    assert arr[8, 8, 0] > 200 and arr[8, 8, 1] < 60


def test_wrong_extension_is_read_by_content(tmp_path: Path) -> None:
    path = tmp_path / "actually_a_png.jpg"
    _marked().save(path, "PNG")
    assert _red_corner(load_photo(path)) == "top-left"


def test_bytes_source() -> None:
    assert load_photo(_jpeg(_marked())).size == (60, 40)


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = _jpeg(_marked(400, 300))
    files: dict[str, tuple[bytes, str]] = {
        "empty.jpg": (b"", "empty"),
        "truncated.jpg": (good[: len(good) // 2], "cut short"),
        "notes.jpg": (b"These are my notes about the saree, not a photo.\n" * 4, "not a picture"),
        "catalogue.jpg": (b"%PDF-1.4\n%binary\n" + b"0" * 200, "PDF"),
        "page.png": (b"<!DOCTYPE html><html><body>404</body></html>", "web page"),
        "header_only.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 10, "damaged"),
    }
    out = {}
    for name, (data, reason) in files.items():
        p = tmp_path / name
        p.write_bytes(data)
        out[name] = (p, reason)
    return out


def test_bad_files_give_one_clear_error_each(tmp_path: Path) -> None:
    for name, (path, reason) in _bad_files(tmp_path).items():
        with pytest.raises(PhotoError) as info:
            load_photo(path)
        message = str(info.value)
        assert name in message, message
        assert reason.lower() in message.lower(), (name, message)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(PhotoError, match="does not exist"):
        load_photo(tmp_path / "gone.jpg")
    with pytest.raises(PhotoError, match="folder"):
        load_photo(tmp_path)


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size: the shape of a decompression bomb."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_claiming(50_000, 50_000))
    with pytest.raises(PhotoError, match="decompression bomb"):
        load_photo(path)


def test_pixel_limit_is_the_one_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ok.jpg"
    path.write_bytes(_jpeg(_marked(400, 300)))
    monkeypatch.setattr(imaging, "MAX_PIXELS", 100_000)
    with pytest.raises(PhotoError, match="megapixels"):
        load_photo(path)


def test_draft_decode_reduces_large_jpeg_but_keeps_target() -> None:
    data = _jpeg(_marked(2400, 1600))
    img = load_photo(data, target=256)
    assert min(img.size) >= 256
    assert max(img.size) <= 1200  # decoded at a reduced scale, not 2400 wide
    assert _red_corner(img.resize((120, 80))) == "top-left"


def test_preprocess_letterbox_and_back() -> None:
    prep = Preprocessing(size=64, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), fill=(0, 0, 0))
    img = _marked(120, 60)
    x, box = preprocess(img, prep)
    assert x.shape == (3, 64, 64) and x.dtype == np.float32
    left, top, right, bottom = box.content_box
    assert (left, right) == (0, 64) and (top, bottom) == (16, 48)
    # padding holds the fill value, normalised
    assert np.allclose(x[:, 0, 0], (0 - 0.5) / 0.25)
    # a map over the square comes back at the photo's size, padding cropped away
    grid = np.zeros((16, 16), np.float32)
    grid[4:12, :] = 1.0  # the content rows
    back = unletterbox(grid, box)
    assert back.shape == (60, 120)
    assert back.mean() > 0.9


def test_normalise_is_the_documented_arithmetic() -> None:
    """(x / 255 - mean) / std, channels first, float32: what training and the app both feed."""
    from saree_app.imaging import normalise

    img = _marked(37, 23)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    x = normalise(img, mean, std)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    want = (arr - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    assert x.dtype == np.float32 and x.flags.c_contiguous
    assert np.array_equal(x, want.transpose(2, 0, 1))


def test_unletterbox_maps_each_grid_as_it_would_alone() -> None:
    prep = Preprocessing(size=64, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), fill=(0, 0, 0))
    _, box = preprocess(_marked(90, 50), prep)
    grids = np.random.default_rng(3).standard_normal((4, 16, 16))  # float64 in, float32 out
    maps = unletterbox(grids, box)
    assert maps.shape == (4, 50, 90) and maps.dtype == np.float32
    for grid, one in zip(grids, maps, strict=True):
        assert np.array_equal(one, unletterbox(grid, box))


@pytest.mark.parametrize(
    ("width", "height", "refused_as_too_large"),
    [
        (10_000, 10_000, False),  # 100 MP: a museum scan, under the app's 120 MP
        (12_000, 9_000, False),  # 108 MP
        (12_000, 10_100, True),  # 121.2 MP: over the app's limit, said with its size
        (20_000, 10_000, True),  # 200 MP: past Pillow's own hard limit
    ],
)
def test_the_apps_pixel_limit_is_the_real_one(
    tmp_path: Path, width: int, height: int, refused_as_too_large: bool
) -> None:
    """Pillow's bomb warning starts at 89.5 MP; the app's limit (120 MP) is the one that counts."""
    import warnings

    from saree_app.collection.importer import exif_facts

    path = tmp_path / "scan.png"
    path.write_bytes(_png_header_claiming(width, height))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(PhotoError) as info:
            load_photo(path)
        exif_facts(path.read_bytes())  # the importer reads the header first
    assert [str(w.message) for w in caught] == []  # nothing of Pillow's reaches the curator
    message = str(info.value)
    assert ("larger than the 120 megapixels" in message or "larger than 120" in message) == (
        refused_as_too_large
    ), message
    if not refused_as_too_large:
        assert "damaged" in message or "cut short" in message  # only the pixel data is missing
    elif width * height < 179_000_000:
        assert f"{width} x {height}" in message


# ---- read_photo_file: what is read before a byte of it is decoded


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "x.jpg"
    os.mkfifo(pipe)  # nobody writes: a plain read would wait for ever
    with pytest.raises(PhotoError, match=r"not a regular file \(a named pipe\)"):
        read_photo_file(pipe)
    with pytest.raises(PhotoError, match="named pipe"):
        load_photo(pipe)


def test_a_device_is_refused() -> None:
    with pytest.raises(PhotoError, match=r"not a regular file \(a device\)"):
        read_photo_file("/dev/zero")


def test_links_that_loop_or_lead_nowhere_say_so(tmp_path: Path) -> None:
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    with pytest.raises(PhotoError, match="a link that points to itself"):
        read_photo_file(loop)
    dangling = tmp_path / "dangling.jpg"
    dangling.symlink_to(tmp_path / "gone.jpg")
    with pytest.raises(PhotoError, match="a link to a file that does not exist"):
        read_photo_file(dangling)
    with pytest.raises(PhotoError, match="the file does not exist"):
        read_photo_file(tmp_path / "gone.jpg")


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    with big.open("wb") as fh:
        fh.truncate(imaging.MAX_FILE_BYTES + 1)  # sparse: no disk, and never read
    with pytest.raises(PhotoError, match=r"1\.0 GB, larger than the 1 GB a photo may be"):
        read_photo_file(big)


def test_the_first_bytes_must_be_a_picture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "doc.jpg"
    doc.write_bytes(b"%PDF-1.4\n" + b"x" * 100_000)
    sizes: list[int] = []
    real_open = os.fdopen

    def fdopen(fd: int, mode: str = "r") -> object:
        fh = real_open(fd, mode)
        real_read = fh.read

        def read(n: int = -1) -> bytes:
            sizes.append(n)
            return real_read(n)

        fh.read = read  # type: ignore[method-assign]
        return fh

    monkeypatch.setattr(imaging.os, "fdopen", fdopen)
    with pytest.raises(PhotoError, match="this is a PDF document, not a photo"):
        read_photo_file(doc)
    assert sizes == [32]  # the head only
    monkeypatch.undo()
    text = tmp_path / "notes.png"
    text.write_text("shopping list")
    with pytest.raises(PhotoError, match="not a picture format the app can read"):
        read_photo_file(text)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"])
def test_every_picture_format_passes_the_first_bytes(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"photo.{fmt.lower()}"
    _marked().save(path, fmt)
    assert read_photo_file(path) == path.read_bytes()


def test_heic_is_named_not_called_unreadable(tmp_path: Path) -> None:
    heic = tmp_path / "phone.jpg"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    with pytest.raises(PhotoError, match="HEIC") as raised:
        load_photo(heic)
    # A photo in a format the app cannot read: said so, with what to do, never "not a photo".
    assert "export it as JPEG" in str(raised.value) and "not a photo" not in str(raised.value)
    pdf = tmp_path / "scan.jpg"
    pdf.write_bytes(b"%PDF-1.7\n" + b"\x00" * 64)
    with pytest.raises(PhotoError, match="this is a PDF document, not a photo"):
        read_photo_file(pdf)


def test_working_copy_shrinks_by_whole_factors_keeping_the_shorter_side() -> None:
    """The side models' copy: the largest whole factor that keeps the shorter side at least
    the asked side, a box average of the photo's own pixels; a small photo is itself."""
    from saree_app.imaging import working_copy

    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (900, 1600, 3), dtype=np.uint8)
    photo = Image.fromarray(pixels)
    small = working_copy(photo, 384)
    assert small.size == (800, 450)  # 900 // 384 = 2
    expected = pixels.reshape(450, 2, 800, 2, 3).mean(axis=(1, 3))
    assert np.abs(np.asarray(small, np.float64) - expected).max() <= 1.0
    assert working_copy(photo, 200).size == (400, 225)  # a factor of 4
    little = Image.new("RGB", (700, 500))
    assert working_copy(little, 384) is little
