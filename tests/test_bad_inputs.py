"""The bad-input corpus (issue 27): every kind of file a curator's folder holds, imported.

Each case is made here, in a temporary folder, with Pillow (no binary fixtures in git), and the
whole corpus goes through the real importer and Predictor (the tiny model) in-process. A case
either imports cleanly or is skipped with a clear one-line message; the photos the catalogue
held before lose nothing, and a second import changes nothing.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from saree_app.collection.catalog import Catalog
from saree_app.collection.importer import ImportProgress, import_files, import_folder
from saree_app.imaging import MAX_FILE_BYTES, shown

OK = "imported"


@dataclass(frozen=True)
class Case:
    """One file of the corpus: its name, how to make it, and what the import must do with it.

    `expect` is OK, or words the skip reason must contain. `explicit`: given to import_files
    by name (a folder named .jpg is walked into by a folder import, not reported).
    """

    name: str
    make: Callable[[Path, int], None]
    expect: str
    explicit: bool = False


def _pixels(seed: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """Bands of colour with noise: distinct content per seed, so no case duplicates another."""
    rng = np.random.default_rng(seed)
    w, h = size
    arr = np.zeros((h, w, 3), dtype=np.uint8)
    colours = rng.integers(0, 255, size=(6, 3))
    for k in range(6):
        arr[k * h // 6 : (k + 1) * h // 6] = colours[k]
    return np.clip(arr.astype(int) + rng.integers(-20, 20, arr.shape), 0, 255).astype(np.uint8)


def _rgb(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    return Image.fromarray(_pixels(seed, size), "RGB")


def _saved(fmt: str, mode: str | None = None, size: tuple[int, int] = (64, 48), **kw: object):  # type: ignore[no-untyped-def]
    def make(path: Path, seed: int) -> None:
        img = _rgb(seed, size)
        if mode is not None:
            img = img.convert(mode)
        img.save(path, fmt, **kw)

    return make


def _bytes_of(fmt: str, seed: int, **kw: object) -> bytes:
    buf = io.BytesIO()
    _rgb(seed).save(buf, fmt, **kw)
    return buf.getvalue()


def _write(data: Callable[[int], bytes]) -> Callable[[Path, int], None]:
    def make(path: Path, seed: int) -> None:
        path.write_bytes(data(seed))

    return make


def _exif_rotated(path: Path, seed: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter clockwise
    exif[0x0132] = "0000:00:00 00:00:00"  # the junk date some cameras write
    _rgb(seed, (80, 40)).save(path, "JPEG", exif=exif.tobytes())


def _bad_orientation(path: Path, seed: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = 9  # no such orientation
    _rgb(seed).save(path, "JPEG", exif=exif.tobytes())


def _sixteen_bit(path: Path, seed: int) -> None:
    arr = (_pixels(seed)[..., 0].astype(np.uint16) * 257).astype(np.uint16)
    Image.fromarray(arr).save(path, "PNG")  # uint16: mode I;16


def _float_tiff(path: Path, seed: int) -> None:
    Image.fromarray(_pixels(seed)[..., 1].astype(np.float32) / 255.0).save(path, "TIFF")


def _palette_alpha(path: Path, seed: int) -> None:
    img = _rgb(seed).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    img.info["transparency"] = 0
    img.save(path, "PNG", transparency=0)


def _animated(fmt: str) -> Callable[[Path, int], None]:
    def make(path: Path, seed: int) -> None:
        frames = [_rgb(seed + k) for k in range(3)]
        frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)

    return make


def _truncated(fmt: str) -> Callable[[Path, int], None]:
    def make(path: Path, seed: int) -> None:
        data = _bytes_of(fmt, seed)
        path.write_bytes(data[: len(data) // 2])

    return make


def _flipped_middle(path: Path, seed: int) -> None:
    data = bytearray(_bytes_of("PNG", seed))
    mid = len(data) // 2
    data[mid : mid + 16] = bytes(b ^ 0xFF for b in data[mid : mid + 16])
    path.write_bytes(bytes(data))


def _png_claiming(width: int, height: int) -> Callable[[Path, int], None]:
    """A small PNG whose header claims width x height: a decompression bomb's calling card."""

    def make(path: Path, seed: int) -> None:
        data = bytearray(_bytes_of("PNG", seed))
        ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes
        ihdr[4:12] = struct.pack(">II", width, height)
        data[12:29] = ihdr
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
        path.write_bytes(bytes(data))

    return make


def _big_jpeg(path: Path, seed: int) -> None:
    # 100 MP: over Pillow's own 89.5 MP warning, under the app's 120 MP limit (issue 27, 3).
    Image.new("L", (10_000, 10_000), 40 + seed % 100).save(path, "JPEG", quality=50)


def _sparse(size: int) -> Callable[[Path, int], None]:
    def make(path: Path, seed: int) -> None:
        with path.open("wb") as fh:
            fh.write(b"\xff\xd8\xff\xe0")
            fh.truncate(size)  # sparse: no disk used, and the app must not read it

    return make


def _heic(path: Path, seed: int) -> None:
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes([seed]) * 64)


def _link_to(target_name: str, *, exists: bool = True) -> Callable[[Path, int], None]:
    def make(path: Path, seed: int) -> None:
        outside = path.parent.parent / "outside"
        outside.mkdir(exist_ok=True)
        target = outside / target_name
        if exists:
            _rgb(seed).save(target, "JPEG")
        path.symlink_to(target)

    return make


def _loop(path: Path, seed: int) -> None:
    path.symlink_to(path)


def _fifo(path: Path, seed: int) -> None:
    os.mkfifo(path)


def _device(path: Path, seed: int) -> None:
    path.symlink_to("/dev/zero")


def _folder(path: Path, seed: int) -> None:
    path.mkdir()


def _unreadable(path: Path, seed: int) -> None:
    _rgb(seed).save(path, "JPEG")
    path.chmod(0)


CASES: tuple[Case, ...] = (
    # Pictures a camera, phone, scanner or editor writes: all imported.
    Case("plain.jpg", _saved("JPEG"), OK),
    Case("one-pixel.png", _saved("PNG", size=(1, 1)), OK),
    Case("panorama-20000x200.jpg", _saved("JPEG", size=(20_000, 200)), OK),
    Case("tall-200x20000.png", _saved("PNG", size=(200, 20_000)), OK),
    Case("lossy.webp", _saved("WEBP"), OK),
    Case("lossless.webp", _saved("WEBP", lossless=True), OK),
    Case("scan.tif", _saved("TIFF"), OK),
    Case("scan-lzw.tiff", _saved("TIFF", compression="tiff_lzw"), OK),
    Case("old.bmp", _saved("BMP"), OK),
    Case("still.gif", _saved("GIF"), OK),
    Case("phone.avif", _saved("AVIF"), OK),
    Case("exif-rotated.jpg", _exif_rotated, OK),
    Case("exif-orientation-9.jpg", _bad_orientation, OK),
    Case("print-cmyk.jpg", _saved("JPEG", mode="CMYK"), OK),
    Case("sixteen-bit.png", _sixteen_bit, OK),
    Case("float.tif", _float_tiff, OK),
    Case("palette-alpha.png", _palette_alpha, OK),
    Case("cut-out-rgba.png", _saved("PNG", mode="RGBA"), OK),
    Case("grey-alpha.png", _saved("PNG", mode="LA"), OK),
    Case("grey.jpg", _saved("JPEG", mode="L"), OK),
    Case("one-bit.png", _saved("PNG", mode="1"), OK),
    Case("progressive.jpg", _saved("JPEG", progressive=True), OK),
    Case("animated.gif", _animated("GIF"), OK),
    Case("animated.webp", _animated("WEBP"), OK),
    Case("png-named.jpg", _saved("PNG"), OK),
    Case("jpeg-named.png", _saved("JPEG"), OK),
    Case("UPPER CASE.JPEG", _saved("JPEG"), OK),
    Case("my saree photo.jpg", _saved("JPEG"), OK),
    Case("new\nline.jpg", _saved("JPEG"), OK),
    Case(os.fsdecode(b"caf\xe9-latin1.jpg"), _saved("JPEG"), OK),
    Case("साड़ी-unicode.jpg", _saved("JPEG"), OK),
    Case("-starts-with-dash.jpg", _saved("JPEG"), OK),
    Case("=HYPERLINK(1).jpg", _saved("JPEG"), OK),
    Case("x" * 200 + ".jpg", _saved("JPEG"), OK),
    Case("link-to-photo.jpg", _link_to("elsewhere.jpg"), OK),
    Case("hundred-megapixels.jpg", _big_jpeg, OK),
    # Files that are not usable photos: each skipped with its reason.
    Case("empty.jpg", _write(lambda s: b""), "empty (0 bytes)"),
    Case("truncated.jpg", _truncated("JPEG"), "cut short"),
    Case("truncated.png", _truncated("PNG"), "cut short"),
    Case("damaged-middle.png", _flipped_middle, "damaged"),
    Case("random-bytes.jpg", _write(lambda s: bytes(range(256)) * 8), "not a picture format"),
    Case("text.png", _write(lambda s: b"just some notes\n" * 10), "not a picture format"),
    Case("document.jpg", _write(lambda s: b"%PDF-1.7\n" + b"0" * 500), "a PDF document"),
    Case("page.jpg", _write(lambda s: b"<!DOCTYPE html><html></html>"), "a web page"),
    Case("archive.jpg", _write(lambda s: b"PK\x03\x04" + b"\0" * 200), "a ZIP archive"),
    Case("phone.heic.jpg", _heic, "HEIC photo"),
    Case("bomb-400mp.png", _png_claiming(20_000, 20_000), "possibly a decompression bomb"),
    Case("bomb-2gp.png", _png_claiming(50_000, 40_000), "possibly a decompression bomb"),
    Case("two-gigabytes.jpg", _sparse(2 * MAX_FILE_BYTES), "larger than the 1 GB"),
    Case("no-permission.jpg", _unreadable, "permission denied"),
    Case("pipe.jpg", _fifo, "not a regular file (a named pipe)"),
    Case("device.jpg", _device, "not a regular file (a device)"),
    Case("loop.jpg", _loop, "a link that points to itself"),
    Case(
        "dangling.jpg", _link_to("gone.jpg", exists=False), "a link to a file that does not exist"
    ),
    Case("folder.jpg", _folder, "this is a folder", explicit=True),
    Case("notes.txt", _write(lambda s: b"provenance notes"), "not a photo (unknown file type)"),
)


@dataclass
class Outcome:
    """The corpus after import: every case's path, the two imports' last progress, the
    photos held before, and the catalogue's photos after."""

    paths: dict[str, Path]
    first: ImportProgress
    explicit: ImportProgress
    again: ImportProgress
    before: dict[str, tuple[str, str]]
    after: dict[str, tuple[str, str]]


def _held(cat: Catalog) -> dict[str, tuple[str, str]]:
    """path -> (sha256, stored answer's top tradition) for every photo in the catalogue."""
    answers = cat.predictions(cat.latest_model() or "")
    return {
        p.path: (p.sha256, str(getattr(answers.get(p.id), "top_tradition", None)))
        for p in cat.photos()
    }


def _last(steps: object) -> ImportProgress:
    *_, last = steps  # type: ignore[misc]
    return last  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def outcome(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    from saree_app.model.predict import Predictor

    root = tmp_path_factory.mktemp("bad_inputs")
    corpus = root / "corpus"
    corpus.mkdir()
    paths: dict[str, Path] = {}
    for seed, case in enumerate(CASES, start=1):
        path = corpus / case.name
        case.make(path, seed)
        paths[case.name] = path
    existing = root / "existing"
    existing.mkdir()
    for k in range(3):
        _rgb(1000 + k).save(existing / f"held-{k}.jpg", "JPEG")
    predictor = Predictor(tiny_model, threads=1, load_graph=False)
    unreadable = paths["no-permission.jpg"]
    real_open = os.open

    def refusing_open(path: object, flags: int, *args: object, **kw: object) -> int:
        # chmod 0 does not stop root (the CI user here): the refusal is made where it happens.
        if os.fspath(path) == os.fspath(unreadable):  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fspath(unreadable))  # type: ignore[arg-type]
        return real_open(path, flags, *args, **kw)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "open", refusing_open)
        with Catalog(root / "c.saree") as cat:
            _last(import_folder(cat, existing, predictor))
            before = _held(cat)
            first = _last(import_folder(cat, corpus, predictor))
            chosen = [paths[c.name] for c in CASES if c.explicit]
            explicit = _last(import_files(cat, chosen, predictor))
            again = _last(import_folder(cat, corpus, predictor))
            after = _held(cat)
    return Outcome(paths, first, explicit, again, before, after)


def _reasons(progress: ImportProgress) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for s in progress.skipped:
        found.setdefault(s.path, []).append(s.reason)
    return found


@pytest.mark.parametrize("case", CASES, ids=[shown(c.name).replace("\n", "\\n") for c in CASES])
def test_each_bad_input_is_imported_or_refused_in_one_clear_line(
    outcome: Outcome, case: Case
) -> None:
    path = outcome.paths[case.name]
    progress = outcome.explicit if case.explicit else outcome.first
    reasons = _reasons(progress).get(shown(path), [])
    if case.expect == OK:
        assert reasons == []
        assert str(path) in outcome.after
        assert outcome.after[str(path)][1] != "None"  # the model's answer is stored with it
    else:
        assert str(path) not in outcome.after
        assert len(reasons) == 1, reasons
        reason = reasons[0]
        assert case.expect in reason
        assert "\n" not in reason and "Traceback" not in reason and len(reason) < 200


def test_the_catalogue_loses_nothing_and_a_second_import_changes_nothing(
    outcome: Outcome,
) -> None:
    clean = [c for c in CASES if c.expect == OK]
    refused = [c for c in CASES if c.expect != OK]
    assert len(CASES) >= 40
    assert (len(CASES), len(clean), len(refused)) == (56, 36, 20)
    assert outcome.first.finished and outcome.explicit.finished and outcome.again.finished
    for path, held in outcome.before.items():
        assert outcome.after[path] == held  # photos held before: same content, same answer
    assert len(outcome.after) == len(outcome.before) + len(clean)
    assert (outcome.again.added, outcome.again.already) == (0, len(clean))
    folder_cases = [c for c in refused if not c.explicit]
    assert len(outcome.again.skipped) == len(folder_cases)
