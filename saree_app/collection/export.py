"""Export the catalogue as CSV and JSON-LD; read curator labels back from CSV."""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from saree_app import spreadsheet
from saree_app.collection.catalog import CERTAINTIES, Catalog, CatalogError
from saree_app.collection.traditions import (
    CuratorTradition,
    TraditionsError,
    clean_name,
    load_traditions,
)
from saree_app.imaging import shown
from saree_app.knowledge.words import pct, plain_reason

SAREE_NS = "https://saree-provenance.example/ns#"

CSV_COLUMNS = (
    "id",
    "accession",
    "path",
    "sha256",
    "size",
    "width",
    "height",
    "exif_date",
    "camera",
    "added",
    "model_tradition",
    "model_answer",
    "model_answer_state",
    "model_probability",
    "model_confidence",
    "uncertain",
    "why_uncertain",
    "answer_set",
    "likely_state",
    "likely_cultural_region",
    "curator_tradition",
    "certainty",
    "note",
    "labelled",
    "tradition",
    "tradition_name",
    "tradition_state",
    "tradition_region",
    "tags",
)
# Ids (model_tradition, curator_tradition, tradition) are for reading the file back and for
# linking; the *_answer / *_name / likely_* columns are what a curator reads, in the names the
# app shows, and model_confidence is the percentage the app shows (86%, never 0.8596 as 88%).
# model_answer_state is the state model_answer's own tradition comes from (the knowledge graph's,
# or as the curator typed it for a tradition they added). likely_state is not that: it is the
# state whose traditions, all together, the model finds likeliest (a roll-up of every
# tradition's probability by state), so it can differ from model_answer_state (Patan Patola
# 12%, but Andhra Pradesh's four traditions 30% between them); likely_cultural_region is the
# region that state lies in.
# why_uncertain and answer_set are the photo page's banner and set line: the reasons in words
# ("; " between them) and the traditions the answer set names, most likely first, with how
# sure and on what it was reckoned. A photo the curator confirmed is settled: not uncertain, no
# answer set, and likely_* are its confirmed tradition's place (the model's answer stays in
# model_tradition, model_answer and model_probability). tradition_state and tradition_region
# say where the curator's tradition comes from: as they typed it for one they added, else as
# the knowledge graph has it; empty without a curator's tradition, since likely_* already place
# the model's.

# The JSON-LD context, inline so the file is self-contained and readable offline. Class and
# property names follow Linked Art (which profiles CIDOC-CRM); plain metadata uses Dublin Core.
CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "crm": "http://www.cidoc-crm.org/cidoc-crm/",
    "la": "https://linked.art/ns/terms/",
    "dig": "http://www.ics.forth.gr/isl/CRMdig/",
    "dcterms": "http://purl.org/dc/terms/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "saree": SAREE_NS,
    "id": "@id",
    "type": "@type",
    "_label": "rdfs:label",
    "HumanMadeObject": "crm:E22_Human-Made_Object",
    "Production": "crm:E12_Production",
    "Place": "crm:E53_Place",
    "Type": "crm:E55_Type",
    "VisualItem": "crm:E36_Visual_Item",
    "DigitalObject": "dig:D1_Digital_Object",
    "LinguisticObject": "crm:E33_Linguistic_Object",
    "AttributeAssignment": "crm:E13_Attribute_Assignment",
    "Identifier": "crm:E42_Identifier",
    "Group": "crm:E74_Group",
    "Person": "crm:E21_Person",
    "produced_by": {"@id": "crm:P108i_was_produced_by", "@type": "@id"},
    "technique": {"@id": "crm:P32_used_general_technique", "@type": "@id", "@container": "@set"},
    "took_place_at": {"@id": "crm:P7_took_place_at", "@type": "@id", "@container": "@set"},
    "part_of": {"@id": "crm:P89_falls_within", "@type": "@id", "@container": "@set"},
    "equivalent": {"@id": "la:equivalent", "@type": "@id", "@container": "@set"},
    "skos:closeMatch": {"@type": "@id", "@container": "@set"},
    "skos:related": {"@type": "@id", "@container": "@set"},
    "classified_as": {"@id": "crm:P2_has_type", "@type": "@id", "@container": "@set"},
    "identified_by": {"@id": "crm:P1_is_identified_by", "@container": "@set"},
    "content": "crm:P190_has_symbolic_content",
    "referred_to_by": {"@id": "crm:P67i_is_referred_to_by", "@container": "@set"},
    "representation": {"@id": "crm:P138i_has_representation", "@container": "@set"},
    "digitally_shown_by": {"@id": "la:digitally_shown_by", "@container": "@set"},
    "access_point": {"@id": "la:access_point", "@type": "@id", "@container": "@set"},
    "assigned_by": {"@id": "crm:P140i_was_attributed_by", "@container": "@set"},
    "carried_out_by": {"@id": "crm:P14_carried_out_by", "@container": "@set"},
    "assigned_property": {"@id": "crm:P177_assigned_property_of_type", "@type": "@id"},
    "assigned": {"@id": "crm:P141_assigned", "@type": "@id"},
    "dcterms:created": {"@type": "xsd:dateTime"},
    "dcterms:modified": {"@type": "xsd:dateTime"},
    "dcterms:extent": {"@type": "xsd:integer"},
    "saree:probability": {"@type": "xsd:decimal"},
    "saree:tag": {"@container": "@set"},
    "saree:curatorTradition": {"@type": "@id"},
    "saree:iiifCanvas": {"@type": "@id"},
    "saree:iiifManifest": {"@type": "@id"},
    "Name": "crm:E33_E41_Linguistic_Appellation",
    "TimeSpan": "crm:E52_Time-Span",
    "Acquisition": "crm:E8_Acquisition",
    "timespan": {"@id": "crm:P4_has_time-span"},
    "begin_of_the_begin": {"@id": "crm:P82a_begin_of_the_begin", "@type": "xsd:dateTime"},
    "end_of_the_end": {"@id": "crm:P82b_end_of_the_end", "@type": "xsd:dateTime"},
    "changed_ownership_through": {
        "@id": "crm:P24i_changed_ownership_through",
        "@container": "@set",
    },
}
# Getty AAT concepts Linked Art uses for these roles.
_AAT = "http://vocab.getty.edu/aat/"
_NOTE = {"id": f"{_AAT}300027200", "type": "Type", "_label": "Notes"}
_TYPE_OF_WORK = {"id": f"{_AAT}300435443", "type": "Type", "_label": "Type of Work"}
_TEXTILES = {
    "id": f"{_AAT}300014063",
    "type": "Type",
    "_label": "textiles (visual works)",
    "classified_as": [_TYPE_OF_WORK],
}
_BRIEF_TEXT = {"id": f"{_AAT}300418049", "type": "Type", "_label": "Brief Text"}
# How Linked Art classifies an object's credit line and a provenance statement.
_CREDIT_LINE = {
    "id": f"{_AAT}300026687",
    "type": "Type",
    "_label": "Credit Line",
    "classified_as": [_BRIEF_TEXT],
}
_PROVENANCE_STATEMENT = {
    "id": f"{_AAT}300444174",
    "type": "Type",
    "_label": "Provenance Statement",
    "classified_as": [_BRIEF_TEXT],
}


@dataclass(frozen=True)
class Row:
    """One photo's catalogue entry, flattened (the CSV row and the JSON-LD object's source)."""

    values: dict[str, Any]


def rows(catalog: Catalog, graph: Any = None, model_sha256: str | None = None) -> Iterator[Row]:
    """Every photo with its model answer, curator label and tags, in catalogue order."""
    sha = model_sha256 or catalog.latest_model()
    preds = catalog.predictions(sha) if sha else {}
    labels = catalog.labels()
    tags = catalog.all_tags()
    from saree_app.collection.objects import object_ids_by_photo

    accessions = object_ids_by_photo(catalog)  # the object (saree) each photo shows
    added = _added_traditions(catalog)
    places = {name: (t.state or None, t.region or None) for name, t in added.items()}
    for photo in catalog.photos():
        pred = preds.get(photo.id)
        lab = labels.get(photo.id)
        result = pred.result if pred else {}
        likely = likely_place(
            graph,
            result.get("states") or [],
            [str(r.get("tradition")) for r in result.get("ranking") or [] if isinstance(r, dict)],
            places,
        )
        curator = lab.tradition if lab and lab.tradition else None
        model = pred.top_tradition if pred else None
        mine = added.get(clean_name(curator).casefold()) if curator else None
        state, region = _where_from(graph, curator, mine)
        model_state = (
            _where_from(graph, model, added.get(clean_name(model).casefold()))[0] if model else None
        )
        # A label row with nothing in it is what an undone confirmation leaves behind (the
        # catalogue keeps the row, and its history): no label, so no time it was labelled.
        said = bool(lab and (lab.tradition or lab.certainty or lab.note))
        # A photo the curator confirmed is settled: the record's doubt and likely place are
        # theirs, not the model's (its answer stays in the model_* columns).
        settled = bool(curator and lab is not None and lab.certainty == "confirmed")
        yield Row(
            {
                "id": photo.id,
                "accession": accessions.get(photo.id),
                "path": shown(photo.path),
                "sha256": photo.sha256,
                "size": photo.size,
                "width": photo.width,
                "height": photo.height,
                "exif_date": photo.exif_date,
                "camera": photo.camera,
                "added": photo.added,
                "model_tradition": model,
                "model_answer": _label(graph, model) if model else None,
                "model_answer_state": model_state,
                "model_probability": (
                    round(pred.top_probability, 4)
                    if pred and pred.top_probability is not None
                    else None
                ),
                "model_confidence": (
                    pct(pred.top_probability) if pred and pred.top_probability is not None else None
                ),
                "uncertain": (False if settled else pred.uncertain) if pred else None,
                "why_uncertain": (
                    "; ".join(plain_reason(str(r)) for r in result.get("uncertain_reasons") or ())
                    if pred and pred.uncertain and not settled
                    else None
                ),
                "answer_set": None
                if settled
                else _answer_set_words(
                    graph, result.get("answer_set"), len(result.get("ranking") or []) or None
                ),
                # One place at two levels: the state whose traditions together are most
                # likely (which need not be the top tradition's own), and the cultural region
                # that state lies in (`likely_place`); for a confirmed photo, its own. (What
                # the curator's tradition does not say stays empty: the model's guess beside
                # the curator's own place would read as one place.)
                "likely_state": state if settled else likely[0],
                "likely_cultural_region": region if settled else likely[1],
                "curator_tradition": curator,
                "certainty": lab.certainty if lab else None,
                "note": lab.note if lab else None,
                "labelled": lab.updated if lab and said else None,
                "tradition": curator or model,
                "tradition_name": _label(graph, chosen) if (chosen := curator or model) else None,
                "tradition_state": state,
                "tradition_region": region,
                "tags": tags.get(photo.id, []),
                # Not a CSV column: the curator's own record of a tradition they added.
                "added_tradition": mine,
                # Not a CSV column: the file as a URI for JSON-LD, from the real path (a name
                # that is not UTF-8 is percent-encoded byte by byte, so the URI still finds it).
                "uri": _file_uri(photo.path),
            }
        )


def likely_place(
    graph: Any,
    states: Sequence[Mapping[str, Any]],
    ranking: Iterable[str],
    places: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> tuple[str | None, str | None]:
    """The likely state and cultural region of an answer, as one place: the first state of
    its `states` roll-up, and the cultural region that state lies in.

    The answer's two roll-ups sum the traditions' probabilities separately, by state and by
    cultural region, so their firsts can disagree: West Bengal 18% ahead of four southern
    states of 12% to 17% makes South India the likeliest region (54%) but leaves West Bengal
    the likeliest state. A catalogue row reads "West Bengal, South India" as one place, and a
    wrong one. The state is kept (it is the state the photo page, `saree classify` and the
    objects export name first) and the region is the one it lies in, as the place a
    confirmed photo gets is its tradition's state and that state's region; the photo page
    still lists both roll-ups with their percentages.

    `states`: the stored roll-up ({"region": id, "label": name, ...}, most likely first).
    `ranking`: the answer's traditions, most likely first; the region is the one the first of
    them in that state counted towards (`place_of`), so a tradition the curator added counts
    where they placed it. `places`: the curator's traditions' (state, region) as they typed
    them, by name in any case. Without the knowledge graph the region is not known: None.
    """
    from saree_app.knowledge.fusion import place_of, places_by_name

    if not states:
        return None, None
    first = states[0]
    state = _region_name(graph, dict(first))
    if graph is None:
        return state, None
    folded = {k.casefold(): v for k, v in (places or {}).items()}
    by_state: dict[str, str] | None = None
    by_region: dict[str, str] = {}
    for tradition in ranking:
        own = {tradition: folded[tradition.casefold()]} if tradition.casefold() in folded else {}
        if own and by_state is None:
            by_state = places_by_name(graph, "state")
            by_region = places_by_name(graph, "cultural_region")
        try:
            key, _ = place_of(graph, "state", tradition, own, by_state or {})
            if key != first.get("region"):
                continue
            key, name = place_of(graph, "cultural_region", tradition, own, by_region)
        except (KeyError, ValueError):
            continue  # not one of the graph's traditions, nor one the curator added
        return state, (name if key else None)
    return state, None


def _added_traditions(catalog: Catalog) -> dict[str, CuratorTradition]:
    """The traditions the curator added to this catalogue, by their name case-folded (the
    case a photo's label has may be older than the record's)."""
    try:
        found = load_traditions(catalog.path)
    except TraditionsError:
        # A damaged side file must not stop the export of the catalogue itself: its labels
        # are exported all the same, only without the places the file would have given them
        # (the library's panel says the file is damaged).
        return {}
    return {t.name.casefold(): t for t in found}


def _where_from(
    graph: Any, tradition: str | None, added: CuratorTradition | None
) -> tuple[str | None, str | None]:
    """The state and cultural region a curator's tradition comes from, by name: as the curator
    typed them for one they added, else as the knowledge graph's region chain has them; None
    for what neither says."""
    if tradition is None:
        return None, None
    if added is not None:
        return added.state or None, added.region or None
    if graph is None or not _TERM_ID.fullmatch(tradition):
        return None, None
    names: list[str | None] = []
    for accessor in ("state_of", "cultural_region_of"):
        find = getattr(graph, accessor, None)
        try:
            found = find(tradition) if find is not None else None
        except (KeyError, ValueError):
            found = None  # not one of the graph's traditions
        names.append(_label(graph, str(found)) if found else None)
    return names[0], names[1]


def _answer_set_words(graph: Any, found: Any, out_of: int | None = None) -> str | None:
    """A stored answer set as the photo page states it: "A, B or C (90%, calibrated on 21 of
    your confirmed photos)", "(90%, by the model's own calibration)", or for an answer re-ranked by
    teaching not yet checked "(from your teaching, not yet checked ...)"; for a set of nearly
    every tradition, "Not narrowed down yet: 27 of the 28 traditions (...); confirming more of
    your photos ... would narrow it"; None without one. `out_of`: how many traditions the
    answer ranked, which the set could have named."""
    from saree_app.knowledge.words import how_many_of, wide_of

    if not isinstance(found, dict) or not found.get("traditions"):
        return None
    names = [_label(graph, str(t)) for t in found["traditions"]]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    # A set of more than half the traditions it could name does not narrow the photo down:
    # said so, not listed, by the photo page's rule (knowledge.words.answer_set_words).
    could = wide_of(names, out_of)
    hint = ""
    if could:
        listed = f"Not narrowed down yet: {how_many_of(len(names), could)} traditions"
        hint = "; confirming more of your photos, of more traditions, would narrow it"
    level = float(found.get("level") or 0.0)
    on = int(found.get("calibrated_on") or 0)
    if not on and found.get("taught"):
        # Re-ranked by teaching that the confirmed photos cannot check yet: no level claimed.
        return f"{listed} (from your teaching, not yet checked on your confirmed photos){hint}"
    if not on and found.get("unlike_training"):
        # The model's calibration, made on renders, does not hold for this photo.
        return (
            f"{listed} (the model's own ranking; no level claimed: the photo looks unlike the "
            f"photos the model learnt from){hint}"
        )
    how = f"calibrated on {on} of your confirmed photos" if on else "by the model's own calibration"
    return f"{listed} ({level:.0%}, {how}){hint}"


def _file_uri(path: str) -> str:
    if Path(path).is_absolute():
        return Path(path).as_uri()
    return shown(path)


def to_csv(catalog: Catalog, graph: Any = None, model_sha256: str | None = None) -> str:
    """The catalogue as CSV text (UTF-8, one row per photo, header first)."""
    buf = io.StringIO()
    writer = spreadsheet.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for row in rows(catalog, graph, model_sha256):
        writer.writerow([spreadsheet.cell(row.values[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def _region_name(graph: Any, entry: dict[str, Any]) -> str:
    """A stored state or cultural region as the app names it ("West Bengal")."""
    return str(entry.get("label") or _label(graph, str(entry.get("region", ""))))


def _label(graph: Any, term: str) -> str:
    if not _TERM_ID.fullmatch(term):
        return term  # a curator's own name for a tradition: shown as written
    if graph is not None:
        try:
            return str(graph.label(term))
        except (KeyError, ValueError):
            pass
    from saree_app.model.predict import readable

    return readable(term)


# A term id of the ontology ("Kanchipuram"), and an http(s) IRI with nothing to escape.
_TERM_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
# What xsd:dateTime accepts (the app stores EXIF dates as YYYY-MM-DDTHH:MM:SS).
_XSD_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_PLAIN_IRI = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")


def _term(term: str) -> str:
    """The IRI of a tradition or place.

    A curator's own tradition is text, not an IRI: "Not a saree" (a space, which rdflib drops
    the whole statement for), "javascript:alert(1)", a right-to-left override. Such a name gets
    an IRI of its own under the app's namespace, percent-encoded; its label keeps the text.
    """
    if _TERM_ID.fullmatch(term):
        return SAREE_NS + term
    if _PLAIN_IRI.fullmatch(term):
        return term
    return f"{SAREE_NS}curator-tradition/{quote(term, safe='')}"


def _date_time(text: str) -> str | None:
    """`text` if it is a date and time xsd:dateTime accepts; None for a camera's junk
    ("0000:00:00 00:00:00" stored as 0000-00-00T00:00:00, a bare year, free text)."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return None
    return text if _XSD_DATE_TIME.fullmatch(text) else None


def _vocabulary_links(graph: Any, term: str, kind: str) -> dict[str, Any]:
    """The term's entries in shared vocabularies (Wikidata, Getty AAT, TGN), each an IRI a
    curator can open: exact matches as Linked Art `equivalent`, close ones as skos:closeMatch."""
    links_of = getattr(graph, "links_of", None)
    if links_of is None or not _TERM_ID.fullmatch(term):
        return {}
    try:
        links = list(links_of(term))
    except (KeyError, ValueError):
        return {}
    out: dict[str, Any] = {}
    exact = [
        {"id": k.iri, "type": kind, "_label": f"{k.label} ({k.vocabulary} {k.identifier})"}
        for k in links
        if k.match == "exact"
    ]
    close = [k.iri for k in links if k.match != "exact"]
    if exact:
        out["equivalent"] = exact
    if close:
        out["skos:closeMatch"] = close
    return out


def _place(graph: Any, tradition: str) -> list[dict[str, Any]]:
    """The tradition's place as a Linked Art Place, nested town -> state -> cultural region."""
    if graph is None:
        return []
    try:
        chain = list(graph.region_chain(tradition))
    except (KeyError, ValueError, AttributeError):
        return []
    place: dict[str, Any] | None = None
    for region in reversed(chain):  # broadest first, so each narrower place is part_of it
        node: dict[str, Any] = {
            "id": _term(region),
            "type": "Place",
            "_label": _label(graph, region),
            **_vocabulary_links(graph, region, "Place"),
        }
        if place is not None:
            node["part_of"] = [place]
        place = node
    return [place] if place else []


def _typed_place(added: CuratorTradition) -> list[dict[str, Any]]:
    """Where a tradition the curator added comes from, as they typed it: its state, part of its
    cultural region, nested as a graph tradition's place is.

    The places get no IRI: they are the curator's words, not places of the graph or of a
    gazetteer, and under a shared IRI a state two traditions put in different regions would
    fall within both.
    """
    place: dict[str, Any] | None = None
    for name in (added.region, added.state):  # broadest first, as in _place
        if not name:
            continue
        node: dict[str, Any] = {"type": "Place", "_label": name}
        if place is not None:
            node["part_of"] = [place]
        place = node
    return [place] if place else []


def _production(
    subject: str,
    tradition: str,
    graph: Any,
    *,
    by_curator: bool,
    certainty: str | None = None,
    labelled: str | None = None,
    probability: float | None = None,
    uncertain: bool | None = None,
    added: CuratorTradition | None = None,
) -> dict[str, Any]:
    """The saree's Production: the tradition as technique, its place, and who attributed it
    (the curator with the certainty, or the model with its probability). `added`: the
    curator's record of a tradition they added, which gives its place and what it resembles."""
    label = _label(graph, tradition)
    production: dict[str, Any] = {
        "id": f"{subject}#production",
        "type": "Production",
        "_label": f"Production of the saree ({label})",
        "technique": [
            {
                "id": _term(tradition),
                "type": "Type",
                "_label": label,
                **_vocabulary_links(graph, tradition, "Type"),
            }
        ],
    }
    if added is not None:
        places = _typed_place(added)
        if added.like:
            production["technique"][0]["skos:related"] = [
                {"id": _term(added.like), "type": "Type", "_label": _label(graph, added.like)}
            ]
    else:
        places = _place(graph, tradition)
    # A guess the app itself flags uncertain names no place of making: a museum's system
    # reading took_place_at would take it for a fact. Its tradition stays, attributed to the
    # model as uncertain (assigned_by).
    if places and (by_curator or not uncertain):
        production["took_place_at"] = places
    assignment: dict[str, Any] = {
        "type": "AttributeAssignment",
        "_label": "attribution by the curator" if by_curator else "attribution by the model",
        "assigned_property": "crm:P32_used_general_technique",
        "assigned": _term(tradition),
        "carried_out_by": [
            {"type": "Person", "_label": "curator"}
            if by_curator
            else {"type": "Group", "_label": "saree-app model"}
        ],
    }
    if by_curator:
        assignment["classified_as"] = [_certainty(certainty or "confirmed")]
        if labelled:
            assignment["dcterms:date"] = labelled
    else:
        if probability is not None:
            assignment["saree:probability"] = probability
        if uncertain:
            assignment["classified_as"] = [_certainty("uncertain")]
    production["assigned_by"] = [assignment]
    return production


def _certainty(word: str) -> dict[str, Any]:
    return {"id": f"{SAREE_NS}certainty-{word}", "type": "Type", "_label": word}


def _note(text: str) -> dict[str, Any]:
    return {"type": "LinguisticObject", "classified_as": [_NOTE], "content": text}


def _digital(v: dict[str, Any], iiif: dict[str, Any] | None = None) -> dict[str, Any]:
    """The photo file as a Linked Art DigitalObject: address, size, dates, camera; for a photo
    fetched from a IIIF server also the image's address there, its canvas and manifest."""
    digital: dict[str, Any] = {
        "type": "DigitalObject",
        "_label": Path(v["path"]).name,
        "access_point": [v["uri"]],
        "dcterms:extent": v["size"],
        "dcterms:modified": v["added"],
    }
    if iiif:
        image, canvas = iiif.get("image"), iiif.get("canvas")
        manifest = iiif.get("manifest_id") or iiif.get("manifest")
        if isinstance(image, str) and _PLAIN_IRI.fullmatch(image):
            digital["access_point"].append(image)
        if isinstance(canvas, str) and _PLAIN_IRI.fullmatch(canvas):
            digital["saree:iiifCanvas"] = canvas
        if isinstance(manifest, str) and _PLAIN_IRI.fullmatch(manifest):
            digital["saree:iiifManifest"] = manifest
    if v["exif_date"]:
        created = _date_time(str(v["exif_date"]))
        if created is not None:
            digital["dcterms:created"] = created
        else:  # kept as the camera wrote it, untyped, rather than a false xsd:dateTime
            digital["saree:exif_date_as_written"] = str(v["exif_date"])
    if v["camera"]:
        digital["dcterms:description"] = f"taken with {v['camera']}"
    if v["width"] and v["height"]:
        digital["dcterms:format"] = f"{v['width']} x {v['height']} pixels"
    return digital


def jsonld_object(
    row: Row, graph: Any = None, iiif: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One photo's saree as a Linked Art HumanMadeObject with Dublin Core metadata."""
    v = row.values
    subject = f"urn:sha256:{v['sha256']}"
    obj: dict[str, Any] = {
        "id": subject,
        "type": "HumanMadeObject",
        "_label": f"Saree, photo {Path(v['path']).name}",
        "classified_as": [_TEXTILES],
        "identified_by": [
            {"type": "Identifier", "content": str(v["id"]), "_label": "catalogue number"}
        ],
        "dcterms:identifier": v["sha256"],
        "dcterms:type": "saree",
        "dcterms:source": v["path"],
    }
    tradition = v["tradition"]
    if tradition:
        production = _production(
            subject,
            tradition,
            graph,
            by_curator=bool(v["curator_tradition"]),
            certainty=v["certainty"],
            labelled=v["labelled"],
            probability=v["model_probability"],
            uncertain=v["uncertain"],
            added=v["added_tradition"] if v["curator_tradition"] else None,
        )
        if production.get("took_place_at"):
            obj["dcterms:spatial"] = production["took_place_at"][0]["_label"]
        obj["produced_by"] = production
        obj["dcterms:subject"] = _label(graph, tradition)
    if v["note"]:
        obj["referred_to_by"] = [_note(v["note"])]
        obj["dcterms:description"] = v["note"]
    if v["tags"]:
        obj["dcterms:subject"] = [obj["dcterms:subject"], *v["tags"]] if tradition else v["tags"]
        obj["saree:tag"] = list(v["tags"])  # the curator's tags alone, to read back
    if v["certainty"] and not v["curator_tradition"]:
        obj["saree:curatorCertainty"] = v["certainty"]  # a certainty given without a tradition
    digital = _digital(v, (iiif or {}).get(v["sha256"]))
    obj["representation"] = [
        {"type": "VisualItem", "_label": "photograph", "digitally_shown_by": [digital]}
    ]
    return obj


def object_iri(accession: str) -> str:
    """The IRI of a catalogue object: its accession number, percent-encoded."""
    return f"{SAREE_NS}object/{quote(accession, safe='')}"


def jsonld_saree_object(
    catalog: Catalog,
    obj: Any,
    photo_rows: list[Row],
    graph: Any = None,
    iiif: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One object of the catalogue (a saree under its accession number) as a Linked Art
    HumanMadeObject: its record, its tradition (the curator's, else the answer fused over its
    photos), and its photos as its images, each with its role and the curator's word on it."""
    from saree_app.collection import objects

    subject = object_iri(obj.accession)
    title = obj.title or f"Saree {obj.accession}"
    node: dict[str, Any] = {
        "id": subject,
        "type": "HumanMadeObject",
        "_label": title,
        "classified_as": [_TEXTILES],
        "identified_by": [
            {"type": "Identifier", "content": obj.accession, "_label": "accession number"}
        ],
        "dcterms:identifier": obj.accession,
        "dcterms:type": "saree",
        "saree:accession": obj.accession,
    }
    if obj.title:
        node["identified_by"].append({"type": "Name", "content": obj.title})
        node["dcterms:title"] = obj.title
    for name in objects.FIELDS:
        value = obj.get(name)
        if value:
            node[f"saree:{name}"] = value  # the record as the app keeps it, to read back
    statements = []
    if obj.get("notes"):
        statements.append(_note(str(obj.get("notes"))))
    if obj.get("source"):
        statements.append(_statement(str(obj.get("source")), _CREDIT_LINE))
    if statements:
        node["referred_to_by"] = statements
    tradition, certainty = objects.object_label(catalog, obj)
    production = None
    if tradition:
        production = _production(
            subject,
            tradition,
            graph,
            by_curator=True,
            certainty=certainty,
            added=_added_traditions(catalog).get(clean_name(tradition).casefold()),
        )
    else:
        try:
            answer = objects.fuse_object(catalog, obj, graph=graph)
        except (objects.ObjectError, KeyError, ValueError, OSError):
            answer = None
        if answer is not None:
            production = _production(
                subject,
                answer.top.tradition,
                graph,
                by_curator=False,
                probability=round(answer.top.probability, 4),
                uncertain=answer.uncertain,
            )
            # The model's guess, as its own: the production's place and date are the record's.
            production["_label"] = f"Production of {title}"
            if answer.disagrees:
                production["assigned_by"][0]["referred_to_by"] = [_note(answer.disagrees)]
    if production is not None:
        node["dcterms:subject"] = production["technique"][0]["_label"]
    production = _recorded_production(subject, title, obj, graph, production)
    if production is not None:
        node["produced_by"] = production
    acquisition = _recorded_acquisition(subject, title, obj, graph)
    if acquisition is not None:
        node["changed_ownership_through"] = [acquisition]
    images = []
    for row in photo_rows:
        v = row.values
        digital = _digital(v, (iiif or {}).get(v["sha256"]))
        digital["dcterms:identifier"] = v["sha256"]
        role = obj.role_of(v["id"]) or "whole"
        digital["saree:role"] = role
        if v["curator_tradition"]:
            digital["saree:curatorTradition"] = {
                "id": _term(v["curator_tradition"]),
                "_label": _label(graph, v["curator_tradition"]),
            }
        if v["certainty"]:
            digital["saree:curatorCertainty"] = v["certainty"]
        if v["note"]:
            digital["referred_to_by"] = [_note(v["note"])]
        if v["tags"]:
            digital["saree:tag"] = list(v["tags"])
        images.append(
            {
                "type": "VisualItem",
                "_label": f"photograph: {objects.ROLE_NAMES.get(role, role)}",
                "digitally_shown_by": [digital],
            }
        )
    if images:
        node["representation"] = images
    return node


def _statement(text: str, kind: dict[str, Any]) -> dict[str, Any]:
    """A Linked Art statement about the object: its text, classified as what it is."""
    return {"type": "LinguisticObject", "classified_as": [kind], "content": text}


def _recorded_place(graph: Any, text: str) -> dict[str, Any]:
    """A place as the curator wrote it in the record: their words as its label, no IRI (it is
    no place of the graph's or a gazetteer's), and the graph's place it names, where the graph
    knows it, as a close match."""
    from saree_app.collection.objects import find_place

    place: dict[str, Any] = {"type": "Place", "_label": text}
    found = find_place(graph, text) if graph is not None and hasattr(graph, "resolve") else None
    if found is not None and _TERM_ID.fullmatch(found):
        place["skos:closeMatch"] = [_term(found)]
    return place


def _date_bound(text: str | None, *, end: bool) -> str | None:
    """A record's date ("1980", "1987-05", "1987-05-12") as the first (or, with `end`, the
    last) moment it can mean, as xsd:dateTime; None for no date or one the record could not
    hold."""
    import calendar

    if not text:
        return None
    parts = text.split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
        last = calendar.monthrange(year, month)[1]
        day = int(parts[2]) if len(parts) > 2 else (last if end else 1)
        found = datetime(year, month, day, 23 if end else 0, 59 if end else 0, 59 if end else 0)
    except (ValueError, IndexError):
        return None
    return found.strftime("%Y-%m-%dT%H:%M:%SZ")


def _time_span(start: str | None, finish: str | None, written: str) -> dict[str, Any] | None:
    """A Linked Art TimeSpan from the record's dates: from the first moment of `start` to the
    last of `finish` (either may be missing: "after 1920", "before 1950"), named as the
    record says it (`written`)."""
    begin, last = _date_bound(start, end=False), _date_bound(finish, end=True)
    if begin is None and last is None:
        return None
    span: dict[str, Any] = {
        "type": "TimeSpan",
        "identified_by": [{"type": "Name", "content": written}],
    }
    if begin is not None:
        span["begin_of_the_begin"] = begin
    if last is not None:
        span["end_of_the_end"] = last
    return span


def _by_the_record(what: str, prop: str) -> dict[str, Any]:
    """Who says the production's place or date: the curator's record, not the model."""
    return {
        "type": "AttributeAssignment",
        "_label": f"{what}, from the curator's record of the object",
        "assigned_property": prop,
        "carried_out_by": [{"type": "Person", "_label": "curator"}],
    }


def _recorded_production(
    subject: str, title: str, obj: Any, graph: Any, production: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The object's Production with the curator's record in it: the place made as where it
    took place, the date made as its time span, each attributed to the record. A tradition's
    place (the curator's or the model's) gives way to the place the record names; the
    tradition itself, and who attributed it, stay as they are."""
    place_made = obj.get("place_made")
    span = _time_span(obj.get("made_from"), obj.get("made_to"), obj.made())
    if not place_made and span is None:
        return production
    if production is None:
        production = {"id": f"{subject}#production", "type": "Production"}
        production["_label"] = f"Production of {title}"
    said = list(production.get("assigned_by") or [])
    if place_made:
        production["took_place_at"] = [_recorded_place(graph, str(place_made))]
        said.append(_by_the_record("place made", "crm:P7_took_place_at"))
    if span is not None:
        production["timespan"] = span
        said.append(_by_the_record("date made", "crm:P4_has_time-span"))
    production["assigned_by"] = said
    return production


def _recorded_acquisition(subject: str, title: str, obj: Any, graph: Any) -> dict[str, Any] | None:
    """How the collection acquired the object, from the record, as a Linked Art Acquisition
    listed on the object (changed_ownership_through): when, where, and the source or donor in
    its provenance statement. None when the record says none of it."""
    when, where, source = obj.get("date_acquired"), obj.get("place_acquired"), obj.get("source")
    if not (when or where or source):
        return None
    acquisition: dict[str, Any] = {
        "id": f"{subject}#acquisition",
        "type": "Acquisition",
        "_label": f"Acquisition of {title}",
    }
    if where:
        acquisition["took_place_at"] = [_recorded_place(graph, str(where))]
    span = _time_span(when, when, str(when)) if when else None
    if span is not None:
        acquisition["timespan"] = span
    if where and when:
        how = f"acquired in {where}, {when}"
    elif where or when:
        how = f"acquired in {where}" if where else f"acquired {when}"
    else:
        how = ""
    text = "; ".join(str(t) for t in (source, how) if t)
    acquisition["referred_to_by"] = [_statement(text[:1].upper() + text[1:], _PROVENANCE_STATEMENT)]
    return acquisition


def _objects(catalog: Catalog) -> list[Any]:
    """The catalogue's objects; none for a catalogue made before objects existed."""
    from saree_app.collection import objects

    try:
        return list(objects.all_objects(catalog))
    except CatalogError:
        return []


def to_jsonld(catalog: Catalog, graph: Any = None, model_sha256: str | None = None) -> str:
    """The catalogue as one JSON-LD document: an @graph of HumanMadeObjects, one per object
    (with its photos as images) and one per photo that shows no object."""
    every = list(rows(catalog, graph, model_sha256))
    by_photo = {r.values["id"]: r for r in every}
    objs = _objects(catalog)
    shown = {pid for o in objs for pid in o.photo_ids}
    from saree_app.collection.iiif import sources

    iiif = sources(catalog)
    nodes = [jsonld_object(r, graph, iiif) for r in every if r.values["id"] not in shown]
    nodes += [
        jsonld_saree_object(
            catalog, o, [by_photo[p] for p in o.photo_ids if p in by_photo], graph, iiif
        )
        for o in objs
    ]
    doc = {"@context": CONTEXT, "@graph": nodes}
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def _new_file_mode(target: Path) -> int:
    """The mode a plain open() would give `target`: its own if it exists, else 0666 less the
    umask (mkstemp makes its files 0600, so an export would be unreadable to the group)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        pass
    try:
        # Linux says the umask without changing it; setting it to read it would, for a moment,
        # widen the mode of any file another thread creates.
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _remove_leftovers(target: Path) -> None:
    """Temporary files of earlier writes to `target` that were killed before they could clean
    up (kill -9, a power cut); a write still running elsewhere is left alone."""
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid_text = tmp.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and _alive(int(pid_text)):
            continue
        tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # no safe probe: kept, as before
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def write_atomic(path: str | Path, text: str) -> None:
    """Write text to `path` so it is either the whole new file or the old one, never half."""
    target = Path(path)
    if target.is_dir():
        raise CatalogError(f"{target}: is a folder; give a file name")
    if not target.parent.exists():
        raise CatalogError(f"{target}: the folder {target.parent} does not exist")
    _remove_leftovers(target)
    mode = _new_file_mode(target)
    # The process id in the name tells a later write whether this one is still running.
    prefix = f".{target.name}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(
    catalog: Catalog,
    fmt: str,
    out: str | Path | None = None,
    *,
    graph: Any = None,
    model_sha256: str | None = None,
) -> str:
    """Export as "csv" or "jsonld"; written atomically to `out` when given. Returns the text."""
    if fmt == "csv":
        text = to_csv(catalog, graph, model_sha256)
    elif fmt in ("jsonld", "json-ld"):
        text = to_jsonld(catalog, graph, model_sha256)
    else:
        raise CatalogError(f"unknown export format {fmt!r}: use csv or jsonld")
    if out is not None:
        write_atomic(out, text)
    return text


@dataclass(frozen=True)
class LabelImport:
    """What an import of curator labels did: rows applied and bad rows by line number."""

    applied: int
    problems: tuple[tuple[int, str], ...]


def import_labels(
    catalog: Catalog, path: str | Path, *, known: set[str] | None = None
) -> LabelImport:
    """Read curator labels from CSV and apply every good row in one transaction.

    The photo is found by a column id, sha256 or path (first present wins); the label by
    tradition (or curator_tradition), certainty (default confirmed when a tradition is
    given), note, tags ("; "-separated, added). `known`: the tradition ids allowed; a name
    outside it is reported unless it is written as new:Name (a tradition the curator adds).
    A CSV exported by `export` reads back as is.
    """
    source = Path(path)
    try:
        # newline="": a line break inside a quoted note is part of the note, not a new row.
        with source.open(encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except FileNotFoundError as exc:
        raise CatalogError(f"{source}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{source}: not UTF-8 text (save the sheet as CSV UTF-8)") from exc
    except OSError as exc:
        raise CatalogError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        # Read every row first: the csv module stops at a malformed row or a cell over its
        # field limit (128 KB), and nothing may be applied from a file it cannot read whole.
        header = reader.fieldnames or []
        raws = [(reader.line_num, raw) for raw in reader]
    except csv.Error as exc:
        raise CatalogError(
            f"{source}: cannot be read as CSV after line {reader.line_num} ({exc}); "
            "nothing was applied"
        ) from exc
    fields = {f.strip().lower() for f in header}
    if not fields & {"id", "sha256", "path"}:
        raise CatalogError(
            f"{source}: the header must name the photo by id, sha256 or path "
            f"(found: {', '.join(sorted(fields)) or 'no header'})"
        )
    problems: list[tuple[int, str]] = []
    todo: list[tuple[int, dict[str, Any]]] = []
    by_path = {shown(p.path): p.id for p in catalog.photos()}
    if known is not None:
        # Traditions a curator already added by hand are known from then on.
        known = known | {lab.tradition for lab in catalog.labels().values() if lab.tradition}
    for line, raw in raws:
        # Cells our own export guarded against formulas read back as the curator wrote them.
        row = {
            (k or "").strip().lower(): spreadsheet.unguard((v or "").strip())
            for k, v in raw.items()
            if k
        }
        if None in raw:
            problems.append((line, "more cells than header columns"))
            continue
        pid = _find_photo(catalog, row, by_path)
        if isinstance(pid, str):
            problems.append((line, pid))
            continue
        tradition = row.get("tradition") or row.get("curator_tradition") or ""
        if "curator_tradition" in row and "tradition" in row and "model_tradition" in row:
            tradition = row["curator_tradition"]  # our own export: the curator's column
        if tradition.startswith("new:"):
            tradition = tradition[4:].strip()
            if not tradition:
                problems.append((line, "new: needs a tradition name after it"))
                continue
        elif tradition and known is not None and tradition not in known:
            problems.append(
                (line, f"unknown tradition {tradition!r} (write new:{tradition} to add it)")
            )
            continue
        certainty = row.get("certainty", "").lower()
        if certainty and certainty not in CERTAINTIES:
            problems.append(
                (line, f"certainty {certainty!r} is not one of {', '.join(CERTAINTIES)}")
            )
            continue
        note = row.get("note", "")
        tags = [t.strip() for t in row.get("tags", "").split(";") if t.strip()]
        if not (tradition or certainty or note or tags):
            continue  # a row with nothing to say changes nothing
        todo.append(
            (pid, {"tradition": tradition, "certainty": certainty, "note": note, "tags": tags})
        )
    with catalog.transaction():
        for pid, item in todo:
            catalog.set_label(
                pid,
                tradition=item["tradition"] or None,
                certainty=item["certainty"] or None,
                note=item["note"] or None,
            )
            if item["tags"]:
                catalog.add_tags(pid, item["tags"])
    return LabelImport(len(todo), tuple(problems))


def _find_photo(catalog: Catalog, row: dict[str, str], by_path: dict[str, int]) -> int | str:
    if row.get("id"):
        try:
            pid = int(row["id"])
        except ValueError:
            return f"id {row['id']!r} is not a number"
        return pid if catalog.photo(pid) is not None else f"no photo with id {pid}"
    if row.get("sha256"):
        photo = catalog.photo_by_hash(row["sha256"].lower())
        return photo.id if photo else f"no photo with sha256 {row['sha256'][:12]}..."
    if row.get("path"):
        found = by_path.get(row["path"])
        return found if found is not None else f"no photo at {row['path']}"
    return "the row names no photo (id, sha256 or path is empty)"
