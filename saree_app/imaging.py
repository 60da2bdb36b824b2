"""Load any photo safely and prepare it for the model exactly as training does."""

from __future__ import annotations

import errno
import io
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# The one pixel limit. A 100-megapixel scan is still a real photo; past this a file is far more
# likely a decompression bomb than a saree, and decoding it would take gigabytes.
MAX_PIXELS = 120_000_000
# The one file-size limit. A 120 MP TIFF at 16 bits a channel is under 1 GiB; a larger file
# named .jpg is a video, a disk image or a mistake, and reading it would fill the memory.
MAX_FILE_BYTES = 1 << 30

Source = str | Path | bytes

# What a file that is not a picture usually turns out to be, by its first bytes.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or office document"),
    (b"<!DOCTYPE html", "a web page"),
    (b"<html", "a web page"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"ftypheic", "a HEIC photo, which the app cannot read yet: export it as JPEG"),
    (b"ftypheix", "a HEIC photo, which the app cannot read yet: export it as JPEG"),
    (b"ftypmif1", "a HEIF photo, which the app cannot read yet: export it as JPEG"),
    (b"ftypavif", "an AVIF photo, which this build cannot read: export it as JPEG"),
)
# Those of _SIGNATURES that are photos in a format the app cannot read (not "not a photo").
_UNREADABLE_PHOTO = "export it as JPEG"
# Magic numbers of picture formats: such a file that Pillow cannot open is damaged, not foreign.
_PICTURE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM", b"RIFF")


class PhotoError(Exception):
    """A photo that cannot be used, with the file and the reason in plain words."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Preprocessing:
    """How a photo becomes the model's input tensor; its values come from the model manifest."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    fill: tuple[int, int, int]


@dataclass(frozen=True)
class Letterbox:
    """Where the photo sits inside the square model input, to map outputs back onto the photo."""

    size: int
    scale: float
    offset_x: int
    offset_y: int
    width: int  # photo size that was letterboxed
    height: int

    @property
    def content_box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the photo inside the square, in input pixels."""
        w = round(self.width * self.scale)
        h = round(self.height * self.scale)
        return self.offset_x, self.offset_y, self.offset_x + w, self.offset_y + h


def shown(path: str | os.PathLike[str]) -> str:
    """A file's path as text every terminal, file and spreadsheet can hold.

    A name with bytes that are not UTF-8 (a file named on an old Latin-1 system) reaches Python
    with those bytes as lone surrogates, which no UTF-8 output accepts; they are written \\xNN,
    so the curator still sees which file is meant. Any other path comes back unchanged.
    """
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return os.fsencode(text).decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate no file system byte stands for
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _describe(source: Source, name: str | None) -> str:
    if name:
        return shown(name)
    if isinstance(source, bytes):
        return "<photo data>"
    return shown(source)


def _sniff(head: bytes) -> str | None:
    for signature, what in _SIGNATURES:
        if head[:64].lower().find(signature.lower()) != -1:
            return what
    return None


# HEIF-family brands (ISO base media "ftyp" box at byte 4): HEIC, HEIF and AVIF stills.
_FTYP_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")


def _foreign(what: str | None) -> str:
    """Why a file the app cannot open as a picture is refused, from what `_sniff` found."""
    if what is None:
        return "not a picture format the app can read"
    if what.endswith(_UNREADABLE_PHOTO):
        return f"this is {what}"  # a photo all the same: never "not a photo"
    return f"this is {what}, not a photo"


def _is_picture(head: bytes) -> bool:
    """Whether the first bytes are those of a picture format a camera or scanner writes."""
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")):
        return True
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in _FTYP_BRANDS


def _not_a_regular_file(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        kind = "a named pipe"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "something other than a file"
    return f"not a regular file ({kind}): nothing to read as a photo"


def _stat_reason(path: str | os.PathLike[str], exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a link that points to itself (a symbolic link loop)"
    if isinstance(exc, FileNotFoundError):
        return (
            "a link to a file that does not exist"
            if Path(path).is_symlink()
            else "the file does not exist"
        )
    if isinstance(exc, PermissionError):
        return "the file cannot be read (permission denied)"
    return f"the file cannot be read ({exc.strerror or exc})"


def read_photo_file(path: str | os.PathLike[str], name: str | None = None) -> bytes:
    """The bytes of a photo file, or PhotoError saying why it is not one; every photo read
    from disk goes through here.

    Anything but a regular file is refused before it is opened for reading (a named pipe would
    block for ever, a device never ends), as is a file over MAX_FILE_BYTES; the first bytes
    must be those of a picture before the rest is read, so a 2 GB video named .jpg costs a few
    bytes, not the memory.
    """
    label = shown(name or path)
    try:
        info = Path(path).stat()
    except OSError as exc:
        raise PhotoError(label, _stat_reason(path, exc)) from exc
    if stat.S_ISDIR(info.st_mode):
        raise PhotoError(label, "this is a folder, not a photo")
    if not stat.S_ISREG(info.st_mode):
        raise PhotoError(label, _not_a_regular_file(info.st_mode))
    # O_NONBLOCK: should the file be swapped for a pipe after the stat, opening still returns.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise PhotoError(label, _stat_reason(path, exc)) from exc
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise PhotoError(label, _not_a_regular_file(info.st_mode))
            if info.st_size > MAX_FILE_BYTES:
                raise PhotoError(
                    label,
                    f"the file is {info.st_size / (1 << 30):.1f} GB, larger than the "
                    f"{MAX_FILE_BYTES >> 30} GB a photo may be; not read",
                )
            head = fh.read(32)
            if not head:
                raise PhotoError(label, "the file is empty (0 bytes)")
            if not _is_picture(head):
                raise PhotoError(label, _foreign(_sniff(head)))
            # One byte past the limit: a file that grew since the stat is caught, not swallowed.
            data = head + fh.read(MAX_FILE_BYTES + 1 - len(head))
        except OSError as exc:
            raise PhotoError(label, f"the file cannot be read ({exc.strerror or exc})") from exc
    if len(data) > MAX_FILE_BYTES:
        raise PhotoError(label, f"the file grew past {MAX_FILE_BYTES >> 30} GB while being read")
    return data


def _read_bytes(source: Source, label: str) -> bytes:
    data = source if isinstance(source, bytes) else read_photo_file(source, label)
    if not data:
        raise PhotoError(label, "the file is empty (0 bytes)")
    return data


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB, keeping tones of 16-bit and float images."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img)
        if arr.dtype != np.uint16 and arr.size and arr.max() <= 255:
            arr8 = arr.astype(np.uint8)
        else:
            arr8 = (np.clip(arr, 0, 65535).astype(np.uint32) >> 8).astype(np.uint8)
        return Image.fromarray(arr8, "L").convert("RGB")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        top = float(arr.max()) if arr.size else 1.0
        scale = 255.0 if top <= 1.0 else 255.0 / top
        return Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), "L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Cut-outs are shown on white, as a curator sees them in any viewer.
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return img.convert("RGB")


def upright_size(source: Source) -> tuple[int, int] | None:
    """A photo's size once turned upright by its EXIF orientation, from its header alone
    (draft decoding shrinks the pixels a caller gets); None when the header cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # load_photo judges the picture itself
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
                w, h = im.size
                orientation = im.getexif().get(0x0112, 1)
    except Exception:  # a header quirk only costs the exact size
        return None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def load_photo(
    source: Source, *, target: int | None = None, name: str | None = None
) -> Image.Image:
    """Return the photo upright in 8-bit RGB, or raise PhotoError saying why not.

    `target`: the side the caller will shrink to; lets JPEG decode at a reduced scale (draft
    mode), several times faster for phone photos. The result is then at least `target` on its
    shorter side where the photo allows, never the full resolution.
    """
    label = _describe(source, name)
    data = _read_bytes(source, label)
    with warnings.catch_warnings():
        # Pillow warns about odd-but-readable files (palette transparency, EXIF quirks); those
        # are not the curator's problem.
        # Pillow's own bomb warning starts at its 89.5 MP, below the app's limit: a 100 MP scan
        # is wanted, so the size is checked here, against MAX_PIXELS, right after the header.
        warnings.simplefilter("ignore")
        try:
            img = Image.open(io.BytesIO(data))
        except UnidentifiedImageError as exc:
            if data.startswith(_PICTURE_MAGIC):
                # A header Pillow cannot parse: a damaged file, or a valid but rarer layout
                # (scikit-image's multipage_rgb.tif is one); the curator's way out is the same.
                raise PhotoError(
                    label,
                    "the picture cannot be read: its header is damaged, or of a kind of this "
                    "format the app does not read (open it in another program and save it "
                    "again as JPEG or PNG)",
                ) from exc
            raise PhotoError(label, _foreign(_sniff(data))) from exc
        except Image.DecompressionBombError as exc:  # Pillow refuses twice its limit outright
            raise PhotoError(label, _too_large_reason(None)) from exc
        except (OSError, ValueError, SyntaxError) as exc:
            raise _damaged(label, exc) from exc
        w, h = img.size
        if w <= 0 or h <= 0:
            raise PhotoError(label, "the picture has no pixels")
        if w * h > MAX_PIXELS:
            raise PhotoError(label, _too_large_reason((w, h)))
        try:
            if getattr(img, "is_animated", False):
                img.seek(0)  # an animated GIF or WebP: the first frame stands for the photo
            if target is not None and img.format == "JPEG":
                img.draft("RGB", (target, target))
            img.load()
            upright: Image.Image = ImageOps.exif_transpose(img) or img
            rgb = _to_rgb(upright)
        except Image.DecompressionBombError as exc:
            raise PhotoError(label, _too_large_reason((w, h))) from exc
        except OSError as exc:
            raise _damaged(label, exc) from exc
        except (ValueError, SyntaxError, EOFError, MemoryError) as exc:
            raise PhotoError(label, f"the picture is damaged ({exc})") from exc
    if target is not None and min(rgb.size) > 2 * target:
        # Bound memory for everything downstream; keep twice the target for overlays.
        rgb.thumbnail((4 * target, 4 * target), Image.Resampling.BILINEAR)
    return rgb


def _damaged(label: str, exc: Exception) -> PhotoError:
    text = str(exc)
    low = text.lower()  # Pillow says "truncated", "Truncated File Read", "broken data stream"
    if "truncated" in low or "broken data stream" in low or "end of file" in low:
        return PhotoError(label, "the file is cut short (an incomplete download or copy?)")
    return PhotoError(label, f"the picture is damaged ({text})")


def _too_large_reason(size: tuple[int, int] | None) -> str:
    limit = f"{MAX_PIXELS / 1e6:.0f} megapixels"
    if size is None:
        return f"the picture is larger than {limit} (possibly a decompression bomb); not opened"
    w, h = size
    return (
        f"the picture is {w} x {h} ({w * h / 1e6:.0f} megapixels), larger than the {limit} the "
        "app opens (possibly a decompression bomb)"
    )


def letterbox(
    img: Image.Image, size: int, fill: tuple[int, int, int]
) -> tuple[Image.Image, Letterbox]:
    """Shrink the photo to fit a size x size square, centred, padding with `fill`."""
    w, h = img.size
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = img.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=2.0)
    canvas = Image.new("RGB", (size, size), fill)
    ox, oy = (size - nw) // 2, (size - nh) // 2
    canvas.paste(resized, (ox, oy))
    return canvas, Letterbox(size=size, scale=scale, offset_x=ox, offset_y=oy, width=w, height=h)


# The person segmenter, the face detector and the colour check read a photo at 128 to 256 px.
# Shrinking a 1600 px photo to that with a bilinear filter reads every pixel once per model
# (5-6 ms each on this machine's cores); a box reduction by a whole factor first, once, leaves
# each of them a quarter of the pixels (`saree bench classify`). The cloth check's whole
# picture is not read from it: its thresholds were fitted on the photo itself.
WORKING_SIDE = 384


def working_copy(img: Image.Image, side: int = WORKING_SIDE) -> Image.Image:
    """The photo shrunk by the largest whole factor that keeps its shorter side at least `side`
    (a box average: every pixel counts, nothing is aliased); the photo itself when it is
    already that small. Only for reading at `side` or less: the proportions stay (to a pixel)."""
    factor = min(img.size) // side
    return img.reduce(factor) if factor >= 2 else img


def normalise(img: Image.Image, mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """RGB image -> float32 C x H x W, (x / 255 - mean) / std."""
    # The same arithmetic in place on one array, not a new array a step.
    arr: np.ndarray = np.array(img, dtype=np.float32)
    arr /= 255.0
    arr -= np.asarray(mean, dtype=np.float32)
    arr /= np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def preprocess(img: Image.Image, prep: Preprocessing) -> tuple[np.ndarray, Letterbox]:
    """Photo -> (model input C x S x S float32, where it sits). Training uses this same code."""
    boxed, box = letterbox(img, prep.size, prep.fill)
    return normalise(boxed, prep.mean, prep.std), box


def unletterbox(grid: np.ndarray, box: Letterbox) -> np.ndarray:
    """Map a model output grid (h x w, or K x h x w) over the square input back to the photo.

    Crops the padding away and resizes (bilinear) to the photo's width and height.
    """
    squeeze = grid.ndim == 2
    maps = grid[None] if squeeze else grid
    gh, gw = maps.shape[-2:]
    left, top, right, bottom = box.content_box
    sx, sy = gw / box.size, gh / box.size
    x0, y0 = round(left * sx), round(top * sy)
    x1, y1 = max(x0 + 1, round(right * sx)), max(y0 + 1, round(bottom * sy))
    out = np.empty((len(maps), box.height, box.width), np.float32)
    for k, m in enumerate(maps):
        out[k] = np.asarray(
            Image.fromarray(m[y0:y1, x0:x1].astype(np.float32), "F").resize(
                (box.width, box.height), Image.Resampling.BILINEAR
            )
        )
    return out[0] if squeeze else out


# Truncated images must fail loudly, never be padded with grey silently.
ImageFile.LOAD_TRUNCATED_IMAGES = False
