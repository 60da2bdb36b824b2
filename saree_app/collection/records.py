"""A Linked Art JSON-LD export read back into a catalogue: the same photos and records.

`saree export --format jsonld` writes each saree as a Linked Art HumanMadeObject; this reads
such a file (with rdflib, so any JSON-LD with the same terms will do, not only ours) into
records: the photo (its file's address and content hash), the curator's tradition and
certainty, the note and the tags. Importing it into a catalogue, a fresh one or the same one,
classifies the photos that are not there yet, found by their path (or, for a collection that
moved with its export, by file name beside the export file) and checked by content hash, then
gives each photo back its record. A record whose photo cannot be found or has changed is
reported with its reason and changes nothing; the others are applied.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from saree_app.collection.catalog import CERTAINTIES, Catalog, CatalogError
from saree_app.collection.export import SAREE_NS
from saree_app.collection.importer import ImportProgress, PredictorLike, Skipped, import_files

CRM = "http://www.cidoc-crm.org/cidoc-crm/"
LA = "https://linked.art/ns/terms/"
DCTERMS = "http://purl.org/dc/terms/"
NOTE_TYPE = "http://vocab.getty.edu/aat/300027200"
RECORDS_CAP = 200 * 1024 * 1024
_SHA = re.compile(r"[0-9a-f]{64}")


class RecordsError(CatalogError):
    """A file that cannot be read as Linked Art records, in plain words."""


@dataclass(frozen=True)
class Record:
    """One exported saree's photo and the curator's word on it."""

    name: str  # what the curator reads in a message: the object's label
    sha256: str | None
    path: str | None  # the photo's file, from its digital object's access point
    tradition: str | None = None  # the curator's, not the model's
    certainty: str | None = None
    note: str | None = None
    tags: tuple[str, ...] = ()
    accession: str | None = None  # the object the photo shows, if any
    role: str | None = None  # what the photo shows of it (whole, border, ...)


@dataclass(frozen=True)
class ObjectRecord:
    """One exported object: its accession number and record fields (its photos are Records
    with its accession number)."""

    accession: str
    fields: tuple[tuple[str, str], ...]


def is_records_source(text: str) -> bool:
    """True for a local JSON-LD file (.jsonld), or a .json file holding an @graph of Linked
    Art objects: what `saree import` reads as exported records rather than a IIIF manifest."""
    path = Path(text)
    if text.lower().startswith(("http://", "https://")) or not path.is_file():
        return False
    if path.suffix.lower() in (".jsonld", ".json-ld"):
        return True
    if path.suffix.lower() != ".json":
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"@graph"' in head and b"cidoc-crm" in head


def tradition_of(iri: str) -> str:
    """The tradition an exported IRI stands for: an ontology id, a curator's own name (decoded
    from its percent-encoded IRI) or an IRI the curator gave as the tradition."""
    own = f"{SAREE_NS}curator-tradition/"
    if iri.startswith(own):
        return unquote(iri[len(own) :])
    if iri.startswith(SAREE_NS):
        return iri[len(SAREE_NS) :]
    return iri


def path_of(uri: str, base: Path) -> str:
    """The file an access point names: a file: URI (percent-encoded bytes, so a name that is
    not UTF-8 comes back as the same bytes) or a path relative to the export's folder."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return os.fsdecode(unquote_to_bytes(parts.path))
    if parts.scheme and len(parts.scheme) > 1:
        return uri  # another kind of address: reported as not found
    return str(base / uri)


def read(path: str | Path) -> list[Record]:
    """The photo records of a Linked Art JSON-LD file; RecordsError when it is not one."""
    return read_all(path)[0]


def read_all(path: str | Path) -> tuple[list[Record], list[ObjectRecord]]:
    """The photo records and the objects of a Linked Art JSON-LD file; RecordsError when it
    is not one. An object's photos are records with its accession number."""
    import rdflib

    source = Path(path)
    try:
        if source.stat().st_size > RECORDS_CAP:
            raise RecordsError(f"{source}: larger than {RECORDS_CAP // 2**20} MB")
        text = source.read_text("utf-8")
    except FileNotFoundError as exc:
        raise RecordsError(f"{source}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise RecordsError(f"{source}: not UTF-8 text, so not a JSON-LD export") from exc
    except OSError as exc:
        raise RecordsError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordsError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    elsewhere = _context_elsewhere(data)
    if elsewhere is not None:
        # rdflib would fetch it: over the network (a remote address), or from a file named
        # relative to wherever the app was started. Neither is read.
        raise RecordsError(
            f"{source}: its @context is not written in the file but named as {elsewhere!r}; "
            "the app reads only a context written inside the file and never fetches one. "
            "Put the context into the file (saree export --format jsonld writes it so)"
        )
    g = rdflib.Graph()
    try:
        g.parse(data=text, format="json-ld")
    except Exception as exc:  # rdflib raises many kinds: any of them means "not JSON-LD"
        raise RecordsError(f"{source}: cannot be read as JSON-LD ({exc})") from exc
    hmo = rdflib.URIRef(CRM + "E22_Human-Made_Object")
    objects = sorted(set(g.subjects(rdflib.RDF.type, hmo)), key=str)
    if not objects:
        raise RecordsError(
            f"{source}: holds no Linked Art objects (HumanMadeObject); export one with "
            "saree export --format jsonld"
        )
    saree = rdflib.Namespace(SAREE_NS)
    records: list[Record] = []
    found: list[ObjectRecord] = []
    for obj in objects:
        accession = g.value(obj, saree.accession)
        if accession is None:
            records.append(_record(g, obj, source.parent))
            continue
        found.append(_object_record(g, obj, str(accession)))
        records.extend(_object_photos(g, obj, str(accession), source.parent))
    return records, found


def _context_elsewhere(data: Any) -> str | None:
    """The first context the JSON-LD `data` names instead of holding (an address or a file
    name given as @context, or @import in one), anywhere in it; None when every context is
    written inside. Only such a name makes rdflib read anything but the text it is given."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "@context":
                    for ctx in value if isinstance(value, list) else [value]:
                        if isinstance(ctx, str):
                            return ctx
                        if isinstance(ctx, dict) and isinstance(ctx.get("@import"), str):
                            return str(ctx["@import"])
                stack.append(value)
    return None


def _object_record(g: Any, obj: Any, accession: str) -> ObjectRecord:
    import rdflib

    from saree_app.collection.objects import FIELDS

    saree = rdflib.Namespace(SAREE_NS)
    fields = []
    for name in FIELDS:
        value = g.value(obj, saree[name])
        if value is not None:
            fields.append((name, str(value)))
    return ObjectRecord(accession, tuple(fields))


def _object_photos(g: Any, obj: Any, accession: str, base: Path) -> list[Record]:
    """The records of an object's photos: each digital object's file, hash, role and the
    curator's word on that photo."""
    import rdflib

    crm = rdflib.Namespace(CRM)
    la = rdflib.Namespace(LA)
    dc = rdflib.Namespace(DCTERMS)
    saree = rdflib.Namespace(SAREE_NS)
    out = []
    for visual in g.objects(obj, crm.P138i_has_representation):
        for digital in g.objects(visual, la.digitally_shown_by):
            sha = str(g.value(digital, dc.identifier) or "")
            tradition = g.value(digital, saree.curatorTradition)
            certainty = str(g.value(digital, saree.curatorCertainty) or "")
            out.append(
                Record(
                    name=f"{accession}: {g.value(digital, rdflib.RDFS.label) or 'photo'}",
                    sha256=sha if _SHA.fullmatch(sha) else None,
                    path=_file_of(g, digital, base),
                    tradition=tradition_of(str(tradition)) if tradition is not None else None,
                    certainty=certainty if certainty in CERTAINTIES else None,
                    note=_notes(g, digital),
                    tags=tuple(sorted(str(t) for t in g.objects(digital, saree.tag))),
                    accession=accession,
                    role=str(g.value(digital, saree.role) or "") or None,
                )
            )
    return sorted(out, key=lambda r: (r.path or "", r.sha256 or ""))


def _file_of(g: Any, digital: Any, base: Path) -> str | None:
    """The photo file a digital object names: its file: access point before any web address
    (a photo from IIIF has both: the copy the catalogue keeps, and the image on the server)."""
    import rdflib

    points = sorted(
        (str(p) for p in g.objects(digital, rdflib.URIRef(LA + "access_point"))),
        key=lambda p: (not p.startswith("file:"), p),
    )
    return path_of(points[0], base) if points else None


def _notes(g: Any, subject: Any) -> str | None:
    import rdflib

    crm = rdflib.Namespace(CRM)
    notes = [
        str(g.value(text, crm.P190_has_symbolic_content) or "")
        for text in g.objects(subject, crm.P67i_is_referred_to_by)
        if (text, crm.P2_has_type, rdflib.URIRef(NOTE_TYPE)) in g
    ]
    return "\n".join(n for n in notes if n) or None


def _record(g: Any, obj: Any, base: Path) -> Record:
    import rdflib

    crm = rdflib.Namespace(CRM)
    la = rdflib.Namespace(LA)
    dc = rdflib.Namespace(DCTERMS)
    saree = rdflib.Namespace(SAREE_NS)
    name = str(g.value(obj, rdflib.RDFS.label) or obj)
    sha = str(g.value(obj, dc.identifier) or "")
    if not _SHA.fullmatch(sha) and str(obj).startswith("urn:sha256:"):
        sha = str(obj)[len("urn:sha256:") :]
    path = None
    for visual in g.objects(obj, crm.P138i_has_representation):
        for digital in g.objects(visual, la.digitally_shown_by):
            path = _file_of(g, digital, base)
    tradition = certainty = None
    for production in g.objects(obj, crm.P108i_was_produced_by):
        for assignment in g.objects(production, crm.P140i_was_attributed_by):
            by_curator = any(
                (who, rdflib.RDF.type, crm.E21_Person) in g
                for who in g.objects(assignment, crm.P14_carried_out_by)
            )
            assigned = g.value(assignment, crm.P141_assigned)
            if not by_curator or assigned is None:
                continue
            tradition = tradition_of(str(assigned))
            for kind in g.objects(assignment, crm.P2_has_type):
                word = str(kind).removeprefix(f"{SAREE_NS}certainty-")
                if word in CERTAINTIES:
                    certainty = word
    if certainty is None:
        word = str(g.value(obj, saree.curatorCertainty) or "")
        certainty = word if word in CERTAINTIES else None
    tags = sorted(str(t) for t in g.objects(obj, saree.tag))
    return Record(
        name=name,
        sha256=sha if _SHA.fullmatch(sha) else None,
        path=path,
        tradition=tradition,
        certainty=certainty,
        note=_notes(g, obj),
        tags=tuple(tags),
    )


@dataclass
class RecordsImport:
    """Importing records into a catalogue: `steps()` imports the photos (progress as a
    folder's import) and then gives each its record; afterwards `applied` counts the records
    given back and `problems` says which could not be, and why."""

    catalog: Catalog
    source: Path
    predictor: PredictorLike
    batch_size: int = 8
    cancel: Callable[[], bool] | None = None
    records: list[Record] = field(default_factory=list)
    objects: list[ObjectRecord] = field(default_factory=list)
    applied: int = 0
    objects_made: int = 0
    problems: list[Skipped] = field(default_factory=list)

    _photo_of: dict[int, int] = field(default_factory=dict)  # record index -> photo id

    def steps(self) -> Iterator[ImportProgress]:
        self.records, self.objects = read_all(self.source)
        files: list[Path] = []
        found: dict[int, Path] = {}
        for i, rec in enumerate(self.records):
            where = self._find(rec)
            if isinstance(where, str):
                self.problems.append(Skipped(rec.path or rec.name, where))
            else:
                found[i] = where
                files.append(where)
        last = None
        if files:
            for last in import_files(
                self.catalog, files, self.predictor, batch_size=self.batch_size, cancel=self.cancel
            ):
                if last.finished or last.cancelled:
                    break
                yield last
        if last is not None and last.cancelled:
            yield last
            return
        self._apply(found)
        self._make_objects(found)
        done = len(self.records)
        added = last.added if last else 0
        already = last.already if last else 0
        skipped = (*(last.skipped if last else ()), *self.problems)
        yield ImportProgress(done, done, "", added, already, skipped, finished=True)

    def _find(self, rec: Record) -> Path | str:
        """The record's photo file, or why it cannot be used."""
        if rec.sha256 is not None:
            known = self.catalog.photo_by_hash(rec.sha256)
            if known is not None:
                return Path(known.path)
        candidates = []
        if rec.path:
            candidates.append(Path(rec.path))
            candidates.append(self.source.parent / Path(rec.path).name)
        for candidate in candidates:
            if not candidate.is_file():
                continue
            if rec.sha256 is None:
                return candidate
            try:
                sha = hashlib.sha256(candidate.read_bytes()).hexdigest()
            except OSError as exc:
                return f"cannot be read ({exc.strerror or exc})"
            if sha == rec.sha256:
                return candidate
            return (
                f"{candidate} is not the photo that was exported (its content has changed); "
                "its record was not applied"
            )
        if not rec.path:
            return f"{rec.name}: the record names no photo file"
        return f"photo not found there, nor beside {self.source.name}; its record was not applied"

    def _apply(self, found: dict[int, Path]) -> None:
        """Give each imported photo its record, in one transaction; a record already there is
        not written again (the label history keeps real changes only)."""
        with self.catalog.transaction():
            for i, where in found.items():
                rec = self.records[i]
                photo = self.catalog.photo_by_path(str(where))
                if photo is None:
                    try:
                        photo = self.catalog.photo_by_hash(
                            rec.sha256 or hashlib.sha256(where.read_bytes()).hexdigest()
                        )
                    except OSError:
                        photo = None
                if photo is None:
                    continue  # the importer said why it could not take the file
                old = self.catalog.label(photo.id)
                now = (old.tradition, old.certainty, old.note) if old else (None, None, None)
                want = (rec.tradition, rec.certainty, rec.note)
                if any(want) and want != now:
                    self.catalog.set_label(
                        photo.id,
                        tradition=rec.tradition,
                        certainty=rec.certainty,
                        note=rec.note,
                        keep=False,
                    )
                missing = [t for t in rec.tags if t not in self.catalog.tags(photo.id)]
                if missing:
                    self.catalog.add_tags(photo.id, missing)
                self.applied += 1
                self._photo_of[i] = photo.id

    def _make_objects(self, found: dict[int, Path]) -> None:
        """Each exported object again, with the photos that came in, in their roles: a new
        object, or the photos added to the catalogue's object of that accession number. A
        photo that already shows another object stays there, and that is reported."""
        from saree_app.collection import objects

        for rec in self.objects:
            members = [
                (self._photo_of[i], r.role)
                for i, r in enumerate(self.records)
                if r.accession == rec.accession and i in self._photo_of
            ]
            try:
                with self.catalog.transaction():
                    obj = objects.get_object(self.catalog, rec.accession)
                    if obj is None:
                        objects.create_object(self.catalog, rec.accession, dict(rec.fields))
                        self.objects_made += 1
                    free = []
                    for pid, role in members:
                        other = objects.object_of_photo(self.catalog, pid)
                        if other is None:
                            free.append((pid, role))
                        elif other.accession != rec.accession:
                            self.problems.append(
                                Skipped(
                                    f"object {rec.accession}",
                                    f"photo {pid} already shows object {other.accession}; "
                                    "it stays there",
                                    "other",
                                )
                            )
                    if free:
                        objects.add_photos(
                            self.catalog,
                            rec.accession,
                            [pid for pid, _ in free],
                            [objects.role(r) if r in objects.ROLES else None for _, r in free],
                        )
            except objects.ObjectError as exc:
                self.problems.append(Skipped(f"object {rec.accession}", f"{exc}; not made"))


def import_records(
    catalog: Catalog,
    source: str | Path,
    predictor: PredictorLike,
    *,
    batch_size: int = 8,
    cancel: Callable[[], bool] | None = None,
) -> RecordsImport:
    """An import of a Linked Art export's records into `catalog`; run its `steps()`."""
    return RecordsImport(catalog, Path(source), predictor, batch_size, cancel)
