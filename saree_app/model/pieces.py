"""A photo far longer than wide (a whole saree laid out flat), read in overlapping pieces.

A saree is about five and a half metres long and a little over one wide, and a museum's
catalogue photograph often shows all of it laid flat. Fitted whole into the model's square,
such a photo comes to a strip a few cells of the model's grid across, too thin to tell border
from body. Read instead as squares of its own width, overlapping by a quarter, each square is
seen as the model sees any photo; the pieces' answers are then put together:

- the part map and the class activations (what the heatmaps are drawn from) are laid side by
  side on one grid over the whole photo, averaged where pieces overlap, so the maps cover the
  photo as any photo's do (`Prediction` reads them through the canvas's `Letterbox`);
- the tradition, attribute and embedding outputs are averaged over the pieces, each weighted
  by how much saree cloth the part map finds in it (a piece of bare floor says little), and
  each part's ranking and embedding by how much of that part the piece holds.

The model's own outputs are averaged rather than re-pooled from the canvas: its pooling is
not exported, and a piece that is mostly background already says less through its weight.
Beyond MAX_ASPECT the pieces would be too many to read in reasonable time, and such a photo
stays flagged as too thin (`predict.too_small`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from saree_app.imaging import Letterbox, upright_size
from saree_app.model import partmap

# Read in pieces from the aspect at which a photo fitted whole comes to under a quarter of the
# model's square across (what `predict.too_small` flagged as too thin before pieces were read).
THIN_SHARE = 4
# Up to this aspect (a saree with a margin of floor round it is 4.5-6 times longer than wide):
# at most 13 pieces.
MAX_ASPECT = 10.0
# Each piece overlaps the one before it by this share of its side, so no motif is only ever
# seen cut in two at a piece's edge.
OVERLAP = 0.25
# A piece with no cloth at all still counts this much: the average is always defined.
_FLOOR = 1e-3
# The part map's canvas at most this many cells a side: each piece's grid is averaged down in
# blocks to fit (the model's part map is 128 cells a piece; a canvas of ten pieces would hold
# 26 MB of it, mostly the empty rest of the square, for an overlay a screen shows at 2,000 px).
MAX_CANVAS = 512


@dataclass(frozen=True)
class Pieces:
    """Where the pieces of one photo lie: squares of its shorter side along its longer one."""

    size: tuple[int, int]  # the photo (w, h) the pieces are cut from
    offsets: tuple[int, ...]  # each piece's start along the longer side, in pixels

    @property
    def side(self) -> int:
        return min(self.size)

    @property
    def across(self) -> bool:
        """True when the photo is wider than tall (the pieces run left to right)."""
        return self.size[0] >= self.size[1]

    def boxes(self) -> list[tuple[int, int, int, int]]:
        """Each piece as (left, top, right, bottom) in the photo's pixels."""
        s = self.side
        if self.across:
            return [(o, 0, o + s, s) for o in self.offsets]
        return [(0, o, s, o + s) for o in self.offsets]

    def crops(self, photo: Image.Image) -> list[Image.Image]:
        """The pieces of `photo`, each a square: `photo` is the photo of `size`, or a copy of
        it at another scale (decoded smaller, say), whose pieces are the same share of it."""
        w, h = photo.size
        if abs(w * self.size[1] - h * self.size[0]) > max(w, h, *self.size):
            raise ValueError(f"pieces laid out for {self.size}, not {photo.size}")
        sx, sy = w / self.size[0], h / self.size[1]
        return [
            photo.crop((round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy)))
            for x0, y0, x1, y1 in self.boxes()
        ]

    def canvas(self, model_side: int) -> Letterbox:
        """The square the pieces' grids are laid on: a whole number of pieces a side, the photo
        at its top left at the pieces' own scale (each piece fills the model's square)."""
        w, h = self.size
        count = math.ceil(max(w, h) / self.side)
        return Letterbox(
            size=count * model_side,
            scale=model_side / self.side,
            offset_x=0,
            offset_y=0,
            width=w,
            height=h,
        )


def layout(size: tuple[int, int], model_side: int) -> Pieces | None:
    """How to read a photo of `size` (w, h) in pieces; None when it is read whole (not long
    enough for that to lose anything) or is too long to read in pieces (MAX_ASPECT)."""
    w, h = size
    short, long = min(w, h), max(w, h)
    if short <= 0 or round(model_side * short / long) * THIN_SHARE >= model_side:
        return None
    if long > MAX_ASPECT * short:
        return None
    step = short * (1.0 - OVERLAP)
    count = math.ceil((long - short) / step) + 1
    # Spread evenly from one end to the other: the last piece ends at the photo's end.
    offsets = tuple(round(i * (long - short) / (count - 1)) for i in range(count))
    return Pieces(size=(w, h), offsets=offsets)


def read_in_pieces(path: Path, model_side: int) -> bool:
    """Whether the app reads this photo file in pieces (`layout`)."""
    size = upright_size(path)
    return size is not None and layout(size, model_side) is not None


def read_words(count: int, size: tuple[int, int]) -> str | None:
    """How a photo was read, in a curator's words, when it was read in pieces; else None."""
    if count <= 1:
        return None
    w, h = size
    return (
        f"Read in {count} overlapping pieces along its length: the photo is "
        f"{max(w, h) / max(1, min(w, h)):.1f} times longer than wide, too long to read at once."
    )


def combine(
    out: Mapping[str, np.ndarray], pieces: Pieces, model_side: int
) -> dict[str, np.ndarray]:
    """The model's outputs for the pieces (one row each, in `pieces.boxes()` order) -> one row
    for the whole photo, its maps on the grid of `pieces.canvas(model_side)`."""
    n = len(pieces.offsets)
    seg = np.asarray(out["seg"], np.float32)
    if seg.shape[0] != n:
        raise ValueError(f"{seg.shape[0]} rows of model output for {n} pieces")
    cam = np.asarray(out["cam"], np.float32)
    g = cam.shape[2]
    # Each class's share of each cell of the activations' grid, a piece at a time.
    cells = np.stack([partmap.cell_shares(one, g, g) for one in seg])  # N x 4 x g x g
    shares = cells.mean(axis=(2, 3))  # N x 4: each class's share of the piece
    cloth = np.maximum(1.0 - shares[:, 0], _FLOOR)  # N: how much of each piece is saree
    part_weight = np.maximum(shares[:, 1:], _FLOOR)  # N x 3: how much of each part

    def mean(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
        w = weight.reshape((n,) + (1,) * (values.ndim - 1))
        return np.asarray((values * w).sum(axis=0) / w.sum(axis=0), np.float32)

    combined: dict[str, np.ndarray] = {}
    for name, value in out.items():
        arr = np.asarray(value, np.float32)
        if name in ("seg", "cam"):
            continue
        if name in ("part_logits", "part_embeddings"):
            # N x 3 x D: each part by how much of it each piece holds.
            rows = [mean(arr[:, k], part_weight[:, k]) for k in range(arr.shape[1])]
            merged = np.stack(rows)
        else:
            merged = mean(arr, cloth)
        if name in ("embedding", "part_embeddings") and _unit_rows(arr):
            # The model gives unit embeddings (similar search compares directions): keep them so.
            merged = merged / np.maximum(np.linalg.norm(merged, axis=-1, keepdims=True), 1e-12)
        combined[name] = merged[None]
    combined["seg"] = _laid_out(seg, pieces, model_side, empty=_BACKGROUND)[None]
    combined["cam"] = _laid_out(cam, pieces, model_side)[None]
    # What pooling the class activations under a curator's part map needs (partmap.repool),
    # which the canvas cannot give: its cells add up several pieces' worth of evidence, each
    # scaled by its own piece's cloth. The classifier's bias (the same for every piece) and
    # the cloth one piece holds, on average, in the activations' cells.
    combined["cam_bias"] = (np.asarray(out["logits"], np.float32) - cam.sum(axis=(2, 3))).mean(
        axis=0
    )[None]
    seen = (1.0 - cells[:, partmap.BACKGROUND]).sum(axis=(1, 2))
    combined["cam_seen"] = np.array([np.mean(seen)], np.float32)
    return combined


# The canvas beyond the photo, as the part map would read the letterbox padding: background.
_BACKGROUND = np.array([10.0, 0.0, 0.0, 0.0], np.float32)


def _unit_rows(arr: np.ndarray) -> bool:
    norms = np.linalg.norm(arr, axis=-1)
    return bool(np.allclose(norms, 1.0, atol=1e-3))


def _laid_out(
    grids: np.ndarray, pieces: Pieces, model_side: int, empty: np.ndarray | None = None
) -> np.ndarray:
    """N x K x g x g grids, one a piece -> K x G x G over the canvas, averaged where pieces
    overlap; cells no piece covers hold `empty` (K values; zeros by default)."""
    n, k, g, g2 = grids.shape
    if g != g2:
        raise ValueError(f"a piece's grid must be square, not {g} x {g2}")
    canvas = pieces.canvas(model_side)
    count = canvas.size // model_side
    # Averaged down in blocks (a whole number of cells a block) to keep within MAX_CANVAS.
    block = 1
    while count * g // block > MAX_CANVAS and g % (2 * block) == 0:
        block *= 2
    if block > 1:
        grids = grids.reshape(n, k, g // block, block, g // block, block).mean(axis=(3, 5))
        g //= block
    side = count * g
    # Where the photo ends on the canvas, as `unletterbox` reads it: the last piece ends there.
    end = round(canvas.content_box[2 if pieces.across else 3] * g / model_side)
    total = np.zeros((k, side, side), np.float32)
    covered = np.zeros((side, side), np.float32)
    last = len(pieces.offsets) - 1
    for i, (grid, offset) in enumerate(zip(grids, pieces.offsets, strict=True)):
        start = end - g if i == last else min(round(offset * g / pieces.side), end - g)
        if pieces.across:
            total[:, :g, start : start + g] += grid
            covered[:g, start : start + g] += 1.0
        else:
            total[:, start : start + g, :g] += grid
            covered[start : start + g, :g] += 1.0
    out = total / np.maximum(covered, 1.0)[None]
    if empty is not None:
        out[:, covered == 0] = np.asarray(empty, np.float32)[:, None]
    return out
