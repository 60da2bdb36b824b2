"""CSV and JSON-LD export (Dublin Core, Linked Art / CIDOC-CRM) and reading labels back."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from saree_app.collection import export as export_mod
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto
from saree_app.collection.export import export, import_labels, write_atomic
from saree_app.collection.traditions import CuratorTradition, add_tradition

SHA = "d" * 64
CRM = "http://www.cidoc-crm.org/cidoc-crm/"
NS = "https://saree-provenance.example/ns#"


class FakeGraph:
    """Enough of TextileGraph for export: labels and the region chain."""

    labels: ClassVar[dict[str, str]] = {
        "Kanchipuram": "Kanchipuram silk",
        "TamilNadu": "Tamil Nadu",
        "SouthIndia": "South India",
        "Kanchipuram_town": "Kanchipuram (town)",
    }

    def label(self, term: str) -> str:
        return self.labels[term]

    def region_chain(self, tradition: str) -> list[str]:
        if tradition != "Kanchipuram":
            raise KeyError(tradition)
        return ["Kanchipuram_town", "TamilNadu", "SouthIndia"]

    def state_of(self, tradition: str) -> str | None:
        return self.region_chain(tradition)[1]

    def cultural_region_of(self, tradition: str) -> str | None:
        return self.region_chain(tradition)[2]


def _catalogue(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "c.saree")
    for i, top in enumerate(["Kanchipuram", "Banarasi", "Paithani"]):
        cat.record(
            NewPhoto(
                str(tmp_path / f"p{i}.jpg"),
                f"{i:064x}",
                100 + i,
                40,
                30,
                "2019-03-04T10:11:12" if i == 0 else None,
                "Canon EOS 5D" if i == 0 else None,
            ),
            SHA,
            {
                "states": [{"region": "TamilNadu", "label": "Tamil Nadu", "probability": 0.7}],
                "cultural_regions": [],
            },
            top_tradition=top,
            top_probability=0.61234,
            uncertain=i == 2,
            embedding=np.ones(4, np.float32),
            part_embeddings=None,
        )
    cat.set_label(2, tradition="Kanchipuram", certainty="probable", note="=SUM(A1) gift, 1962")
    cat.add_tags(2, ["wedding", "gift"])
    return cat


def test_csv_has_every_photo_and_the_curators_word(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        text = export(cat, "csv")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in table] == ["1", "2", "3"]
    assert table[0]["exif_date"] == "2019-03-04T10:11:12"
    assert table[0]["camera"] == "Canon EOS 5D"
    assert table[0]["model_tradition"] == "Kanchipuram"
    # A curator reads the names the app shows; the ids stay for reading the file back.
    assert table[0]["likely_state"] == "Tamil Nadu"
    assert table[0]["model_answer"] == "Kanchipuram"
    assert table[0]["model_probability"] == "0.6123"
    assert table[0]["model_confidence"] == "61%"  # as the photo page and `saree classify` say
    assert table[1]["model_answer"] == "Banarasi"
    second = table[1]
    assert (second["model_tradition"], second["curator_tradition"]) == ("Banarasi", "Kanchipuram")
    assert second["tradition"] == "Kanchipuram"
    assert second["certainty"] == "probable"
    assert second["note"] == "'=SUM(A1) gift, 1962"  # never a live formula in a spreadsheet
    assert second["tags"] == "gift; wedding"
    assert table[2]["uncertain"] == "yes"


def _graph_of(text: str) -> Any:
    import rdflib

    g = rdflib.Graph()
    g.parse(data=text, format="json-ld")
    return g


def test_jsonld_is_linked_art_with_dublin_core(tmp_path: Path) -> None:
    import rdflib
    from rdflib.namespace import DCTERMS, RDF, RDFS

    with _catalogue(tmp_path) as cat:
        text = export(cat, "jsonld", graph=FakeGraph())
    doc = json.loads(text)
    assert len(doc["@graph"]) == 3
    g = _graph_of(text)
    crm = rdflib.Namespace(CRM)
    objects = set(g.subjects(RDF.type, crm["E22_Human-Made_Object"]))
    assert len(objects) == 3
    first = rdflib.URIRef(f"urn:sha256:{0:064x}")
    textiles = rdflib.URIRef("http://vocab.getty.edu/aat/300014063")
    assert (first, crm.P2_has_type, textiles) in g
    production = g.value(first, crm.P108i_was_produced_by)
    assert (production, RDF.type, crm.E12_Production) in g
    assert (production, crm.P32_used_general_technique, rdflib.URIRef(NS + "Kanchipuram")) in g
    place = g.value(production, crm.P7_took_place_at)
    assert g.value(place, RDFS.label) == rdflib.Literal("Kanchipuram (town)")
    state = g.value(place, crm.P89_falls_within)
    assert g.value(state, RDFS.label) == rdflib.Literal("Tamil Nadu")
    assert g.value(first, DCTERMS.identifier) == rdflib.Literal(f"{0:064x}")
    assert g.value(first, DCTERMS.spatial) == rdflib.Literal("Kanchipuram (town)")
    # The curator's attribution is recorded as such, with its certainty.
    second = rdflib.URIRef(f"urn:sha256:{1:064x}")
    prod2 = g.value(second, crm.P108i_was_produced_by)
    assign = g.value(prod2, crm.P140i_was_attributed_by)
    assert g.value(assign, RDFS.label) == rdflib.Literal("attribution by the curator")
    kind = g.value(assign, crm.P2_has_type)
    assert g.value(kind, RDFS.label) == rdflib.Literal("probable")
    assert g.value(second, DCTERMS.description) == rdflib.Literal("=SUM(A1) gift, 1962")


def test_jsonld_without_graph_still_valid(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        g = _graph_of(export(cat, "jsonld"))
    assert len(g) > 30


def test_export_to_file_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cat.csv"
    out.write_text("old, complete file\n")
    with _catalogue(tmp_path) as cat:
        original = export_mod.os.fsync

        def boom(fd: int) -> None:
            original(fd)
            raise OSError("disk full")

        monkeypatch.setattr(export_mod.os, "fsync", boom)
        with pytest.raises(OSError, match="disk full"):
            export(cat, "csv", out)
        assert out.read_text() == "old, complete file\n"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cat.csv")] == []
        monkeypatch.setattr(export_mod.os, "fsync", original)
        export(cat, "csv", out)
        assert out.read_text().startswith('"id","accession","path","sha256"')
        with pytest.raises(CatalogError, match="unknown export format"):
            export(cat, "xml")
    with pytest.raises(CatalogError, match="does not exist"):
        write_atomic(tmp_path / "no" / "x.csv", "x")


def test_labels_round_trip_through_our_own_csv(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        text = export(cat, "csv")
    with Catalog(tmp_path / "other.saree") as other:
        for photo in Catalog(tmp_path / "c.saree").photos():
            other.record(
                NewPhoto(photo.path, photo.sha256, photo.size),
                SHA,
                {},
                top_tradition=None,
                top_probability=None,
                uncertain=False,
                embedding=None,
                part_embeddings=None,
            )
        sheet = tmp_path / "labels.csv"
        sheet.write_text(text)
        result = import_labels(other, sheet, known={"Kanchipuram", "Banarasi"})
        assert result.problems == ()
        assert result.applied == 1
        lab = other.label(2)
        assert lab is not None
        assert (lab.tradition, lab.certainty, lab.note) == (
            "Kanchipuram",
            "probable",
            "=SUM(A1) gift, 1962",
        )
        assert other.tags(2) == ["gift", "wedding"]


def test_bad_label_rows_are_reported_by_line_and_good_ones_applied(tmp_path: Path) -> None:
    sheet = tmp_path / "labels.csv"
    sheet.write_text(
        "id,sha256,tradition,certainty,note\n"
        "1,,Banarasi,confirmed,fine\n"  # line 2: good
        "x,,Banarasi,,\n"  # 3: id not a number
        "99,,Banarasi,,\n"  # 4: no such photo
        f",{2:064x},Atlantis,,\n"  # 5: unknown tradition
        "2,,Banarasi,sure,\n"  # 6: bad certainty
        ",,Banarasi,,\n"  # 7: names no photo
        "3,,new:Kotpad,,from a village fair\n"  # 8: a new tradition, fine
        "3,,Banarasi,,,extra\n"  # 9: too many cells
    )
    with _catalogue(tmp_path) as cat:
        result = import_labels(cat, sheet, known={"Kanchipuram", "Banarasi"})
        assert result.applied == 2
        lines = [line for line, _ in result.problems]
        assert lines == [3, 4, 5, 6, 7, 9]
        reasons = dict(result.problems)
        assert "not a number" in reasons[3]
        assert "no photo with id 99" in reasons[4]
        assert "new:Atlantis" in reasons[5]
        assert "certainty" in reasons[6]
        assert cat.label(1).tradition == "Banarasi"  # type: ignore[union-attr]
        assert cat.label(3).tradition == "Kotpad"  # type: ignore[union-attr]
    other = tmp_path / "other"
    other.mkdir()
    bad = tmp_path / "bad.csv"
    bad.write_text("tradition,note\nBanarasi,x\n")
    with _catalogue(other) as cat, pytest.raises(CatalogError, match="header"):
        import_labels(cat, bad)
    with _catalogue(other) as cat, pytest.raises(CatalogError, match="no such file"):
        import_labels(cat, tmp_path / "missing.csv")
    # A cell past the csv module's field limit (128 KB): a message naming the line, and
    # nothing applied from the rows before it either.
    huge = tmp_path / "huge.csv"
    huge.write_text("id,tradition,note\n1,Banarasi,short\n2,Banarasi," + "x" * 200_000 + "\n")
    with _catalogue(other) as cat:
        message = r"huge.csv: cannot be read as CSV after line 2 .*nothing was applied"
        with pytest.raises(CatalogError, match=message):
            import_labels(cat, huge, known={"Banarasi"})
        assert cat.label(1) is None


INJECTIONS = (
    "=cmd|' /C calc'!A0",
    "+SUM(1,1)",
    "-2+3",
    "@x",
    '=HYPERLINK("http://evil.example","x")',
    "\t=1+1",
    "\r=1+1",
    "gift\r=1+1",
    "\tplain after a tab",
)


def _formula_free(text: str) -> bool:
    if not text or text[0] == "'":
        return True
    return text[0] not in "=+-@\t\r\n" and text.lstrip()[:1] not in "=+-@"


class _PayloadGraph:
    """A graph that has every tradition from a state and a region named as the tradition."""

    def __contains__(self, term: object) -> bool:
        return True

    def label(self, term: str) -> str:
        return term

    def state_of(self, tradition: str) -> str:
        return tradition

    def cultural_region_of(self, tradition: str) -> str:
        return tradition


@pytest.mark.parametrize("payload", INJECTIONS)
def test_no_csv_cell_of_any_kind_starts_a_formula(tmp_path: Path, payload: str) -> None:
    """Every text column a curator, a file name, a camera or the graph can fill is guarded."""
    with Catalog(tmp_path / "c.saree") as cat:
        cat.record(
            NewPhoto(payload, "a" * 64, 10, 4, 3, payload, payload),
            SHA,
            {
                "ranking": [{"tradition": payload, "probability": 0.7}],
                "states": [{"region": payload, "probability": 0.7}],
                "cultural_regions": [{"region": payload, "probability": 0.7}],
            },
            top_tradition=payload,
            top_probability=0.5,
            uncertain=False,
            embedding=None,
            part_embeddings=None,
        )
        cat.set_label(1, tradition=payload, certainty="probable", note=payload)
        cat.add_tags(1, [payload, "zz plain"])
        # The likely region is the likely state's, which takes the graph to know.
        text = export(cat, "csv", graph=_PayloadGraph())
        table = list(csv.reader(io.StringIO(text, newline="")))
        assert len(table) == 2, "a note split the row"
        assert len(table[1]) == len(export_mod.CSV_COLUMNS)
        values = dict(zip(export_mod.CSV_COLUMNS, table[1], strict=True))
        for column, value in values.items():
            assert _formula_free(value), (column, value)
        for column in ("path", "exif_date", "camera", "model_tradition", "likely_state",
                       "likely_cultural_region", "curator_tradition", "note", "tradition",
                       "tags"):  # fmt: skip
            stored = payload.strip() if column == "tags" else payload  # tags are kept stripped
            assert values[column].startswith("'") == (stored[0] in "=+-@\t\r"), column
        # Read back, the curator's words are as they were written.
        sheet = tmp_path / "labels.csv"
        sheet.write_text(text, newline="")
        cat.set_label(1, tradition=None, certainty=None, note=None)
        result = import_labels(cat, sheet)
        assert result.problems == ()
        lab = cat.label(1)
        assert lab is not None
        assert lab.note == payload
        assert lab.tradition == payload


def test_a_killed_export_leaves_nothing_behind_once_exported_again(tmp_path: Path) -> None:
    out = tmp_path / "cat.csv"
    # A real export, killed -9 while its temporary file is written (its finally never runs).
    script = (
        "import os, sys, time\n"
        "from saree_app.collection.export import write_atomic\n"
        "os.fsync = lambda fd: time.sleep(60)\n"
        "write_atomic(sys.argv[1], 'x' * 1_000_000)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(out)])
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".cat.csv.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert len(list(tmp_path.glob(".cat.csv.*.tmp"))) == 1
    running = tmp_path / f".cat.csv.{os.getpid()}.abc.tmp"  # a write of a live process: kept
    running.write_text("in progress")
    with _catalogue(tmp_path) as cat:
        export(cat, "csv", out)
    assert sorted(p.name for p in tmp_path.glob(".cat.csv.*")) == [running.name]


def test_exports_follow_the_umask_and_keep_an_existing_files_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with _catalogue(tmp_path) as cat:
            export(cat, "csv", tmp_path / "new.csv")
            assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640
            kept = tmp_path / "kept.csv"
            kept.write_text("old")
            kept.chmod(0o604)
            export(cat, "jsonld", kept)
            assert stat.S_IMODE(kept.stat().st_mode) == 0o604
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    "tradition",
    ["Not a saree", "javascript:alert(1)", "\u202eiradnaB", "Kanchi <puram>", 'a"b'],
)
def test_jsonld_keeps_a_curators_own_tradition_as_a_safe_iri(
    tmp_path: Path, tradition: str
) -> None:
    import rdflib

    with _catalogue(tmp_path) as cat:
        cat.set_label(1, tradition=tradition)
        g = _graph_of(export(cat, "jsonld"))
    crm = rdflib.Namespace(CRM)
    techniques = {str(o) for o in g.objects(None, crm.P32_used_general_technique)}
    ours = [t for t in techniques if t.startswith(NS + "curator-tradition/")]
    assert len(ours) == 1  # not dropped by rdflib, as "Not a saree" was
    iri = ours[0]
    assert all(c.isascii() and c.isprintable() and c not in ' <>"' for c in iri)
    labels = {str(o) for o in g.objects(rdflib.URIRef(iri), rdflib.RDFS.label)}
    assert labels == {tradition}  # the text itself, as the curator wrote it


def test_jsonld_types_only_real_dates_as_date_times(tmp_path: Path) -> None:
    import rdflib
    from rdflib.namespace import DCTERMS, XSD

    with _catalogue(tmp_path) as cat:
        for i, junk in enumerate(["0000-00-00T00:00:00", "2019", "2019-13-45T10:00:00"], 10):
            cat.record(
                NewPhoto(str(tmp_path / f"j{i}.jpg"), f"{i:064x}", 1, 4, 3, junk, None),
                SHA,
                {},
                top_tradition="Banarasi",
                top_probability=0.5,
                uncertain=False,
                embedding=np.ones(4, np.float32),
                part_embeddings=None,
            )
        g = _graph_of(export(cat, "jsonld"))
    created = list(g.objects(None, DCTERMS.created))
    assert created == [rdflib.Literal("2019-03-04T10:11:12", datatype=XSD.dateTime)]
    written = {str(o) for o in g.objects(None, rdflib.URIRef(NS + "exif_date_as_written"))}
    assert written == {"0000-00-00T00:00:00", "2019", "2019-13-45T10:00:00"}


def test_csv_says_why_an_answer_is_uncertain_and_which_set_it_names(tmp_path: Path) -> None:
    """The photo page's banner and set line, in the catalogue's CSV."""
    with Catalog(tmp_path / "c.saree") as cat:
        for i, (uncertain, calibrated) in enumerate([(True, 21), (False, 0)]):
            cat.record(
                NewPhoto(str(tmp_path / f"p{i}.jpg"), f"{i:064x}", 100),
                SHA,
                {
                    "uncertain_reasons": [
                        "on your confirmed photos, answers as sure as this one (55%) were right "
                        "less often than 85% of the time"
                    ]
                    if uncertain
                    else [],
                    "answer_set": {
                        "traditions": ["Kanchipuram", "Banarasi", "Paithani"][: 3 - 2 * i],
                        "level": 0.9,
                        "calibrated_on": calibrated,
                    },
                },
                top_tradition="Kanchipuram",
                top_probability=0.55,
                uncertain=uncertain,
                embedding=None,
                part_embeddings=None,
            )
        table = list(csv.DictReader(io.StringIO(export(cat, "csv"))))
    assert table[0]["why_uncertain"] == (
        "On your confirmed photos, answers as sure as this one (55%) were right less often "
        "than 85% of the time"
    )
    assert table[0]["answer_set"] == (
        "Kanchipuram, Banarasi or Paithani (90%, calibrated on 21 of your confirmed photos)"
    )
    assert table[1]["why_uncertain"] == ""
    assert table[1]["answer_set"] == "Kanchipuram (90%, by the model's own calibration)"


def _with_an_added_tradition(cat: Catalog) -> None:
    """Photo 3 confirmed as a tradition the curator added, with where it is from and the
    graph's tradition it resembles; photo 2 stays the graph's Kanchipuram, photo 1 unlabelled.
    The label's case differs from the record's, as it does once the curator renames it."""
    add_tradition(cat.path, CuratorTradition("Kotpad", "Odisha", "East India", "Kanchipuram"))
    cat.set_label(3, tradition="kotpad", certainty="confirmed")


def test_csv_says_where_the_curators_tradition_is_from(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        _with_an_added_tradition(cat)
        text = export(cat, "csv", graph=FakeGraph())
    header = next(csv.reader(io.StringIO(text)))
    at = header.index("tradition_name")
    assert header[at + 1 : at + 3] == ["tradition_state", "tradition_region"]
    table = list(csv.DictReader(io.StringIO(text)))
    where = [(r["tradition_state"], r["tradition_region"]) for r in table]
    assert where == [
        ("", ""),  # unlabelled: the model's answer is placed by likely_state alone
        ("Tamil Nadu", "South India"),  # the graph's tradition, by the graph's names
        ("Odisha", "East India"),  # the curator's own, as they typed it
    ]
    assert table[0]["likely_state"] == "Tamil Nadu"
    # Without the graph, a graph tradition's place is unknown; the curator's own is not.
    with Catalog(tmp_path / "c.saree") as cat:
        table = list(csv.DictReader(io.StringIO(export(cat, "csv"))))
    assert [r["tradition_state"] for r in table] == ["", "", "Odisha"]


def test_a_damaged_traditions_file_leaves_the_places_empty_not_the_export(
    tmp_path: Path,
) -> None:
    with _catalogue(tmp_path) as cat:
        _with_an_added_tradition(cat)
        (tmp_path / "c.saree.traditions.json").write_text("{not json")
        table = list(csv.DictReader(io.StringIO(export(cat, "csv", graph=FakeGraph()))))
        g = _graph_of(export(cat, "jsonld", graph=FakeGraph()))
    assert [r["tradition_state"] for r in table] == ["", "Tamil Nadu", ""]
    assert table[2]["tradition"] == "kotpad"
    assert len(g) > 30


def _kotpad(text: str) -> tuple[Any, Any, Any]:
    """The graph of a JSON-LD export, photo 3's Production and the Kotpad technique."""
    import rdflib

    g = _graph_of(text)
    crm = rdflib.Namespace(CRM)
    third = rdflib.URIRef(f"urn:sha256:{2:064x}")
    production = g.value(third, crm.P108i_was_produced_by)
    technique = g.value(production, crm.P32_used_general_technique)
    return g, production, technique


def test_jsonld_places_the_curators_tradition_and_links_what_it_resembles(
    tmp_path: Path,
) -> None:
    import rdflib
    from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

    with _catalogue(tmp_path) as cat:
        _with_an_added_tradition(cat)
        text = export(cat, "jsonld", graph=FakeGraph())
    g, production, technique = _kotpad(text)
    crm = rdflib.Namespace(CRM)
    assert technique == rdflib.URIRef(NS + "kotpad")
    # Nested as a graph tradition's place is: the state, part of the cultural region.
    place = g.value(production, crm.P7_took_place_at)
    assert (place, RDF.type, crm.E53_Place) in g
    assert g.value(place, RDFS.label) == rdflib.Literal("Odisha")
    region = g.value(place, crm.P89_falls_within)
    assert g.value(region, RDFS.label) == rdflib.Literal("East India")
    assert isinstance(place, rdflib.BNode)  # the curator's words, not a gazetteer's place
    third = rdflib.URIRef(f"urn:sha256:{2:064x}")
    assert g.value(third, DCTERMS.spatial) == rdflib.Literal("Odisha")
    # What it resembles: the graph's own tradition, by its IRI and name.
    kanchipuram = rdflib.URIRef(NS + "Kanchipuram")
    assert list(g.objects(technique, SKOS.related)) == [kanchipuram]
    assert g.value(kanchipuram, RDFS.label) == rdflib.Literal("Kanchipuram silk")
    # The graph's tradition keeps the graph's place and resembles nothing.
    second = rdflib.URIRef(f"urn:sha256:{1:064x}")
    prod2 = g.value(second, crm.P108i_was_produced_by)
    town = g.value(prod2, crm.P7_took_place_at)
    assert town == rdflib.URIRef(NS + "Kanchipuram_town")
    assert list(g.objects(None, SKOS.related)) == [kanchipuram]


def test_an_objects_added_tradition_is_placed_too(tmp_path: Path) -> None:
    import rdflib
    from rdflib.namespace import SKOS

    from saree_app.collection import objects
    from saree_app.collection.export import object_iri

    with _catalogue(tmp_path) as cat:
        _with_an_added_tradition(cat)
        objects.create_object(cat, "T.1", {}, [3], ["whole"])
        text = export(cat, "jsonld", graph=FakeGraph())
    doc = json.loads(text)
    (node,) = [n for n in doc["@graph"] if n["id"] == object_iri("T.1")]
    (place,) = node["produced_by"]["took_place_at"]
    assert (place["_label"], place["part_of"][0]["_label"]) == ("Odisha", "East India")
    g = _graph_of(text)
    crm = rdflib.Namespace(CRM)
    production = g.value(rdflib.URIRef(object_iri("T.1")), crm.P108i_was_produced_by)
    technique = g.value(production, crm.P32_used_general_technique)
    assert list(g.objects(technique, SKOS.related)) == [rdflib.URIRef(NS + "Kanchipuram")]


def test_the_jsonld_with_places_reads_back_as_the_same_labels(tmp_path: Path) -> None:
    from saree_app.collection import records

    out = tmp_path / "export.jsonld"
    with _catalogue(tmp_path) as cat:
        _with_an_added_tradition(cat)
        export(cat, "jsonld", out, graph=FakeGraph())
    found = {r.sha256: (r.tradition, r.certainty) for r in records.read(out)}
    assert found == {
        f"{0:064x}": (None, None),
        f"{1:064x}": ("Kanchipuram", "probable"),
        f"{2:064x}": ("kotpad", "confirmed"),
    }


def test_annotations_say_where_the_tradition_is_from(tmp_path: Path) -> None:
    from saree_app.collection import annotations

    with _catalogue(tmp_path) as cat:
        _with_an_added_tradition(cat)
        pages = json.loads(annotations.to_annotations(cat, graph=FakeGraph()))
        bare = json.loads(annotations.to_annotations(cat))
        folder = annotations.write_pages(cat, tmp_path / "pages", graph=FakeGraph())
        third = json.loads(folder[2].read_text(encoding="utf-8"))

    def body(one: dict[str, Any]) -> dict[str, Any]:
        (found,) = [a["body"] for a in one["items"] if a["motivation"] == "classifying"]
        return found

    # The model's Kanchipuram and the curator's Kanchipuram: the graph's names for its place.
    assert (body(pages[0])["state"], body(pages[0])["culturalRegion"]) == (
        "Tamil Nadu",
        "South India",
    )
    assert body(pages[1])["state"] == "Tamil Nadu"  # the curator's (probable) Kanchipuram
    # Without the graph no place is made up for its traditions; the curator's own keeps hers.
    assert "state" not in body(bare[0]) and "culturalRegion" not in body(bare[0])
    assert body(bare[2])["state"] == "Odisha"
    # The curator's own tradition, as they typed its place; the same in a folder of pages.
    assert (body(pages[2])["state"], body(pages[2])["culturalRegion"]) == ("Odisha", "East India")
    assert body(third) == body(pages[2])
    # The words are terms of the page's own context, so a JSON-LD reader keeps them (read
    # with that context alone: the Web Annotation context is not fetched in a test).
    import rdflib

    local = pages[2]["@context"][1]
    doc = {"@context": local, "@id": "urn:x", **{k: body(pages[2])[k] for k in ("state",)}}
    g = rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")
    assert {str(o) for o in g.objects(None, rdflib.URIRef("urn:saree-app:state"))} == {"Odisha"}


def test_a_confirmed_photo_is_settled_in_the_csv(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        # Photo 3: the model's answer (Paithani) was flagged uncertain; the curator confirms it
        # as the tradition they added, from Odisha. Photo 2 is only "probable": still open.
        _with_an_added_tradition(cat)
        table = list(csv.DictReader(io.StringIO(export(cat, "csv", graph=FakeGraph()))))
    third = table[2]
    assert (third["uncertain"], third["why_uncertain"], third["answer_set"]) == ("no", "", "")
    assert (third["likely_state"], third["likely_cultural_region"]) == ("Odisha", "East India")
    # The model's own answer is kept for the record.
    assert (third["model_tradition"], third["tradition"]) == ("Paithani", "kotpad")
    # A probable label leaves the model's place and doubt as they were.
    assert table[1]["certainty"] == "probable"
    assert table[1]["likely_state"] == "Tamil Nadu"
    with Catalog(tmp_path / "c.saree") as cat:
        cat.set_label(3, tradition="kotpad", certainty="probable")
        again = list(csv.DictReader(io.StringIO(export(cat, "csv", graph=FakeGraph()))))
    assert again[2]["uncertain"] == "yes" and again[2]["likely_state"] == "Tamil Nadu"
    # A tradition the curator placed in a region only: no state is borrowed from the model.
    add_tradition(tmp_path / "c.saree", CuratorTradition("Kotpad", "", "East India", None))
    with Catalog(tmp_path / "c.saree") as cat:
        cat.set_label(3, tradition="kotpad", certainty="confirmed")
        row = list(csv.DictReader(io.StringIO(export(cat, "csv", graph=FakeGraph()))))[2]
    assert (row["likely_state"], row["likely_cultural_region"]) == ("", "East India")


def test_jsonld_gives_no_place_of_making_for_a_flagged_guess(tmp_path: Path) -> None:
    """A model's answer the app flags uncertain names its tradition, attributed to the model as
    uncertain, but no place where the saree was made; unflagged, or the curator's, it does."""
    cat = Catalog(tmp_path / "c.saree")
    with cat:
        for i, uncertain in enumerate((True, False)):
            cat.record(
                NewPhoto(str(tmp_path / f"q{i}.jpg"), f"{i + 7:064x}", 100, 40, 30),
                SHA,
                {"states": [], "cultural_regions": []},
                top_tradition="Kanchipuram",
                top_probability=0.4,
                uncertain=uncertain,
                embedding=np.ones(4, np.float32),
                part_embeddings=None,
            )
        doc = json.loads(export(cat, "jsonld", graph=FakeGraph()))
        flagged, sure = doc["@graph"]
        assert "took_place_at" not in flagged["produced_by"]
        assert "dcterms:spatial" not in flagged
        (by,) = flagged["produced_by"]["assigned_by"]
        assert by["_label"] == "attribution by the model"
        assert [c["_label"] for c in by["classified_as"]] == ["uncertain"]
        assert sure["produced_by"]["took_place_at"][0]["_label"] == "Kanchipuram (town)"
        # Confirmed by the curator, the flagged photo's place is stated.
        cat.set_label(1, tradition="Kanchipuram", certainty="confirmed")
        doc = json.loads(export(cat, "jsonld", graph=FakeGraph()))
        assert doc["@graph"][0]["produced_by"]["took_place_at"][0]["_label"] == (
            "Kanchipuram (town)"
        )


def _spread_answer(cat: Catalog, ranking: list[tuple[str, float]], graph: Any) -> None:
    """Photo 1 with an answer whose probability is spread as `ranking` says, rolled up by
    state and by cultural region as the fusion rolls it up (each place: the summed
    probabilities of its traditions; `place_of` places a tradition the curator added)."""
    from saree_app.knowledge.fusion import place_of, places_by_name

    def rollup(level: str) -> list[dict[str, Any]]:
        sums: dict[str, list[Any]] = {}
        by_name = places_by_name(graph, level)
        for tradition, p in ranking:
            key, name = place_of(graph, level, tradition, _PLACES, by_name)
            sums.setdefault(key, [name, 0.0])[1] += p
        out = [{"region": k, "label": v[0], "probability": v[1]} for k, v in sums.items()]
        return sorted(out, key=lambda s: -s["probability"])

    cat.record(
        NewPhoto(str(cat.path.parent / "p.jpg"), "e" * 64, 100, 40, 30, None, None),
        SHA,
        {
            "ranking": [{"tradition": t, "probability": p} for t, p in ranking],
            "states": rollup("state"),
            "cultural_regions": rollup("cultural_region"),
        },
        top_tradition=ranking[0][0],
        top_probability=ranking[0][1],
        uncertain=True,
        embedding=None,
        part_embeddings=None,
    )


_PLACES = {"Kotpad": ("Odisha", "East India")}


def test_the_likely_state_and_region_name_one_place(tmp_path: Path) -> None:
    """Maharashtra is the likeliest state (Paithani, 30%) while the three southern traditions
    together make South India the likeliest region (70%): the row must not read "Maharashtra,
    South India". Its region is the one Maharashtra lies in."""
    from saree_app.knowledge.graph import TextileGraph

    graph = TextileGraph.load()
    south = [("Kanchipuram", 0.25), ("PochampallyIkat", 0.25), ("Kasavu", 0.2)]
    with Catalog(tmp_path / "c.saree") as cat:
        _spread_answer(cat, [("Paithani", 0.3), *south], graph)
        stored = cat.predictions(SHA)[1].result
        row = next(csv.DictReader(io.StringIO(export(cat, "csv", graph=graph))))
        bare = next(csv.DictReader(io.StringIO(export(cat, "csv"))))
    # The two roll-ups disagree, as the fusion's do for such an answer.
    assert stored["states"][0]["label"] == "Maharashtra"
    assert stored["cultural_regions"][0]["label"] == "South India"
    assert (row["likely_state"], row["likely_cultural_region"]) == ("Maharashtra", "West India")
    assert graph.label(graph.cultural_region_of("Paithani")) == "West India"
    # Without the graph, where the state lies is not known: the region is left empty rather
    # than given from the other roll-up.
    assert (bare["likely_state"], bare["likely_cultural_region"]) == ("Maharashtra", "")


def test_a_curators_tradition_places_the_likely_region_where_they_said(tmp_path: Path) -> None:
    """A tradition the curator added and placed in Odisha, East India leads the states: the
    row's region is the one they typed for it, not the southern traditions' sum."""
    from saree_app.knowledge.graph import TextileGraph

    graph = TextileGraph.load()
    with Catalog(tmp_path / "c.saree") as cat:
        add_tradition(cat.path, CuratorTradition("Kotpad", "Odisha", "East India", None))
        _spread_answer(
            cat, [("Kotpad", 0.4), ("Kanchipuram", 0.3), ("PochampallyIkat", 0.3)], graph
        )
        stored = cat.predictions(SHA)[1].result
        row = next(csv.DictReader(io.StringIO(export(cat, "csv", graph=graph))))
    assert stored["states"][0]["label"] == "Odisha"
    assert stored["cultural_regions"][0]["label"] == "South India"
    assert (row["likely_state"], row["likely_cultural_region"]) == ("Odisha", "East India")
