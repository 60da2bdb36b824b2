"""Overlay colouring as numpy arithmetic: the part mask and the heatmap ramp.

No Qt except the final QImage wrapper, so the arithmetic can be tested on its own.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage

from saree_app.gui.theme import PART_COLOURS, PARTS
from saree_app.model.overlays import HEAT_STOPS, stretched

MASK_ALPHA = 170


def heat_lut() -> np.ndarray:
    """256 x 4 uint8 RGBA lookup table of the heatmap ramp (model/overlays.HEAT_STOPS, shared
    with the pictures `saree classify --overlays` writes); transparency rises with the value so
    that cold regions leave the cloth visible."""
    x = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    cols = [np.interp(x, HEAT_STOPS[:, 0], HEAT_STOPS[:, i]) for i in range(1, 5)]
    return np.clip(np.stack(cols, axis=1), 0, 255).astype(np.uint8)


_LUT = heat_lut()


def to_uint8(heat: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """A float map in [0, 1] -> uint8 H x W, resized to size (w, h) when given."""
    arr = np.clip(np.nan_to_num(np.asarray(heat, dtype=np.float32)), 0.0, 1.0)
    out = (arr * 255.0 + 0.5).astype(np.uint8)
    if size is not None and (out.shape[1], out.shape[0]) != size:
        out = np.asarray(Image.fromarray(out).resize(size, Image.Resampling.BILINEAR))
    return out


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a class mask to size (w, h)."""
    m = np.asarray(mask, dtype=np.uint8)
    if (m.shape[1], m.shape[0]) == size:
        return m
    return np.asarray(Image.fromarray(m).resize(size, Image.Resampling.NEAREST))


def colour_heat(heat_u8: np.ndarray, top: int | None = None) -> np.ndarray:
    """uint8 H x W -> RGBA H x W x 4 through the heatmap ramp, stretched as every heatmap is
    shown (model/overlays.stretched): to its own maximum, or to `top` (0-255) where maps are
    to be compared on one scale."""
    scale = None if top is None else top / 255.0
    shown = stretched(np.asarray(heat_u8, dtype=np.float32) / 255.0, scale)
    return np.ascontiguousarray(_LUT[(shown * 255.0 + 0.5).astype(np.uint8)])


def muted_qimage(photo: QImage) -> QImage:
    """The photo in grey (opaque), laid under a heatmap: in its own colours a pink or red silk
    hid the ramp (model/overlays.muted)."""
    return photo.convertToFormat(QImage.Format.Format_Grayscale8).convertToFormat(
        QImage.Format.Format_ARGB32
    )


def colour_mask(mask: np.ndarray, parts: tuple[str, ...] = PARTS) -> np.ndarray:
    """Class mask (0 background, 1 body, 2 border, 3 pallu) -> RGBA; only `parts` coloured."""
    lut = np.zeros((256, 4), dtype=np.uint8)
    for idx, part in enumerate(PARTS, start=1):
        if part in parts:
            lut[idx, :3] = PART_COLOURS[part]
            lut[idx, 3] = MASK_ALPHA
    return np.ascontiguousarray(lut[np.asarray(mask, dtype=np.uint8)])


def part_areas(mask: np.ndarray) -> dict[str, float]:
    """Share of the photo each part covers (for the legend)."""
    m = np.asarray(mask)
    total = max(m.size, 1)
    return {p: float((m == i).sum()) / total for i, p in enumerate(PARTS, start=1)}


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """An owning QImage copy of an H x W x 4 uint8 array."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, w * 4, QImage.Format.Format_RGBA8888).copy()
