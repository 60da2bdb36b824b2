"""A curator's part map: read, check, store compactly, and pool the model's evidence under it.

A corrected part map is a small uint8 label grid over the photo (0 background, 1 body,
2 border, 3 pallu), `MAP_SIDE` cells a side whatever the photo's shape, except a long photo's
(a saree laid out whole, read in pieces): `MAP_SIDE` across and as many along as its length
holds (`grid_for`). It is what the
curator drew in the photo view (a box or lasso for the saree, a brush for the parts) or gave
as a mask file.

What the shipped model can and cannot do with it. The ONNX model takes a photo only; it has
no mask input, and it does not expose the per-cell features its part heads pool. So:

- the region (saree against background) is honoured exactly: the photo is shown to the model
  again with everything the curator marked background painted over in the letterbox fill
  colour, so faces, walls and other cloth cannot reach any output (`mask_photo`);
- the split into body, border and pallu is honoured through the class activation maps. The
  tradition classifier is linear in the pooled features, so the `cam` output is an exact
  per-cell decomposition of the logits (logits = bias + sum of cells). The classifier applied
  to the cells the curator gave a part, scaled as the model's pooling would average them, is
  compared with the same for the cells the model gave that part; the model's own part head is
  moved by the difference (`repool`). Under an unchanged map the evidence is the part head's;
  the part heads themselves cannot be re-run, they need features the model does not export.
  Measured (2026-12, shipped model): on 48 rendered photos with their true maps as the
  correction, part top-1 body/border/pallu 0.84/0.84/0.89 (the model's own map: 0.84/0.91/
  0.91; the classifier on the marked cells alone: 0.65/0.78/0.78). On the 49 real photos of
  realdev with part labels (tradition known to the model), their 12 x 12 labels as the
  correction raise whole-saree top-1 from 0.08 to 0.16 and part top-1 from 0.06/0.09/0.15 to
  0.12/0.16/0.15 (small numbers: 40-48 photos per part);
- cells the model took for background carry almost no activation (its pooling weighs them by
  the probability of cloth), so cloth the curator adds there adds little evidence: `repool`
  reports that share as `unseen`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from saree_app.imaging import Letterbox
from saree_app.model.manifest import PARTS, SEG_CLASSES

# Cells a side of a stored map: finer than the model's part map over the photo (the model
# sees the photo at 256 px and pools at stride 16), coarse enough to store in ~1 kB.
MAP_SIDE = 64
# A photo at least this many times longer than wide keeps its shape in a stored map, up to
# STRIP_LONGEST times: a 64 x 64 grid over a saree laid out ten times longer than wide left
# six cells along each of the pieces it is read in (model/pieces.py).
STRIP_FROM = 4.0
STRIP_LONGEST = 10.0
BACKGROUND, BODY, BORDER, PALLU = range(4)
# The legend colours, as the photo view paints the parts (gui/theme.PART_COLOURS).
COLOURS: dict[str, tuple[int, int, int]] = {
    "background": (0, 0, 0),
    "body": (0, 114, 178),
    "border": (213, 94, 0),
    "pallu": (240, 228, 66),
}
_HOW = (
    "a part map is a grey image with values 0 background, 1 body, 2 border, 3 pallu, or a "
    "colour image in the legend colours: background black, body (0,114,178), border "
    "(213,94,0), pallu (240,228,66)"
)


class PartMapError(ValueError):
    """A part map that cannot be used, in one line."""


def grid_for(width: int, height: int) -> tuple[int, int]:
    """(rows, columns) of the stored map of a photo `width` x `height`: MAP_SIDE x MAP_SIDE,
    or for a photo STRIP_FROM times longer than wide or more, MAP_SIDE across and cells of
    about the same size along it (at most STRIP_LONGEST times MAP_SIDE)."""
    short, long = sorted((max(1, int(width)), max(1, int(height))))
    if long < STRIP_FROM * short:
        return MAP_SIDE, MAP_SIDE
    along = round(MAP_SIDE * min(long / short, STRIP_LONGEST))
    return (MAP_SIDE, along) if width >= height else (along, MAP_SIDE)


def fit(labels: np.ndarray, shape: int | tuple[int, int] | None = None) -> np.ndarray:
    """A 2-D label array of any size -> uint8 labels of `shape` (rows, columns; an int: that
    many a side; None: the grid its own shape calls for, `grid_for`), nearest neighbour,
    checked."""
    arr = np.asarray(labels)
    if arr.ndim != 2 or arr.size == 0:
        raise PartMapError(f"a part map must be a 2-D grid of labels, not shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise PartMapError(f"a part map holds whole-number labels 0-3, not {arr.dtype}")
    bad = np.unique(arr[(arr < 0) | (arr > 3)])
    if bad.size:
        raise PartMapError(f"label {int(bad[0])} is not a part; {_HOW}")
    if shape is None:
        rows, cols = grid_for(arr.shape[1], arr.shape[0])
    elif isinstance(shape, int):
        rows = cols = shape
    else:
        rows, cols = shape
    small = arr.astype(np.uint8)
    if small.shape != (rows, cols):
        small = np.asarray(
            Image.fromarray(small, "L").resize((cols, rows), Image.Resampling.NEAREST)
        )
    return np.ascontiguousarray(small)


def read_mask(
    source: str | Path | bytes | Image.Image, side: int | tuple[int, int] | None = None
) -> np.ndarray:
    """A mask file (grey labels 0-3 or legend colours) -> labels (`side`: as `fit` takes its
    shape; None: the grid the mask's own shape calls for); PartMapError (one line) for an
    unreadable file or a colour that is no part."""
    name = "the mask" if not isinstance(source, str | Path) else str(source)
    try:
        if isinstance(source, Image.Image):
            img = source
            img.load()
        else:
            data = Path(source).read_bytes() if isinstance(source, str | Path) else source
            img = Image.open(io.BytesIO(data))
            img.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PartMapError(f"{name}: not a readable image ({exc})") from exc
    if img.mode in ("L", "I", "I;16", "1"):
        try:
            return fit(np.asarray(img).astype(np.int64), side)
        except PartMapError as exc:
            raise PartMapError(f"{name}: {exc}") from exc
    rgba = np.asarray(img.convert("RGBA"))
    labels = np.full(rgba.shape[:2], -1, dtype=np.int64)
    for k, cls in enumerate(SEG_CLASSES):
        labels[np.all(rgba[..., :3] == COLOURS[cls], axis=-1)] = k
    labels[rgba[..., 3] == 0] = BACKGROUND  # see-through is background
    if (labels < 0).any():
        y, x = np.argwhere(labels < 0)[0]
        colour = tuple(int(v) for v in rgba[y, x, :3])
        raise PartMapError(f"{name}: colour {colour} at ({x}, {y}) is not a part colour; {_HOW}")
    return fit(labels, side)


def encode(labels: np.ndarray) -> bytes:
    """Labels -> PNG bytes (grey, values 0-3): what the catalogue stores."""
    buf = io.BytesIO()
    arr = np.asarray(labels)
    kept = fit(arr, (arr.shape[0], arr.shape[1]) if arr.ndim == 2 else None)  # as it is
    Image.fromarray(kept, "L").save(buf, "PNG", optimize=True)
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    """PNG bytes from `encode` -> labels; PartMapError for anything else."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            arr = np.asarray(img.convert("L") if img.mode != "L" else img).astype(np.int64)
    except (OSError, ValueError) as exc:
        raise PartMapError(f"a stored part map cannot be read ({exc})") from exc
    if arr.ndim != 2:
        return fit(arr)  # raises: not a part map
    rows, cols = arr.shape
    if rows != cols and (rows, cols) != grid_for(cols, rows):
        return fit(arr, MAP_SIDE)  # not a grid this module stores: the usual square
    return fit(arr, (rows, cols))


def to_image(labels: np.ndarray) -> Image.Image:
    """Labels -> an RGB picture in the legend colours (what `read_mask` reads back)."""
    lut = np.array([COLOURS[c] for c in SEG_CLASSES], dtype=np.uint8)
    return Image.fromarray(lut[np.asarray(labels)], "RGB")


def at_size(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Labels stretched over a photo of `size` (w, h), nearest neighbour."""
    img = Image.fromarray(np.asarray(labels, np.uint8), "L")
    return np.asarray(img.resize(size, Image.Resampling.NEAREST))


def areas(labels: np.ndarray) -> list[float]:
    """Each part's share of the photo (body, border, pallu)."""
    arr = np.asarray(labels)
    return [float((arr == k + 1).mean()) for k in range(len(PARTS))]


def keep_inside(labels: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The saree is inside `inside` (bool, same grid): everything outside becomes background.
    Inside, the parts stay as they are (a box round a worn saree holds a face and arms too,
    which must not become cloth); only when the map has no saree there at all does the inside
    become body, so a box drawn where the model saw nothing still marks the saree."""
    out = np.asarray(labels, np.uint8).copy()
    out[~inside] = BACKGROUND
    if not (out[inside] != BACKGROUND).any():
        out[inside] = BODY
    return out


def polygon(
    points: Sequence[tuple[float, float]], shape: int | tuple[int, int] = MAP_SIDE
) -> np.ndarray:
    """bool of `shape` (rows, columns; an int: that many a side): inside a polygon whose
    points are fractions (0-1) of the photo."""
    rows, cols = (shape, shape) if isinstance(shape, int) else shape
    img = Image.new("L", (cols, rows), 0)
    if len(points) >= 3:
        ImageDraw.Draw(img).polygon([(x * cols, y * rows) for x, y in points], fill=1)
    return np.asarray(img).astype(bool)


def box(
    x0: float, y0: float, x1: float, y1: float, shape: int | tuple[int, int] = MAP_SIDE
) -> np.ndarray:
    """bool of `shape` (as `polygon`): inside a rectangle given in fractions (0-1) of the
    photo."""
    xa, xb = sorted((x0, x1))
    ya, yb = sorted((y0, y1))
    return polygon([(xa, ya), (xb, ya), (xb, yb), (xa, yb)], shape)


def mask_photo(photo: Image.Image, labels: np.ndarray, fill: tuple[int, int, int]) -> Image.Image:
    """The photo with everything the map calls background painted in `fill` (the colour the
    model sees around a letterboxed photo, i.e. nothing)."""
    rgb = photo if photo.mode == "RGB" else photo.convert("RGB")
    bg = at_size(labels, rgb.size) == BACKGROUND
    if not bg.any():
        return rgb
    arr = np.array(rgb)
    arr[bg] = fill
    return Image.fromarray(arr, "RGB")


def on_grid(
    labels: np.ndarray, box_: Letterbox, shape: tuple[int, int], fine: int = 8
) -> np.ndarray:
    """4 x h x w over the square model input: the share of each cell the map gives each class
    (the letterbox padding is background). `fine`: sub-cells a side, so a cell's share is
    measured rather than guessed from its centre."""
    gh, gw = shape
    left, top, right, bottom = box_.content_box
    sx, sy = gw * fine / box_.size, gh * fine / box_.size
    x0, y0 = round(left * sx), round(top * sy)
    x1, y1 = max(x0 + 1, round(right * sx)), max(y0 + 1, round(bottom * sy))
    grid = np.zeros((gh * fine, gw * fine), np.uint8)
    grid[y0:y1, x0:x1] = at_size(labels, (x1 - x0, y1 - y0))
    onehot = (grid[None] == np.arange(len(SEG_CLASSES))[:, None, None]).astype(np.float32)
    out: np.ndarray = onehot.reshape(len(SEG_CLASSES), gh, fine, gw, fine).mean(axis=(2, 4))
    return out


@dataclass(frozen=True)
class Repooled:
    """The model's evidence pooled under a curator's part map."""

    logits: np.ndarray  # C: the whole saree, from the cells marked as any part
    part_logits: np.ndarray  # 3 x C: body, border, pallu, each from its own cells
    unseen: float  # share of the marked cloth the model had taken for background


def repool(
    cam: np.ndarray,
    logits: np.ndarray,
    seg: np.ndarray,
    labels: np.ndarray,
    box_: Letterbox,
    *,
    part_logits: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    seen: float | None = None,
) -> Repooled:
    """Pool one photo's class activations (C x h x w) under `labels` (see the module note).

    The cells sum to the logits less a bias the same for every photo, so the bias is what the
    cells do not carry; a set of cells is scored as bias + its cells' sum, scaled by how much
    less cloth it holds than the model pooled over (the pooling divides by the cloth it saw,
    plus one cell), i.e. the classifier applied to the average of those cells.

    `part_logits` (3 x C), the model's own part heads: each part's evidence is then the head's,
    moved by how the classifier's view of the curator's cells for that part differs from its
    view of the cells the model gave the part (under an unchanged map, the head's exactly).

    `bias` and `seen`: for a photo read in pieces (model/pieces.py), whose grid lays several
    pieces' activations side by side, each scaled by its own piece's cloth: the classifier's
    bias, and the cloth one piece holds, which the cells are scaled by (`pieces.combine`).
    """
    cam = np.asarray(cam, np.float64)
    _c, gh, gw = cam.shape
    if bias is None:
        bias = np.asarray(logits, np.float64) - cam.sum(axis=(1, 2))
    shares = on_grid(labels, box_, (gh, gw)).astype(np.float64)
    probs = cell_shares(seg, gh, gw)  # the model's own part shares, per cell
    cloth = 1.0 - probs[BACKGROUND]
    if seen is None:
        seen = float(cloth.sum())

    def pooled(weight: np.ndarray) -> np.ndarray:
        scale = (seen + 1.0) / (float((cloth * weight).sum()) + 1.0)
        out: np.ndarray = bias + scale * (cam * weight[None]).sum(axis=(1, 2))
        return out

    marked = 1.0 - shares[BACKGROUND]
    total = float(marked.sum())
    unseen = float((marked * (cloth < 0.5)).sum() / total) if total > 0 else 0.0
    parts = np.stack([pooled(shares[k + 1]) for k in range(len(PARTS))])
    if part_logits is not None:
        own = np.stack([pooled(probs[k + 1]) for k in range(len(PARTS))])
        parts = np.asarray(part_logits, np.float64) + parts - own
    return Repooled(logits=pooled(marked), part_logits=parts, unseen=unseen)


def cell_shares(seg: np.ndarray, gh: int, gw: int) -> np.ndarray:
    """4 x gh x gw: each class's share of each cell of a gh x gw grid, from part-map logits
    (4 x H x W): how `repool` weighs the class activations' cells, and `pieces.combine` the
    cloth one piece holds."""
    z = seg - seg.max(axis=0, keepdims=True)
    e = np.exp(np.asarray(z, np.float64))
    return _cells(e / e.sum(axis=0), gh, gw)


def _cells(maps: np.ndarray, gh: int, gw: int) -> np.ndarray:
    """K x H x W -> K x gh x gw cell means (resampled first when the grids do not nest)."""
    k, sh, sw = maps.shape
    if sh % gh or sw % gw:
        fh, fw = max(1, sh // gh), max(1, sw // gw)
        maps = np.stack(
            [
                np.asarray(
                    Image.fromarray(m.astype(np.float32), "F").resize(
                        (gw * fw, gh * fh), Image.Resampling.BILINEAR
                    )
                )
                for m in maps
            ]
        )
        sh, sw = maps.shape[1:]
    out: np.ndarray = maps.reshape(k, gh, sh // gh, gw, sw // gw).mean(axis=(2, 4))
    return out
