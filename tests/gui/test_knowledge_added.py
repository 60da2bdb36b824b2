"""The knowledge browser lists the traditions a curator added: marked as theirs, a card with
only what they typed, on the map at their state when the map knows it."""

from __future__ import annotations

import re
from typing import Any

import pytest

QtCore = pytest.importorskip("PySide6.QtCore")
QtGui = pytest.importorskip("PySide6.QtGui")

from saree_app.collection.traditions import CuratorTradition  # noqa: E402
from saree_app.gui.india_map import state_point  # noqa: E402
from saree_app.gui.knowledge_page import ADDED, ADDED_HEADING, TRADITION, KnowledgePage  # noqa: E402
from saree_app.knowledge.graph import TextileGraph  # noqa: E402
from tests.gui.conftest import wait_idle  # noqa: E402

Qt = QtCore.Qt
KOTPAD = CuratorTradition("Kotpad", "Odisha", "East India", "Sambalpuri")


@pytest.fixture
def page(qtbot: Any) -> KnowledgePage:
    graph = TextileGraph.load()
    page = KnowledgePage()
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.set_graph(graph, label=graph.label)
    return page


@pytest.fixture(autouse=True)
def no_modal_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("saree_app.gui.window.show_error", lambda *a, **k: None)


def _rows(page: KnowledgePage) -> list[tuple[str, str | None, bool]]:
    """(text, tradition, added) of each row of the list, headings included."""
    out = []
    for i in range(page.list.count()):
        it = page.list.item(i)
        out.append((it.text(), it.data(TRADITION), bool(it.data(ADDED))))
    return out


def _card_line(page: KnowledgePage, name: str) -> str:
    """What the card says for one fact ('State', 'Resembles'...): the first line of the
    cell beside its name (the plain text puts each cell on a line of its own)."""
    lines = page.card.toPlainText().splitlines()
    for i, line in enumerate(lines[:-1]):
        if line == name:
            return lines[i + 1]
    raise AssertionError(f"no {name!r} line in the card:\n{page.card.toPlainText()}")


def _add(monkeypatch: pytest.MonkeyPatch, win: Any, t: CuratorTradition) -> None:
    """Add a tradition through the window's dialog, as the teaching panel's button does."""
    from saree_app.gui.teaching import NewTraditionDialog

    def fill(dlg: Any) -> int:
        dlg.name.setText(t.name)
        dlg.state.setText(t.state)
        dlg.region.setText(t.region)
        if t.like:
            dlg.like.setCurrentIndex(dlg.like.findData(t.like))
        return int(NewTraditionDialog.DialogCode.Accepted)

    monkeypatch.setattr(NewTraditionDialog, "exec", fill)
    assert win.add_tradition()


def test_added_traditions_come_after_the_graphs_under_their_own_heading(
    page: KnowledgePage,
) -> None:
    graph_rows = _rows(page)
    assert len(graph_rows) == 27 and ADDED_HEADING not in [r[0] for r in graph_rows]
    page.set_added([KOTPAD, CuratorTradition("Gopalpur Tussar", "odisha")])
    rows = _rows(page)
    assert rows[:27] == graph_rows
    assert rows[27] == (ADDED_HEADING, None, False)
    assert rows[28:] == [("Kotpad", "Kotpad", True), ("Gopalpur Tussar", "Gopalpur Tussar", True)]
    head, kotpad = page.list.item(27), page.list.item(28)
    assert not head.flags() & Qt.ItemFlag.ItemIsSelectable  # a heading, not a tradition
    assert kotpad.font().italic() and not page.list.item(0).font().italic()
    assert kotpad.toolTip() == "Added by you · Odisha, East India · resembles Sambalpuri bandha"
    # A search finds them by what the curator typed; the heading goes when none is left.
    page.search.setText("east india")
    assert not kotpad.isHidden() and not head.isHidden()
    page.search.setText("kanchipuram")
    assert kotpad.isHidden() and head.isHidden()


def test_an_added_traditions_card_says_only_what_is_known(page: KnowledgePage) -> None:
    page.set_added([KOTPAD])
    page.set_counts({"Kotpad": 3})
    assert page.show_tradition("Kotpad")
    text = page.card.toPlainText()
    assert text.splitlines()[:2] == ["Kotpad", ADDED_HEADING]
    assert _card_line(page, "State") == "Odisha"
    assert _card_line(page, "Region") == "East India"
    assert _card_line(page, "Resembles") == "Sambalpuri bandha"
    assert _card_line(page, "In your collection") == (
        "3 photos answered as Kotpad, none confirmed by you yet"
    )
    assert _card_line(page, "Taught by your examples").startswith("none yet: the model was not")
    assert "holds no motifs, weaves, fibres, GI registration, sources or Wikidata links" in text
    # Nothing from the graph is claimed for it.
    for fact in ("Motifs", "Sources", "GI registration", "Neighbours", "Same entry elsewhere"):
        assert fact not in text.splitlines(), fact
    html = page.card.toHtml()
    assert 'href="collection:Kotpad"' in html
    # The tradition it resembles opens that tradition's card.
    like = re.search(r'href="(tradition:[^"]+)"', html)
    assert like is not None and like.group(1) == "tradition:Sambalpuri"
    page._link(QtCore.QUrl(like.group(1)))
    assert page.current() == "Sambalpuri"
    assert page.card.toPlainText().startswith("Sambalpuri bandha")
    assert _card_line(page, "Motifs") != ""


def test_an_added_tradition_is_marked_at_its_state(page: KnowledgePage) -> None:
    page.set_added([CuratorTradition("Kotpad", "  odisha ")])
    page.show_tradition("Kotpad")
    assert page.map.current() == "Kotpad" and page.map.own() == {"Kotpad"}
    assert _card_line(page, "On the map").startswith("marked at the middle of the state")
    assert "Squares: traditions you added" in page.map_note.text()
    lat, lon = state_point("Odisha") or (0.0, 0.0)
    assert 19.0 < lat < 22.5 and 82.0 < lon < 87.0  # inside Odisha
    img = page.map.grab().toImage()
    assert QtGui.QColor(img.pixel(page.map.frame().xy(lat, lon).toPoint())) == QtGui.QColor(
        213, 94, 0
    )


@pytest.mark.parametrize("state", ["Orisa", ""])
def test_a_tradition_whose_state_the_map_does_not_know_is_said_not_to_be_on_it(
    page: KnowledgePage, state: str
) -> None:
    page.set_added([CuratorTradition("Kotpad", state)])
    page.show_tradition("Kotpad")
    placed = _card_line(page, "On the map")
    if state:
        assert placed.startswith("not on the map: state not recognised")
        assert "“Orisa” is not one of the map's states" in placed
    else:
        assert placed == "not on the map: no state given"
    assert _card_line(page, "State") == (state or "not given")
    assert page.map.current() is None and page.map.own() == set()
    assert "Squares" not in page.map_note.text()


def test_a_tradition_added_in_the_window_appears_with_its_photos(
    qtbot: Any, imported: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.gui.window import TAB_COLLECTION, TAB_KNOWLEDGE

    win = imported
    assert ADDED_HEADING not in [r[0] for r in _rows(win.knowledge)]
    _add(monkeypatch, win, KOTPAD)
    assert ("Kotpad", "Kotpad", True) in _rows(win.knowledge)
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    win.confirm("Kotpad")
    wait_idle(qtbot, win)
    win.tabs.setCurrentIndex(TAB_KNOWLEDGE)  # counts and teaching are read afresh
    wait_idle(qtbot, win)
    page = win.knowledge
    assert page.show_tradition("Kotpad")
    qtbot.waitUntil(
        lambda: (
            _card_line(page, "In your collection") == "1 photo answered as Kotpad, confirmed by you"
        ),
        timeout=5000,
    )
    assert _card_line(page, "Taught by your examples").startswith("1 confirmed photo")
    page._link(QtCore.QUrl("collection:Kotpad"))
    assert win.tabs.currentIndex() == TAB_COLLECTION
    assert [win.model.item(r).tradition for r in range(win.model.rowCount())] == ["Kotpad"]


def test_a_tradition_added_by_the_command_line_appears_on_reopening(
    qtbot: Any, imported: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from saree_app.cli import main

    win = imported
    path = win.library.path
    first = win.model.item(0).id
    argv = ["label", str(first), "--catalog", str(path), "--tradition", "Kotpad", "--new"]
    assert main([*argv, "--state", "Odisha", "--like", "Sambalpuri"]) == 0
    capsys.readouterr()
    assert win.open_collection(path)
    wait_idle(qtbot, win)
    assert ("Kotpad", "Kotpad", True) in _rows(win.knowledge)
    assert win.knowledge.show_tradition("Kotpad")
    assert _card_line(win.knowledge, "State") == "Odisha"
    assert _card_line(win.knowledge, "Resembles") == "Sambalpuri bandha"
    assert win.knowledge.map.current() == "Kotpad"


def test_a_name_with_link_characters_still_links_to_its_photos(page: KnowledgePage) -> None:
    """A curator may name a tradition anything: '%', '#' and spaces survive the card's links."""
    odd = CuratorTradition("Ikat 100% #2", "Odisha", "East India", None)
    page.set_added([odd])
    page.set_counts({odd.name: 2})
    assert page.show_tradition(odd.name)
    shown: list[str] = []
    page.showInCollection.connect(shown.append)
    link = re.search(r'href="(collection:[^"]+)"', page.card.toHtml())
    assert link is not None
    page._link(QtCore.QUrl(link.group(1)))
    assert shown == [odd.name]
