"""An object's record in the exports as a museum reads it: the place and date made in the
Linked Art production, the acquisition and credit line as Linked Art has them, the model's
guess kept as the model's, and a word when the record and the model's likely state disagree."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from saree_app.collection import objects
from saree_app.collection.catalog import Catalog, NewPhoto
from saree_app.collection.export import export, object_iri
from tests.collection.test_objects import answer

SHA = "c" * 64
AAT = "http://vocab.getty.edu/aat/"
NS = "https://saree-provenance.example/ns#"
RECORD = {
    "title": "Kota doria sari",
    "source": "Gift of Mrs Rao",
    "date_acquired": "1987-05",
    "made_from": "1980",
    "made_to": "1985",
    "place_acquired": "Kota",
    "place_made": "Kaithoon, Rajasthan",
    "fibre": "cotton",
}


BENGAL = {"Jamdani": 0.9, "KotaDoria": 0.05, "Kanchipuram": 0.05}


def _photo(cat: Catalog, i: int, visual: dict[str, float], *, uncertain: bool = False) -> int:
    result = answer(visual)
    return cat.record(
        NewPhoto(f"/photos/{i}.jpg", f"{i:064x}", 100 + i, 40, 30, None, None),
        SHA,
        result,
        top_tradition=str(result["tradition"]),
        top_probability=float(result["probability"]),
        uncertain=uncertain,
        embedding=np.ones(4, np.float32),
        part_embeddings=None,
    )


@pytest.fixture(scope="module")
def graph() -> Any:
    from saree_app.knowledge.graph import TextileGraph

    return TextileGraph.load()


def _node(cat: Catalog, graph: Any, accession: str) -> dict[str, Any]:
    doc = json.loads(export(cat, "jsonld", graph=graph))
    (node,) = [n for n in doc["@graph"] if n["id"] == object_iri(accession)]
    return node


def test_the_record_is_the_production_and_the_acquisition(tmp_path: Path, graph: Any) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        ids = [_photo(cat, i, BENGAL, uncertain=True) for i in range(2)]
        objects.create_object(cat, "T.1987.12", RECORD, ids, ["whole", "border"])
        node = _node(cat, graph, "T.1987.12")
    made = node["produced_by"]
    # The place made is the production's place, as the curator wrote it, matched to the graph.
    (place,) = made["took_place_at"]
    assert place["_label"] == "Kaithoon, Rajasthan"
    assert place["skos:closeMatch"] == [NS + "Rajasthan"]
    span = made["timespan"]
    assert span["begin_of_the_begin"] == "1980-01-01T00:00:00Z"
    assert span["end_of_the_end"] == "1985-12-31T23:59:59Z"
    assert span["identified_by"][0]["content"] == "1980 to 1985"
    # Who says what: the record gives the place and date, the model only its (flagged) guess.
    by = {a["_label"]: a for a in made["assigned_by"]}
    model = by["attribution by the model"]
    assert model["assigned_property"] == "crm:P32_used_general_technique"
    assert model["carried_out_by"][0]["_label"] == "saree-app model"
    assert model["classified_as"][0]["_label"] == "uncertain"
    record = [a for a in made["assigned_by"] if a is not model]
    assert {a["assigned_property"] for a in record} == {
        "crm:P7_took_place_at",
        "crm:P4_has_time-span",
    }
    assert all(a["carried_out_by"][0]["_label"] == "curator" for a in record)
    assert "Jamdani" not in made["_label"]  # the production is not named after the guess
    # The acquisition, as Linked Art lists it on the object.
    (acq,) = node["changed_ownership_through"]
    assert acq["type"] == "Acquisition" and acq["took_place_at"][0]["_label"] == "Kota"
    assert acq["timespan"]["begin_of_the_begin"] == "1987-05-01T00:00:00Z"
    assert acq["timespan"]["end_of_the_end"] == "1987-05-31T23:59:59Z"
    (said,) = acq["referred_to_by"]
    assert said["content"] == "Gift of Mrs Rao; acquired in Kota, 1987-05"
    assert said["classified_as"][0]["id"] == f"{AAT}300444174"
    credit = [s for s in node["referred_to_by"] if s["classified_as"][0]["id"] == f"{AAT}300026687"]
    assert [c["content"] for c in credit] == ["Gift of Mrs Rao"]
    # The record stays readable back, as before.
    assert node["saree:place_made"] == "Kaithoon, Rajasthan" and node["saree:source"]


def test_the_record_reads_as_rdf_with_typed_dates(tmp_path: Path, graph: Any) -> None:
    import rdflib

    with Catalog(tmp_path / "c.saree") as cat:
        ids = [_photo(cat, i, BENGAL) for i in range(2)]
        objects.create_object(cat, "T.2", RECORD, ids)
        text = export(cat, "jsonld", graph=graph)
    g = rdflib.Graph()
    g.parse(data=text, format="json-ld")
    crm = rdflib.Namespace("http://www.cidoc-crm.org/cidoc-crm/")
    obj = rdflib.URIRef(object_iri("T.2"))
    production = g.value(obj, crm.P108i_was_produced_by)
    span = g.value(production, crm["P4_has_time-span"])
    begin = g.value(span, crm.P82a_begin_of_the_begin)
    assert begin is not None and begin.datatype == rdflib.XSD.dateTime
    acquisition = g.value(obj, crm.P24i_changed_ownership_through)
    assert (acquisition, rdflib.RDF.type, crm.E8_Acquisition) in g
    # The model's place for its guess gives way to the record's: one place of making.
    assert len(list(g.objects(production, crm.P7_took_place_at))) == 1


def test_a_curators_tradition_keeps_its_attribution_beside_the_record(
    tmp_path: Path, graph: Any
) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        ids = [_photo(cat, i, BENGAL) for i in range(2)]
        objects.create_object(cat, "T.3", {"made_from": "1950"}, ids)
        objects.confirm_object(cat, "T.3", "KotaDoria")
        node = _node(cat, graph, "T.3")
    made = node["produced_by"]
    assert made["technique"][0]["id"] == NS + "KotaDoria"
    assert made["timespan"]["begin_of_the_begin"] == "1950-01-01T00:00:00Z"
    assert "end_of_the_end" not in made["timespan"]  # "after 1950": no end claimed
    assert made["timespan"]["identified_by"][0]["content"] == "after 1950"
    labels = [a["_label"] for a in made["assigned_by"]]
    assert labels[0] == "attribution by the curator"
    assert "changed_ownership_through" not in node  # nothing recorded about it


def test_the_answer_says_when_the_record_and_the_model_disagree(tmp_path: Path, graph: Any) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        ids = [_photo(cat, i, BENGAL) for i in range(4)]
        objects.create_object(cat, "A", {"place_made": "Kaithoon, Rajasthan"}, ids[:1])
        objects.create_object(cat, "B", {"place_made": "Phulia, West Bengal"}, ids[1:2])
        objects.create_object(cat, "C", {"place_made": "East India"}, ids[2:3])
        objects.create_object(cat, "D", {"place_made": "Atlantis"}, ids[3:])
        plain = objects.fuse_object(cat, "A")  # no graph: nothing to compare
        ans = objects.fuse_object(cat, "A", graph=graph)
        rows = {r["accession"]: r for r in csv.DictReader(io.StringIO(objects.to_csv(cat, graph)))}
        data = {r["accession"]: r for r in json.loads(objects.to_json(cat, graph))}
        node = _node(cat, graph, "A")
    assert ans.states[0][0] == "West Bengal"
    assert ans.disagrees == (
        "the record says it was made in Kaithoon, Rajasthan (Rajasthan); "
        "the model's likely state is West Bengal"
    )
    assert plain.disagrees is None
    assert ans.to_dict()["record_disagrees"] == ans.disagrees
    # The model's figures are its own, with or without the word.
    with _without_place_made(tmp_path) as free:
        same = objects.fuse_object(free, "A", graph=graph)
    assert (same.states, same.ranking) == (ans.states, ans.ranking)
    assert rows["A"]["record_disagrees"] == ans.disagrees
    assert rows["A"]["likely_state"] == "West Bengal"
    header = list(objects.EXPORT_COLUMNS)
    assert header.index("record_disagrees") == header.index("likely_state") + 1
    assert data["A"]["record_disagrees"] == ans.disagrees
    # Made in West Bengal, in East India (which holds West Bengal), or in a place the graph
    # does not know: nothing to say where they agree or nothing can be compared.
    assert [rows[a]["record_disagrees"] for a in "BCD"] == ["", "", ""]
    assert data["B"]["record_disagrees"] is None
    model = next(a for a in node["produced_by"]["assigned_by"] if "model" in a["_label"])
    assert model["referred_to_by"][0]["content"] == ans.disagrees


def _without_place_made(tmp_path: Path) -> Catalog:
    """The same photos and object without a place made (the figures to compare against)."""
    cat = Catalog(tmp_path / "free.saree")
    ids = [_photo(cat, i, BENGAL) for i in range(1)]
    objects.create_object(cat, "A", {}, ids)
    return cat
