"""Linked Art JSON-LD out and back in: every statement survives rdflib, every record returns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from collection_fakes import FakePredictor, make_folder

from saree_app.collection import records
from saree_app.collection.catalog import Catalog
from saree_app.collection.export import export
from saree_app.collection.importer import run_import

# Curators' own names that are no IRI as they stand.
AWKWARD = [
    "Not a saree",
    "Sarees/odd ones",
    "ಇಳಕಲ್ ಸೀರೆ (Ilkal, Kannada)",
    "50% silk #2?",
    'quote " and <angle>',
]


def _graph() -> Any:
    from saree_app.knowledge.graph import TextileGraph

    return TextileGraph.load()


def _collection(tmp_path: Path) -> Path:
    """A catalogue whose photos carry every kind of record."""
    make_folder(tmp_path / "photos", 9)
    path = tmp_path / "c.saree"
    with Catalog(path) as cat:
        run_import(cat, tmp_path / "photos", FakePredictor())
        ids = sorted(p.id for p in cat.photos())
        cat.set_label(ids[0], tradition="Kanchipuram", certainty="confirmed", note="gift, 1952")
        for pid, name in zip(ids[1:], AWKWARD, strict=False):
            cat.set_label(pid, tradition=name, certainty="probable", note=f"about {name}\nline 2")
        cat.set_label(ids[6], certainty="possible")  # a certainty without a tradition
        cat.set_label(ids[7], note="only a note: ✓ ünïcode")
        cat.add_tags(ids[0], ["wedding", "gift of A. Collector"])
        cat.add_tags(ids[7], ["needs repair"])
    return path


def _with_object(path: Path) -> str:
    """Make three of the photos one object with a record; its accession number."""
    from saree_app.collection import objects

    with Catalog(path) as cat:
        ids = sorted(p.id for p in cat.photos())
        objects.create_object(
            cat,
            "T.1952/17 ü",
            {"title": "Sari with parrots", "source": "Gift of A. Collector", "made_from": "1920"},
            [ids[0], ids[3], ids[5]],
            ["whole", "border", "pallu"],
        )
    return "T.1952/17 ü"


def _objects(path: Path) -> dict[str, Any]:
    """Each object's record and its photos (by content) in their roles."""
    from saree_app.collection import objects

    with Catalog(path) as cat:
        sha = {p.id: p.sha256 for p in cat.photos()}
        return {
            o.accession: (
                {k: v for k, v in o.fields.items() if v},
                sorted((sha[m.photo_id], m.role) for m in o.photos),
            )
            for o in objects.all_objects(cat)
        }


def _state(path: Path) -> dict[str, Any]:
    """What a curator recorded, by photo content: label fields and tags."""
    with Catalog(path) as cat:
        out = {}
        for p in cat.photos():
            lab = cat.label(p.id)
            out[p.sha256] = (
                (lab.tradition, lab.certainty, lab.note) if lab else (None, None, None),
                sorted(cat.tags(p.id)),
            )
        return out


def expected_triples(doc: dict[str, Any]) -> int:
    """The statements a JSON-LD document written with our context holds, counted from the
    JSON itself: one per value of every key of every node (a named node repeated in several
    places counts once per distinct statement; blank nodes are their own)."""
    context = doc["@context"]
    seen: set[tuple[str, str, str]] = set()

    def node(obj: dict[str, Any], where: str) -> str:
        me = obj.get("id") or f"_:{where}"
        for key, value in obj.items():
            if key == "id":
                continue
            values = value if isinstance(value, list) else [value]
            for i, v in enumerate(values):
                if isinstance(v, dict):
                    target = node(v, f"{where}/{key}[{i}]")
                elif key == "type":
                    target = f"type:{v}"
                else:
                    spec = context.get(key)
                    is_id = isinstance(spec, dict) and spec.get("@type") == "@id"
                    target = f"iri:{v}" if is_id else f"lit:{json.dumps(v)}"
                seen.add((me, key, target))
        return me

    for i, obj in enumerate(doc["@graph"]):
        node(obj, f"g{i}")
    return len(seen)


def _parse(text: str) -> Any:
    import rdflib

    g = rdflib.Graph()
    g.parse(data=text, format="json-ld")
    return g


@pytest.mark.parametrize("with_graph", [False, True])
def test_rdflib_keeps_every_statement_and_every_iri_is_valid(
    tmp_path: Path, with_graph: bool
) -> None:
    import rdflib

    path = _collection(tmp_path)
    with Catalog(path) as cat:
        text = export(cat, "jsonld", graph=_graph() if with_graph else None)
        n_photos = cat.count()
    doc = json.loads(text)
    g = _parse(text)
    assert len(g) == expected_triples(doc)  # nothing dropped, nothing merged by mistake
    crm = rdflib.Namespace("http://www.cidoc-crm.org/cidoc-crm/")
    assert len(set(g.subjects(rdflib.RDF.type, crm["E22_Human-Made_Object"]))) == n_photos
    for term in g.all_nodes():
        if isinstance(term, rdflib.URIRef):
            iri = str(term)
            assert not any(c in iri for c in ' <>"{}|\\^`'), iri
            assert iri.isascii(), iri
    labels = {str(o) for o in g.objects(None, rdflib.RDFS.label)}
    for name in AWKWARD:
        assert name in labels  # the display name is the label; the IRI is encoded
    # The same statements come out of a second export: ids are stable.
    with Catalog(path) as cat:
        again = export(cat, "jsonld", graph=_graph() if with_graph else None)
    from rdflib.compare import isomorphic

    assert isomorphic(g, _parse(again))


def test_a_broken_iri_would_be_caught_by_the_count(tmp_path: Path) -> None:
    path = _collection(tmp_path)
    with Catalog(path) as cat:
        doc = json.loads(export(cat, "jsonld"))
    doc["@graph"][0]["produced_by"]["technique"][0]["id"] = "https://x.example/ns#Not a saree"
    doc["@graph"][1]["undeclared_key"] = "dropped by JSON-LD"
    text = json.dumps(doc)
    g = _parse(text)  # rdflib drops both, silently
    assert len(g) < expected_triples(doc)


def test_export_then_import_into_a_fresh_catalogue_gives_the_same_records(
    tmp_path: Path,
) -> None:
    path = _collection(tmp_path)
    out = tmp_path / "export.jsonld"
    with Catalog(path) as cat:
        export(cat, "jsonld", out, graph=_graph())
    fresh = tmp_path / "fresh.saree"
    with Catalog(fresh) as cat:
        job = records.import_records(cat, out, FakePredictor())
        last = list(job.steps())[-1]
    assert last.finished and last.added == 9 and not last.skipped
    assert job.applied == 9 and not job.problems
    before, after = _state(path), _state(fresh)
    assert after == before
    assert sum(1 for (lab, _tags) in after.values() if lab[0] in AWKWARD) == len(AWKWARD)
    # Again: nothing added twice, no record written twice.
    with Catalog(fresh) as cat:
        history = cat.run("SELECT COUNT(*) FROM label_history")[0][0]
        job = records.import_records(cat, out, FakePredictor())
        last = list(job.steps())[-1]
        assert (last.added, last.already) == (0, 9)
        assert cat.run("SELECT COUNT(*) FROM label_history")[0][0] == history
    assert _state(fresh) == before


def test_a_moved_collection_is_found_beside_its_export_and_a_changed_photo_is_reported(
    tmp_path: Path,
) -> None:
    path = _collection(tmp_path)
    moved = tmp_path / "moved"
    moved.mkdir()
    with Catalog(path) as cat:
        export(cat, "jsonld", moved / "export.jsonld")
        first = min(cat.photos(), key=lambda p: p.id)
    for f in (tmp_path / "photos").rglob("*.jpg"):
        shutil.copy(f, moved / f.name)
    shutil.rmtree(tmp_path / "photos")
    changed = moved / Path(first.path).name
    changed.write_bytes(changed.read_bytes() + b"edited")
    fresh = tmp_path / "fresh.saree"
    with Catalog(fresh) as cat:
        job = records.import_records(cat, moved / "export.jsonld", FakePredictor())
        last = list(job.steps())[-1]
    assert last.added == 8 and job.applied == 8
    assert len(job.problems) == 1 and "content has changed" in job.problems[0].reason
    before, after = _state(path), _state(fresh)
    assert first.sha256 not in after
    assert after == {k: v for k, v in before.items() if k != first.sha256}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "not JSON"),
        ('{"@context": {"x": 1}, "@graph": [{"x": 2}]}', "no Linked Art objects"),
        ('{"@context": 7, "@graph": []}', "cannot be read as JSON-LD"),
    ],
)
def test_bad_record_files_say_why_and_change_nothing(
    tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.jsonld"
    bad.write_text(content)
    with Catalog(tmp_path / "c.saree") as cat:
        with pytest.raises(records.RecordsError, match=message) as caught:
            list(records.import_records(cat, bad, FakePredictor()).steps())
        assert "\n" not in str(caught.value)
        assert cat.count() == 0


def test_cli_imports_an_export(
    tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from saree_app.cli import main

    path = _collection(tmp_path)
    out = tmp_path / "export.jsonld"
    assert main(["export", "--catalog", str(path), "--format", "jsonld", "--out", str(out)]) == 0
    fresh = tmp_path / "fresh.saree"
    argv = ["import", str(out), "--catalog", str(fresh), "--model", str(tiny_model), "--quiet"]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "9 added" in said and "9 of 9 records given back" in said
    assert _state(fresh) == _state(path)
    (tmp_path / "empty.jsonld").write_text("[]")
    assert main([*argv[:1], str(tmp_path / "empty.jsonld"), *argv[2:]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Linked Art objects" in err[0]


def test_an_object_is_one_linked_art_object_with_its_photos_and_comes_back(
    tmp_path: Path,
) -> None:
    import rdflib

    from saree_app.collection.export import object_iri

    path = _collection(tmp_path)
    accession = _with_object(path)
    out = tmp_path / "export.jsonld"
    with Catalog(path) as cat:
        text = export(cat, "jsonld", out, graph=_graph())
    doc = json.loads(text)
    assert len(doc["@graph"]) == 9 - 3 + 1
    (node,) = [n for n in doc["@graph"] if n["id"] == object_iri(accession)]
    assert node["_label"] == "Sari with parrots"
    assert [i["_label"] for i in node["representation"]] == [
        "photograph: whole saree",
        "photograph: border close-up",
        "photograph: pallu close-up",
    ]
    # The first photo's curator label (Kanchipuram, confirmed) is the object's attribution.
    assignment = node["produced_by"]["assigned_by"][0]
    assert assignment["assigned"].endswith("#Kanchipuram")
    g = _parse(text)
    assert len(g) == expected_triples(doc)
    crm = rdflib.Namespace("http://www.cidoc-crm.org/cidoc-crm/")
    images = list(g.objects(rdflib.URIRef(object_iri(accession)), crm.P138i_has_representation))
    assert len(images) == 3
    fresh = tmp_path / "fresh.saree"
    with Catalog(fresh) as cat:
        job = records.import_records(cat, out, FakePredictor())
        last = list(job.steps())[-1]
    assert last.added == 9 and job.applied == 9 and job.objects_made == 1
    assert not job.problems
    assert _state(fresh) == _state(path)
    assert _objects(fresh) == _objects(path)
    # Again: the object is there; nothing is made twice.
    with Catalog(fresh) as cat:
        job = records.import_records(cat, out, FakePredictor())
        list(job.steps())
    assert job.objects_made == 0 and _objects(fresh) == _objects(path)
