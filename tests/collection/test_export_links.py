"""JSON-LD export links places and techniques to shared vocabularies a curator can open."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from saree_app.collection.catalog import Catalog, NewPhoto
from saree_app.collection.export import export
from saree_app.knowledge.graph import TextileGraph

LA = "https://linked.art/ns/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
NS = "https://saree-provenance.example/ns#"


def _one_photo(tmp_path: Path, tradition: str) -> Catalog:
    cat = Catalog(tmp_path / "c.saree")
    cat.record(
        NewPhoto(str(tmp_path / "p.jpg"), f"{7:064x}", 100, 40, 30, None, None),
        "0" * 64,
        {"states": [], "cultural_regions": []},
        top_tradition=tradition,
        top_probability=0.9,
        uncertain=False,
        embedding=np.ones(4, np.float32),
        part_embeddings=None,
    )
    return cat


def test_places_link_to_wikidata_as_linked_art_equivalents(tmp_path: Path) -> None:
    import rdflib

    graph = TextileGraph.load()
    with _one_photo(tmp_path, "Kanchipuram") as cat:
        text = export(cat, "jsonld", graph=graph)
    g = rdflib.Graph()
    g.parse(data=text, format="json-ld")
    state = rdflib.URIRef(NS + "TamilNadu")
    wikidata = rdflib.URIRef("http://www.wikidata.org/entity/Q1445")
    assert (state, rdflib.URIRef(LA + "equivalent"), wikidata) in g
    label = g.value(wikidata, rdflib.RDFS.label)
    assert label is not None and "Q1445" in str(label)
    # an unlinked place gets no equivalent, and no made-up one
    town = rdflib.URIRef(NS + "KanchipuramTown")
    assert g.value(town, rdflib.URIRef(LA + "equivalent")) is None


def test_without_links_the_export_is_unchanged(tmp_path: Path) -> None:
    class Plain:
        def label(self, term: str) -> str:
            return term

        def region_chain(self, tradition: str) -> list[str]:
            return ["KanchipuramTown", "TamilNadu"]

    with _one_photo(tmp_path, "Kanchipuram") as cat:
        doc = json.loads(export(cat, "jsonld", graph=Plain()))
    place = doc["@graph"][0]["produced_by"]["took_place_at"][0]
    assert "equivalent" not in place and "skos:closeMatch" not in place
