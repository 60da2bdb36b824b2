"""Walk 4's layout and count defects: facet counts within the other facets' choice, the left
panel and the status bar at 1024 x 700, the knowledge map's names never overlapping."""

from __future__ import annotations

import time
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QStyleOptionViewItem

from saree_app.gui.items import CONFIRMED, UNCERTAIN, UNCONFIRMED, Filter, Item


def _items() -> list[Item]:
    """44 photos like the tester's: 12 answered Paithani, 6 of them confirmed; 17 confirmed."""
    out: list[Item] = []

    def add(n: int, trad: str, *, confirmed: bool = False, uncertain: bool = False) -> None:
        for _ in range(n):
            k = len(out)
            out.append(
                Item(
                    k + 1,
                    f"p{k}.jpg",
                    Path(f"/x/p{k}.jpg"),
                    trad,
                    0.4,
                    confirmed=trad if confirmed else None,
                    uncertain=uncertain,
                )
            )

    add(6, "Paithani", confirmed=True)
    add(4, "Paithani", uncertain=True)
    add(2, "Paithani")
    add(8, "Kanchipuram", confirmed=True)
    add(10, "Kanchipuram", uncertain=True)
    add(3, "KotaDoria", confirmed=True)
    add(6, "KotaDoria", uncertain=True)
    add(3, "KotaDoria")
    add(2, "IlkalKasuti")
    assert len(out) == 44
    return out


def _model(items: list[Item]) -> Any:
    from saree_app.gui.browser import CollectionModel
    from saree_app.gui.thumbs import ThumbnailLoader

    model = CollectionModel(ThumbnailLoader(None))
    model.set_items(items)
    return model


def _list_counts(panel: Any) -> dict[str | None, str]:
    from PySide6.QtCore import Qt

    lw = panel.traditions
    return {lw.item(i).data(Qt.ItemDataRole.UserRole): lw.item(i).text() for i in range(lw.count())}


# ---------------------------------------------------------------------- 1. facet counts
def test_each_facet_counts_within_the_others_choice(qtbot: Any) -> None:
    model = _model(_items())
    confirmed = model.facet_counts(Filter(status=CONFIRMED))
    assert confirmed.tradition_total == 17
    assert confirmed.traditions == {"Paithani": 6, "Kanchipuram": 8, "KotaDoria": 3}
    assert confirmed.statuses[CONFIRMED] == 17 and confirmed.status_total == 44
    both = model.facet_counts(Filter(tradition="Paithani", status=CONFIRMED))
    assert both.traditions["Paithani"] == 6  # what the grid holds
    model.set_filter(Filter(tradition="Paithani", status=CONFIRMED))
    assert model.rowCount() == 6
    # The review states under the chosen tradition.
    assert both.status_total == 12
    assert both.statuses == {CONFIRMED: 6, UNCERTAIN: 4, UNCONFIRMED: 2}
    # The list keeps every tradition of the collection, with its whole count beside.
    assert both.listed == {"Paithani": 12, "Kanchipuram": 18, "KotaDoria": 12, "IlkalKasuti": 2}
    # The search narrows both facets.
    found = model.facet_counts(Filter(status=CONFIRMED, text="p1"))  # p1, p10..p19
    assert found.tradition_total == sum(
        1 for it in _items() if it.status == CONFIRMED and "p1" in it.name
    )


def test_facet_counts_follow_a_changed_photo() -> None:
    from dataclasses import replace

    items = _items()
    model = _model(items)
    assert model.facet_counts(Filter(status=CONFIRMED)).traditions["IlkalKasuti"] == 0
    model.update_item(replace(items[-1], confirmed="IlkalKasuti"))
    counted = model.facet_counts(Filter(status=CONFIRMED))
    assert counted.traditions["IlkalKasuti"] == 1 and counted.tradition_total == 18
    assert model.confirmed_counts()["IlkalKasuti"] == 1


def test_facet_counts_are_cheap_for_100000_photos() -> None:
    items = _items()
    many = [
        Item(i, f"p{i}.jpg", Path("/x"), it.predicted, 0.4, it.confirmed, it.uncertain)
        for i, it in enumerate(items * 2300, start=1)
    ]
    model = _model(many)
    model.facet_counts(Filter(status=CONFIRMED))  # builds the codes once
    start = time.perf_counter()
    for _ in range(5):
        counted = model.facet_counts(Filter(tradition="Paithani", status=CONFIRMED))
    per_call = (time.perf_counter() - start) / 5
    assert counted.traditions["Paithani"] == 6 * 2300
    assert per_call < 0.05, per_call


def test_the_window_counts_traditions_under_the_review_state(qtbot: Any, window: Any) -> None:
    """The tester's screenshot 34: 'Confirmed by you · 17' chosen, the list said 'All
    traditions (44)' and 'Paithani (12)' over a grid of 6 Paithani photos."""
    from PySide6.QtCore import Qt

    win = window
    win.model.set_items(_items())
    win._update_counts()
    panel = win.facets
    panel.status_buttons[CONFIRMED].click()
    counts = _list_counts(panel)
    assert counts[None].endswith("(17)") and counts["Paithani"].endswith("(6)")
    for i in range(panel.traditions.count()):
        if panel.traditions.item(i).data(Qt.ItemDataRole.UserRole) == "Paithani":
            panel.traditions.setCurrentRow(i)
    assert win.model.rowCount() == 6
    assert _list_counts(panel)["Paithani"].endswith("(6)")
    texts = {k: b.text() for k, b in panel.status_buttons.items()}
    assert texts[None].endswith(" 12") and texts[CONFIRMED].endswith(" 6")
    assert texts[UNCERTAIN].endswith(" 4") and texts[UNCONFIRMED].endswith(" 2")
    assert "12" in panel.to_confirm.text() and "Paithani" in panel.to_confirm.text()
    # What a count counts is said where the curator looks: the list's and each row's tooltip.
    assert "within" in panel.traditions.toolTip()
    row = next(
        panel.traditions.item(i)
        for i in range(panel.traditions.count())
        if panel.traditions.item(i).data(Qt.ItemDataRole.UserRole) == "Paithani"
    )
    assert "confirmed" in row.toolTip() and "12 in the whole collection" in row.toolTip()
    # Back to all photos: the whole collection's numbers again.
    panel.status_buttons[None].click()
    panel.traditions.setCurrentRow(0)
    counts = _list_counts(panel)
    assert counts[None].endswith("(44)") and counts["Paithani"].endswith("(12)")


# ---------------------------------------------------------------------- 2. 1024 x 700
def test_the_left_panel_fits_at_1024(qtbot: Any, window: Any) -> None:
    from PySide6.QtCore import Qt

    from saree_app.gui import theme
    from saree_app.gui.browser import COUNT_ROLE, text_room

    win = window
    win.setStyleSheet(theme.style_sheet())  # the app's look: its rows' padding
    long = "Patan Patola double ikat of Gujarat"
    win.facets.set_labeller(lambda t: long if t == "KotaDoria" else t)
    win.model.set_items(_items())
    win._update_counts()
    assert win.minimumSizeHint().width() <= 1024
    win.resize(1024, 700)
    qtbot.waitUntil(lambda: win.width() == 1024)
    qtbot.wait(50)
    panel = win.facets
    for b in panel.status_buttons.values():  # "Unflagged guesse" was cut
        assert b.sizeHint().width() <= b.width(), b.text()
    lw = panel.traditions
    assert not lw.horizontalScrollBar().isVisible()
    assert lw.horizontalScrollBar().maximum() == 0
    delegate = lw.itemDelegate()
    for i in range(lw.count()):
        wi = lw.item(i)
        rect = lw.visualItemRect(wi)
        assert rect.right() <= lw.viewport().width()
        opt = QStyleOptionViewItem()
        opt.initFrom(lw)
        opt.widget = lw  # as the list paints its rows
        opt.rect = rect
        delegate.initStyleOption(opt, lw.indexFromItem(wi))
        # As the style draws it: no further "…" in place of the count.
        assert opt.fontMetrics.horizontalAdvance(opt.text) <= text_room(opt), opt.text
        assert text_room(opt) <= rect.width() - 12  # the style sheet's padding, and margins
        assert opt.text.endswith(f"({wi.data(COUNT_ROLE)})")  # the count is never elided
        if wi.data(Qt.ItemDataRole.UserRole) == "KotaDoria":
            assert "…" in opt.text and long in wi.toolTip()
    # A row painted as the list paints it ends with its count, whatever the panel's width.
    for width in (230, 250, 275):
        win.splitter.setSizes([width, 1024 - width])
        qtbot.wait(20)
        for i in range(lw.count()):
            wi = lw.item(i)
            opt = QStyleOptionViewItem()
            opt.initFrom(lw)
            opt.widget = lw
            opt.rect = lw.visualItemRect(wi)
            delegate.initStyleOption(opt, lw.indexFromItem(wi))
            assert opt.fontMetrics.horizontalAdvance(opt.text) <= text_room(opt), (width, opt.text)


def test_a_long_status_message_is_readable_at_1024(qtbot: Any, window: Any) -> None:
    from PySide6.QtGui import QFontMetrics

    win = window
    assert win.minimumSizeHint().width() <= 1024
    win.resize(1024, 700)
    qtbot.waitUntil(lambda: win.width() == 1024)
    said = (
        "Taught from your 22 confirmed photos: re-ranked all 44 photos, your confirmed ones "
        "each answered as if you had not confirmed it; 3 answers changed, 2 of them now "
        "flagged uncertain."
    )
    win.say(said, 10000)
    sb = win.statusBar()
    assert sb.currentMessage() == said  # the message itself is whole
    assert sb.toolTip() == said
    font, lines = sb.message_lines()
    fm = QFontMetrics(font)
    rect = sb.message_rect()
    assert len(lines) == 2 and " ".join(lines) == said  # all of it, on two lines
    assert all(fm.horizontalAdvance(line) <= rect.width() for line in lines)
    assert 2 * fm.lineSpacing() <= sb.height()
    assert font.pointSizeF() >= sb.MIN_POINTS
    sb.grab()  # paints without a warning
    win.say("Saved.", 1000)
    assert sb.message_lines()[1] == ["Saved."]


# ---------------------------------------------------------------------- 3. the map's names
def _maps(qtbot: Any, size: tuple[int, int]) -> tuple[Any, Any, Any]:
    """The knowledge page on the shipped graph, and a map of `size` drawing what its map is
    given (its own map is sized by the page's layout)."""
    from saree_app.gui.knowledge_page import DotMap, KnowledgePage
    from saree_app.knowledge.graph import TextileGraph

    graph = TextileGraph.load()
    page = KnowledgePage()
    qtbot.addWidget(page)
    page.set_graph(graph, label=graph.label)
    dots = DotMap()
    qtbot.addWidget(dots)
    dots.resize(*size)
    dots.set_points(page.map.points(), page.map.own())
    return graph, page, dots


def _show(page: Any, dots: Any, tradition: str) -> bool:
    page.show_tradition(tradition)
    if page.map.current() is None:
        return False
    dots.set_current(page.map.current(), page.map.near())
    dots.grab()
    return True


@pytest.mark.parametrize("size", [(220, 445), (260, 520), (320, 640)])
def test_no_two_names_on_the_map_overlap(qtbot: Any, size: tuple[int, int]) -> None:
    from PySide6.QtWidgets import QApplication

    from saree_app.gui import theme

    app = QApplication.instance()
    before = app.styleSheet()
    theme.apply(app)  # the app's own font, as the window has it: the labels' size follows it
    try:
        _no_two_names_overlap(qtbot, size)
    finally:
        app.setStyleSheet(before)


def _no_two_names_overlap(qtbot: Any, size: tuple[int, int]) -> None:
    graph, page, dots = _maps(qtbot, size)  # 220 x 445: the map in a 1024 x 700 window
    checked = 0
    for t in graph.traditions():
        if not _show(page, dots, t):
            continue
        names = dots.label_boxes()
        marks = dots.mark_boxes()
        assert t in names, t  # the chosen tradition is always named
        room = dots.rect()
        for a, box in names.items():
            assert room.contains(box.toAlignedRect()), (t, a)
        for (a, ra), (b, rb) in combinations(names.items(), 2):
            assert not ra.intersects(rb), (t, a, b)
        for a, box in names.items():
            if a == t:
                continue  # the chosen one is named even where only a neighbour's dot has room
            for b, mark in marks.items():
                assert a == b or not box.intersects(mark), (t, a, b)
        checked += 1
    assert checked >= 20


def test_the_kanchipuram_map_names_dharmavaram_or_shows_it_on_hover(qtbot: Any) -> None:
    """The tester's screenshot 47: 'Dharmavaram silk' and 'Ilkal' drawn over each other."""
    _graph, page, dots = _maps(qtbot, (220, 445))
    assert _show(page, dots, "Kanchipuram")
    names = dots.label_boxes()
    assert "Kanchipuram" in names and len(names) >= 4
    for a, b in combinations(names.values(), 2):
        assert not a.intersects(b)
    # A neighbour left unnamed is still named by its dot's tooltip.
    points = dots.points()
    for tid in dots.mark_boxes():
        lat, lon, label = points[tid]
        at = dots.frame().xy(lat, lon)
        assert dots.point_at(QPointF(at.x() + 1, at.y())) == tid, label


def test_a_chosen_tradition_that_is_gone_clears_the_grids_filter(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Fifth walk: after another collection was opened, the grid kept a Gadwal filter while
    the list showed all traditions. The list's fall-back is sent on to the grid."""
    from PySide6.QtCore import Qt

    from saree_app.gui.browser import FacetPanel

    panel = FacetPanel()
    qtbot.addWidget(panel)
    first = [Item(i, f"{i}.jpg", Path(f"/x/{i}.jpg"), t, 0.6) for i, t in enumerate("ABB")]
    panel.update_counts(first)
    lw = panel.traditions
    row = next(i for i in range(lw.count()) if lw.item(i).data(Qt.ItemDataRole.UserRole) == "A")
    lw.setCurrentRow(row)
    assert panel.current_filter().tradition == "A"
    sent: list[object] = []
    panel.filterChanged.connect(sent.append)
    panel.update_counts([Item(9, "9.jpg", Path("/y/9.jpg"), "C", 0.6)])  # A is gone
    assert panel.current_filter().tradition is None
    assert sent and getattr(sent[-1], "tradition", "x") is None
    # A tradition still there keeps its choice, and nothing is sent.
    sent.clear()
    lw.setCurrentRow(1)
    chosen = panel.current_filter().tradition
    sent.clear()
    panel.update_counts([Item(9, "9.jpg", Path("/y/9.jpg"), "C", 0.6)])
    assert panel.current_filter().tradition == chosen and sent == []


def test_a_dialog_is_sized_within_its_screen(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Fifth walk: Compare opened at 1200 x 760 whatever the screen, its buttons off the bottom
    of a small laptop's."""
    from PySide6.QtWidgets import QDialog

    from saree_app.gui.dialogs import resize_within_screen

    dlg = QDialog()
    qtbot.addWidget(dlg)
    room = dlg.screen().availableGeometry()
    resize_within_screen(dlg, room.width() + 500, room.height() + 500)
    assert dlg.width() <= room.width() and dlg.height() <= room.height()
    resize_within_screen(dlg, 400, 300)  # a small one is left as asked
    assert (dlg.width(), dlg.height()) == (400, 300)


def test_no_photo_shows_no_object_to_group_and_no_empty_headings(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Fifth walk: with no photo shown, the object section offered "Group into an object…"
    and the answer's section headings stood over nothing."""
    from saree_app.gui.answer import AnswerPanel
    from saree_app.gui.objects import NO_PHOTO, ObjectPanel

    panel = ObjectPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_none(NO_PHOTO)
    assert not panel.group.isVisible() and panel.title.text() == NO_PHOTO
    panel.show_none()  # a photo with no object can be grouped
    assert panel.group.isVisible()

    answer = AnswerPanel()
    qtbot.addWidget(answer)
    answer.show()
    answer.clear("No photo selected.")
    assert answer._headings and not any(h.isVisible() for h in answer._headings)
