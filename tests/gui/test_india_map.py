"""India with state outlines: the bundled outlines, their placement, the two maps drawing them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from saree_app.gui.india_map import Frame, load_outlines, outlines_file, paint_states

LAND = QColor("#f1ede6")


def _inside(lon: float, lat: float, ring) -> bool:  # type: ignore[no-untyped-def]
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > lat) != (y1 > lat) and lon < (x1 - x0) * (lat - y0) / (y1 - y0) + x0:
            hit = not hit
    return hit


def _km_to_edge(lon: float, lat: float, rings) -> float:  # type: ignore[no-untyped-def]
    best = math.inf
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            dx, dy = x1 - x0, y1 - y0
            t = 0.0 if dx == dy == 0 else ((lon - x0) * dx + (lat - y0) * dy) / (dx * dx + dy * dy)
            t = max(0.0, min(1.0, t))
            ex = (lon - x0 - t * dx) * math.cos(math.radians(lat))
            best = min(best, math.hypot(ex, lat - y0 - t * dy) * 111.0)
    return best


def test_outlines_are_small_credited_and_name_every_state_of_the_graph() -> None:
    from saree_app.knowledge.graph import load_graph_or_none

    path = outlines_file()
    assert path.stat().st_size < 80_000
    licence = (path.parent / "LICENSE.md").read_text(encoding="utf-8")
    assert "MapSVG" in licence and "CC BY 4.0" in licence
    states = {s.name: s for s in load_outlines()}
    assert len(states) >= 30
    graph, problem = load_graph_or_none()
    assert graph is not None, problem
    for state in graph.regions("state"):
        assert graph.label(state) in states, graph.label(state)


def test_every_town_of_the_graph_falls_in_its_state() -> None:
    """The outlines were projected back to longitude and latitude: the graph's own town
    coordinates (from a gazetteer, not from the map) check that it was done right."""
    from saree_app.knowledge.graph import load_graph_or_none

    graph, _ = load_graph_or_none()
    assert graph is not None
    states = {s.name: s for s in load_outlines()}
    checked = 0
    for town in graph.regions("town"):
        where = graph.coordinates(town)
        state = next((a for a in graph.region_ancestors(town) if graph.kind(a) == "state"), None)
        if where is None or state is None:
            continue
        lat, lon = where
        outline = states[graph.label(state)]
        inside = any(_inside(lon, lat, list(r)) for r in outline.rings)
        # A town on the shore may sit just off a simplified coastline.
        assert inside or _km_to_edge(lon, lat, [list(r) for r in outline.rings]) < 3.0, town
        checked += 1
    assert checked >= 20


def _render(shading: dict[str, float] | None) -> tuple[QImage, Frame]:
    img = QImage(300, 340, QImage.Format.Format_ARGB32)
    img.fill(QColor("#ffffff"))
    frame = Frame(QRectF(0, 0, 300, 340))
    p = QPainter(img)
    assert paint_states(p, frame, shading) >= 30
    p.end()
    return img, frame


def test_shading_colours_the_likely_states_only(qtbot) -> None:  # type: ignore[no-untyped-def]
    img, frame = _render({"Tamil Nadu": 0.9, "kerala": 0.05})
    tn = frame.xy(11.0, 78.5).toPoint()  # inland Tamil Nadu
    kl = frame.xy(10.2, 76.4).toPoint()  # inland Kerala
    rj = frame.xy(26.5, 73.0).toPoint()  # Rajasthan: not shaded
    sea = frame.xy(15.0, 70.0).toPoint()  # the Arabian Sea
    assert QColor(img.pixel(rj)) == LAND
    assert QColor(img.pixel(sea)) == QColor("#ffffff")
    dark, light = QColor(img.pixel(tn)), QColor(img.pixel(kl))
    assert LAND not in (dark, light)
    assert dark.lightness() < light.lightness() < LAND.lightness()


def test_region_map_in_the_answer_and_dots_on_outlines(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.india_map import RegionMap
    from saree_app.gui.knowledge_page import DotMap

    region = RegionMap()
    qtbot.addWidget(region)
    region.resize(300, 170)
    region.set_shading({})
    assert region.isHidden()
    region.set_shading({"Odisha": 0.7})
    assert not region.isHidden()

    dots = DotMap()
    qtbot.addWidget(dots)
    dots.resize(320, 360)
    dots.set_points({"Kanchipuram": (12.83, 79.70, "Kanchipuram silk")})
    dots.set_current("Kanchipuram")
    img = dots.grab().toImage()
    frame = dots.frame()
    assert QColor(img.pixel(frame.xy(26.5, 73.0).toPoint())) == LAND  # Rajasthan is drawn
    centre = QColor(img.pixel(frame.xy(12.83, 79.70).toPoint()))
    assert centre == QColor(213, 94, 0)  # the chosen tradition's dot, on its town


def test_without_the_outlines_file_the_maps_go_without(tmp_path: Path) -> None:
    assert load_outlines(tmp_path / "none.json") == ()
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert load_outlines(tmp_path / "bad.json") == ()


@pytest.mark.parametrize("lat", [6.75, 37.09])
def test_frame_keeps_india_inside(lat: float) -> None:
    frame = Frame(QRectF(10, 20, 200, 300))
    for lon in (68.18, 97.40):
        pt = frame.xy(lat, lon)
        assert frame.rect.adjusted(-0.5, -0.5, 0.5, 0.5).contains(pt)
    assert frame.rect.width() <= 200 and frame.rect.height() <= 300


def test_neighbours_names_keep_clear_of_the_chosen_dot(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Two towns a few km apart (Bishnupur and Dhaniakhali, West Bengal): the neighbour's name
    goes where it covers neither the chosen dot nor its name."""
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from saree_app.gui import theme
    from saree_app.gui.knowledge_page import DotMap

    app = QApplication.instance()
    before = app.styleSheet()
    theme.apply(app)  # the app's own font, as the window has it: the labels' size follows it
    m = DotMap()
    qtbot.addWidget(m)
    # Big enough for both names beside two dots this close (at 300 x 340, in the app's font,
    # the neighbour's has no room and is named on hover instead).
    m.resize(400, 460)
    points = {
        "Baluchari": (23.07, 87.32, "Baluchari"),
        "Jamdani": (22.97, 88.08, "Jamdani (Bengal)"),
    }
    m.set_points(points)
    m.set_current("Baluchari", ["Jamdani"])
    m.grab()
    boxes = m.label_boxes()
    assert set(boxes) == {"Baluchari", "Jamdani"}, "the neighbour is named"
    centre: QPointF = m.frame().xy(23.07, 87.32)
    dot = QRectF(centre.x() - 6.5, centre.y() - 6.5, 13, 13)
    assert not boxes["Jamdani"].intersects(dot)
    assert not boxes["Jamdani"].intersects(boxes["Baluchari"])
    app.setStyleSheet(before)
