"""India drawn with its state outlines: the knowledge browser's map and the answer's regions.

The outlines are resources/maps/india-states.json (longitude and latitude, made once by
resources/maps/make_india_states.py from @svg-maps/india, CC BY 4.0, after MapSVG). Without the
file the maps still draw their dots and shading, on a plain background.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from saree_app.gui.theme import ACCENT

# India's extent (degrees): west, east, south, north, as the outlines' source gives it.
WEST, EAST, SOUTH, NORTH = 68.18, 97.40, 6.75, 37.09
CREDIT = "State outlines: @svg-maps/india after MapSVG, CC BY 4.0"
# States less likely than this stay unshaded, as the answer's region lines leave them out.
SHADE_FROM = 0.05


@dataclass(frozen=True)
class State:
    """One state or union territory: its name and its outline rings (lon, lat)."""

    name: str
    rings: tuple[tuple[tuple[float, float], ...], ...]


def outlines_file() -> Path:
    from saree_app import paths

    return paths.resources_dir() / "maps" / "india-states.json"


@lru_cache(maxsize=4)
def load_outlines(path: Path | None = None) -> tuple[State, ...]:
    """The state outlines; () when the file is missing or damaged (the maps go without)."""
    try:
        data = json.loads((path or outlines_file()).read_text(encoding="utf-8"))
        return tuple(
            State(
                str(s["name"]),
                tuple(tuple((float(x), float(y)) for x, y in ring) for ring in s["rings"]),
            )
            for s in data["states"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def state_named(name: str, states: Iterable[State] | None = None) -> State | None:
    """The state or union territory of that name (any case, spaces trimmed), or None."""
    folded = " ".join(name.split()).casefold()
    if not folded:
        return None
    return next(
        (s for s in (load_outlines() if states is None else states) if s.name.casefold() == folded),
        None,
    )


def state_point(name: str, states: Iterable[State] | None = None) -> tuple[float, float] | None:
    """(lat, lon) of a point well inside the named state, for a tradition known only by its
    state; None when no outline has that name.

    The centroid of the state's largest ring, unless the shape is so bent that it falls
    outside (then the middle of the widest stretch of land at the centroid's latitude)."""
    state = state_named(name, states)
    if state is None or not state.rings:
        return None
    ring = max(state.rings, key=lambda r: abs(_ring_area(r)))
    area = _ring_area(ring)
    if area == 0:
        lon, lat = ring[0]
        return lat, lon
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    cx, cy = cx / (6 * area), cy / (6 * area)
    if _inside(cx, cy, ring):
        return cy, cx
    xs = sorted(
        x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
        if (y0 > cy) != (y1 > cy)
    )
    spans = list(zip(xs[::2], xs[1::2], strict=False))
    if not spans:
        lon, lat = ring[0]
        return lat, lon
    a, b = max(spans, key=lambda s: s[1] - s[0])
    return cy, (a + b) / 2


def _ring_area(ring: tuple[tuple[float, float], ...]) -> float:
    """Signed area (shoelace), in square degrees."""
    return (
        sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
        / 2
    )


def _inside(x: float, y: float, ring: tuple[tuple[float, float], ...]) -> bool:
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < (x1 - x0) * (y - y0) / (y1 - y0) + x0:
            hit = not hit
    return hit


def _merc(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


class Frame:
    """Places longitude and latitude in a rectangle, in the Mercator projection the outlines
    were drawn in; the widest rectangle of India's shape that fits `area`, centred."""

    def __init__(self, area: QRectF, *, left: bool = False) -> None:
        self._top, bottom = _merc(NORTH), _merc(SOUTH)
        span_x = math.radians(EAST - WEST)
        span_y = self._top - bottom
        scale = min(area.width() / span_x, area.height() / span_y)
        w, h = span_x * scale, span_y * scale
        x = area.left() if left else area.left() + (area.width() - w) / 2
        self.rect = QRectF(x, area.top() + (area.height() - h) / 2, w, h)
        self._scale = scale

    def xy(self, lat: float, lon: float) -> QPointF:
        x = self.rect.left() + math.radians(lon - WEST) * self._scale
        y = self.rect.top() + (self._top - _merc(lat)) * self._scale
        return QPointF(x, y)


def state_paths(frame: Frame, states: Iterable[State]) -> dict[str, QPainterPath]:
    """Each state's outline as a painter path in the frame."""
    out: dict[str, QPainterPath] = {}
    for state in states:
        path = QPainterPath()
        for ring in state.rings:
            pts = [frame.xy(lat, lon) for lon, lat in ring]
            path.moveTo(pts[0])
            for pt in pts[1:]:
                path.lineTo(pt)
            path.closeSubpath()
        out[state.name] = path
    return out


def paint_states(
    p: QPainter,
    frame: Frame,
    shading: Mapping[str, float] | None = None,
    colour: str = ACCENT,
) -> int:
    """Draw the state outlines; with `shading` (state name -> 0..1) fill each state by its
    share (from SHADE_FROM on). Returns how many states were drawn (0 without the outlines file)."""
    states = load_outlines()
    folded = {k.casefold(): v for k, v in (shading or {}).items()}
    base = QColor(colour)
    p.save()
    for name, path in state_paths(frame, states).items():
        share = folded.get(name.casefold(), 0.0)
        fill = QColor("#f1ede6")
        if share >= SHADE_FROM:
            # From the land colour towards the accent, a little at least so 5% shows.
            t = min(1.0, 0.15 + 0.85 * share)
            fill = QColor(
                round(fill.red() + (base.red() - fill.red()) * t),
                round(fill.green() + (base.green() - fill.green()) * t),
                round(fill.blue() + (base.blue() - fill.blue()) * t),
            )
        p.setPen(QPen(QColor("#b9b0a1"), 0.8))
        p.setBrush(fill)
        p.drawPath(path)
    p.restore()
    return len(states)


class RegionMap(QWidget):
    """A small India for the answer panel: each likely state shaded by its probability."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("regionMap")
        self._shading: dict[str, float] = {}
        self.setFixedHeight(170)
        self.setToolTip(
            "Where the saree may come from: the darker a state, the likelier.\n" + CREDIT
        )

    def set_shading(self, shading: Mapping[str, float]) -> None:
        self._shading = dict(shading)
        self.setVisible(bool(self._shading) and bool(load_outlines()))
        self.update()

    def shading(self) -> dict[str, float]:
        return dict(self._shading)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        # Left-aligned under the region lines, not floating in the middle of the panel.
        paint_states(p, Frame(QRectF(self.rect()).adjusted(2, 2, -2, -2), left=True), self._shading)
        p.end()
