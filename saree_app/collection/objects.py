"""Objects: one saree under its accession number, its museum record and the photos that show it.

A curator photographs one saree several times: the whole cloth, a close-up of the border, one
of the pallu, the reverse. The object ties those photos together (each in a role), carries the
record's fields (title, source or donor, dates, places, fibre, condition, notes) and answers
for the saree as a whole: its ranking is fused over its photos, each photo heard through what
it shows, and the record's fibre and place of acquisition are the curator's metadata priors of
the fusion (knowledge/fusion.py).

How the photos are fused (as Pl@ntNet fuses an observation's images): every photo's stored
answer is a score per tradition (the fusion's log-odds, before softmax). A close-up of the
border or the pallu speaks mostly through that part: its visual score is taken from what the
model's border (or pallu) features alone say, the rest of its evidence stays. The object's
score is the photos' scores averaged with role weights (a reverse or a detail shot counts half),
then the record's fibre and place add their evidence once, and softmax gives the ranking. The
average, not the sum: photos of one saree are not independent witnesses, and the answer should
not grow surer merely because the same cloth was photographed again. One photo alone gives
exactly its own answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from saree_app.collection.catalog import CERTAINTIES, Catalog, CatalogError, answer_spread, now

#: What a photo of an object shows. A close-up's part ("border", "pallu", "body") is the part
#: of the model's evidence it is heard through.
ROLES = ("whole", "border", "pallu", "body", "reverse", "detail")
ROLE_NAMES = {
    "whole": "whole saree",
    "border": "border close-up",
    "pallu": "pallu close-up",
    "body": "body close-up",
    "reverse": "reverse",
    "detail": "detail",
}
# Words a file name or a curator may use for a role.
_ROLE_WORDS = {
    "front": "whole",
    "full": "whole",
    "overall": "whole",
    "all": "whole",
    "back": "reverse",
    "verso": "reverse",
    "rev": "reverse",
    "closeup": "detail",
    "close": "detail",
    "motif": "detail",
    "edge": "border",
    "anchal": "pallu",
    "pallav": "pallu",
    "aanchal": "pallu",
}
#: How much each role's photo counts in the object's answer.
ROLE_WEIGHTS = {
    "whole": 1.0,
    "border": 1.0,
    "pallu": 1.0,
    "body": 1.0,
    "reverse": 0.5,
    "detail": 0.5,
}
#: For a close-up, the share of its visual score that comes from its part's own features.
PART_SHARE = 0.8
#: A part the model found on less of the photo than this is not trusted to speak for it.
MIN_PART_AREA = 0.02

#: The record's fields, in the order a form and an export show them, with their names.
FIELDS = (
    "title",
    "source",
    "date_acquired",
    "made_from",
    "made_to",
    "place_acquired",
    "place_made",
    "fibre",
    "condition",
    "notes",
)
FIELD_NAMES = {
    "accession": "Accession number",
    "title": "Title",
    "source": "Source or donor",
    "date_acquired": "Date acquired",
    "made_from": "Made from (year or date)",
    "made_to": "Made to (year or date)",
    "place_acquired": "Place acquired",
    "place_made": "Place made",
    "fibre": "Fibre",
    "condition": "Condition",
    "notes": "Notes",
}
_DATE_FIELDS = ("date_acquired", "made_from", "made_to")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_COLS = "id, accession, " + ", ".join(FIELDS) + ", created, updated"


class ObjectError(CatalogError):
    """An object operation that cannot be done, in a curator's words."""


@dataclass(frozen=True)
class Member:
    """One photo of an object and what it shows."""

    photo_id: int
    role: str
    position: int


@dataclass(frozen=True)
class SareeObject:
    """One saree of the collection: its accession number, record and photos."""

    id: int
    accession: str
    fields: Mapping[str, str | None]
    created: str
    updated: str
    photos: tuple[Member, ...] = ()

    def get(self, name: str) -> str | None:
        """One field's value (None when empty)."""
        return self.fields.get(name)

    @property
    def title(self) -> str | None:
        return self.fields.get("title")

    @property
    def photo_ids(self) -> list[int]:
        return [m.photo_id for m in self.photos]

    def role_of(self, photo_id: int) -> str | None:
        for m in self.photos:
            if m.photo_id == photo_id:
                return m.role
        return None

    def made(self) -> str:
        """The date made as a curator writes it: "1920", "1920-1940", "after 1920", ""."""
        a, b = self.fields.get("made_from"), self.fields.get("made_to")
        if a and b:
            return a if a == b else f"{a} to {b}"
        if a:
            return f"after {a}"
        if b:
            return f"before {b}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "accession": self.accession,
            **{k: self.fields.get(k) for k in FIELDS},
            "created": self.created,
            "updated": self.updated,
            "photos": [{"id": m.photo_id, "role": m.role} for m in self.photos],
        }


# --------------------------------------------------------------------------- the record


def role(text: str | None) -> str:
    """A role from a curator's or a file name's word ("Border", "back", "closeup"); "whole"
    for nothing. ObjectError for a word that is not a role."""
    if text is None or not text.strip():
        return "whole"
    word = re.sub(r"[^a-z]", "", text.strip().casefold())
    if word in ROLES:
        return word
    if word in _ROLE_WORDS:
        return _ROLE_WORDS[word]
    raise ObjectError(
        f"{text.strip()!r} is not a kind of photo an object knows; use one of {', '.join(ROLES)}"
    )


def guess_role(name: str) -> str:
    """The role a file name suggests ("ACC12_border.jpg" -> border); "whole" when it says none.

    A word naming a part or the reverse wins over a generic one: "border close-up.jpg" is the
    border, not a detail shot."""
    words = re.split(r"[^a-z]+", Path(name).stem.casefold())
    found = [w if w in ROLES else _ROLE_WORDS[w] for w in words if w in ROLES or w in _ROLE_WORDS]
    specific = [r for r in found if r not in ("detail", "whole")]
    if specific:
        return specific[-1]
    return found[-1] if found else "whole"


def clean_fields(values: Mapping[str, str | None]) -> dict[str, str | None]:
    """The record's fields checked and trimmed: "" clears a field. ObjectError (one line) for
    an unknown field, a date that is not a year or an ISO date, or a date range backwards."""
    out: dict[str, str | None] = {}
    for name, value in values.items():
        if name not in FIELDS:
            raise ObjectError(
                f"an object has no field {name!r}; its fields are {', '.join(FIELDS)}"
            )
        text = value.strip() if isinstance(value, str) else None
        if name in _DATE_FIELDS and text:
            wrong = _date_problem(text)
            if wrong is not None:
                raise ObjectError(f"{FIELD_NAMES[name]}: {text!r} is not a date: {wrong}")
        out[name] = text or None
    return out


# Month names in English whatever the locale (Qt sets the process's own): records and the
# knowledge browser say dates alike.
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _date_problem(text: str) -> str | None:
    """Why `text` is no date a record can hold (a year, a month or a day that exists), or
    None: 1987, 1987-02 and 1987-02-28 are dates; 1987-13 and 1987-02-30 are not."""
    if not _DATE.fullmatch(text):
        return "write a year (1920), a month (1920-05) or a day (1920-05-17)"
    year, *rest = (int(part) for part in text.split("-"))
    if not rest:
        return None
    month = rest[0]
    if not 1 <= month <= 12:
        return f"there is no month {rest[0]:02d} (months run from 01 to 12)"
    if len(rest) == 1:
        return None
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    if not 1 <= rest[1] <= days:
        return f"{MONTHS[month - 1]} {year} has no day {rest[1]:02d} (it has {days} days)"
    return None


def _check_range(made_from: str | None, made_to: str | None) -> None:
    if made_from and made_to and made_from[:4] > made_to[:4]:
        raise ObjectError(f"date made runs backwards: from {made_from} to {made_to}")


def _accession(text: str) -> str:
    acc = (text or "").strip()
    if not acc:
        raise ObjectError("an object needs an accession number")
    if len(acc) > 200 or any(ord(c) < 32 for c in acc):
        raise ObjectError(f"{acc[:40]!r} is not an accession number (too long, or a control key)")
    return acc


def _row_to_object(
    catalog: Catalog, row: Sequence[Any], members: Sequence[Sequence[Any]] | None = None
) -> SareeObject:
    if members is None:
        members = catalog.run(
            "SELECT photo_id, role, position FROM object_photos WHERE object_id = ?"
            " ORDER BY position, photo_id",
            (row[0],),
        )
    return SareeObject(
        id=int(row[0]),
        accession=str(row[1]),
        fields={name: row[2 + i] for i, name in enumerate(FIELDS)},
        created=str(row[2 + len(FIELDS)]),
        updated=str(row[3 + len(FIELDS)]),
        photos=tuple(Member(int(p), str(r), int(n)) for p, r, n in members),
    )


def get_object(catalog: Catalog, key: str | int) -> SareeObject | None:
    """The object with this accession number (or internal id), or None."""
    if isinstance(key, int):
        rows = catalog.run(f"SELECT {_COLS} FROM objects WHERE id = ?", (key,))
    else:
        rows = catalog.run(f"SELECT {_COLS} FROM objects WHERE accession = ?", (key.strip(),))
        if not rows:  # a curator types "acc 12" for "ACC 12"
            rows = catalog.run(
                f"SELECT {_COLS} FROM objects WHERE accession = ? COLLATE NOCASE",
                (key.strip(),),
            )
    return _row_to_object(catalog, rows[0]) if len(rows) == 1 else None


def need_object(catalog: Catalog, key: str | int) -> SareeObject:
    """The object, or ObjectError saying there is none."""
    obj = get_object(catalog, key)
    if obj is None:
        raise ObjectError(f"no object {key} in {catalog.path.name}")
    return obj


def all_objects(catalog: Catalog) -> list[SareeObject]:
    """Every object, by accession number."""
    rows = catalog.run(f"SELECT {_COLS} FROM objects ORDER BY accession")
    members: dict[int, list[tuple[Any, ...]]] = {}
    for oid, *member in catalog.run(
        "SELECT object_id, photo_id, role, position FROM object_photos"
        " ORDER BY object_id, position, photo_id"
    ):
        members.setdefault(int(oid), []).append(tuple(member))
    return [_row_to_object(catalog, r, members.get(int(r[0]), [])) for r in rows]


def object_of_photo(catalog: Catalog, photo_id: int) -> SareeObject | None:
    """The object a photo shows, or None."""
    rows = catalog.run("SELECT object_id FROM object_photos WHERE photo_id = ?", (photo_id,))
    return get_object(catalog, int(rows[0][0])) if rows else None


def object_ids_by_photo(catalog: Catalog) -> dict[int, str]:
    """Photo id -> accession number, for every photo that shows an object."""
    rows = catalog.run(
        "SELECT m.photo_id, o.accession FROM object_photos m JOIN objects o ON o.id = m.object_id"
    )
    return {int(p): str(a) for p, a in rows}


def create_object(
    catalog: Catalog,
    accession: str,
    fields: Mapping[str, str | None] | None = None,
    photo_ids: Sequence[int] = (),
    roles: Sequence[str | None] | Mapping[int, str | None] | None = None,
    *,
    move: bool = False,
) -> SareeObject:
    """A new object with its record and photos, in one transaction (the IIIF importer makes one
    per manifest with its canvases' photos). `roles` lines up with `photo_ids` (or maps photo id
    to role; missing roles: guessed from nothing, "whole"). ObjectError when the accession number
    is taken, a field is bad, or a photo is missing or shows another object (unless `move`)."""
    acc = _accession(accession)
    clean = clean_fields(fields or {})
    _check_range(clean.get("made_from"), clean.get("made_to"))
    with catalog.transaction():
        if catalog.run("SELECT 1 FROM objects WHERE accession = ?", (acc,)):
            raise ObjectError(f"there is already an object {acc} in {catalog.path.name}")
        stamp = now()
        names = ", ".join(["accession", *FIELDS, "created", "updated"])
        marks = ", ".join("?" * (len(FIELDS) + 3))
        catalog.run(
            f"INSERT INTO objects ({names}) VALUES ({marks})",
            (acc, *[clean.get(k) for k in FIELDS], stamp, stamp),
        )
        if photo_ids:
            add_photos(catalog, acc, photo_ids, roles, move=move)
    return need_object(catalog, acc)


def update_object(
    catalog: Catalog,
    key: str | int,
    fields: Mapping[str, str | None],
    *,
    accession: str | None = None,
) -> SareeObject:
    """Change some of the record's fields ("" or None clears one) and, with `accession`, its
    number. Fields not given keep their value."""
    clean = clean_fields(fields)
    with catalog.transaction():
        obj = need_object(catalog, key)
        merged = {**obj.fields, **clean}
        _check_range(merged.get("made_from"), merged.get("made_to"))
        sets = [f"{k} = ?" for k in clean]
        params: list[Any] = list(clean.values())
        if accession is not None:
            acc = _accession(accession)
            if acc != obj.accession and catalog.run(
                "SELECT 1 FROM objects WHERE accession = ?", (acc,)
            ):
                raise ObjectError(f"there is already an object {acc} in {catalog.path.name}")
            sets.append("accession = ?")
            params.append(acc)
        sets.append("updated = ?")
        params += [now(), obj.id]
        catalog.run(f"UPDATE objects SET {', '.join(sets)} WHERE id = ?", params)
    return need_object(catalog, obj.id)


def _roles_for(
    photo_ids: Sequence[int], roles: Sequence[str | None] | Mapping[int, str | None] | None
) -> list[str]:
    if roles is None:
        return ["whole"] * len(photo_ids)
    if isinstance(roles, Mapping):
        return [role(roles.get(p)) for p in photo_ids]
    if len(roles) != len(photo_ids):
        raise ObjectError(f"{len(photo_ids)} photos but {len(roles)} roles")
    return [role(r) for r in roles]


def add_photos(
    catalog: Catalog,
    key: str | int,
    photo_ids: Sequence[int],
    roles: Sequence[str | None] | Mapping[int, str | None] | None = None,
    *,
    move: bool = False,
) -> SareeObject:
    """Put photos into an object (a photo already in it just takes the new role). A photo that
    shows another object is refused unless `move`, which takes it from there."""
    wanted = _roles_for(photo_ids, roles)
    with catalog.transaction():
        obj = need_object(catalog, key)
        last = catalog.run(
            "SELECT coalesce(max(position), -1) FROM object_photos WHERE object_id = ?", (obj.id,)
        )[0][0]
        pos = int(last) + 1
        for pid, r in zip(photo_ids, wanted, strict=True):
            if catalog.photo(int(pid)) is None:
                raise ObjectError(f"no photo with id {pid} in {catalog.path.name}")
            other = catalog.run(
                "SELECT o.id, o.accession FROM object_photos m JOIN objects o ON o.id = m.object_id"
                " WHERE m.photo_id = ?",
                (int(pid),),
            )
            if other and int(other[0][0]) == obj.id:
                catalog.run("UPDATE object_photos SET role = ? WHERE photo_id = ?", (r, int(pid)))
                continue
            if other and not move:
                raise ObjectError(
                    f"photo {pid} already shows object {other[0][1]}; remove it there first"
                )
            catalog.run(
                "INSERT OR REPLACE INTO object_photos (photo_id, object_id, role, position)"
                " VALUES (?, ?, ?, ?)",
                (int(pid), obj.id, r, pos),
            )
            pos += 1
        catalog.run("UPDATE objects SET updated = ? WHERE id = ?", (now(), obj.id))
    return need_object(catalog, obj.id)


def remove_photos(catalog: Catalog, photo_ids: Iterable[int]) -> int:
    """Take photos out of whatever object they show (the photos and records stay); how many
    were in one."""
    ids = [int(p) for p in photo_ids]
    n = 0
    with catalog.transaction():
        for pid in ids:
            rows = catalog.run("SELECT object_id FROM object_photos WHERE photo_id = ?", (pid,))
            if rows:
                catalog.run("DELETE FROM object_photos WHERE photo_id = ?", (pid,))
                catalog.run("UPDATE objects SET updated = ? WHERE id = ?", (now(), rows[0][0]))
                n += 1
    return n


def delete_object(catalog: Catalog, key: str | int) -> SareeObject:
    """Delete an object's record; its photos stay in the collection, ungrouped. Returns what
    was deleted (to put it back with `restore_object`)."""
    with catalog.transaction():
        obj = need_object(catalog, key)
        catalog.run("DELETE FROM objects WHERE id = ?", (obj.id,))
    return obj


def restore_object(catalog: Catalog, obj: SareeObject) -> SareeObject:
    """Put a deleted object back (undo), with those of its photos still in the collection."""
    with catalog.transaction():
        present = [m for m in obj.photos if catalog.photo(m.photo_id) is not None]
        new = create_object(catalog, obj.accession, dict(obj.fields))
        add_photos(
            catalog, new.id, [m.photo_id for m in present], [m.role for m in present], move=True
        )
    return need_object(catalog, obj.accession)


def group(
    catalog: Catalog,
    photo_ids: Sequence[int],
    accession: str | None = None,
    fields: Mapping[str, str | None] | None = None,
) -> SareeObject:
    """Group photos into one object (the GUI's "Group into object"): into the object named (made
    when new), or a new one numbered after the collection when none is named. Photos in other
    objects move; their roles come from their file names."""
    if not photo_ids:
        raise ObjectError("choose the photos to group first")
    roles = []
    for pid in photo_ids:
        photo = catalog.photo(int(pid))
        if photo is None:
            raise ObjectError(f"no photo with id {pid} in {catalog.path.name}")
        roles.append(guess_role(photo.path))
    with catalog.transaction():
        acc = accession.strip() if accession and accession.strip() else next_accession(catalog)
        if get_object(catalog, acc) is None:
            create_object(catalog, acc, fields)
        elif fields:
            update_object(catalog, acc, fields)
        return add_photos(catalog, acc, photo_ids, roles, move=True)


def next_accession(catalog: Catalog, prefix: str = "OBJ-") -> str:
    """A free accession number for a new object ("OBJ-0001"), to be replaced by the museum's."""
    taken = {str(r[0]) for r in catalog.run("SELECT accession FROM objects")}
    n = len(taken) + 1
    while f"{prefix}{n:04d}" in taken:
        n += 1
    return f"{prefix}{n:04d}"


# --------------------------------------------------------------------------- confirmation


def confirm_object(
    catalog: Catalog,
    key: str | int,
    tradition: str,
    *,
    certainty: str = "confirmed",
    note: str | None = None,
) -> list[int]:
    """Give every photo of an object the same tradition at once (one transaction, each change in
    the label history); returns the photo ids labelled."""
    if certainty not in CERTAINTIES:
        raise ObjectError(f"certainty must be one of {', '.join(CERTAINTIES)}, not {certainty!r}")
    if not tradition or not tradition.strip():
        raise ObjectError("say which tradition the object is")
    with catalog.transaction():
        obj = need_object(catalog, key)
        if not obj.photos:
            raise ObjectError(f"object {obj.accession} has no photos to label")
        for m in obj.photos:
            catalog.set_label(
                m.photo_id, tradition=tradition.strip(), certainty=certainty, note=note
            )
    return obj.photo_ids


def object_label(catalog: Catalog, obj: SareeObject) -> tuple[str | None, str | None]:
    """(tradition, certainty) the curator gave the object: the label its photos share; (None,
    None) when none is labelled, ("", None) when they disagree."""
    found = {
        (lab.tradition, lab.certainty)
        for m in obj.photos
        if (lab := catalog.label(m.photo_id)) is not None and lab.tradition
    }
    if not found:
        return None, None
    if len(found) > 1:
        return "", None
    return next(iter(found))


# --------------------------------------------------------------------------- the fused answer


@dataclass(frozen=True)
class PhotoVoice:
    """How one photo spoke in its object's answer."""

    photo_id: int
    role: str
    weight: float  # its share of the object's answer (shares sum to 1)
    tradition: str | None  # its own top answer
    probability: float
    through: str  # "the whole photo" / "its border" / "the whole photo (no border found)"
    uncertain: bool


@dataclass(frozen=True)
class ObjectRanked:
    tradition: str
    label: str
    probability: float
    score: float


@dataclass(frozen=True)
class ObjectAnswer:
    """An object's answer, fused over its photos and its record."""

    accession: str
    model_sha256: str | None
    ranking: tuple[ObjectRanked, ...]
    states: tuple[tuple[str, float], ...]  # (state label, probability), likeliest first
    photos: tuple[PhotoVoice, ...]
    record: tuple[str, ...]  # what the record's fibre and place said, in words
    uncertain: bool
    reasons: tuple[str, ...]
    # Where the record's place made and the answer's likely state part ways, in words (None
    # when they agree, or when either is not known): `record_disagreement`. The figures above
    # are the model's as they are; this only says that the curator's record says otherwise.
    disagrees: str | None = None

    @property
    def top(self) -> ObjectRanked:
        return self.ranking[0]

    def probability(self, tradition: str) -> float:
        for r in self.ranking:
            if r.tradition == tradition:
                return r.probability
        return 0.0

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        ranking = self.ranking[:top] if top else self.ranking
        return {
            "accession": self.accession,
            "tradition": self.top.tradition,
            "label": self.top.label,
            "probability": round(self.top.probability, 6),
            "uncertain": self.uncertain,
            "uncertain_reasons": list(self.reasons),
            "ranking": [
                {"tradition": r.tradition, "label": r.label, "probability": round(r.probability, 6)}
                for r in ranking
            ],
            "states": [{"label": s, "probability": round(p, 6)} for s, p in self.states],
            "photos": [
                {
                    "id": v.photo_id,
                    "role": v.role,
                    "share": round(v.weight, 4),
                    "heard_through": v.through,
                    "tradition": v.tradition,
                    "probability": round(v.probability, 6),
                }
                for v in self.photos
            ],
            "record": list(self.record),
            "record_disagrees": self.disagrees,
        }


def _entries(result: Mapping[str, Any]) -> list[tuple[str, float, float, dict[str, float]]]:
    """(tradition, probability, score without record evidence, contribution per evidence kind)
    for each ranked tradition of a stored answer."""
    out = []
    for entry in result.get("ranking") or []:
        if isinstance(entry, Mapping):
            t, p = str(entry["tradition"]), float(entry.get("probability", 0.0))
            kinds: dict[str, float] = {}
            for e in entry.get("evidence") or []:
                k = str(e.get("kind", ""))
                kinds[k] = kinds.get(k, 0.0) + float(e.get("contribution", 0.0))
            score = entry.get("score")
            s = float(score) if score is not None else math.log(max(p, 1e-12))
            # The record's fibre and place are the object's to give, once.
            s -= kinds.get("fibre", 0.0) + kinds.get("region", 0.0)
        else:  # [tradition, probability] (an answer stored without its scores)
            t, p = str(entry[0]), float(entry[1])
            s, kinds = math.log(max(p, 1e-12)), {}
        out.append((t, p, s, kinds))
    return out


def _part_scores(result: Mapping[str, Any], part: str, visual_weight: float) -> dict[str, float]:
    """The visual score each known tradition would get from one part's features alone (the
    fusion's visual term, w * log(n * p)); {} when the part was not found."""
    known = [str(t) for t, _ in result.get("visual") or []]
    for entry in result.get("parts") or []:
        if entry.get("part") != part or float(entry.get("area", 0.0)) < MIN_PART_AREA:
            continue
        top = {str(t): float(p) for t, p in entry.get("ranking") or []}
        if not known or not top:
            return {}
        rest = [t for t in known if t not in top]
        left = max(1.0 - sum(top.values()), 1e-4)
        probs = {**{t: left / len(rest) for t in rest}, **top} if rest else top
        n = len(known)
        return {t: visual_weight * math.log(n * max(probs.get(t, 1e-4), 1e-4)) for t in known}
    return {}


def fuse_results(
    photos: Sequence[tuple[int, str, Mapping[str, Any], bool]],
    *,
    graph: Any = None,
    fibre: str | None = None,
    place: str | None = None,
    weights: Any = None,
    accession: str = "",
    model_sha256: str | None = None,
    labels: Mapping[str, str] | None = None,
    places: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> ObjectAnswer:
    """Fuse stored answers (photo id, role, Prediction.to_dict(), flagged uncertain) into one
    answer for the object (the module docstring says how). With a graph, the record's `fibre`
    and `place` add their evidence; words the graph does not know are said so and left out.
    `places`: the state and region the curator typed for traditions they added (the object's
    likely state counts them there, as a photo's does)."""
    if not photos:
        raise ObjectError("the object has no photos with an answer yet")
    visual_w = float(getattr(weights, "visual", 0.75)) if weights is not None else 0.75
    per_photo: list[dict[str, float]] = []
    voices_raw: list[tuple[int, str, float, str | None, float, str, bool]] = []
    label_of: dict[str, str] = dict(labels or {})
    for pid, r, result, flagged in photos:
        entries = _entries(result)
        if not entries:
            continue
        scores = {t: s for t, _, s, _ in entries}
        for entry in result.get("ranking") or []:
            if isinstance(entry, Mapping) and entry.get("label"):
                label_of.setdefault(str(entry["tradition"]), str(entry["label"]))
        through = "the whole photo"
        if r in ("border", "pallu", "body"):
            part = _part_scores(result, r, visual_w)
            if part:
                through = f"its {r}"
                for t, _, s, kinds in entries:
                    if t in part and "visual" in kinds:
                        v = kinds["visual"]
                        scores[t] = s - v + (1 - PART_SHARE) * v + PART_SHARE * part[t]
            else:
                through = f"the whole photo (the model found no {r} in it)"
        # A taught answer's scores are read `spread` apart (FusionWeights.spread): in those
        # units each photo says as much as its own probabilities do.
        spread = answer_spread(result)
        if spread != 1.0:
            scores = {t: s / spread for t, s in scores.items()}
        best = max(entries, key=lambda e: e[1])
        per_photo.append(scores)
        voices_raw.append(
            (pid, r, ROLE_WEIGHTS.get(r, 0.5), best[0], best[1], through, bool(flagged))
        )
    if not per_photo:
        raise ObjectError("the object's photos have no answers to fuse")
    total = sum(v[2] for v in voices_raw)
    shares = [v[2] / total for v in voices_raw]
    traditions = list(dict.fromkeys(t for s in per_photo for t in s))
    fused = {
        t: sum(w * s.get(t, min(s.values())) for w, s in zip(shares, per_photo, strict=True))
        for t in traditions
    }
    record: list[str] = []
    if graph is not None and (fibre or place):
        fused, record = _add_record(graph, fused, fibre, place, weights)
    elif fibre or place:
        record.append(
            "the knowledge graph is not at hand: the record's fibre and place are not used"
        )
    top_score = max(fused.values())
    exps = {t: math.exp(s - top_score) for t, s in fused.items()}
    z = sum(exps.values())
    order = sorted(traditions, key=lambda t: (-exps[t], t))

    def name(t: str) -> str:
        if graph is not None and t in graph:
            return str(graph.label(t))
        return label_of.get(t, t)

    ranking = tuple(ObjectRanked(t, name(t), exps[t] / z, fused[t]) for t in order)
    states: dict[str, float] = {}
    if graph is not None:
        from saree_app.knowledge.fusion import place_of, places_by_name

        # As a photo's answer counts them (fusion._rollup), named as it names them.
        by_name = places_by_name(graph, "state") if places else {}
        names: dict[str, str] = {}
        for ranked in ranking:
            place, called = place_of(graph, "state", ranked.tradition, places, by_name)
            key = names.setdefault(place, called)
            states[key] = states.get(key, 0.0) + ranked.probability
    voices = tuple(
        PhotoVoice(pid, r, share, t, p, through, flagged)
        for (pid, r, _w, t, p, through, flagged), share in zip(voices_raw, shares, strict=True)
    )
    flagged_share = sum(v.weight for v in voices if v.uncertain)
    reasons: list[str] = []
    if len(voices) == 1:
        if voices[0].uncertain:
            reasons = [str(x) for x in photos[0][2].get("uncertain_reasons") or []]
    else:
        n_flag = sum(v.uncertain for v in voices)
        if n_flag:
            reasons.append(f"{n_flag} of its {len(voices)} photos were flagged uncertain")
        tops = {v.tradition for v in voices}
        if len(tops) > 1:
            said = "; ".join(
                f"the {ROLE_NAMES.get(v.role, v.role)} says {name(v.tradition or '')}"
                for v in voices
            )
            reasons.append(f"its photos disagree: {said}")
    return ObjectAnswer(
        accession=accession,
        model_sha256=model_sha256,
        ranking=ranking,
        states=tuple(sorted(states.items(), key=lambda kv: -kv[1])),
        photos=voices,
        record=tuple(record),
        uncertain=flagged_share >= 0.5,
        reasons=tuple(reasons),
    )


def _add_record(
    graph: Any, scores: dict[str, float], fibre: str | None, place: str | None, weights: Any
) -> tuple[dict[str, float], list[str]]:
    """The record's fibre and place added to the scores as the fusion's metadata evidence."""
    from saree_app.knowledge.fusion import DEFAULT_WEIGHTS, CuratorMetadata, fuse

    notes: list[str] = []
    use_fibre = graph.resolve(fibre, {"fibre"}) if fibre else None
    if fibre and use_fibre is None:
        notes.append(
            f"fibre {fibre!r} is not one the knowledge graph knows ("
            + ", ".join(graph.label(f) for f in graph.fibres())
            + "): not used"
        )
    use_place = find_place(graph, place) if place else None
    if place and use_place is None:
        notes.append(f"place {place!r} is not in the knowledge graph: not used")
    if use_fibre is None and use_place is None:
        return scores, notes
    meta = fuse(
        graph,
        {},
        {},
        metadata=CuratorMetadata(fibre=use_fibre, region=use_place),
        weights=weights or DEFAULT_WEIGHTS,
    )
    out = dict(scores)
    for r in meta.ranking:
        if r.tradition in out:
            out[r.tradition] += sum(e.contribution for e in r.evidence)
    if use_fibre:
        notes.append(f"the record says it is {graph.label(use_fibre).lower()}")
    if use_place:
        where = ", ".join(graph.label(x) for x in graph.region_ancestors(use_place))
        notes.append(f"the record says it was acquired in {where}")
    return out, notes


def find_place(graph: Any, text: str | None) -> str | None:
    """The knowledge graph's place a record names: "Patan", "Patan, Gujarat" or "Gujarat"
    (the most local part that the graph knows); None when it knows none of it."""
    if not text:
        return None
    kinds = {"town", "district", "state", "cultural_region"}
    whole = graph.resolve(text, kinds)
    if whole is not None:
        return str(whole)
    for piece in re.split(r"[,;/()]+", text):
        found = graph.resolve(piece, kinds) if piece.strip() else None
        if found is not None:
            return str(found)
    return None


def fuse_object(
    catalog: Catalog,
    key: str | int | SareeObject,
    *,
    graph: Any = None,
    model_sha256: str | None = None,
    weights: Any = None,
) -> ObjectAnswer:
    """The object's answer from its photos' stored answers and its record (see the module
    docstring). `weights`: the fusion weights the model's answers were made with (by default
    those of the model when it is at hand)."""
    obj = key if isinstance(key, SareeObject) else need_object(catalog, key)
    sha = model_sha256 or catalog.latest_model()
    found = []
    for m in obj.photos:
        pred = catalog.prediction(m.photo_id, sha)
        if pred is not None:
            found.append((m.photo_id, m.role, pred.result, pred.uncertain))
    if not found:
        if not obj.photos:
            raise ObjectError(f"object {obj.accession} has no photos yet; add some first")
        raise ObjectError(f"none of object {obj.accession}'s photos has an answer yet; import them")
    if weights is None and sha:
        from saree_app.collection.fewshot import model_fusion_weights

        weights = model_fusion_weights(sha)
    from saree_app.collection.fewshot import curator_places

    named = {str(r.get("tradition")) for _, _, result, _ in found for r in _rows(result)}
    answer = fuse_results(
        found,
        graph=graph,
        fibre=obj.get("fibre"),
        place=obj.get("place_acquired"),
        weights=weights,
        accession=obj.accession,
        model_sha256=sha,
        places=curator_places(catalog, named),
    )
    said = record_disagreement(graph, obj.get("place_made"), answer)
    return replace(answer, disagrees=said) if said else answer


def record_disagreement(graph: Any, place_made: str | None, answer: ObjectAnswer) -> str | None:
    """What to tell a curator when their record's place made and the model's likely state
    for the object are not the same place: "the record says it was made in Kaithoon,
    Rajasthan (Rajasthan); the model's likely state is West Bengal". None when they agree,
    and when the graph does not know the place made or the answer names no state.

    The record's place is read at the level it names: a town or a state is compared by its
    state; a cultural region ("South India") agrees with any state within it."""
    if graph is None or not place_made or not answer.states:
        return None
    likely = answer.states[0][0]
    found = find_place(graph, place_made)
    if not likely or found is None:
        return None
    levels: dict[str, str] = {}
    for region in graph.region_ancestors(found):
        levels.setdefault(str(graph.kind(region)), str(region))
    state = levels.get("state")
    if state is not None:
        recorded = str(graph.label(state))
        if recorded.casefold() == likely.casefold():
            return None
    else:
        area = levels.get("cultural_region")
        if area is None:
            return None
        recorded = str(graph.label(area))
        likely_id = graph.resolve(likely, {"state"})
        if likely_id is None or area in graph.region_ancestors(likely_id):
            return None  # within the region the record names (or a state it cannot place)
    same = recorded.casefold() == place_made.casefold()
    where = place_made if same else f"{place_made} ({recorded})"
    return f"the record says it was made in {where}; the model's likely state is {likely}"


def _rows(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A stored answer's ranking entries (those that are entries)."""
    return [r for r in result.get("ranking") or [] if isinstance(r, Mapping)]


# --------------------------------------------------------------------------- search


def search_text(obj: SareeObject, graph: Any = None, traditions: Iterable[str] = ()) -> str:
    """What a text search looks through for an object (case-folded): its number and record,
    and the places its record and its curator's traditions lie in, up to the state and the
    cultural region ("Patan" also reads "Gujarat", "West India")."""
    words = [obj.accession, *[v for v in obj.fields.values() if v]]
    if graph is not None:
        for name in ("place_acquired", "place_made"):
            where = find_place(graph, obj.get(name))
            if where:
                words += [graph.label(x) for x in graph.region_ancestors(where)]
        for t in traditions:
            if t in graph and graph.kind(t) == "tradition":
                words += [graph.label(x) for x in graph.region_chain(t)]
    return " ".join(words).casefold()


def search_texts(catalog: Catalog, graph: Any = None) -> dict[int, str]:
    """Photo id -> its object's search text, for every photo that shows an object."""
    labels = catalog.labels()
    out: dict[int, str] = {}
    for obj in all_objects(catalog):
        traditions = {
            lab.tradition
            for m in obj.photos
            if (lab := labels.get(m.photo_id)) and lab.tradition and lab.certainty == "confirmed"
        }
        text = search_text(obj, graph, traditions)
        for m in obj.photos:
            out[m.photo_id] = text
    return out


def find_objects(catalog: Catalog, text: str, graph: Any = None) -> list[SareeObject]:
    """The objects whose record (or its places, or its confirmed tradition's region) has every
    word of `text`."""
    words = text.casefold().split()
    labels = catalog.labels()
    out = []
    for obj in all_objects(catalog):
        traditions = {
            lab.tradition
            for m in obj.photos
            if (lab := labels.get(m.photo_id)) and lab.tradition and lab.certainty == "confirmed"
        }
        hay = search_text(obj, graph, traditions)
        if all(w in hay for w in words):
            out.append(obj)
    return out


# --------------------------------------------------------------------------- similar objects


@dataclass(frozen=True)
class ObjectMatch:
    """A saree like the query: an object (by accession) or a photo that shows none."""

    accession: str | None
    photo_id: int  # the photo that matched best
    score: float
    path: str
    tradition: str | None
    confirmed: bool
    title: str | None = None


def similar_objects(
    catalog: Catalog,
    key: str | int | SareeObject,
    *,
    part: str = "whole",
    k: int = 12,
    model_sha256: str | None = None,
) -> list[ObjectMatch]:
    """The k sarees most like an object: every photo of it searched, matches gathered per
    object (an object counts once, by its best-matching photo), the object's own photos left
    out. Photos that show no object come as themselves."""
    from saree_app.collection.similar import search

    obj = key if isinstance(key, SareeObject) else need_object(catalog, key)
    own = set(obj.photo_ids)
    if not own:
        raise ObjectError(f"object {obj.accession} has no photos to compare")
    members = object_ids_by_photo(catalog)
    titles = {o.accession: o.title for o in all_objects(catalog)}
    best: dict[str, ObjectMatch] = {}
    depth = k + len(own) + 4 * k
    for pid in obj.photo_ids:
        try:
            found = search(catalog, pid, part=part, k=depth, model_sha256=model_sha256)
        except CatalogError:
            continue  # a photo without that embedding: the others speak
        for m in found:
            if m.photo_id in own:
                continue
            acc = members.get(m.photo_id)
            key_ = f"object:{acc}" if acc else f"photo:{m.photo_id}"
            if key_ not in best or m.score > best[key_].score:
                best[key_] = ObjectMatch(
                    acc,
                    m.photo_id,
                    float(m.score),
                    m.path,
                    m.tradition,
                    m.confirmed,
                    titles.get(acc) if acc else None,
                )
    if not best:
        sha = model_sha256 or catalog.latest_model() or ""
        if all(catalog.embedding(p, sha, part) is None for p in own):
            raise ObjectError(f"object {obj.accession}'s photos have no {part} features to compare")
    return sorted(best.values(), key=lambda m: -m.score)[:k]


# --------------------------------------------------------------------------- export

EXPORT_COLUMNS = (
    "accession",
    *FIELDS,
    "photos",
    "photo_ids",
    "roles",
    "answer",
    "answer_tradition",
    "confidence",
    "uncertain",
    "likely_state",
    "record_disagrees",
    "curator_tradition",
    "curator_tradition_name",
    "certainty",
    "updated",
)
# Ids (answer_tradition, curator_tradition) are for reading back and linking; answer,
# curator_tradition_name, confidence and likely_state are what a curator reads. likely_state is
# the state whose traditions together the fused answer finds likeliest (a roll-up over every
# tradition, not the answer's own state); record_disagrees says, in words, when the record's
# place made is elsewhere (empty when they agree or the graph does not know the place).


def export_rows(catalog: Catalog, graph: Any = None) -> list[dict[str, Any]]:
    """One row per object: its record, its photos and roles, its fused answer and the
    curator's label (the CSV's and the JSON's rows)."""
    from saree_app.knowledge.words import pct

    out = []
    for obj in all_objects(catalog):
        try:
            ans: ObjectAnswer | None = fuse_object(catalog, obj, graph=graph)
        except ObjectError:
            ans = None
        trad, certainty = object_label(catalog, obj)
        out.append(
            {
                "accession": obj.accession,
                **{k: obj.get(k) for k in FIELDS},
                "photos": len(obj.photos),
                "photo_ids": [m.photo_id for m in obj.photos],
                "roles": [m.role for m in obj.photos],
                "answer": ans.top.label if ans else None,
                "answer_tradition": ans.top.tradition if ans else None,
                "confidence": pct(ans.top.probability) if ans else None,
                "uncertain": ans.uncertain if ans else None,
                "likely_state": ans.states[0][0] if ans and ans.states else None,
                "record_disagrees": ans.disagrees if ans else None,
                "curator_tradition": trad or None,
                "curator_tradition_name": (
                    (graph.label(trad) if graph is not None and trad in graph else trad)
                    if trad
                    else ("its photos disagree" if trad == "" else None)
                ),
                "certainty": certainty,
                "updated": obj.updated,
            }
        )
    return out


def to_csv(catalog: Catalog, graph: Any = None) -> str:
    """The objects as CSV text, one row per object, header first."""
    import io

    from saree_app import spreadsheet

    buf = io.StringIO()
    writer = spreadsheet.writer(buf)
    writer.writerow(EXPORT_COLUMNS)
    for row in export_rows(catalog, graph):
        values = dict(row)
        values["photo_ids"] = " ".join(str(p) for p in row["photo_ids"])
        values["roles"] = " ".join(row["roles"])
        writer.writerow([spreadsheet.cell(values[c]) for c in EXPORT_COLUMNS])
    return buf.getvalue()


def to_json(catalog: Catalog, graph: Any = None) -> str:
    """The objects as a JSON list, one entry per object."""
    import json

    return json.dumps(export_rows(catalog, graph), indent=1, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- import grouping


@dataclass
class Grouping:
    """What grouping imported photos into objects did."""

    objects: dict[str, list[int]] = field(default_factory=dict)  # accession -> photos added
    unmatched: list[str] = field(default_factory=list)  # photos that named no object
    elsewhere: list[str] = field(default_factory=list)  # photos already in another object

    def summary(self) -> str:
        n = sum(len(v) for v in self.objects.values())
        objects = len(self.objects)
        text = (
            f"{n} photo{'s' if n != 1 else ''} grouped into {objects} "
            f"object{'s' if objects != 1 else ''}"
        )
        if self.unmatched:
            text += f"; {len(self.unmatched)} named no object and stay single photos"
        if self.elsewhere:
            text += f"; {len(self.elsewhere)} already show another object and were left there"
        return text


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A file-name pattern with a named group `accession` (and optionally `role`); ObjectError
    in one line when it is not one."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ObjectError(f"the pattern {pattern!r} is not a regular expression: {exc}") from exc
    if "accession" not in rx.groupindex:
        raise ObjectError(
            f"the pattern {pattern!r} needs a group named accession, e.g. "
            r"(?P<accession>[A-Z]+\d+)_(?P<role>\w+)"
        )
    return rx


def group_photos(
    catalog: Catalog,
    root: str | Path,
    mode: str,
    pattern: str | None = None,
) -> Grouping:
    """Group the catalogue's photos under `root` into objects: by sub-folder (`mode` "folder":
    the folder right under `root` is the accession number) or by file name (`mode` "pattern":
    the pattern's `accession` and `role` groups, searched in the name). Photos already in an
    object stay there; running it again changes nothing."""
    if mode not in ("folder", "pattern"):
        raise ObjectError(f"group photos by folder or by pattern, not {mode!r}")
    rx = compile_pattern(pattern or "") if mode == "pattern" else None
    base = Path(root).resolve()
    members = object_ids_by_photo(catalog)
    plan: dict[str, list[tuple[int, str]]] = {}
    out = Grouping()
    for photo in catalog.photos():
        try:
            rel = Path(photo.path).resolve().relative_to(base)
        except ValueError:
            continue
        acc: str | None
        if rx is None:
            acc = rel.parts[0] if len(rel.parts) > 1 else None
            r = guess_role(rel.name)
        else:
            m = rx.search(rel.name)
            acc = m.group("accession") if m and m.group("accession") else None
            word = m.groupdict().get("role") if m else None
            try:
                r = role(word) if word else guess_role(rel.name)
            except ObjectError:
                r = "detail"  # a word the pattern caught that names no role
        if not acc:
            out.unmatched.append(str(rel))
            continue
        acc = acc.strip()
        if photo.id in members:
            if members[photo.id] != acc:
                out.elsewhere.append(str(rel))
            continue
        plan.setdefault(acc, []).append((photo.id, r))
    with catalog.transaction():
        for acc, items in sorted(plan.items()):
            if get_object(catalog, acc) is None:
                create_object(catalog, acc)
            add_photos(catalog, acc, [p for p, _ in items], [r for _, r in items])
            out.objects[acc] = [p for p, _ in items]
    return out
