"""The knowledge browser shows each fact's source and the shared-vocabulary entries, openable."""

from __future__ import annotations

import re
from typing import Any

import pytest

QtCore = pytest.importorskip("PySide6.QtCore")

from saree_app.gui.knowledge_page import KnowledgePage, _date_text  # noqa: E402
from saree_app.knowledge.graph import TextileGraph  # noqa: E402


@pytest.fixture
def page(qtbot: Any) -> KnowledgePage:
    graph = TextileGraph.load()
    page = KnowledgePage()
    qtbot.addWidget(page)
    page.set_graph(graph, label=graph.label)
    return page


def test_card_cites_each_fact_and_links_the_vocabularies(page: KnowledgePage) -> None:
    assert page.show_tradition("Paithani")
    html = page.card.toHtml()
    text = page.card.toPlainText()
    # the GI registration that was wrongly "not registered", with its source
    assert "registered in 2010" in text
    assert "http://www.ibnlokmat.tv/archives/23959" in html
    # each attribute line carries a numbered mark linking to its source
    museum = "https://artsandculture.google.com/asset/sari/LwH3R3BbiiX2qA"
    peacock_line = next(line for line in text.splitlines() if line.startswith("peacock"))
    assert re.search(r"\[\d+\]$", peacock_line)
    assert f'href="{museum}"' in html
    # a project note is named as such, not dressed up as a publication
    assert "project note, not a publication" in text
    # shared vocabularies: a curator can open the Wikidata and Getty AAT entries
    assert 'href="https://www.wikidata.org/wiki/Q1191"' in html
    assert 'href="http://vocab.getty.edu/page/aat/300014072"' in html
    assert "close to Getty AAT 300014072" in text


def test_sources_disagree_is_shown(page: KnowledgePage) -> None:
    assert page.show_tradition("MysoreSilk")
    text = page.card.toPlainText()
    assert "application no. 11" in text and "Karnataka Silk Industries Corporation" in text
    assert "Sources disagree:" in text and "2006" in text


def test_links_open_in_the_browser_or_jump_to_the_source(
    page: KnowledgePage, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(page, "open_url", lambda url: opened.append(url) or True)
    page.show_tradition("Kanchipuram")
    page._link(QtCore.QUrl("https://en.wikipedia.org/wiki/Kanchipuram_silk_sari"))
    page._link(QtCore.QUrl("#src-Gazetteer"))  # a project note has no address: jumps to it
    page._link(QtCore.QUrl("tradition:Banarasi"))
    assert opened == ["https://en.wikipedia.org/wiki/Kanchipuram_silk_sari"]
    assert page.current() == "Banarasi"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2019-08-30", "30 August 2019"),
        ("2010-05", "May 2010"),
        ("2005/2006", "2005-06"),
        ("2011", "2011"),
    ],
)
def test_dates_read_as_a_curator_writes_them(value: str, text: str) -> None:
    assert _date_text(value) == text


def test_a_disputed_link_shows_what_each_source_says(page: KnowledgePage) -> None:
    assert page.show_tradition("Bomkai")
    lines = page.card.toPlainText().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("ikat"))
    assert "sources disagree:" in lines[at + 1] and "no ikat work" in lines[at + 1]
