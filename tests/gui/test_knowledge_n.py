"""The knowledge browser as a curator reads it: source notes without the project's bookkeeping,
every web address a link, the collection count saying what it counts, and [n] marks that go to
the numbered source in the card."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path
from typing import Any

import pytest

QtCore = pytest.importorskip("PySide6.QtCore")

from saree_app.gui.knowledge_page import TRADITION, KnowledgePage  # noqa: E402
from saree_app.knowledge.graph import TextileGraph  # noqa: E402

SOURCES = Path(__file__).resolve().parents[2] / "ontology" / "sources.ttl"
BOOKKEEPING = re.compile(r"issue \d+|fourth search|fifth search|proxy copy|fanyv88", re.I)


@pytest.fixture(scope="module")
def graph() -> TextileGraph:
    return TextileGraph.load()


@pytest.fixture
def page(qtbot: Any, graph: TextileGraph) -> KnowledgePage:
    page = KnowledgePage()
    qtbot.addWidget(page)
    page.set_graph(graph, label=graph.label)
    return page


def _card_line(page: KnowledgePage, name: str) -> str:
    lines = page.card.toPlainText().splitlines()
    at = lines.index(name)
    return lines[at + 1]


def test_source_notes_hold_the_evidence_not_the_bookkeeping(graph: TextileGraph) -> None:
    for source in graph.sources():
        shown = source.citation()
        assert not BOOKKEEPING.search(shown), (source.id, shown)
    # The quoted evidence is kept.
    paithan = graph.source("EncPaithan")
    assert paithan is not None and "Aurangabad district, Maharashtra" in str(paithan.note)
    karaikudi = graph.source("EncKaraikudi")
    assert karaikudi is not None and str(karaikudi.note).endswith("(10.07, 78.78).")
    # The bookkeeping is kept beside the source, as a comment of the file.
    text = SOURCES.read_text(encoding="utf-8")
    assert "# src:EncKaraikudi: issue 31, fifth search." in text


def test_every_web_address_in_a_card_is_a_link(page: KnowledgePage, graph: TextileGraph) -> None:
    for tradition in graph.traditions():
        assert page.show_tradition(tradition)
        html = page.card.toHtml()
        text = page.card.toPlainText()
        linked = {htmllib.unescape(h) for h in re.findall(r'href="(https?://[^"]+)"', html)}
        for source in graph.card(tradition).sources:
            if source.url:
                assert source.url in linked, (tradition, source.id)
        for shown in re.findall(r"https?://[^\s,]+", text):  # one with a comma: its start
            start = shown.rstrip(".;:)]")
            assert any(url.startswith(start) for url in linked), (tradition, shown)
    # The printed Act's consolidated text, named in its note, opens too.
    page.show_tradition("Paithani")
    assert (
        'href="http://www.helplinelaw.com/docs/the-states-re-organization-act-1956/'
        'part-iii-zones-and-zonal-councils"'
    ) in page.card.toHtml()


def test_the_collection_count_says_what_it_counts(page: KnowledgePage) -> None:
    page.set_counts({"Paithani": 6, "Banarasi": 1}, confirmed={"Paithani": 2, "Banarasi": 1})
    page.show_tradition("Paithani")
    assert _card_line(page, "In your collection") == (
        "6 photos answered as Paithani, 2 of them confirmed by you"
    )
    page.show_tradition("Banarasi")
    assert _card_line(page, "In your collection") == (
        "1 photo answered as Banarasi brocade, confirmed by you"
    )
    page.show_tradition("Kanchipuram")
    assert _card_line(page, "In your collection") == "no photos answered as Kanchipuram silk yet"
    # Told only the counts (as the window tells them), the confirmed photos the teaching
    # counts are taken.
    page.set_counts({"Paithani": 6})
    page.set_teaching({"Paithani": (3, True)}, 3)
    page.show_tradition("Paithani")
    assert _card_line(page, "In your collection") == (
        "6 photos answered as Paithani, 3 of them confirmed by you"
    )
    assert 'href="collection:Paithani"' in page.card.toHtml()


def test_a_citation_mark_goes_to_its_numbered_source(
    qtbot: Any, page: KnowledgePage, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(page, "open_url", lambda url: opened.append(url) or True)
    page.resize(900, 420)
    page.show()
    qtbot.waitExposed(page)
    page.show_tradition("Paithani")
    html = page.card.toHtml()
    text = page.card.toPlainText()
    marks = re.findall(r'href="([^"]+)"[^>]*>(?:<span[^>]*>)?(\d+)(?:</span>)?</a>', html)
    assert marks, html[:2000]
    for href, _n in marks:
        assert href.startswith("#src-"), href  # never straight to the web
    # Each mark's number is the source's place in the list, and the entry there is a link.
    museum = "https://artsandculture.google.com/asset/sari/LwH3R3BbiiX2qA"
    assert f'href="{museum}"' in html
    bar = page.card.verticalScrollBar()
    bar.setValue(0)
    last = max(marks, key=lambda m: int(m[1]))
    page._link(QtCore.QUrl(last[0]))
    assert opened == []
    assert bar.value() > 0  # scrolled down to the list of sources
    assert "Sources" in text


def test_the_window_tells_the_card_the_confirmed_photos_it_counts(
    qtbot: Any, imported: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card's confirmed figure comes from the same photos as its count (the collection's),
    not from teaching's own counts, which leave out photos it cannot use."""
    from tests.gui.conftest import wait_idle

    win = imported
    told: list[tuple[dict[str, int], dict[str, int] | None]] = []
    real = win.knowledge.set_counts

    def spied(counts: Any, confirmed: Any = None) -> None:
        told.append((dict(counts), None if confirmed is None else dict(confirmed)))
        real(counts, confirmed)

    monkeypatch.setattr(win.knowledge, "set_counts", spied)
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    first = win.model.item(0).tradition
    win.confirm(first)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: bool(told) and told[-1][1] is not None, timeout=5000)
    counts, confirmed = told[-1]
    assert confirmed == {first: 1}
    assert confirmed == dict(win.model.confirmed_counts())
    assert counts[first] >= 1


def test_an_address_in_a_note_keeps_its_own_brackets() -> None:
    from saree_app.gui.knowledge_page import _linked_text

    page = "https://en.wikipedia.org/wiki/Patan_(Gujarat)"
    assert f'href="{page}"' in _linked_text(f"see {page}.")
    assert 'href="https://a.org/x"' in _linked_text("(read at https://a.org/x)")
    assert 'href="https://a.org/y"' in _linked_text("at https://a.org/y; and more")


def test_the_tradition_list_never_scrolls_sideways(page: KnowledgePage) -> None:
    """At 1024 x 700 the list scrolled sideways for "Kasavu (Balaramapuram)" (fourth walk): a
    long name is cut short, its whole in the tooltip."""
    from PySide6.QtCore import Qt as QtNs

    page.list.setFixedWidth(120)
    assert page.list.horizontalScrollBarPolicy() == QtNs.ScrollBarPolicy.ScrollBarAlwaysOff
    assert page.list.textElideMode() == QtNs.TextElideMode.ElideRight
    named = [page.list.item(i) for i in range(page.list.count())]
    graph_rows = [it for it in named if it.data(TRADITION)]
    assert graph_rows and all(it.toolTip() for it in graph_rows)
    assert any(it.toolTip() == it.text() for it in graph_rows)
