"""One photo prepared for the photo page on a worker: display image, prediction, overlays.

Overlays are kept as small uint8 maps and coloured on the GUI thread on demand.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage

from saree_app.gui.overlays import muted_qimage, to_uint8
from saree_app.gui.tasks import Cancel
from saree_app.gui.theme import PARTS
from saree_app.gui.thumbs import pil_to_qimage
from saree_app.imaging import load_photo

DISPLAY_MAX = 2400  # longest side of the photo on screen; zooming further shows pixels anyway
OVERLAY_MAX = 768  # overlays are smooth maps: stretched over the photo they lose nothing
TOP = 5

# Above the photo while its parts are shown, when the person models took part of it for a
# person but found no face: a saree folded or laid flat can be taken so (07-photo-19 of a walk
# on real photos), and its parts are kept inside that "person" all the same. Said as what the
# app did, not as a fact about the saree, so the curator can correct the part map.
WORN_NO_FACE_NOTE = (
    "<b>Taken for a saree being worn</b> — the app took part of this photo for a person "
    "wearing the saree, though it found no face, and kept the parts there, leaving the rest of "
    "the photo out. If nobody is wearing it, correct the parts and the part evidence uses your "
    "map."
)


@dataclass
class Analysis:
    """Everything the photo page needs for one photo; built off the GUI thread."""

    key: object
    name: str
    photo: QImage
    prediction: Any = None  # saree_app.model.Prediction, when a model is loaded
    problem: str | None = None  # why there is no prediction
    mask: np.ndarray | None = None
    heat: dict[str, np.ndarray] = field(default_factory=dict)
    part_heat: dict[str, np.ndarray] = field(default_factory=dict)
    # Worn by a person the person models found: the part map is kept on them, but which part
    # of a drape is border or pallu it often gets wrong (the photo page says so).
    worn: bool = False
    # ... and whether it found a face too (model.saree_check.worn): without one, the "person"
    # may be the saree itself, folded or laid out, and the page says what the app did.
    worn_face: bool = False
    # The photo in grey, laid under a heatmap (`muted`): made when first asked for.
    _muted: QImage | None = field(default=None, repr=False, compare=False)

    def muted(self) -> QImage:
        """The photo in grey (the photo page and Compare lay it under a heatmap), made once:
        a screen-sized photo takes 15 ms."""
        if self._muted is None:
            self._muted = muted_qimage(self.photo)
        return self._muted

    def worn_note(self) -> str | None:
        """What to say of a worn saree's parts when no face was found (WORN_NO_FACE_NOTE);
        None otherwise: not taken for worn, or worn by someone whose face was found (the photo
        page's own note says the drape's parts are often mistaken)."""
        return WORN_NO_FACE_NOTE if self.worn and not self.worn_face else None

    def ranked(self) -> list[str]:
        if self.prediction is None:
            return []
        return [r.tradition for r in self.prediction.fused.ranking[:TOP]]


def _screen_side(path: Path) -> int | None:
    """The shorter side the screen's copy of a photo file needs (its longer side then
    DISPLAY_MAX), for `load_photo`'s draft decode: a 48-MP JPEG decodes at half its size, in
    102 ms instead of 166, and is shrunk from 12 MP instead of 48. None: decode it whole."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a very large photo: load_photo decides
            with Image.open(path) as im:
                w, h = im.size
    except Exception:  # load_photo reads it next and says what is wrong
        return None
    if max(w, h) <= DISPLAY_MAX:
        return None
    return math.ceil(DISPLAY_MAX * min(w, h) / max(w, h))


def _on_screen(img: Image.Image) -> Image.Image:
    """The photo as the page shows it: at most DISPLAY_MAX on its longer side. Resized into a
    new picture, not a copy thumbnailed in place: a 12-MP photo's copy alone took 26 ms."""
    w, h = img.size
    if max(w, h) <= DISPLAY_MAX:
        return img
    s = DISPLAY_MAX / max(w, h)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return img.resize(size, Image.Resampling.BILINEAR)


def _for_screen(photo: Path | Image.Image) -> tuple[Image.Image, Image.Image]:
    """(the photo decoded in RGB, its copy for the screen): a file at the size the screen
    needs (`_screen_side`), a picture as it is."""
    if isinstance(photo, Path):
        img = load_photo(photo, target=_screen_side(photo))
    else:
        img = photo.convert("RGB")
    return img, _on_screen(img)


def _overlay_size(w: int, h: int) -> tuple[int, int]:
    s = min(1.0, OVERLAY_MAX / max(w, h, 1))
    return max(1, round(w * s)), max(1, round(h * s))


def analyse(
    key: object,
    photo: Path | Image.Image,
    predict: Callable[[Path | Image.Image], Any] | None,
    cancel: Cancel,
    *,
    name: str | None = None,
    no_model_reason: str | None = None,
) -> Analysis:
    """Load, classify and prepare overlays. Raises PhotoError for an unreadable photo.

    A photo file goes to `predict` as a file: the model decodes it as the import and `saree
    classify` do (at the size it needs: the same answer as the catalogue's, and a 12-MP photo
    several times faster than from the full picture), while the full picture is decoded here
    for the screen, at the same time."""
    label = name or (photo.name if isinstance(photo, Path) else "photo")
    pred = None
    if isinstance(photo, Path) and predict is not None:
        with ThreadPoolExecutor(1, thread_name_prefix="saree-look") as pool:
            answer = pool.submit(predict, photo)
            # An unreadable photo raises its PhotoError here (the pool waits for the model).
            img, shown = _for_screen(photo)
            pred = answer.result()
    else:
        img, shown = _for_screen(photo)
    cancel.check()
    out = Analysis(key=key, name=label, photo=pil_to_qimage(shown))
    if predict is None:
        out.problem = no_model_reason or "No model is loaded."
        return out
    if pred is None:
        pred = predict(img)
        cancel.check()
    out.prediction = pred
    osize = _overlay_size(*shown.size)
    out.mask = np.ascontiguousarray(pred.part_mask_at(osize), dtype=np.uint8)
    worn_region = getattr(pred, "worn_region", None)
    out.worn = bool(
        getattr(pred, "part_map", None) is None
        and worn_region is not None
        and worn_region(osize) is not None
    )
    if out.worn:
        from saree_app.model.saree_check import worn

        out.worn_face = worn(getattr(pred, "person", None))
    for r in pred.fused.ranking[:TOP]:
        cancel.check()
        if pred.has_heatmap(r.tradition):
            out.heat[r.tradition] = to_uint8(pred.heatmap(r.tradition, size=osize))
    for part in PARTS:
        cancel.check()
        out.part_heat[part] = to_uint8(pred.part_heatmap(part, size=osize))
    return out


def heat_for(analysis: Analysis, tradition: str) -> np.ndarray | None:
    """A tradition's heatmap, computed now if it was not among the precomputed top ones."""
    if tradition in analysis.heat:
        return analysis.heat[tradition]
    pred = analysis.prediction
    if pred is None or analysis.mask is None or not pred.has_heatmap(tradition):
        return None  # a tradition known only to the graph: the model cannot point at it
    h, w = analysis.mask.shape
    analysis.heat[tradition] = to_uint8(pred.heatmap(tradition, size=(w, h)))
    return analysis.heat[tradition]


def heat_scale(analysis: Analysis) -> int | None:
    """The value (0-255) every tradition's heatmap of the photo is stretched to: the strongest
    of the answer's own map (the first ranked tradition the model has a map for). One scale
    for all, so a runner-up's map still shows dimmer than the answer's; None when there is no
    such map (each is then stretched to its own)."""
    pred = analysis.prediction
    if pred is None:
        return None
    first = next((r.tradition for r in pred.fused.ranking if pred.has_heatmap(r.tradition)), None)
    heat = heat_for(analysis, first) if first is not None else None
    return int(heat.max()) if heat is not None and heat.size else None


def pretty(term: str) -> str:
    """'PochampallyIkat' -> 'Pochampally Ikat': a readable fallback when no graph is loaded."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", term)
