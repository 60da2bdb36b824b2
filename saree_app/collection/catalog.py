"""The curator's catalogue in one sqlite file: photos, predictions, embeddings, labels, notes."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sqlite3
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.collection import side_files

# Marks a sqlite file as ours ("SARE" in ASCII), so a stranger's database is never migrated.
APPLICATION_ID = 0x53415245

# The parts an embedding can describe; "whole" is the whole-saree embedding.
PARTS = ("whole", "body", "border", "pallu")
# What else an embedding can be: "cloth" is the photo as the ImageNet trunk sees it
# (model/cloth.py), the features teaching compares; "cloth_tiles" its close-ups one by one.
EMBEDDING_KINDS = (*PARTS, "cloth", "cloth_tiles")

# A curator's certainty about an attribution, strongest first. Only "confirmed" labels teach the
# few-shot prototypes and pass the "confirmed only" filter.
CERTAINTIES = ("confirmed", "probable", "possible")


def _rebuilt_embeddings(*kinds: str) -> str:
    """A migration step that widens the embeddings table's CHECK to PARTS and `kinds`. SQLite
    cannot change a CHECK in place, so the table is rebuilt (rows copied as they are) and its
    triggers made again; the counter moves so no side file from before is trusted."""
    allowed = ", ".join(f"'{k}'" for k in (*PARTS, *kinds))
    return f"""
    CREATE TABLE embeddings_new (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_sha256 TEXT NOT NULL,
        part TEXT NOT NULL CHECK (part IN ({allowed})),
        vector BLOB NOT NULL,
        PRIMARY KEY (model_sha256, part, photo_id)
    );
    INSERT INTO embeddings_new (photo_id, model_sha256, part, vector)
        SELECT photo_id, model_sha256, part, vector FROM embeddings;
    DROP TABLE embeddings;
    ALTER TABLE embeddings_new RENAME TO embeddings;
    CREATE TRIGGER embeddings_inserted AFTER INSERT ON embeddings BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    CREATE TRIGGER embeddings_updated AFTER UPDATE ON embeddings BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    CREATE TRIGGER embeddings_deleted AFTER DELETE ON embeddings BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    """


# Each step takes the schema from version i to i + 1 and runs in one transaction with the
# version bump, so a crash mid-migration leaves the old, intact schema behind.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        exif_date TEXT,
        camera TEXT,
        added TEXT NOT NULL
    );
    CREATE INDEX photos_path ON photos(path);
    CREATE TABLE models (
        sha256 TEXT PRIMARY KEY,
        name TEXT,
        embedding_dim INTEGER,
        labels TEXT,
        first_used TEXT NOT NULL,
        last_used TEXT NOT NULL
    );
    CREATE TABLE predictions (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_sha256 TEXT NOT NULL,
        top_tradition TEXT,
        top_probability REAL,
        uncertain INTEGER NOT NULL DEFAULT 0,
        result TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (photo_id, model_sha256)
    );
    CREATE TABLE embeddings (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_sha256 TEXT NOT NULL,
        part TEXT NOT NULL CHECK (part IN ('whole', 'body', 'border', 'pallu')),
        vector BLOB NOT NULL,
        PRIMARY KEY (model_sha256, part, photo_id)
    );
    CREATE TABLE labels (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        tradition TEXT,
        certainty TEXT CHECK (certainty IS NULL
                              OR certainty IN ('confirmed', 'probable', 'possible')),
        note TEXT,
        updated TEXT NOT NULL
    );
    CREATE TABLE label_history (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tradition TEXT,
        certainty TEXT,
        note TEXT,
        at TEXT NOT NULL
    );
    CREATE TABLE tags (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (photo_id, tag)
    );
    """,
    # 2: a generation counter that changes with every embedding written, so the embedding
    # matrix can be kept in a side file and trusted only while the counter still matches.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta (key, value) VALUES ('embeddings_generation', 0);
    CREATE TRIGGER embeddings_inserted AFTER INSERT ON embeddings BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    CREATE TRIGGER embeddings_updated AFTER UPDATE ON embeddings BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    CREATE TRIGGER embeddings_deleted AFTER DELETE ON embeddings BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    """,
    # 3: cloth features beside the part embeddings (the table rebuilt to widen its CHECK).
    _rebuilt_embeddings("cloth"),
    # 4: a curator's corrected part map per photo (model/partmap.py): a small grey PNG of
    # labels 0-3 over the photo, who corrected it and when.
    """
    CREATE TABLE part_maps (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        labels BLOB NOT NULL,
        corrected_by TEXT,
        updated TEXT NOT NULL
    );
    """,
    # 5: objects (collection/objects.py): one saree under its accession number, with the
    # museum record's fields and the photos that show it, each in a role (whole, border
    # close-up, ...). A photo shows at most one object; removing a photo drops its membership,
    # never the object's record.
    """
    CREATE TABLE objects (
        id INTEGER PRIMARY KEY,
        accession TEXT NOT NULL UNIQUE,
        title TEXT,
        source TEXT,
        date_acquired TEXT,
        made_from TEXT,
        made_to TEXT,
        place_acquired TEXT,
        place_made TEXT,
        fibre TEXT,
        condition TEXT,
        notes TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE object_photos (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
        role TEXT NOT NULL DEFAULT 'whole',
        position INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX object_photos_object ON object_photos(object_id, position);
    """,
    # 6: counters beside embeddings_generation for the curator's labels and the stored answers,
    # so what is derived from one of them (similar search's filters) is rebuilt only when that
    # one changes: a label written must not make a million embeddings be read again.
    """
    INSERT OR IGNORE INTO meta (key, value) VALUES ('labels_generation', 0);
    INSERT OR IGNORE INTO meta (key, value) VALUES ('predictions_generation', 0);
    CREATE TRIGGER labels_inserted AFTER INSERT ON labels BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'labels_generation';
    END;
    CREATE TRIGGER labels_updated AFTER UPDATE ON labels BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'labels_generation';
    END;
    CREATE TRIGGER labels_deleted AFTER DELETE ON labels BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'labels_generation';
    END;
    CREATE TRIGGER predictions_inserted AFTER INSERT ON predictions BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'predictions_generation';
    END;
    CREATE TRIGGER predictions_updated AFTER UPDATE ON predictions BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'predictions_generation';
    END;
    CREATE TRIGGER predictions_deleted AFTER DELETE ON predictions BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'predictions_generation';
    END;
    """,
    # 7: stored answers compressed (see `pack_result`): no SQL, the rows are rewritten by the
    # Python step in MIGRATION_STEPS.
    "",
    # 8: each tile of the cloth features kept ("cloth_tiles", model/cloth.py), so teaching can
    # match a photo's close-ups one by one (the table rebuilt again, as in step 3).
    _rebuilt_embeddings("cloth", "cloth_tiles"),
    # 9: a photo in a tenth of the space: embeddings and cloth features as float16, and each
    # stored answer's evidence summed by kind (`compact_answer`). No SQL: the rows are
    # rewritten by the Python step in MIGRATION_STEPS.
    "",
    # 10: vectors as int8 with a float32 scale per block (`_blob`), half of float16's space.
    # No SQL: the rows are rewritten by the Python step in MIGRATION_STEPS.
    "",
    # 11: a photo in two thirds of the space (11.5 -> 7.4 KiB on 174 real photos). Each
    # model gets a small number (models.id) that the vectors carry instead of its
    # 64-character sha256, which every vector row and its key repeated; "embeddings" stays,
    # as a view with that sha256, so what reads or writes it by name works as before. Stored
    # answers name each term (tradition, region, attribute, reason in words) by its number in
    # the terms table, which keeps its label once (`_slim_answer`), and a photo's cloth
    # features keep their mean of tiles in the tiles (`_weighted_tiles`); the Python step
    # `_slim_rows` rewrites the rows.
    f"""
    CREATE TABLE models_new (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        name TEXT,
        embedding_dim INTEGER,
        labels TEXT,
        first_used TEXT NOT NULL,
        last_used TEXT NOT NULL
    );
    INSERT INTO models_new (sha256, name, embedding_dim, labels, first_used, last_used)
        SELECT sha256, name, embedding_dim, labels, first_used, last_used FROM models
        ORDER BY rowid;
    INSERT OR IGNORE INTO models_new (sha256, first_used, last_used)
        SELECT DISTINCT model_sha256, '', '' FROM embeddings;
    DROP TABLE models;
    ALTER TABLE models_new RENAME TO models;
    CREATE TABLE vectors (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model INTEGER NOT NULL REFERENCES models(id),
        part TEXT NOT NULL CHECK (part IN ({", ".join(f"'{k}'" for k in EMBEDDING_KINDS)})),
        vector BLOB NOT NULL,
        PRIMARY KEY (model, part, photo_id)
    );
    INSERT INTO vectors (photo_id, model, part, vector)
        SELECT e.photo_id, m.id, e.part, e.vector FROM embeddings e
        JOIN models m ON m.sha256 = e.model_sha256 ORDER BY e.rowid;
    DROP TABLE embeddings;
    CREATE VIEW embeddings AS
        SELECT v.photo_id AS photo_id, m.sha256 AS model_sha256, v.part AS part,
               v.vector AS vector
        FROM vectors v JOIN models m ON m.id = v.model;
    CREATE TRIGGER embeddings_insert INSTEAD OF INSERT ON embeddings BEGIN
        INSERT INTO models (sha256, first_used, last_used)
            SELECT NEW.model_sha256, '', '' WHERE NOT EXISTS
            (SELECT 1 FROM models WHERE sha256 = NEW.model_sha256);
        INSERT INTO vectors (photo_id, model, part, vector) VALUES (NEW.photo_id,
            (SELECT id FROM models WHERE sha256 = NEW.model_sha256), NEW.part, NEW.vector);
    END;
    CREATE TRIGGER embeddings_update INSTEAD OF UPDATE ON embeddings BEGIN
        UPDATE vectors SET photo_id = NEW.photo_id, part = NEW.part, vector = NEW.vector
            WHERE photo_id = OLD.photo_id AND part = OLD.part
            AND model = (SELECT id FROM models WHERE sha256 = OLD.model_sha256);
    END;
    CREATE TRIGGER embeddings_delete INSTEAD OF DELETE ON embeddings BEGIN
        DELETE FROM vectors WHERE photo_id = OLD.photo_id AND part = OLD.part
            AND model = (SELECT id FROM models WHERE sha256 = OLD.model_sha256);
    END;
    CREATE TRIGGER vectors_inserted AFTER INSERT ON vectors BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    CREATE TRIGGER vectors_updated AFTER UPDATE ON vectors BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    CREATE TRIGGER vectors_deleted AFTER DELETE ON vectors BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    END;
    CREATE TABLE terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, label TEXT);
    UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation';
    """,
    # 12: the side each photo's cloth tiles were read at (model/cloth.py TILE_SIZE), per photo
    # and model, so a photo read at another side is read again when its folder is imported
    # again (importer.add_cloth_features). Every cloth row stored before was read at 224.
    """
    CREATE TABLE cloth_reads (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model INTEGER NOT NULL REFERENCES models(id),
        tile_size INTEGER NOT NULL,
        PRIMARY KEY (model, photo_id)
    );
    INSERT INTO cloth_reads (photo_id, model, tile_size)
        SELECT DISTINCT photo_id, model, 224 FROM vectors WHERE part IN ('cloth', 'cloth_tiles');
    """,
    # 13: the cloth features at 4 bits a value (`_blob`, bits=4), 7.5 -> 6.2 KiB a photo on 174
    # real photos. Teaching matches them by cosine similarity, which 4 bits moves by about
    # 0.01 a close-up: on `saree bench real` the taught figures stayed within their draws'
    # spread (model card). No SQL: the Python step `_nibble_rows` rewrites the rows.
    "",
    # 14: stored answers without what follows from the rest of them (each ranked tradition's
    # score is the sum of its evidence, its probability the softmax of the scores), deflated
    # against words every answer uses (`_pack_lean`): 1.6 -> 1.1 KB an answer, every figure
    # read back to its last digit; the model's four embeddings at 4 bits a value, as the
    # cloth features since 13 (0.53 -> 0.28 KB a photo; on realdev the nearest photo is the
    # same for 90-95% of photos, as often of the same tradition: model card); and the file's
    # pages 16 KiB instead of 4 (set once the migration is done, `_resized`): a photo's rows
    # leave less of a page unused. No SQL: the Python step `_lean_rows` rewrites the rows.
    "",
]
SCHEMA_VERSION = len(MIGRATIONS)
COMPACTED = 9  # the schema from which vectors are float16 and answers compacted
QUANTIZED = 10  # the schema from which vectors are int8 with a scale per block
SLIM = 11  # the schema from which vectors name their model by number and answers are slim
CLOTH_READS = 12  # the schema from which the side each photo's cloth tiles were read at is kept
NIBBLES = 13  # the schema from which the cloth features are stored at 4 bits a value
LEAN = 14  # the schema from which answers leave out what follows from them, the model's
# embeddings are at 4 bits a value and pages are PAGE_SIZE
# sqlite's page for a new catalogue (and for an older one once it is upgraded to LEAN): a
# photo's rows (its vectors 2.2 KB, its answer 1.1) fill large pages better than 4 KiB ones,
# which left a fifth of each page unused (`saree bench import_`).
PAGE_SIZE = 16384
# The side cloth tiles were read at before it was kept (and for a photo whose side is unknown).
EARLIER_TILE_SIZE = 224


def pack_result(result: Mapping[str, Any]) -> bytes:
    """A stored answer (Prediction.to_dict()) as the catalogue keeps it: `compact_answer`,
    as compact JSON, zlib-compressed (read back by `unpack_result`)."""
    text = json.dumps(compact_answer(result), separators=(",", ":"))
    return zlib.compress(text.encode("utf-8"), 6)


def compact_answer(result: Mapping[str, Any]) -> dict[str, Any]:
    """A stored answer as the catalogue keeps it: each ranked tradition's evidence summed by
    kind (visual, attribute, fewshot, ...: [{"kind", "contribution"}]), everything else as it
    is. The lines of evidence in words were most of an answer's size (8.6 of 10.3 KB); what
    they are made from is kept (the "visual" ranking and the "attributes" probabilities), so
    they are fused again when wanted (collection/fewshot.refuse_stored,
    model/predict.fuse_visual), and the sums are what the object's answer adds up
    (collection/objects.py). An answer compacted already comes back the same."""
    out = dict(result)
    ranking = result.get("ranking")
    if isinstance(ranking, list):
        out["ranking"] = [_summed_by_kind(entry) for entry in ranking]
    return out


def _summed_by_kind(entry: Any) -> Any:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("evidence"), list):
        return entry
    kinds: dict[str, float] = {}
    for e in entry["evidence"]:
        if isinstance(e, Mapping):
            kind = str(e.get("kind", ""))
            kinds[kind] = kinds.get(kind, 0.0) + float(e.get("contribution") or 0.0)
    evidence = [{"kind": k, "contribution": round(c, 6)} for k, c in kinds.items()]
    return {**entry, "evidence": evidence}


def unpack_result(
    value: str | bytes,
    model_sha256: str | None = None,
    terms: Callable[[int], tuple[Any, str | None]] | None = None,
) -> dict[str, Any]:
    """The answer `pack_result` (or from schema 11 `_pack_slim`) stored; a text value is an
    answer stored before schema 7. A slim answer needs the row's model sha256 and the
    catalogue's terms (`terms(number)`: its name and label, Catalog does this) to come back
    whole: without them, the sha256 and labels it left out read None and terms their number."""
    if isinstance(value, bytes) and value[:1] == _LEAN_ANSWER:
        return _full_answer(_unpack_lean(value), model_sha256, terms or (lambda n: (n, None)))
    if isinstance(value, bytes) and value[:1] == _SLIM_ANSWER:
        return _full_answer(_unpack_slim(value), model_sha256, terms or (lambda n: (n, None)))
    text = zlib.decompress(value).decode("utf-8") if isinstance(value, bytes) else value
    out: dict[str, Any] = json.loads(text)
    return out


# Schema 11's stored answers (`_pack_slim`): this byte, then the slim answer as compact JSON,
# raw-deflated. An answer from before starts with zlib's own header (schema 7 to 10) or is text.
_SLIM_ANSWER = b"\x02"
# The lists of an answer kept as rows: each entry's keys, in order; the first is the term whose
# label (the second) the catalogue keeps once (the terms table), the row then holds 0 for it.
_ROWS: dict[str, tuple[str, ...]] = {
    "ranking": ("tradition", "label", "probability", "score", "known_to_model", "evidence"),
    "states": ("region", "label", "probability"),
    "cultural_regions": ("region", "label", "probability"),
    "attributes": ("term", "label", "probability"),
}
_ROWS_MARK = "~"  # a list kept as rows starts with this (an entry is never a bare string)
_EVIDENCE = ("kind", "contribution")


class _Ambiguous(Exception):
    """An answer whose slim form could not be read back the same (a number where a term's
    name belongs): it is kept as before."""


def _with_terms(answer: Mapping[str, Any], name: Callable[[Any], Any]) -> dict[str, Any]:
    """The answer with `name` applied to every term's name it holds (traditions, regions,
    attributes: the first of each row or entry of _ROWS, the traditions of "visual", of each
    part's ranking and of the answer set, the top tradition, the nearest prototype; and each
    reason for uncertainty without a figure in it); the lists of _ROWS may be entries or rows
    (`_slim_answer`)."""

    def first(x: Any) -> Any:
        return [name(x[0]), *x[1:]] if isinstance(x, list) and x else x

    out = dict(answer)
    if "tradition" in out:
        out["tradition"] = name(out["tradition"])
    for key, cols in _ROWS.items():
        v = out.get(key)
        if not isinstance(v, list):
            continue
        if v and isinstance(v[0], str) and v[0] == _ROWS_MARK:
            out[key] = [v[0], *(first(r) for r in v[1:])]
        else:
            out[key] = [
                {**e, cols[0]: name(e[cols[0]])} if isinstance(e, Mapping) and cols[0] in e else e
                for e in v
            ]
    if isinstance(out.get("visual"), list):
        out["visual"] = [first(x) for x in out["visual"]]
    if isinstance(out.get("parts"), list):
        out["parts"] = [
            {**p, "ranking": [first(x) for x in p["ranking"]]}
            if isinstance(p, Mapping) and isinstance(p.get("ranking"), list)
            else p
            for p in out["parts"]
        ]
    sets = out.get("answer_set")
    if isinstance(sets, Mapping) and isinstance(sets.get("traditions"), list):
        out["answer_set"] = {**sets, "traditions": [name(t) for t in sets["traditions"]]}
    seen = out.get("open_set")
    if isinstance(seen, Mapping) and "nearest_prototype" in seen:
        out["open_set"] = {**seen, "nearest_prototype": name(seen["nearest_prototype"])}
    reasons = out.get("uncertain_reasons")
    if isinstance(reasons, list):
        # The reasons in words repeat from photo to photo, but not those with a figure in.
        out["uncertain_reasons"] = [
            r if isinstance(r, str) and any(c.isdigit() for c in r) else name(r) for r in reasons
        ]
    return out


def _term_labels(answer: Mapping[str, Any]) -> dict[str, str | None]:
    """term -> label (None where the answer gives none) for every term an answer names (see
    `_with_terms`); a term named with two labels keeps its first."""
    out: dict[str, str | None] = {}
    if isinstance(answer.get("tradition"), str) and isinstance(answer.get("label"), str):
        out[answer["tradition"]] = answer["label"]
    for key, cols in _ROWS.items():
        entries = answer.get(key)
        if isinstance(entries, list):
            for e in entries:
                if isinstance(e, Mapping):
                    term, label = e.get(cols[0]), e.get("label")
                    if isinstance(term, str) and isinstance(label, str):
                        out.setdefault(term, label)

    def note(term: Any) -> Any:
        if isinstance(term, str):
            out.setdefault(term, None)
        return term

    _with_terms(answer, note)
    return out


def _slim_answer(
    answer: Mapping[str, Any], model_sha256: str, known: Mapping[str, tuple[int, str | None]]
) -> dict[str, Any] | None:
    """An answer (`compact_answer`ed) as schema 11 keeps it, read back the same by
    `_full_answer`: the model's sha256, which the row holds, as 0; each term the catalogue
    keeps (`known`: term -> (its number, its label)) by its number, and its label, where it
    is the one kept, as 0; the lists of _ROWS as rows of values in their keys' order, each
    line of summed evidence as [kind, contribution]. None for an answer in which a number
    would be ambiguous (a number where a string belongs): kept as before."""
    out = dict(answer)
    if "model_sha256" in out:
        if out["model_sha256"] == model_sha256:
            out["model_sha256"] = 0
        elif not isinstance(out["model_sha256"], str):
            return None
    if "label" in out:
        if not isinstance(out["label"], str):
            return None
        if known.get(str(out.get("tradition")), (0, None))[1] == out["label"]:
            out["label"] = 0
    for key, cols in _ROWS.items():
        entries = out.get(key)
        if not isinstance(entries, list):
            continue
        if not all(
            isinstance(e, Mapping) and tuple(e) == cols and isinstance(e["label"], str)
            for e in entries
        ):
            if entries and isinstance(entries[0], str) and entries[0] == _ROWS_MARK:
                return None  # it would read back as rows
            continue  # kept as it is
        rows: list[Any] = [_ROWS_MARK]
        for e in entries:
            row = [e[c] for c in cols]
            if known.get(str(row[0]), (0, None))[1] == row[1]:
                row[1] = 0
            if key == "ranking" and isinstance(row[5], list):
                if any(isinstance(x, list) for x in row[5]):
                    return None  # it would read back as a line of summed evidence
                row[5] = [
                    [x["kind"], x["contribution"]]
                    if isinstance(x, Mapping) and tuple(x) == _EVIDENCE
                    else x
                    for x in row[5]
                ]
            rows.append(row)
        out[key] = rows

    def number(term: Any) -> Any:
        if isinstance(term, int):  # bool too: read back it would be a term's number
            raise _Ambiguous
        if isinstance(term, str) and term in known:
            return known[term][0]
        return term

    try:
        return _with_terms(out, number)
    except _Ambiguous:
        return None


def _full_answer(
    slim: dict[str, Any], model_sha256: str | None, terms: Callable[[int], tuple[Any, str | None]]
) -> dict[str, Any]:
    """What `_slim_answer` kept, as it was: `terms(number)` gives the catalogue's term and
    label."""

    seen: dict[int, tuple[Any, str | None]] = {}

    def name(term: Any) -> Any:
        if type(term) is not int:
            return term
        if term not in seen:
            seen[term] = terms(term)
        return seen[term][0]

    out = _with_terms(slim, name)
    labels = dict(seen.values())
    if out.get("model_sha256") == 0 and type(out["model_sha256"]) is int:
        out["model_sha256"] = model_sha256
    if out.get("label") == 0 and type(out["label"]) is int:
        out["label"] = labels.get(str(out.get("tradition")))
    for key, cols in _ROWS.items():
        rows = out.get(key)
        if not (isinstance(rows, list) and rows and rows[0] == _ROWS_MARK):
            continue
        entries = []
        for row in rows[1:]:
            e = dict(zip(cols, row, strict=True))
            if type(e["label"]) is int:
                e["label"] = labels.get(str(e[cols[0]]))
            if key == "ranking" and isinstance(e["evidence"], list):
                e["evidence"] = [
                    dict(zip(_EVIDENCE, x, strict=True)) if isinstance(x, list) else x
                    for x in e["evidence"]
                ]
            entries.append(e)
        out[key] = entries
    return out


def _pack_slim(slim: Mapping[str, Any]) -> bytes:
    text = json.dumps(slim, separators=(",", ":")).encode("utf-8")
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _SLIM_ANSWER + squeeze.compress(text) + squeeze.flush()


def _unpack_slim(value: bytes) -> Any:
    """What `_pack_slim` kept."""
    return json.loads(zlib.decompress(value[1:], -15).decode("utf-8"))


def _pack_lean(slim: Mapping[str, Any]) -> bytes:
    """A slim answer as schema 14 keeps it: `_leave_derived`, then compact JSON deflated
    against _ANSWER_WORDS; as schema 11 (`_pack_slim`) where nothing could be left out."""
    lean = _leave_derived(slim)
    if lean is None:
        return _pack_slim(slim)
    text = json.dumps(lean, separators=(",", ":")).encode("utf-8")
    squeeze = zlib.compressobj(
        9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=_ANSWER_WORDS
    )
    return _LEAN_ANSWER + squeeze.compress(text) + squeeze.flush()


def _unpack_lean(value: bytes) -> Any:
    """What `_pack_lean` kept, back as the slim answer it was."""
    inflate = zlib.decompressobj(-15, zdict=_ANSWER_WORDS)
    text = inflate.decompress(value[1:]) + inflate.flush()
    if not inflate.eof:
        raise zlib.error("the answer is cut short")
    return _restore_derived(json.loads(text.decode("utf-8")))


# Schema 14's stored answers (`_pack_lean`): this byte, then the answer raw-deflated against
# the words below. Deflate finds in them what every answer repeats, which a short answer
# would otherwise spell out once itself (a third of it). They are part of the format: an
# answer packed against other words cannot be read back, so they never change (a test holds
# them to their sha256); other words would need a byte of their own.
_LEAN_ANSWER = b"\x03"
_ANSWER_WORDS = (
    # The reasons for doubt with a figure in them, which each answer spells out (those
    # without one are terms, kept once).
    b'"uncertain_reasons":["little of the photo looks like saree cloth (5% of it); it may '
    b'not be a saree, or the saree fills only a corner of the photo","the photo looks unlike '
    b"every tradition the model was trained on (closest: , similarity 0.40, usual at least "
    b'0.56); it may be a tradition the model does not know","the parts do not back the '
    b"answer : on their own the border looks like , the pallu like ; an unusual combination, "
    b'perhaps a tradition the model does not know","the visual evidence is weak: the best '
    b'match, , has only 50%"," and  are nearly tied (40% vs 38%)","on your confirmed photos, '
    b"answers whose first tradition was no more than 2.5 times as likely as the second, as "
    b'here, were right less often than 85% of the time"],'
    b'{"source":"","model_sha256":0,"photo_size":[1000,750],"tradition":1,"label":0,'
    b'"probability":0.5,"uncertain":true,"uncertain_reasons":[],"ranking":["~",'
    + b",".join(
        b'[%d,0,"=","=",%s,[["visual",-0.144294],["attribute",-1.1],["other",0.05]]]'
        % (i, b"true" if i % 2 else b"false")
        for i in range(1, 9)
    )
    + b'],"visual":[[1,0.9],[2,0.01],[3,0.001],[4,1e-05],[5,0.0]],'
    b'"states":["~",[30,0,0.5],[31,0,0.01]],"cultural_regions":["~",[41,0,0.5],[42,0,0.01]],'
    b'"part_map":"model","parts":[{"part":"body","area":0.2,"ranking":[[1,0.5],[2,0.1]]},'
    b'{"part":"border","area":0.1,"ranking":[[1,0.5],[2,0.1]]},'
    b'{"part":"pallu","area":0.1,"ranking":[[1,0.5],[2,0.1]]}],'
    b'"attributes":["~",[47,0,0.99],[48,0,0.001],[49,0,1e-05],[50,0,0.0]],'
    b'"open_set":{"top_probability":0.9,"margin":0.9,"prototype_similarity":0.6,'
    b'"nearest_prototype":1,"saree_area":0.3,"part_agreement":0.4,"energy":6.1,'
    b'"novelty":-0.06},"answer_set":{"traditions":[1,2,3],"level":0.9,"calibrated_on":0},'
    b'"fewshot":{}}'
)
_DERIVED = "="  # a figure left out: it follows from the rest of the answer
# A score left out, and what to add to its evidence's sum: a third of fusion's scores, rounded
# to 6 decimals before their evidence was, are a millionth off that sum.
_SCORE_MARKS = {_DERIVED: 0.0, "=+": 1e-6, "=-": -1e-6}


def _ranked_rows(slim: Mapping[str, Any]) -> list[list[Any]] | None:
    """The slim answer's ranking rows (`_ROWS`), each [tradition, label, probability, score,
    known_to_model, [[kind, contribution], ...]]; None where the ranking is not so."""
    rows = slim.get("ranking")
    if not (isinstance(rows, list) and len(rows) > 1 and rows[0] == _ROWS_MARK):
        return None
    for row in rows[1:]:
        if not (isinstance(row, list) and len(row) == 6 and isinstance(row[5], list)):
            return None
        for line in row[5]:
            if not (
                isinstance(line, list)
                and len(line) == 2
                and isinstance(line[0], str)
                and type(line[1]) in (int, float)
            ):
                return None
    return rows[1:]


def _score_of(row: Sequence[Any]) -> float:
    """A ranked tradition's score as its evidence adds up, to the 6 decimals answers keep.
    fsum: the same figure on every machine, whatever the order of additions."""
    return round(math.fsum(float(line[1]) for line in row[5]), 6)


def _probabilities_of(scores: Sequence[float], spread: float = 1.0) -> list[float]:
    """The softmax of the scores / `spread` (as fusion reads them: the answer's "spread",
    after teaching), to the 6 decimals answers keep."""
    top = max(scores)
    weights = [math.exp((s - top) / spread) for s in scores]
    total = math.fsum(weights)
    return [round(w / total, 6) for w in weights]


def answer_spread(answer: Mapping[str, Any]) -> float:
    """The spread a stored answer's probabilities were read at (FusionWeights.spread: 1 where
    it says none, or nonsense)."""
    value = answer.get("spread", 1.0)
    if type(value) in (int, float) and math.isfinite(value) and value > 0:
        return float(value)
    return 1.0


def _leave_derived(slim: Mapping[str, Any]) -> dict[str, Any] | None:
    """The slim answer with each ranked tradition's score and probability left out (as
    _DERIVED; a score a millionth off as the other _SCORE_MARKS) where they are exactly what
    `_score_of` and `_probabilities_of` make of the rest; None where a mark already stands
    for a figure (it would be read back as one)."""
    out = dict(slim)
    rows = _ranked_rows(slim)
    if rows is None:
        return out
    if any(isinstance(x, str) and x in _SCORE_MARKS for row in rows for x in row[2:4]):
        return None
    lean = [list(row) for row in rows]
    scores = [row[3] for row in rows]
    for row in lean:
        if type(row[3]) is not float:
            continue
        total = _score_of(row)
        row[3] = next((m for m, d in _SCORE_MARKS.items() if row[3] == round(total + d, 6)), row[3])
    if all(type(s) in (int, float) for s in scores):
        for row, p in zip(lean, _probabilities_of(scores, answer_spread(slim)), strict=True):
            if type(row[2]) is float and row[2] == p:
                row[2] = _DERIVED
    out["ranking"] = [_ROWS_MARK, *lean]
    return out


def _restore_derived(lean: Any) -> Any:
    """What `_leave_derived` left out, made again from the rest of the answer."""
    if not isinstance(lean, dict):
        return lean
    rows = _ranked_rows(lean)
    if rows is None:
        return lean
    for row in rows:
        if isinstance(row[3], str) and row[3] in _SCORE_MARKS:
            row[3] = round(_score_of(row) + _SCORE_MARKS[row[3]], 6)
    if any(row[2] == _DERIVED for row in rows):
        probabilities = _probabilities_of([float(row[3]) for row in rows], answer_spread(lean))
        for row, p in zip(rows, probabilities, strict=True):
            if row[2] == _DERIVED:
                row[2] = p
    return lean


def _compress_answers(db: sqlite3.Connection) -> None:
    """Schema 7's Python step: every answer stored as text rewritten by `pack_result`. An
    answer that is not JSON is left as it is (reading it says so, as before)."""
    last = 0
    while True:
        rows = db.execute(
            "SELECT rowid, result FROM predictions WHERE rowid > ? AND typeof(result) = 'text'"
            " ORDER BY rowid LIMIT 500",
            (last,),
        ).fetchall()
        if not rows:
            return
        packed = []
        for rowid, text in rows:
            try:
                packed.append((pack_result(json.loads(text)), rowid))
            except ValueError:
                continue
        db.executemany("UPDATE predictions SET result = ? WHERE rowid = ?", packed)
        last = int(rows[-1][0])


def _rewrite_rows(
    db: sqlite3.Connection,
    table: str,
    column: str,
    rewrite: Callable[[tuple[Any, ...]], Any],
    *,
    also: str = "",
    batch: int = 2000,
) -> None:
    """A migration's Python step over a whole table, `batch` rows at a time: each row's
    `column` (after the `also` columns, comma-led) becomes `rewrite((value, *also))`; a row
    whose rewrite returns None is left as it is."""
    last = 0
    while True:
        rows = db.execute(
            f"SELECT rowid{also}, {column} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, batch),
        ).fetchall()
        if not rows:
            return
        changed = []
        for row in rows:
            value = rewrite(tuple(row[1:]))
            if value is not None:
                changed.append((value, row[0]))
        db.executemany(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", changed)
        last = int(rows[-1][0])


def _compact_rows(db: sqlite3.Connection) -> None:
    """Schema 9's Python step: every embedding rewritten from float32 to float16, every
    stored answer repacked by `pack_result` (its evidence summed by kind). An answer that
    cannot be read is left as it is (reading it says so, as before)."""

    def halved(row: tuple[Any, ...]) -> bytes | None:
        try:
            old = np.frombuffer(row[0], dtype="<f4")
        except ValueError:  # not float32 rows (damaged by hand): left as they are
            return None
        return np.clip(old, -_FLOAT16_MAX, _FLOAT16_MAX).astype(_STORED).tobytes()

    def packed(row: tuple[Any, ...]) -> bytes | None:
        try:
            return pack_result(unpack_result(row[0]))
        except (ValueError, zlib.error, TypeError):
            return None

    _rewrite_rows(db, "embeddings", "vector", halved)
    _rewrite_answers(db, packed)


def _rewrite_answers(
    db: sqlite3.Connection, rewrite: Callable[[tuple[Any, ...]], Any], *, also: str = ""
) -> None:
    """`_rewrite_rows` over the stored answers, for a migration that repacks them: the answers
    mean what they meant, so what is derived from them (similar search's filters) stays valid
    and their counter is left where it was."""
    counter = db.execute("SELECT value FROM meta WHERE key = 'predictions_generation'").fetchone()
    _rewrite_rows(db, "predictions", "result", rewrite, also=also, batch=500)
    if counter is not None:
        db.execute(
            "UPDATE meta SET value = ? WHERE key = 'predictions_generation'", (int(counter[0]),)
        )


def _quantize_rows(db: sqlite3.Connection) -> None:
    """Schema 10's Python step: every embedding rewritten from float16 to int8 blocks
    (`_blob`). A row that is not float16 (damaged by hand) is left as it is."""

    def quantized(row: tuple[Any, ...]) -> bytes | None:
        part, vector = row
        try:
            old = np.frombuffer(vector, dtype=_STORED)
        except ValueError:
            return None
        return _blob(old, _QUANTIZED, _block_count(part, old.size))

    _rewrite_rows(db, "embeddings", "vector", quantized, also=", part")


def _known_terms(
    db: sqlite3.Connection, answer: Mapping[str, Any]
) -> dict[str, tuple[int, str | None]]:
    """term -> (its number, its label) in the catalogue (the terms table) for each term an
    answer names, those it did not have yet added from the answer (a label given for the
    first time is kept from then on): what `_slim_answer` may then leave out."""
    wanted = _term_labels(answer)
    if not wanted:
        return {}
    names = list(wanted)
    known: dict[str, tuple[int, str | None]] = {}
    for s in range(0, len(names), 500):
        chunk = names[s : s + 500]
        marks = ",".join("?" * len(chunk))
        for number, term, label in db.execute(
            f"SELECT id, term, label FROM terms WHERE term IN ({marks})", chunk
        ):
            known[str(term)] = (int(number), label)
    for term, label in wanted.items():
        if term not in known:
            cur = db.execute("INSERT INTO terms (term, label) VALUES (?, ?)", (term, label))
            known[term] = (int(cur.lastrowid or 0), label)
        elif known[term][1] is None and label is not None:
            db.execute("UPDATE terms SET label = ? WHERE id = ?", (label, known[term][0]))
            known[term] = (known[term][0], label)
    return known


def _slim_rows(db: sqlite3.Connection) -> None:
    """Schema 11's Python step (after its SQL moved the vectors to their model's number):
    every stored answer repacked slim (`_slim_answer`, its labels into the terms table); every
    cloth description with tiles kept slim where its mean of tiles comes back from them
    (`_weighted_tiles`): the tiles rewritten first, then the head of each photo whose tiles
    were, cut to the whole picture. An answer or a vector that cannot be read is left as it
    is (reading it says so, as before)."""

    def slimmed(row: tuple[Any, ...]) -> bytes | None:
        sha, value = row
        try:
            answer = unpack_result(value)
        except (ValueError, zlib.error, TypeError, UnicodeDecodeError):
            return None
        if not isinstance(answer, dict):
            return None
        slim = _slim_answer(answer, str(sha), _known_terms(db, answer))
        return None if slim is None else _pack_slim(slim)

    def weighted(row: tuple[Any, ...]) -> bytes | None:
        part, head, vector = row
        if part != "cloth_tiles" or not head or not vector or (head[0] | vector[0]) & _MARKED:
            return None
        try:
            return _weighted_tiles(_vectors(head)[0], _vectors(vector)[0])
        except (ValueError, CatalogError):
            return None

    def cut(row: tuple[Any, ...]) -> bytes | None:
        part, tiles, vector = row
        if part != "cloth" or not tiles or not tiles[0] & _MARKED or not vector:
            return None
        if vector[0] != 2 or (len(vector) - 9) % 2:
            return None
        return _whole_of(vector)

    _rewrite_answers(db, slimmed, also=", model_sha256")
    other = (
        "(SELECT o.vector FROM vectors o WHERE o.model = vectors.model"
        " AND o.photo_id = vectors.photo_id AND o.part = '{}')"
    )
    _rewrite_rows(
        db,
        "vectors",
        "vector",
        weighted,
        also=f", part, CASE part WHEN 'cloth_tiles' THEN {other.format('cloth')} END",
    )
    _rewrite_rows(
        db,
        "vectors",
        "vector",
        cut,
        also=f", part, CASE part WHEN 'cloth' THEN {other.format('cloth_tiles')} END",
    )


def _nibble_rows(db: sqlite3.Connection, parts: tuple[str, ...] = ("cloth", "cloth_tiles")) -> None:
    """Schema 13's Python step: every cloth row at 8 bits rewritten at 4 (`_blob`), block by
    block, each block keeping its length and the row its mark (a slim head stays the whole
    picture alone, slim tiles still sum to the mean of tiles, to within 4 bits' rounding);
    schema 14's the same for the model's own embeddings (`parts`). A row that cannot be
    read is left as it is (reading it says so, as before)."""

    def halved(row: tuple[Any, ...]) -> bytes | None:
        part, vector = row
        if part not in parts or not vector or vector[0] & _NIBBLES:
            return None
        try:
            values = _vectors(vector)[0]
        except (ValueError, CatalogError):
            return None
        blocks = int(vector[0]) & _COUNT
        return _blob(values, _QUANTIZED, blocks, marked=bool(vector[0] & _MARKED), bits=4)

    _rewrite_rows(db, "vectors", "vector", halved, also=", part")


def _lean_rows(db: sqlite3.Connection) -> None:
    """Schema 14's Python step: every slim answer repacked lean (`_pack_lean`), each the same
    answer to its last digit. An answer that cannot be read is left as it is (reading it says
    so, as before); so is any other (older ones are made slim by step 11 first). Then the
    model's own embeddings at 4 bits a value, as the cloth features were at 13."""

    def lean(row: tuple[Any, ...]) -> bytes | None:
        (value,) = row
        if not isinstance(value, bytes) or value[:1] != _SLIM_ANSWER:
            return None
        try:
            slim = _unpack_slim(value)
        except (ValueError, zlib.error, UnicodeDecodeError):
            return None
        return _pack_lean(slim) if isinstance(slim, dict) else None

    _rewrite_answers(db, lean)
    _nibble_rows(db, PARTS)


# Python steps of a migration, for data that SQL alone cannot rewrite: run after that
# version's SQL, inside the same transaction (a crash leaves the old schema and data intact).
MIGRATION_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    7: _compress_answers,
    9: _compact_rows,
    10: _quantize_rows,
    11: _slim_rows,
    13: _nibble_rows,
    14: _lean_rows,
}


class CatalogError(Exception):
    """A catalogue that cannot be opened or an operation that cannot be done, in plain words."""


class EmptyCatalogue(CatalogError):
    """An empty file given as a catalogue to open: refused, not made into one."""


@dataclass(frozen=True)
class Photo:
    """One photo of the collection (identified by its content, found at `path`)."""

    id: int
    path: str
    sha256: str
    size: int
    width: int | None
    height: int | None
    exif_date: str | None
    camera: str | None
    added: str


@dataclass(frozen=True)
class Label:
    """The curator's current word on a photo; any field may be empty."""

    photo_id: int
    tradition: str | None
    certainty: str | None
    note: str | None
    updated: str


@dataclass(frozen=True)
class StoredPrediction:
    """A model's answer for one photo as stored: the summary columns and Prediction.to_dict()."""

    photo_id: int
    model_sha256: str
    top_tradition: str | None
    top_probability: float | None
    uncertain: bool
    result: dict[str, Any]
    created: str


@dataclass(frozen=True)
class PartCorrection:
    """A curator's corrected part map for one photo: labels (0 background, 1 body, 2 border,
    3 pallu; a grid over the photo, 64 x 64 or along a long one, partmap.grid_for), who
    corrected it and when."""

    photo_id: int
    labels: np.ndarray
    corrected_by: str | None
    updated: str


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (a container, a service)
        return None


@dataclass(frozen=True)
class NewPhoto:
    """What the importer knows about a photo before it goes into the catalogue."""

    path: str
    sha256: str
    size: int
    width: int | None = None
    height: int | None = None
    exif_date: str | None = None
    camera: str | None = None


def now() -> str:
    """UTC time stamp, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


# Embeddings and cloth features were float16 from schema 9; from schema 10 they are int8
# (`_QUANTIZED`) with one float32 scale per block, a quarter of float32's space.
_STORED = "<f2"
_QUANTIZED = "q8"
_FLOAT16_MAX = 65504.0


# The first byte of a quantized vector is its block count; this bit marks, from schema 11, a
# cloth description kept slim (`_weighted_tiles`): its "cloth" row the whole picture alone, its
# "cloth_tiles" row each tile at a length that makes the mean of tiles again.
_MARKED = 0x80
# And this one, from schema 13, values at 4 bits (-7..7, two to a byte, the first in the high
# half), not 8; the block count is what is left.
_NIBBLES = 0x40
_COUNT = 0x3F
# How far (1 - cosine) the mean of tiles made again from the tiles may be from the one given
# for it to be left out; int8 rounding alone moves it by about 5e-5 (at most 1e-4 measured).
_MEAN_TOLERANCE = 5e-4


def _block_count(part: str, size: int) -> int:
    """How many blocks a stored vector is quantized in: each cloth block is unit length on its
    own (model/cloth.py: "cloth" is whole | mean of tiles, "cloth_tiles" each tile), so each
    keeps its own scale and its length; any other vector is one block."""
    from saree_app.model.cloth import TILES

    blocks = {"cloth": 2, "cloth_tiles": TILES * TILES}.get(part, 1)
    return blocks if size and size % blocks == 0 else 1


def _blob(
    vector: np.ndarray,
    stored: str = _QUANTIZED,
    blocks: int = 1,
    *,
    marked: bool = False,
    bits: int = 8,
) -> bytes:
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    if v.size and not (np.isfinite(v).all() and float(np.abs(v).max()) <= _FLOAT16_MAX):
        raise CatalogError(
            "an embedding holds a value that is not a number or too large to store "
            f"(beyond {_FLOAT16_MAX:g}); nothing was written"
        )
    if stored != _QUANTIZED:
        return np.ascontiguousarray(v, dtype=stored).tobytes()
    # [blocks: uint8][scale per block: float32][values: int8, or 4 bits two to a byte]. Each
    # scale is chosen so the block read back has the length it had (cloth.py checks its
    # blocks are equally long, and cosine similarities then move only with the direction, by
    # about 1e-4 at 8 bits, 1e-2 at 4). 4 bits only where every block fills whole bytes.
    rows = v.reshape(blocks, -1) if v.size else v.reshape(1, 0)
    nibbles = bits == 4 and rows.shape[1] % 2 == 0
    top = 7.0 if nibbles else 127.0
    peak = np.abs(rows).max(axis=1, keepdims=True) if v.size else np.zeros((1, 1), np.float32)
    steps = np.divide(rows * top, peak, out=np.zeros_like(rows), where=peak > 0)
    q = np.clip(np.rint(steps), -top, top).astype(np.int8)
    length = np.linalg.norm(rows, axis=1)
    q_length = np.linalg.norm(q.astype(np.float32), axis=1)
    scales = np.divide(length, q_length, out=np.zeros_like(length), where=q_length > 0)
    head = rows.shape[0] | (_MARKED if marked else 0) | (_NIBBLES if nibbles else 0)
    if nibbles:
        pairs = (q.reshape(-1, 2) + 8).astype(np.uint8)
        values = ((pairs[:, 0] << 4) | pairs[:, 1]).astype(np.uint8).tobytes()
    else:
        values = q.tobytes()
    return bytes([head]) + scales.astype("<f4").tobytes() + values


def _vectors(blob: bytes, rows: int = 1, stored: str = _QUANTIZED) -> np.ndarray:
    """Stored vectors (`_blob`, `rows` of them joined, each as long) as float32, one row per
    vector, decoded all at once."""
    if stored != _QUANTIZED:
        return np.frombuffer(blob, dtype=stored).astype(np.float32).reshape(rows, -1)
    raw = np.frombuffer(blob, dtype=np.uint8).reshape(rows, -1)
    if rows == 0:
        return np.zeros((0, 0), dtype=np.float32)
    blocks = int(raw[0, 0]) & _COUNT
    if blocks == 0 or not (raw[:, 0] == raw[0, 0]).all():
        raise CatalogError("stored embeddings are quantized in differing blocks")
    scales = np.ascontiguousarray(raw[:, 1 : 1 + 4 * blocks]).view("<f4")
    body = raw[:, 1 + 4 * blocks :]
    if raw[0, 0] & _NIBBLES:
        halves = np.stack([body >> 4, body & 0x0F], axis=-1).reshape(rows, -1)
        values = halves.astype(np.float32) - 8.0
    else:
        values = body.view(np.int8).astype(np.float32)
    values = values.reshape(rows, blocks, -1) * scales[:, :, None]
    return values.reshape(rows, -1)


def _weighted_tiles(head: np.ndarray, tiles: np.ndarray, bits: int = 8) -> bytes | None:
    """A photo's cloth tiles (unit rows, model/cloth.py) stored so that the mean of tiles in
    its head ([whole | mean of tiles]) need not be: the mean is the unit sum of the raw tile
    features, so it lies in the span of the unit tiles; each tile is stored at the length
    that sums to it (least squares), marked (`_MARKED`), at `bits` a value. None, and the
    head kept whole, where the tiles stored that way do not give the mean back within
    _MEAN_TOLERANCE, or at 4 bits as closely as the mean stored itself would be read back
    (on 174 real photos 0.002 against 0.013 at the median: the tiles' rounding averages
    out)."""
    from saree_app.model.cloth import TILES

    n = TILES * TILES
    head = np.asarray(head, dtype=np.float64).reshape(-1)
    tiles = np.asarray(tiles, dtype=np.float64).reshape(-1)
    dim = head.size // 2
    if dim == 0 or head.size != 2 * dim or tiles.size != n * dim:
        return None
    mean = head[dim:]
    units = tiles.reshape(n, dim)
    lengths = np.linalg.norm(units, axis=1)
    if float(np.linalg.norm(mean)) <= 0 or float(lengths.min()) <= 0:
        return None
    mean = mean / np.linalg.norm(mean)
    units = units / lengths[:, None]
    weights = np.linalg.lstsq(units.T, mean, rcond=None)[0]
    if not (weights > 0).all():
        return None
    blob = _blob((units * weights[:, None]).ravel(), _QUANTIZED, n, marked=True, bits=bits)
    back = _vectors(blob)[0].reshape(n, dim).sum(axis=0).astype(np.float64)
    limit = _MEAN_TOLERANCE
    if bits != 8:
        own = _vectors(_blob(mean, _QUANTIZED, bits=bits))[0].astype(np.float64)
        limit = max(limit, 1.0 - float(own @ mean) / float(np.linalg.norm(own)))
    if 1.0 - float(back @ mean) / float(np.linalg.norm(back)) > limit:
        return None
    return blob


def _whole_of(head: bytes) -> bytes:
    """A quantized two-block cloth head cut to its first block (the whole picture), marked:
    the same bytes for that block, its scale with it (at 4 bits as at 8: `_blob` packs 4
    bits only where each block fills whole bytes)."""
    kept = 1 | _MARKED | (head[0] & _NIBBLES)
    return bytes([kept]) + head[1:5] + head[1 + 4 * 2 :][: (len(head) - 1 - 8) // 2]


def _unit_blocks(matrix: np.ndarray, blocks: int) -> np.ndarray:
    rows = matrix.reshape(matrix.shape[0], blocks, -1)
    norms = np.linalg.norm(rows, axis=2, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0).reshape(
        matrix.shape[0], -1
    )


def _decoded(
    part: str, blobs: Sequence[bytes], tiles: Sequence[bytes | None], stored: str
) -> np.ndarray:
    """Stored rows of one part as float32, one row per photo, as the app takes them: a slim
    cloth head ([whole] alone) with the mean of tiles made again from its marked tiles
    (`tiles`, the same photo's "cloth_tiles" rows, needed for those only), marked tiles each
    unit length again. Rows of differing kinds are decoded apart; CatalogError where they do
    not come out one width."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    quantized = stored == _QUANTIZED
    groups: dict[tuple[int, int], list[int]] = {}
    whole = b""
    if len(set(map(len, blobs))) == 1:  # the usual case, told apart at numpy's speed
        whole = b"".join(blobs)
        firsts = np.frombuffer(whole, dtype=np.uint8).reshape(len(blobs), -1)[:, :1]
        if not quantized or firsts.size == 0:
            groups[(len(blobs[0]), -1)] = list(range(len(blobs)))
        elif (firsts == firsts[0]).all():
            groups[(len(blobs[0]), int(firsts[0, 0]))] = list(range(len(blobs)))
    if not groups:
        whole = b""
        for i, b in enumerate(blobs):
            groups.setdefault((len(b), b[0] if quantized and b else -1), []).append(i)
    out: np.ndarray | None = None
    for (_size, head), at in groups.items():
        joined = whole if len(groups) == 1 and whole else b"".join(blobs[i] for i in at)
        matrix = _vectors(joined, len(at), stored)
        if head >= 0 and head & _MARKED:
            from saree_app.model.cloth import TILES  # only here: it loads the imaging stack

            if part == "cloth_tiles":
                matrix = _unit_blocks(matrix, TILES * TILES)
            elif part == "cloth":
                own = [tiles[i] for i in at]
                if any(t is None or not t or not t[0] & _MARKED for t in own):
                    raise CatalogError("a photo's cloth features are damaged: their tiles are gone")
                raw = _vectors(b"".join(t for t in own if t is not None), len(at), stored)
                mean = raw.reshape(len(at), TILES * TILES, -1).sum(axis=1)
                matrix = np.concatenate([matrix, _unit_blocks(mean, 1)], axis=1)
        if len(groups) == 1:
            return matrix.astype(np.float32, copy=False)
        if out is None:
            out = np.empty((len(blobs), matrix.shape[1]), dtype=np.float32)
        if matrix.shape[1] != out.shape[1]:
            raise CatalogError(
                f"stored embeddings have mixed sizes {{{out.shape[1]}, {matrix.shape[1]}}}"
            )
        out[at] = matrix
    assert out is not None
    return out


def _stored_type(version: int) -> str:
    """How a catalogue of this schema version stores vectors: float32 before schema 9,
    float16 before schema 10."""
    if version >= QUANTIZED:
        return _QUANTIZED
    return _STORED if version >= COMPACTED else "<f4"


class Catalog:
    """One collection's catalogue file. Safe to share between threads (one lock, one connection).

    Every write is its own transaction (or a caller's `transaction()` block), so a process killed
    at any moment leaves a consistent file: each photo is either fully in, or not at all.
    """

    def __init__(self, path: str | Path, *, create: bool = True, timeout: float = 30.0) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise CatalogError(f"{self.path}: no such catalogue")
        if self.path.is_dir():
            raise CatalogError(f"{self.path}: this is a folder; give a catalogue file name")
        if not self.path.parent.exists():
            raise CatalogError(f"{self.path}: the folder {self.path.parent} does not exist")
        if not create and _empty_file(self.path):
            # sqlite would take an empty file for a new catalogue and write one into it (a
            # file of notes emptied by mistake, say): refused, the file left as it is.
            raise EmptyCatalogue(f"{self.path}: an empty file, not a catalogue")
        self._timeout = timeout
        self._lock = threading.RLock()
        self._depth = 0
        self._writes = 0
        self._cache: dict[tuple[str, str], tuple[int, np.ndarray, np.ndarray]] = {}
        # The terms table as read: a row's term never changes, its label only from none.
        self._terms: dict[int, tuple[str, str | None]] = {}
        self._terms_stamp: tuple[int, int] | None = None  # `stamp()` when it was read
        try:
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=timeout
            )
        except sqlite3.Error as exc:
            raise CatalogError(_plain(self.path, exc)) from exc
        try:
            self._setup()
        except sqlite3.OperationalError as exc:
            self._db.close()
            raise CatalogError(_plain(self.path, exc)) from exc
        except sqlite3.DatabaseError as exc:
            self._db.close()
            said = _plain(self.path, exc)
            if said == f"{self.path}: {exc}":  # no plainer words for it
                said = f"{self.path}: not a catalogue file (or it is damaged): {exc}"
            raise CatalogError(said) from exc
        except CatalogError:
            self._db.close()
            raise

    # -- opening and schema ------------------------------------------------------------------

    def _setup(self) -> None:
        db = self._db
        # One read transaction: another program creating the same file at this moment must be
        # seen either wholly before or wholly after its first migration, never half-way.
        db.execute("BEGIN")
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        finally:
            db.execute("COMMIT")
        if app_id != APPLICATION_ID and (has_tables or version):
            raise CatalogError(f"{self.path}: this sqlite file is not a saree catalogue")
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"{self.path}: made by a newer version of the app (schema {version}, this app "
                f"reads up to {SCHEMA_VERSION}); update the app"
            )
        if not has_tables and not version:
            # A new file: its pages are sized before the first is written (later only VACUUM
            # can change them). Harmless if another program made the file meanwhile.
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        mode = self._switch_to_wal()
        if str(mode).lower() != "wal":
            # Network drives may refuse WAL; rollback journalling is slower but just as safe.
            db.execute("PRAGMA journal_mode=DELETE")
        # NORMAL in WAL mode survives a killed process; only a power cut may drop the last commit.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        self._migrate(version)
        now_at = int(db.execute("PRAGMA user_version").fetchone()[0])
        self._stored = _stored_type(now_at)
        self._slim = now_at >= SLIM
        self._tile_sizes_kept = now_at >= CLOTH_READS
        self._nibbles = now_at >= NIBBLES
        self._lean = now_at >= LEAN
        shrunk = (COMPACTED, QUANTIZED, SLIM, NIBBLES, LEAN)
        # From schema 14 the file's pages are PAGE_SIZE: an older file is rewritten so once it
        # is upgraded, or at a later opening if another program had it open then.
        pages = int(db.execute("PRAGMA page_size").fetchone()[0])
        if self._lean and pages != PAGE_SIZE and self._resized(PAGE_SIZE):
            return
        if version and any(version < v <= now_at for v in shrunk):
            self._give_back_space()

    def _give_back_space(self) -> None:
        """Once, after schema 9, 10, 11, 13 or 14 made every photo smaller: the freed pages given
        back to the disk (VACUUM). A catalogue busy in another program keeps them for now: it
        is just as sound, only larger."""
        try:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError:
            pass

    def _resized(self, page_size: int) -> bool:
        """The file VACUUMed into pages of `page_size` (which sqlite changes only outside WAL
        journalling: left for the while, then taken up again); False where it could not be
        (another program has it open: nothing changed)."""
        db = self._db
        mode = str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        try:
            if str(db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]).lower() != "delete":
                return False
            db.execute(f"PRAGMA page_size={page_size}")
            db.execute("VACUUM")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            if mode == "wal":
                # Else rollback journalling: slower, just as safe (as `_setup` allows).
                with suppress(sqlite3.OperationalError):
                    self._switch_to_wal()

    def _switch_to_wal(self) -> str:
        """Ask for WAL journalling; returns the journal mode the file ends up in.

        Changing the journal mode does not wait on sqlite's busy handler: while another program
        is opening the same new file it fails at once with "database is locked". Retry for as
        long as the catalogue's timeout allows.
        """
        deadline = time.monotonic() + self._timeout
        delay = 0.005
        while True:
            try:
                return str(self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _migrate(self, version: int) -> None:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            script = MIGRATIONS[target - 1]
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            if int(db.execute("PRAGMA user_version").fetchone()[0]) >= target:
                db.execute("COMMIT")  # another process migrated it while we waited for the lock
                continue
            try:
                # executescript would COMMIT first; run the statements one by one instead.
                for statement in _statements(script):
                    db.execute(statement)
                step = MIGRATION_STEPS.get(target)
                if step is not None:
                    step(db)
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={target}")
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                db.execute("ROLLBACK")
                raise CatalogError(
                    f"{self.path}: cannot upgrade the catalogue to schema {target} ({exc}); "
                    "the file is unchanged"
                ) from exc
            except BaseException:
                db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close the file (checkpointing the write-ahead log)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all. Nests (inner blocks join the outer)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise CatalogError(_plain(self.path, exc)) from exc
            self._depth = 1
            try:
                yield
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._depth = 0
                self._rollback()
                raise CatalogError(_plain(self.path, exc)) from exc
            except BaseException:
                self._depth = 0
                self._rollback()
                raise
            self._depth = 0
            self._writes += 1

    def _rollback(self) -> None:
        self._terms = {}  # it may hold a term only the rolled-back write had added
        self._terms_stamp = None
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _query_in(
        self, sql: str, ids: Sequence[int], params: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """`sql`'s rows for `ids`, 500 at a time (sqlite's limit on bound parameters): `sql`
        holds `{marks}` where the ids' placeholders go, after `params`."""
        rows: list[tuple[Any, ...]] = []
        for s in range(0, len(ids), 500):
            chunk = ids[s : s + 500]
            rows += self._query(sql.format(marks=",".join("?" * len(chunk))), (*params, *chunk))
        return rows

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One SQL statement, its rows returned: for the modules of this package that keep
        tables of their own (objects.py). Writes belong inside `transaction()`."""
        try:
            return self._query(sql, params)
        except sqlite3.OperationalError as exc:
            raise CatalogError(_plain(self.path, exc)) from exc

    # -- photos ----------------------------------------------------------------------------------

    def add_photo(self, photo: NewPhoto) -> int:
        """Add a photo, returning its id; a photo with the same content keeps its id."""
        with self.transaction():
            row = self._db.execute(
                "SELECT id FROM photos WHERE sha256 = ?", (photo.sha256,)
            ).fetchone()
            if row:
                return int(row[0])
            cur = self._db.execute(
                "INSERT INTO photos (path, sha256, size, width, height, exif_date, camera, added)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    path_to_db(photo.path),
                    photo.sha256,
                    photo.size,
                    photo.width,
                    photo.height,
                    photo.exif_date,
                    photo.camera,
                    now(),
                ),
            )
            return int(cur.lastrowid or 0)

    def move_photo(self, photo_id: int, path: str) -> None:
        """Record that a photo now lives at another path (same content)."""
        with self.transaction():
            self._db.execute(
                "UPDATE photos SET path = ? WHERE id = ?", (path_to_db(path), photo_id)
            )

    def photo(self, photo_id: int) -> Photo | None:
        """The photo with this id, or None (an id past sqlite's integers is no photo's)."""
        if not _an_id(photo_id):
            return None
        rows = self._query(f"SELECT {_PHOTO_COLS} FROM photos WHERE id = ?", (photo_id,))
        return _photo(rows[0]) if rows else None

    def photo_by_hash(self, sha256: str) -> Photo | None:
        """The photo with this content, or None."""
        rows = self._query(f"SELECT {_PHOTO_COLS} FROM photos WHERE sha256 = ?", (sha256,))
        return _photo(rows[0]) if rows else None

    def photo_by_path(self, path: str) -> Photo | None:
        """The photo last seen at this path, or None."""
        rows = self._query(
            f"SELECT {_PHOTO_COLS} FROM photos WHERE path = ? ORDER BY id LIMIT 1",
            (path_to_db(path),),
        )
        return _photo(rows[0]) if rows else None

    def photos_by_id(self, ids: Sequence[int]) -> list[Photo]:
        """The photos with these ids (those that exist), in no particular order."""
        wanted = [int(i) for i in ids if _an_id(int(i))]
        rows = self._query_in(f"SELECT {_PHOTO_COLS} FROM photos WHERE id IN ({{marks}})", wanted)
        return [_photo(r) for r in rows]

    def photos(self) -> list[Photo]:
        """All photos, in the order they were added."""
        return [_photo(r) for r in self._query(f"SELECT {_PHOTO_COLS} FROM photos ORDER BY id")]

    def count(self) -> int:
        """How many photos the catalogue holds."""
        return int(self._query("SELECT count(*) FROM photos")[0][0])

    def teaching_state(self, model_sha256: str) -> tuple[int, int, int]:
        """(photos the model has answered, of those the ones flagged uncertain that the curator
        has not confirmed, traditions with a confirmed photo): what `fewshot.needs_teaching`
        reads, counted in SQL so a large catalogue's answers are not read for it."""
        answered, unsure = self._query(
            "SELECT count(*), coalesce(sum(p.uncertain AND NOT coalesce(l.certainty = "
            "'confirmed' AND l.tradition IS NOT NULL, 0)), 0) FROM predictions p "
            "LEFT JOIN labels l ON l.photo_id = p.photo_id WHERE p.model_sha256 = ?",
            (model_sha256,),
        )[0]
        taught = self._query(
            "SELECT count(DISTINCT tradition) FROM labels "
            "WHERE certainty = 'confirmed' AND tradition IS NOT NULL"
        )[0][0]
        return int(answered), int(unsure), int(taught)

    def known_hashes(self, model_sha256: str | None = None) -> dict[str, int]:
        """Content hash -> photo id; with a model, only photos that model has already seen."""
        if model_sha256 is None:
            rows = self._query("SELECT sha256, id FROM photos")
        else:
            rows = self._query(
                "SELECT p.sha256, p.id FROM photos p JOIN predictions r ON r.photo_id = p.id"
                " WHERE r.model_sha256 = ?",
                (model_sha256,),
            )
        return {str(h): int(i) for h, i in rows}

    # -- models and predictions ---------------------------------------------------------------

    def register_model(
        self,
        sha256: str,
        *,
        name: str | None = None,
        embedding_dim: int | None = None,
        labels: Sequence[str] = (),
    ) -> None:
        """Note that a model was used; the latest one is the default for search and export."""
        stamp = now()
        with self.transaction():
            self._db.execute(
                "INSERT INTO models (sha256, name, embedding_dim, labels, first_used, last_used)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET"
                # A model first named only by the vectors it wrote (first_used '') is
                # registered now as it would have been.
                " first_used = CASE first_used WHEN '' THEN excluded.first_used"
                " ELSE first_used END,"
                " labels = CASE first_used WHEN '' THEN excluded.labels ELSE labels END,"
                " last_used = excluded.last_used,"
                " name = coalesce(excluded.name, name),"
                " embedding_dim = coalesce(excluded.embedding_dim, embedding_dim)",
                (sha256, name, embedding_dim, json.dumps(list(labels)), stamp, stamp),
            )

    def latest_model(self) -> str | None:
        """The sha256 of the model used most recently (by last use, then by predictions held)."""
        rows = self._query(
            "SELECT sha256 FROM models WHERE last_used != ''"
            " ORDER BY last_used DESC, rowid DESC LIMIT 1"
        )
        if rows:
            return str(rows[0][0])
        rows = self._query(
            "SELECT model_sha256 FROM predictions GROUP BY model_sha256"
            " ORDER BY count(*) DESC LIMIT 1"
        )
        return str(rows[0][0]) if rows else None

    def model_labels(self, sha256: str) -> list[str]:
        """The tradition ids a model knows, as registered."""
        rows = self._query("SELECT labels FROM models WHERE sha256 = ?", (sha256,))
        if not rows or not rows[0][0]:
            return []
        return [str(x) for x in json.loads(rows[0][0])]

    def put_prediction(
        self,
        photo_id: int,
        model_sha256: str,
        result: Mapping[str, Any],
        *,
        top_tradition: str | None,
        top_probability: float | None,
        uncertain: bool,
    ) -> None:
        """Store (or replace) one model's answer for one photo."""
        with self.transaction():
            packed = None
            if self._slim:
                answer = compact_answer(result)
                slim = _slim_answer(answer, model_sha256, _known_terms(self._db, answer))
                pack = _pack_lean if self._lean else _pack_slim
                packed = None if slim is None else pack(slim)
            self._db.execute(
                "INSERT OR REPLACE INTO predictions (photo_id, model_sha256, top_tradition,"
                " top_probability, uncertain, result, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    photo_id,
                    model_sha256,
                    top_tradition,
                    top_probability,
                    int(bool(uncertain)),
                    pack_result(result) if packed is None else packed,
                    now(),
                ),
            )

    def prediction(self, photo_id: int, model_sha256: str | None = None) -> StoredPrediction | None:
        """A stored answer: that model's, or else the latest model's, or else any."""
        sha = model_sha256 or self.latest_model()
        rows = self._query(
            f"SELECT {_PRED_COLS} FROM predictions WHERE photo_id = ?"
            " ORDER BY model_sha256 = ? DESC, created DESC LIMIT 1",
            (photo_id, sha),
        )
        if not rows or (model_sha256 is not None and rows[0][1] != model_sha256):
            return None
        return self._stored_row(rows[0])

    def predictions(
        self, model_sha256: str, photo_ids: Iterable[int] | None = None
    ) -> dict[int, StoredPrediction]:
        """Photo id -> that model's stored answer; of `photo_ids` only, when given (reading
        an answer back costs about a millisecond: a whole collection's take seconds)."""
        if photo_ids is None:
            rows = self._query(
                f"SELECT {_PRED_COLS} FROM predictions WHERE model_sha256 = ?", (model_sha256,)
            )
        else:
            rows = self._query_in(
                f"SELECT {_PRED_COLS} FROM predictions WHERE model_sha256 = ?"
                " AND photo_id IN ({marks})",
                sorted({int(i) for i in photo_ids}),
                (model_sha256,),
            )
        return {int(r[0]): self._stored_row(r) for r in rows}

    def predicted_ids(self, model_sha256: str) -> set[int]:
        """The photos that model has an answer for (without reading the answers)."""
        return set(self.answer_summaries(model_sha256))

    def answer_summaries(
        self, model_sha256: str
    ) -> dict[int, tuple[str | None, float | None, bool]]:
        """Photo id -> (top tradition, its probability, uncertain) of that model's stored
        answers: the summary columns, without reading the answers themselves."""
        rows = self._query(
            "SELECT photo_id, top_tradition, top_probability, uncertain FROM predictions"
            " WHERE model_sha256 = ?",
            (model_sha256,),
        )
        return {int(r[0]): (r[1], r[2], bool(r[3])) for r in rows}

    def _stored_row(self, row: tuple[Any, ...]) -> StoredPrediction:
        return _stored(row, self._term_of)

    def _term_of(self, number: int) -> tuple[str, str | None]:
        """A term the catalogue keeps (the terms table) and its label, for answers stored
        slim; read again when this one was not known, or not its label and something was
        written since (by this or another program: a term's label is kept once given)."""
        found = self._terms.get(number)
        if found is not None and found[1] is not None:
            return found
        with self._lock:
            if found is None or (
                found[1] is None and (self._db.in_transaction or self._terms_stamp != self.stamp())
            ):
                self._terms_stamp = self.stamp()
                self._terms = {
                    int(n): (str(t), lab)
                    for n, t, lab in self._db.execute("SELECT id, term, label FROM terms")
                }
                found = self._terms.get(number)
        if found is None:
            raise CatalogError(f"{self.path}: term {number} of a stored answer is missing")
        return found

    def put_embeddings(
        self,
        photo_id: int,
        model_sha256: str,
        whole: np.ndarray | None,
        parts: np.ndarray | None = None,
        cloth: np.ndarray | None = None,
        *,
        cloth_tile_size: int | None = None,
    ) -> None:
        """Store the whole-saree embedding, the (3, D) body/border/pallu ones and the cloth
        features as int8 blocks (`_blob`; each only when given; CatalogError, nothing written,
        for a value beyond float16's range, which no embedding reaches); the cloth's tiles
        read at `cloth_tile_size` pixels a side (None: unknown, taken as EARLIER_TILE_SIZE).
        Cloth features with their tiles are kept as two rows ("cloth": whole | mean of
        tiles; "cloth_tiles": each tile), so every photo's "cloth" row has one size, from
        before the tiles were kept or after; from schema 11 the mean of tiles is left out
        where the tiles give it back (`_weighted_tiles`), and read back made again from them."""
        rows = []
        st = self._stored
        bits = 4 if self._nibbles else 8  # for the cloth features (schema 13)
        model_bits = 4 if self._lean else 8  # for the model's own embeddings (schema 14)
        if whole is not None:
            blob = _blob(np.asarray(whole).reshape(-1), st, bits=model_bits)
            rows.append((photo_id, model_sha256, "whole", blob))
        if cloth is not None:
            from saree_app.model.cloth import split

            head, tiles = split(np.asarray(cloth).reshape(-1))
            blocks = _block_count("cloth", head.size) if tiles is not None else 1
            head_blob = _blob(head, st, blocks, bits=bits)
            tiles_blob = None
            if tiles is not None:
                blocks = _block_count("cloth_tiles", tiles.size)
                tiles_blob = _blob(tiles, st, blocks, bits=bits)
                weighted = _weighted_tiles(head, tiles, bits) if self._slim and blocks > 1 else None
                if weighted is not None:
                    head_blob, tiles_blob = _whole_of(head_blob), weighted
            rows.append((photo_id, model_sha256, "cloth", head_blob))
            if tiles_blob is not None:
                rows.append((photo_id, model_sha256, "cloth_tiles", tiles_blob))
        if parts is not None:
            parts = np.asarray(parts)
            if parts.ndim != 2 or parts.shape[0] != 3:
                raise CatalogError(f"part embeddings must be 3 x D, got {parts.shape}")
            rows += [
                (photo_id, model_sha256, name, _blob(vec, st, bits=model_bits))
                for name, vec in zip(PARTS[1:], parts, strict=True)
            ]
        with self.transaction():
            if not self._slim:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings (photo_id, model_sha256, part, vector)"
                    " VALUES (?, ?, ?, ?)",
                    rows,
                )
                return
            model = self._model_id(model_sha256)
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (photo_id, model, part, vector)"
                " VALUES (?, ?, ?, ?)",
                [(pid, model, part, blob) for pid, _sha, part, blob in rows],
            )
            if cloth is not None and self._tile_sizes_kept:
                self._db.execute(
                    "DELETE FROM cloth_reads WHERE model = ? AND photo_id = ?", (model, photo_id)
                )
                if cloth_tile_size is not None:
                    self._db.execute(
                        "INSERT INTO cloth_reads (photo_id, model, tile_size) VALUES (?, ?, ?)",
                        (photo_id, model, int(cloth_tile_size)),
                    )

    def cloth_tile_sizes(self, model_sha256: str) -> dict[int, int]:
        """Photo id -> the side its cloth tiles were read at, for every photo with cloth
        features under a model (EARLIER_TILE_SIZE where it is not known)."""
        with self._lock:
            if not self._slim:
                rows = self._db.execute(
                    "SELECT DISTINCT photo_id, NULL FROM embeddings WHERE model_sha256 = ?"
                    " AND part IN ('cloth', 'cloth_tiles')",
                    (model_sha256,),
                ).fetchall()
            else:
                known = "r.tile_size" if self._tile_sizes_kept else "NULL"
                join = (
                    "LEFT JOIN cloth_reads r ON r.model = v.model AND r.photo_id = v.photo_id"
                    if self._tile_sizes_kept
                    else ""
                )
                rows = self._db.execute(
                    f"SELECT DISTINCT v.photo_id, {known} FROM vectors v {join}"
                    " JOIN models m ON m.id = v.model"
                    " WHERE m.sha256 = ? AND v.part IN ('cloth', 'cloth_tiles')",
                    (model_sha256,),
                ).fetchall()
        return {int(pid): int(size) if size else EARLIER_TILE_SIZE for pid, size in rows}

    def _model_id(self, sha256: str) -> int:
        """A model's number (models.id), the model noted first if it was not (schema 11; inside
        a write)."""
        self._db.execute(
            "INSERT INTO models (sha256, first_used, last_used) SELECT ?, '', ''"
            " WHERE NOT EXISTS (SELECT 1 FROM models WHERE sha256 = ?)",
            (sha256, sha256),
        )
        return int(
            self._db.execute("SELECT id FROM models WHERE sha256 = ?", (sha256,)).fetchone()[0]
        )

    def embedding(self, photo_id: int, model_sha256: str, part: str = "whole") -> np.ndarray | None:
        """One stored embedding, or None."""
        _check_part(part)
        sql = "SELECT vector FROM embeddings WHERE photo_id = ? AND model_sha256 = ? AND part = ?"
        with self._lock:
            rows = self._db.execute(sql, (photo_id, model_sha256, part)).fetchall()
            tiles = []
            if rows and part == "cloth" and rows[0][0][:1] and rows[0][0][0] & _MARKED:
                tiles = self._db.execute(sql, (photo_id, model_sha256, "cloth_tiles")).fetchall()
        if not rows:
            return None
        return self._decoded(part, [rows[0][0]], [tiles[0][0] if tiles else None])[0]

    def _decoded(
        self, part: str, blobs: Sequence[bytes], tiles: Sequence[bytes | None]
    ) -> np.ndarray:
        try:
            return _decoded(part, blobs, tiles, self._stored)
        except CatalogError as exc:
            raise CatalogError(f"{self.path}: {exc}") from exc

    def generations(self) -> dict[str, int]:
        """The catalogue's change counters ("embeddings", "labels", "predictions"): each moves
        whenever that table is written, by this or another program. Cheap: one small table."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        return {
            str(k).removesuffix("_generation"): int(v)
            for k, v in rows
            if str(k).endswith("_generation")
        }

    def stamp(self) -> tuple[int, int]:
        """Changes whenever this or another connection commits: a key for derived caches."""
        with self._lock:
            return (self._writes, int(self._db.execute("PRAGMA data_version").fetchone()[0]))

    def embeddings(self, model_sha256: str, part: str = "whole") -> tuple[np.ndarray, np.ndarray]:
        """(photo ids int64 (N,), float32 matrix (N, D)) for one model and part, cached.

        The cache is rebuilt only when this or another process has written embeddings since.
        """
        _check_part(part)
        with self._lock:
            # One read snapshot for the generation and the rows (unless a write is open).
            own = not self._db.in_transaction
            if own:
                self._db.execute("BEGIN")
            try:
                generation = self._generation()
                # Keyed to the embeddings' own counter, not to every write: labels, notes and
                # answers written leave the matrix (and the search index built on it) valid.
                hit = self._cache.get((model_sha256, part))
                if hit is not None and hit[0] == generation and generation >= 0:
                    return hit[1], hit[2]
                side = self.embeddings_file(model_sha256, part)
                loaded = _load_side(side, generation)
                rows = []
                if loaded is None:
                    rows = self._db.execute(_ROWS_SQL[self._slim], (model_sha256, part)).fetchall()
            finally:
                if own:
                    self._db.execute("COMMIT")
        if loaded is not None:
            ids, matrix = loaded
        else:
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            matrix = self._decoded(part, [r[1] for r in rows], [r[2] for r in rows])
            if len(ids) >= SIDE_FILE_MIN:
                _save_side(side, generation, ids, matrix)
        with self._lock:
            self._cache[(model_sha256, part)] = (generation, ids, matrix)
        return ids, matrix

    def _generation(self) -> int:
        row = self._db.execute(
            "SELECT value FROM meta WHERE key = 'embeddings_generation'"
        ).fetchone()
        return int(row[0]) if row else -1

    def embeddings_file(self, model_sha256: str, part: str) -> Path:
        """The side file that keeps one model's and part's embedding matrix beside the
        catalogue (read back in a fraction of the time the rows take)."""
        return side_files.of_model(self.path, model_sha256, part, "npz")

    # -- one photo, all at once ---------------------------------------------------------------

    def record(
        self,
        photo: NewPhoto,
        model_sha256: str,
        result: Mapping[str, Any],
        *,
        top_tradition: str | None,
        top_probability: float | None,
        uncertain: bool,
        embedding: np.ndarray | None,
        part_embeddings: np.ndarray | None,
        cloth_embedding: np.ndarray | None = None,
        cloth_tile_size: int | None = None,
    ) -> int:
        """Photo + prediction + embeddings in ONE transaction: the importer's unit of work."""
        with self.transaction():
            photo_id = self.add_photo(photo)
            self.put_prediction(
                photo_id,
                model_sha256,
                result,
                top_tradition=top_tradition,
                top_probability=top_probability,
                uncertain=uncertain,
            )
            if embedding is not None:
                self.put_embeddings(
                    photo_id,
                    model_sha256,
                    embedding,
                    part_embeddings,
                    cloth_embedding,
                    cloth_tile_size=cloth_tile_size,
                )
        return photo_id

    # -- curator labels and tags --------------------------------------------------------------

    def set_label(
        self,
        photo_id: int,
        *,
        tradition: str | None = None,
        certainty: str | None = None,
        note: str | None = None,
        keep: bool = True,
    ) -> Label:
        """Set the curator's label; with keep, fields given as None keep their current value.

        Every change is also appended to the label history.
        """
        if certainty is not None and certainty not in CERTAINTIES:
            raise CatalogError(
                f"certainty must be one of {', '.join(CERTAINTIES)}, not {certainty!r}"
            )
        with self.transaction():
            if self.photo(photo_id) is None:
                raise CatalogError(f"no photo with id {photo_id} in {self.path.name}")
            old = self.label(photo_id)
            if keep and old is not None:
                tradition = tradition if tradition is not None else old.tradition
                certainty = certainty if certainty is not None else old.certainty
                note = note if note is not None else old.note
            if tradition is not None and certainty is None:
                certainty = "confirmed"
            stamp = now()
            self._db.execute(
                "INSERT OR REPLACE INTO labels (photo_id, tradition, certainty, note, updated)"
                " VALUES (?, ?, ?, ?, ?)",
                (photo_id, tradition, certainty, note, stamp),
            )
            self._db.execute(
                "INSERT INTO label_history (photo_id, tradition, certainty, note, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (photo_id, tradition, certainty, note, stamp),
            )
        return Label(photo_id, tradition, certainty, note, stamp)

    def label(self, photo_id: int) -> Label | None:
        """The curator's current label for a photo, or None."""
        rows = self._query(
            "SELECT photo_id, tradition, certainty, note, updated FROM labels WHERE photo_id = ?",
            (photo_id,),
        )
        return Label(*rows[0]) if rows else None

    def labels(self) -> dict[int, Label]:
        """Photo id -> current label, for every labelled photo."""
        rows = self._query("SELECT photo_id, tradition, certainty, note, updated FROM labels")
        return {int(r[0]): Label(*r) for r in rows}

    def confirmed_traditions(self) -> dict[int, str]:
        """Photo id -> tradition, for every photo the curator confirmed with a tradition (what
        teaching learns from)."""
        return {
            pid: str(lab.tradition)
            for pid, lab in self.labels().items()
            if lab.certainty == "confirmed" and lab.tradition
        }

    def label_history(self, photo_id: int) -> list[Label]:
        """Every label a photo had, oldest first."""
        rows = self._query(
            "SELECT photo_id, tradition, certainty, note, at FROM label_history"
            " WHERE photo_id = ? ORDER BY id",
            (photo_id,),
        )
        return [Label(*r) for r in rows]

    def add_tags(self, photo_id: int, tags: Sequence[str]) -> None:
        """Attach tags (free words) to a photo."""
        clean = [t.strip() for t in tags if t.strip()]
        with self.transaction():
            if self.photo(photo_id) is None:
                raise CatalogError(f"no photo with id {photo_id} in {self.path.name}")
            self._db.executemany(
                "INSERT OR IGNORE INTO tags (photo_id, tag) VALUES (?, ?)",
                [(photo_id, t) for t in clean],
            )

    def remove_tags(self, photo_id: int, tags: Sequence[str]) -> None:
        """Detach tags from a photo (missing ones are ignored)."""
        with self.transaction():
            self._db.executemany(
                "DELETE FROM tags WHERE photo_id = ? AND tag = ?",
                [(photo_id, t.strip()) for t in tags],
            )

    def tags(self, photo_id: int) -> list[str]:
        """A photo's tags, sorted."""
        rows = self._query("SELECT tag FROM tags WHERE photo_id = ? ORDER BY tag", (photo_id,))
        return [str(r[0]) for r in rows]

    def all_tags(self) -> dict[int, list[str]]:
        """Photo id -> sorted tags, for every tagged photo."""
        out: dict[int, list[str]] = {}
        for pid, tag in self._query("SELECT photo_id, tag FROM tags ORDER BY photo_id, tag"):
            out.setdefault(int(pid), []).append(str(tag))
        return out

    def attributed_tradition(self, photo_id: int, model_sha256: str | None = None) -> str | None:
        """The curator's tradition if they gave one, else the model's top answer."""
        lab = self.label(photo_id)
        if lab is not None and lab.tradition:
            return lab.tradition
        pred = self.prediction(photo_id, model_sha256)
        return pred.top_tradition if pred else None

    def attributions(
        self, model_sha256: str | None = None, ids: Sequence[int] | None = None
    ) -> dict[int, tuple[str | None, bool]]:
        """Photo id -> (attributed tradition, confirmed by the curator) for every photo, or
        for the photos `ids` only.

        The attributed tradition is the curator's if they gave one, else the model's top answer.
        """
        sha = model_sha256 or self.latest_model()
        sql = (
            "SELECT p.id, coalesce(l.tradition, r.top_tradition),"
            " l.tradition IS NOT NULL AND l.certainty = 'confirmed'"
            " FROM photos p LEFT JOIN labels l ON l.photo_id = p.id"
            " LEFT JOIN predictions r ON r.photo_id = p.id AND r.model_sha256 = ?"
        )
        if ids is None:
            rows = self._query(sql, (sha,))
        else:
            rows = self._query_in(sql + " WHERE p.id IN ({marks})", [int(i) for i in ids], (sha,))
        return {int(r[0]): (r[1], bool(r[2])) for r in rows}

    def top_traditions(self, model_sha256: str) -> dict[int, str | None]:
        """Photo id -> that model's top answer, for every photo it has answered."""
        rows = self._query(
            "SELECT photo_id, top_tradition FROM predictions WHERE model_sha256 = ?",
            (model_sha256,),
        )
        return {int(r[0]): r[1] for r in rows}

    def label_changes(
        self, since: int | None = None
    ) -> tuple[int, list[int], dict[int, tuple[str | None, bool]], int]:
        """What changed in the curator's labels after label-history entry `since` (None: from
        the start): (the last entry's id, the photos whose label changed, their labels now as
        (tradition, confirmed) -- a photo missing there has none any more -- and how many
        photos are labelled in all). Read in one snapshot."""
        with self._lock:
            own = not self._db.in_transaction
            if own:
                self._db.execute("BEGIN")
            try:
                mark = int(
                    self._db.execute("SELECT coalesce(max(id), 0) FROM label_history").fetchone()[0]
                )
                total = int(self._db.execute("SELECT count(*) FROM labels").fetchone()[0])
                if since is None:
                    rows = self._db.execute(
                        "SELECT photo_id, tradition,"
                        " tradition IS NOT NULL AND certainty = 'confirmed' FROM labels"
                    ).fetchall()
                    changed = [int(r[0]) for r in rows]
                else:
                    changed = [
                        int(r[0])
                        for r in self._db.execute(
                            "SELECT DISTINCT photo_id FROM label_history WHERE id > ?", (since,)
                        )
                    ]
                    rows = self._db.execute(
                        "SELECT photo_id, tradition,"
                        " tradition IS NOT NULL AND certainty = 'confirmed' FROM labels"
                        " WHERE photo_id IN"
                        " (SELECT photo_id FROM label_history WHERE id > ?)",
                        (since,),
                    ).fetchall()
            finally:
                if own:
                    self._db.execute("COMMIT")
        return mark, changed, {int(r[0]): (r[1], bool(r[2])) for r in rows}, total

    def put_part_map(
        self, photo_id: int, labels: np.ndarray, *, by: str | None = None
    ) -> PartCorrection:
        """Store (or replace) the curator's part map for a photo; `by` defaults to the login
        name. PartMapError (a ValueError) for labels that are not a part map."""
        from saree_app.model import partmap

        fitted = partmap.fit(labels)
        who = by if by is not None else _user()
        stamp = now()
        with self.transaction():
            if self.photo(photo_id) is None:
                raise CatalogError(f"no photo with id {photo_id} in {self.path.name}")
            self._db.execute(
                "INSERT OR REPLACE INTO part_maps (photo_id, labels, corrected_by, updated)"
                " VALUES (?, ?, ?, ?)",
                (photo_id, partmap.encode(fitted), who, stamp),
            )
        return PartCorrection(photo_id, fitted, who, stamp)

    def part_map(self, photo_id: int) -> PartCorrection | None:
        """The curator's part map for a photo, or None (the model's own map stands)."""
        rows = self._query(
            "SELECT photo_id, labels, corrected_by, updated FROM part_maps WHERE photo_id = ?",
            (photo_id,),
        )
        return _correction(rows[0]) if rows else None

    def part_maps(self) -> dict[int, PartCorrection]:
        """Photo id -> corrected part map, for every corrected photo (what retraining reads)."""
        rows = self._query("SELECT photo_id, labels, corrected_by, updated FROM part_maps")
        return {int(r[0]): _correction(r) for r in rows}

    def remove_part_map(self, photo_id: int) -> bool:
        """Back to the model's part map; False when there was no correction."""
        with self.transaction():
            cur = self._db.execute("DELETE FROM part_maps WHERE photo_id = ?", (photo_id,))
            return cur.rowcount > 0

    def integrity_problems(self) -> list[str]:
        """sqlite's own integrity check plus this schema's invariants; empty when all is well."""
        problems = [
            str(r[0]) for r in self._query("PRAGMA integrity_check") if str(r[0]).lower() != "ok"
        ]
        problems += [
            f"foreign key broken in {r[0]}" for r in self._query("PRAGMA foreign_key_check")
        ]
        dup = self._query("SELECT sha256, count(*) FROM photos GROUP BY sha256 HAVING count(*) > 1")
        problems += [f"photo {h} stored {n} times" for h, n in dup]
        orphans = self._query(
            "SELECT count(*) FROM photos p WHERE NOT EXISTS"
            " (SELECT 1 FROM predictions r WHERE r.photo_id = p.id)"
        )[0][0]
        if orphans:
            problems.append(f"{orphans} photos without any prediction")
        return problems


_PHOTO_COLS = "id, path, sha256, size, width, height, exif_date, camera, added"


def path_to_db(path: str) -> str | bytes:
    """A photo's path as the catalogue stores it.

    sqlite keeps UTF-8 text, but a file named on an old Latin-1 or Windows system has bytes
    that are not UTF-8 (Python carries them as lone surrogates, PEP 383). Such a path is stored
    as its raw bytes, a BLOB in the same column, so that it still opens after a round trip;
    every other path stays text, as before.
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def path_from_db(value: str | bytes) -> str:
    """The path `path_to_db` stored, as Python names the file (the inverse of it)."""
    return os.fsdecode(value) if isinstance(value, bytes) else value


def _photo(row: Sequence[Any]) -> Photo:
    return Photo(row[0], path_from_db(row[1]), *row[2:])


# One model's rows of one part, by photo, each with its "cloth_tiles" row where a slim cloth
# head needs it (schema 11, `_decoded`): by the view before schema 11, by the table from it.
_ROWS_SQL = {
    False: "SELECT photo_id, vector, NULL FROM embeddings"
    " WHERE model_sha256 = ? AND part = ? ORDER BY photo_id",
    True: "SELECT h.photo_id, h.vector, CASE WHEN h.part = 'cloth'"
    " AND substr(h.vector, 1, 1) >= x'80' THEN (SELECT t.vector FROM vectors t"
    " WHERE t.model = h.model AND t.part = 'cloth_tiles' AND t.photo_id = h.photo_id) END"
    " FROM vectors h WHERE h.model = (SELECT id FROM models WHERE sha256 = ?)"
    " AND h.part = ? ORDER BY h.photo_id",
}

_PRED_COLS = "photo_id, model_sha256, top_tradition, top_probability, uncertain, result, created"


# Collections smaller than this read their embeddings from the catalogue fast enough.
SIDE_FILE_MIN = 20_000


def _load_side(path: Path, generation: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(ids, matrix) from a side file written at this generation; None if absent or stale."""
    if generation < 0 or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["generation"]) != generation:
                return None
            ids = np.asarray(data["ids"], dtype=np.int64)
            matrix = np.asarray(data["matrix"], dtype=np.float32)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # damaged or half-copied: the rows are read instead
    if matrix.ndim != 2 or matrix.shape[0] != ids.shape[0]:
        return None
    return ids, matrix


def _save_side(path: Path, generation: int, ids: np.ndarray, matrix: np.ndarray) -> None:
    """Write the side file atomically; a folder that cannot be written just goes without."""
    tmp = path.with_name(path.name + ".tmp.npz")
    try:
        np.savez(tmp, generation=np.int64(generation), ids=ids, matrix=matrix)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


# sqlite's integers: an id past them (a mistyped 99999999999999999999) is no photo's id.
_MAX_ID = 2**63 - 1


def _an_id(value: int) -> bool:
    """Whether `value` can be a row id at all (sqlite raises OverflowError past its range)."""
    return -_MAX_ID - 1 <= value <= _MAX_ID


def _empty_file(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False  # said by sqlite when it tries to open it


def _plain(path: Path, exc: sqlite3.Error) -> str:
    """A sqlite failure in the curator's words (the catalogue is unchanged by it)."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{path}: the catalogue is busy in another program; close it and try again"
    if "readonly" in text:
        return f"{path}: the catalogue is read-only; copy it to a folder you can write to"
    if "full" in text:
        return f"{path}: the disk is full; nothing was lost, free some space and try again"
    if "unable to open database file" in text:
        # A catalogue keeps working files beside it (FILE-wal, FILE-shm): in a folder that
        # cannot be written to it cannot be opened, even to read.
        folder = path.absolute().parent
        if not os.access(folder, os.W_OK):
            return (
                f"{path}: cannot be opened: the app keeps working files beside a catalogue, "
                f"and the folder {folder} cannot be written to; copy the catalogue to a "
                "folder you can write to"
            )
        return f"{path}: cannot be opened: check that you may read and change this file"
    if "not a database" in text:
        return (
            f"{path}: not a catalogue file: another kind of file, or a catalogue damaged "
            "beyond reading (a copy cut short, say); it was left as it is"
        )
    if "malformed" in text:
        return (
            f"{path}: the catalogue file is damaged and cannot be read as it is; it was left "
            "as it is: keep it, and open a backup copy of the catalogue"
        )
    return f"{path}: {text}"


def _stored(
    row: tuple[Any, ...], terms: Callable[[int], tuple[str, str | None]]
) -> StoredPrediction:
    return StoredPrediction(
        photo_id=int(row[0]),
        model_sha256=str(row[1]),
        top_tradition=row[2],
        top_probability=row[3],
        uncertain=bool(row[4]),
        result=_result_of(row, terms),
        created=str(row[6]),
    )


def _result_of(
    row: tuple[Any, ...], terms: Callable[[int], tuple[str, str | None]]
) -> dict[str, Any]:
    try:
        return unpack_result(row[5], str(row[1]), terms)
    except (zlib.error, UnicodeDecodeError) as exc:
        raise CatalogError(f"photo {row[0]}: its stored answer is damaged ({exc})") from exc


def _correction(row: Sequence[Any]) -> PartCorrection:
    from saree_app.model import partmap

    try:
        labels = partmap.decode(bytes(row[1]))
    except partmap.PartMapError as exc:
        raise CatalogError(f"photo {row[0]}: {exc}") from exc
    return PartCorrection(int(row[0]), labels, row[2], str(row[3]))


def _check_part(part: str) -> None:
    if part not in EMBEDDING_KINDS:
        raise CatalogError(f"part must be one of {', '.join(EMBEDDING_KINDS)}, not {part!r}")


def _statements(script: str) -> list[str]:
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
