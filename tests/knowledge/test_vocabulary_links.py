"""Every link to a shared vocabulary (issue 31) is cited where it was read, and reaches the curator:
in the knowledge browser as a link to open, in `saree kg show`, and in the JSON-LD exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from saree_app.cli import main
from saree_app.knowledge.graph import TextileGraph, VocabularyLink

SKOS = "http://www.w3.org/2004/02/skos/core#"
LA = "https://linked.art/ns/terms/"
NS = "https://saree-provenance.example/ns#"

#: The link kinds the bundled graph holds; Getty TGN has none yet (no identifier found in a source).
KINDS = [
    ("Wikidata", "exact"),
    ("Wikidata", "close"),
    ("Getty AAT", "exact"),
    ("Getty AAT", "close"),
]

#: Each state's Wikidata id as the countries-states-cities states table gives it (src:CSCStates).
STATES = {
    "TamilNadu": "Q1445",
    "Kerala": "Q1186",
    "Karnataka": "Q1185",
    "AndhraPradesh": "Q1159",
    "Telangana": "Q677037",
    "UttarPradesh": "Q1498",
    "MadhyaPradesh": "Q1188",
    "Rajasthan": "Q1437",
    "Gujarat": "Q1061",
    "Maharashtra": "Q1191",
    "WestBengal": "Q1356",
    "Odisha": "Q22048",
    "Assam": "Q1164",
}


@pytest.fixture(scope="module")
def kg() -> TextileGraph:
    return TextileGraph.load()


def _of_kind(kg: TextileGraph, kind: tuple[str, str]) -> list[tuple[str, VocabularyLink]]:
    return [
        (term, k)
        for term, links in sorted(kg.all_links().items())
        for k in links
        if (k.vocabulary, k.match) == kind
    ]


def _tradition_showing(kg: TextileGraph, term: str) -> str:
    """A tradition whose card names `term` (as itself, a place, a fibre or an attribute)."""
    for t in kg.traditions():
        card = kg.card(t)
        named = {card.id} | {r.id for r in card.region_chain} | {f.id for f in card.fibres}
        if term in named | {a.term for a in card.attributes}:
            return t
    raise AssertionError(f"no tradition card shows {term}")


# --------------------------------------------------------------------------- what is linked


def test_every_state_links_to_the_wikidata_id_read_in_the_states_table(kg: TextileGraph) -> None:
    states = {r for r in kg.all_links() if r in STATES}
    assert states == set(STATES)  # every state of the graph is linked
    for state, qid in STATES.items():
        (link,) = kg.links_of(state)
        assert (link.vocabulary, link.identifier, link.match) == ("Wikidata", qid, "exact")
        assert link.label == kg.label(state)
        assert link.sources == ("CSCStates",)
    source = kg.source("CSCStates")
    assert source is not None and source.traceable and not source.project_note
    assert source.url and "00ac197722d294677892da062b09a8b65ac78d3c" in source.url
    assert all(qid in (source.note or "") for qid in STATES.values())


def test_the_states_table_backs_the_states_only(kg: TextileGraph) -> None:
    """The same database's cities table gives one id to unrelated towns (README, "Searched for and
    not found"), so no town or district may rest on that repository."""
    cited = {t for t, links in kg.all_links().items() for k in links if "CSCStates" in k.sources}
    assert cited == set(STATES)


#: Each tradition's Wikidata item as an Aestheticpedia record names it beside its Wikipedia article
#: (src:AestheticpediaWikidata): (item, the article's title, match).
TRADITIONS = {
    "Kanchipuram": ("Q6361073", "Kanchipuram silk sari", "exact"),
    "PochampallyIkat": ("Q7206316", "Pochampally sari", "exact"),
    "Ilkal": ("Q5998507", "Ilkal sari", "exact"),
    "MysoreSilk": ("Q6948726", "Mysore silk", "exact"),
    "Molakalmuru": ("Q6895650", "Molakalmuru sari", "exact"),
    "KovaiKora": ("Q16905584", "Kovai Cora cotton", "exact"),
    "MaduraiSungudi": ("Q24895539", "Madurai Sungudi", "exact"),
    "Venkatagiri": ("Q7920067", "Venkatagiri sari", "exact"),
    "UppadaJamdani": ("Q7898422", "Uppada Jamdani sari", "exact"),
    "Mangalagiri": ("Q22281253", "Mangalagiri sarees and fabrics", "exact"),
    "Sambalpuri": ("Q7409001", "Sambalpuri sari", "exact"),
    "Bomkai": ("Q7560934", "Bomkai sari", "exact"),
    "Baluchari": ("Q2765981", "Baluchari sari", "exact"),
    "Banarasi": ("Q2723230", "Banarasi sari", "exact"),
    "Chanderi": ("Q5071016", "Chanderi sari", "exact"),
    "Maheshwari": ("Q137673438", "Maheshwari saree", "exact"),
    "KotaDoria": ("Q6433794", "Kota Doria", "exact"),
    "Paithani": ("Q7125238", "Paithani", "exact"),
    "MugaSilk": ("Q22304608", "Muga silk", "close"),  # the item is the silk itself
    "MugaSilkFibre": ("Q22304608", "Muga silk", "exact"),
}


@pytest.mark.parametrize("term", sorted(TRADITIONS))
def test_traditions_link_to_the_wikidata_item_a_record_names_beside_their_article(
    kg: TextileGraph, term: str
) -> None:
    qid, label, match = TRADITIONS[term]
    (link,) = [k for k in kg.links_of(term) if k.vocabulary == "Wikidata"]
    assert (link.identifier, link.match, link.label) == (qid, match, label)
    assert link.sources == ("AestheticpediaWikidata",)
    source = kg.source("AestheticpediaWikidata")
    assert source is not None and source.traceable and not source.project_note
    assert source.url and "2c631101c6b2f119d6129745f02e1c5c5ad3f567" in source.url
    # the file's row: the article, then the item (not the prefix of a longer id)
    assert re.search(rf"{re.escape(label)}[^;]*?, {qid}(?!\d)", source.note or ""), (term, qid)


@pytest.mark.parametrize(
    ("term", "qid", "match", "label"),
    [
        ("Silk", "Q37681", "exact", "silk"),
        ("Cotton", "Q11457", "exact", "cotton"),
        ("Ikat", "Q140101", "exact", "ikat"),
        ("ExtraWeft", "Q55405126", "exact", "supplementary weft"),
        ("ZariBrocade", "Q649022", "close", "brocade"),
        ("TapestryWeave", "Q184296", "close", "tapestry"),
        ("PlainWeave", "Q1153946", "exact", "plain weave"),
        ("ArtSilk", "Q910194", "close", "rayon"),
    ],
)
def test_fibres_and_techniques_link_to_the_wikidata_items_silknow_matched(
    kg: TextileGraph, term: str, qid: str, match: str, label: str
) -> None:
    (link,) = [k for k in kg.links_of(term) if k.vocabulary == "Wikidata"]
    assert (link.identifier, link.match, link.label) == (qid, match, label)
    assert link.sources == ("SilknowWikidata",)
    source = kg.source("SilknowWikidata")
    assert source is not None and source.url and "silknow/thesaurus" in source.url
    assert f"{qid} {label}" in (source.note or "")


@pytest.mark.parametrize(
    ("term", "aat", "label", "silknow_term"),
    [
        ("Ikat", "300249861", "ikat", "term 287 (ikat)"),
        ("ArtSilk", "300014059", "rayon", "term 529 (rayon"),
        ("Flower", "300010135", "floral motif", "term 743 (floral motif"),
    ],
)
def test_aat_entries_read_in_silknows_skos_file_cite_it(
    kg: TextileGraph, term: str, aat: str, label: str, silknow_term: str
) -> None:
    """Each AAT entry the SILKNOW SKOS export matches to one of its terms: cited to that file at
    a pinned commit, whose note names the statement (the id beside the term it matches)."""
    (link,) = [k for k in kg.links_of(term) if k.identifier == aat]
    assert (link.vocabulary, link.match, link.label) == ("Getty AAT", "close", label)
    assert link.sources == ("SilknowThesaurus",)
    assert link.url == f"http://vocab.getty.edu/page/aat/{aat}"
    source = kg.source("SilknowThesaurus")
    assert source is not None and source.traceable and not source.project_note
    assert source.url and "1caf08dc89fbc19e297e3215a76060f149ea645d/thesaurus.ttl" in source.url
    assert f"aat:{aat} skos:" in (source.note or "") and silknow_term in (source.note or "")


def test_the_graph_holds_each_link_kind_and_no_tgn_yet(kg: TextileGraph) -> None:
    held = {(k.vocabulary, k.match) for links in kg.all_links().values() for k in links}
    assert held == set(KINDS)


# -------------------------------------------------------------- where the curator sees them


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k[0]}-{k[1]}")
def test_the_knowledge_browser_opens_every_link(
    kg: TextileGraph, kind: tuple[str, str], qtbot: Any
) -> None:
    pytest.importorskip("PySide6.QtCore")
    from saree_app.gui.knowledge_page import KnowledgePage

    page = KnowledgePage()
    qtbot.addWidget(page)
    page.set_graph(kg, label=kg.label)
    links = _of_kind(kg, kind)
    assert links
    for term, link in links:
        assert page.show_tradition(_tradition_showing(kg, term))
        html, text = page.card.toHtml(), page.card.toPlainText()
        assert f'href="{link.url}"' in html, (term, link.identifier)
        shown = f"{link.vocabulary} {link.identifier}"
        # On the term's line the same entries come first and the close ones after "close to".
        line = next(x for x in text.splitlines() if f"{kg.label(term)}: " in x and shown in x)
        close = line.find("close to ")
        assert (0 <= close < line.index(shown)) == (link.match == "close"), (term, line)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k[0]}-{k[1]}")
def test_kg_show_prints_every_link(
    kg: TextileGraph, kind: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    for term, link in _of_kind(kg, kind):
        assert main(["kg", "show", _tradition_showing(kg, term)]) == 0
        out = capsys.readouterr().out
        how = "same as" if link.match == "exact" else "close to"
        line = f"{kg.label(term)}: {how} {link.vocabulary} {link.identifier} ({link.label})"
        assert f"{line} <{link.url}>" in out, (term, link.identifier)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k[0]}-{k[1]}")
def test_the_graph_json_ld_export_carries_every_link_with_its_name_and_source(
    kg: TextileGraph, kind: tuple[str, str]
) -> None:
    import rdflib

    g = rdflib.Graph()
    g.parse(data=kg.serialize("jsonld"), format="json-ld")
    pred = rdflib.URIRef(SKOS + ("exactMatch" if kind[1] == "exact" else "closeMatch"))
    for term, link in _of_kind(kg, kind):
        entry = rdflib.URIRef(link.iri)
        assert (rdflib.URIRef(NS + term), pred, entry) in g, (term, link.identifier)
        assert str(g.value(entry, rdflib.RDFS.label)) == link.label
        assert g.value(entry, rdflib.URIRef("http://purl.org/dc/terms/source")) is not None


def test_the_linked_art_export_makes_every_linked_place_an_equivalent(
    kg: TextileGraph, tmp_path: Path
) -> None:
    """Places are what the Linked Art export of a saree carries; every place link reaches it."""
    import numpy as np

    from saree_app.collection.catalog import Catalog, NewPhoto
    from saree_app.collection.export import export

    regions = {r.id for t in kg.traditions() for r in kg.card(t).region_chain}
    places = [(t, k) for kind in KINDS for t, k in _of_kind(kg, kind) if t in regions]
    assert {t for t, _ in places} >= set(STATES)
    for n, (term, link) in enumerate(places):
        tradition = _tradition_showing(kg, term)
        folder = tmp_path / str(n)
        folder.mkdir()
        with Catalog(folder / "c.saree") as cat:
            cat.record(
                NewPhoto(str(folder / "p.jpg"), f"{n + 1:064x}", 100, 40, 30, None, None),
                "0" * 64,
                {"states": [], "cultural_regions": []},
                top_tradition=tradition,
                top_probability=0.9,
                uncertain=False,
                embedding=np.ones(4, np.float32),
                part_embeddings=None,
            )
            doc = json.loads(export(cat, "jsonld", graph=kg))
        found = json.dumps(doc)
        if link.match == "exact":  # a Linked Art equivalent, named
            assert f'"id": "{link.iri}"' in found, (term, link.identifier)
            assert f"{link.label} ({link.vocabulary} {link.identifier})" in found
        else:  # a skos:closeMatch
            assert f'"{link.iri}"' in found, (term, link.identifier)
