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
