"""Labelling photos from the command line, all together or not at all, and undoing it.

The app keeps its own Undo list while a window is open (gui/window.py); `saree label` has no
session to keep one in, so each of its decisions is remembered in a small file beside the
catalogue, `FILE.decisions.json`: every photo it touched, with its label and tags before and
after, and the tradition it added or edited. `undo_last` gives the photos back what they had,
photo by photo, where a photo still has what the decision left; one changed since (in the app,
or by another command) is left as it is and named. No table is added to the catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from saree_app.collection import side_files
from saree_app.collection.catalog import Catalog, CatalogError, Label, now
from saree_app.collection.traditions import (
    CuratorTradition,
    add_tradition,
    load_traditions,
    named,
    restore_tradition,
)

# As many as the app's Undo list holds: a morning's review. Older decisions stay in the
# catalogue's label history, but can no longer be undone from here.
KEEP_DECISIONS = 100


@dataclass(frozen=True)
class Words:
    """A photo's label as undo compares and restores it (the time stamp left out)."""

    tradition: str | None = None
    certainty: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, label: Label | None) -> Words:
        return cls() if label is None else cls(label.tradition, label.certainty, label.note)


@dataclass(frozen=True)
class PhotoChange:
    """One photo of a decision: what it had before and what the decision left."""

    photo_id: int
    name: str  # the photo's file name, for messages
    before: Words
    after: Words
    tags_before: tuple[str, ...]
    tags_after: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "photo_id": self.photo_id,
            "name": self.name,
            "before": asdict(self.before),
            "after": asdict(self.after),
            "tags_before": list(self.tags_before),
            "tags_after": list(self.tags_after),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhotoChange:
        return cls(
            photo_id=int(data["photo_id"]),
            name=str(data["name"]),
            before=Words(**data["before"]),
            after=Words(**data["after"]),
            tags_before=tuple(str(t) for t in data["tags_before"]),
            tags_after=tuple(str(t) for t in data["tags_after"]),
        )


@dataclass(frozen=True)
class Decision:
    """One `saree label` run: its photos, and the curator's tradition it added or edited."""

    text: str  # "labelling 3 photos as Kotpad", what undoing it names
    photos: tuple[PhotoChange, ...]
    tradition_before: CuratorTradition | None = None
    tradition_after: CuratorTradition | None = None  # None: no tradition added or edited
    at: str = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "text": self.text,
            "photos": [p.to_json() for p in self.photos],
            "tradition_before": _tradition_json(self.tradition_before),
            "tradition_after": _tradition_json(self.tradition_after),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        return cls(
            text=str(data["text"]),
            photos=tuple(PhotoChange.from_json(p) for p in data["photos"]),
            tradition_before=_tradition(data.get("tradition_before")),
            tradition_after=_tradition(data.get("tradition_after")),
            at=str(data.get("at", "")),
        )


@dataclass(frozen=True)
class Undone:
    """What undoing a decision gave back, what it left as it is (and why), in words."""

    decision: Decision
    restored: tuple[PhotoChange, ...]
    skipped: tuple[str, ...]  # "#3 a.jpg: labelled again since; left as it is"
    tradition: str = ""  # what became of the tradition the decision added, if it added one


def _tradition_json(t: CuratorTradition | None) -> dict[str, Any] | None:
    return None if t is None else asdict(t)


def _tradition(data: Any) -> CuratorTradition | None:
    return None if not data else CuratorTradition(**data)


def decisions_file(catalog: Catalog) -> Path:
    """The side file that remembers the last decisions made with `saree label`."""
    return side_files.beside(catalog.path, side_files.DECISIONS)


def decisions(catalog: Catalog) -> list[Decision]:
    """The decisions that can still be undone, oldest first."""
    from saree_app.collection.housekeeping import read_side_file

    path = decisions_file(catalog)
    found = read_side_file(
        path,
        lambda data: [Decision.from_json(d) for d in data["decisions"]],
        damaged=(
            f"{path.name} is damaged: the labellings it remembers for undo cannot be read; "
            "the labels themselves are untouched. Move it aside to go on (undo then starts "
            "afresh)"
        ),
    )
    return found if found is not None else []


def _write(catalog: Catalog, items: list[Decision]) -> None:
    from saree_app.collection.housekeeping import write_side_file

    text = json.dumps({"decisions": [d.to_json() for d in items]}, ensure_ascii=False)
    write_side_file(
        decisions_file(catalog), text if items else None, "remember the labelling for undo"
    )


def label_photos(
    catalog: Catalog,
    changes: Sequence[tuple[int, str | None]],
    text: str,
    *,
    certainty: str | None = None,
    note: str | None = None,
    tag: Sequence[str] = (),
    untag: Sequence[str] = (),
    tradition: CuratorTradition | None = None,
) -> Decision:
    """Label every photo of `changes` ((photo id, its tradition, or None to keep it)), set
    their certainty and note and (un)tag them, all together or not at all, and remember the
    decision so that `undo_last` takes it back. `tradition`: the curator's new tradition to
    store with it (added, or edited when they added it before).

    CatalogError or TraditionsError with a message; then nothing is written.
    """
    ids = [int(i) for i, _ in changes]
    with catalog.transaction():
        photos = {p.id: p for p in catalog.photos_by_id(ids)}
        missing = [i for i in ids if i not in photos]
        if missing:
            raise CatalogError(
                f"no photo with id {missing[0]} in {catalog.path.name}; nothing was labelled"
            )
        done: list[PhotoChange] = []
        for pid, chosen in changes:
            before, tags_before = catalog.label(pid), tuple(catalog.tags(pid))
            if chosen is not None or certainty is not None or note is not None:
                catalog.set_label(pid, tradition=chosen, certainty=certainty, note=note)
            if tag:
                catalog.add_tags(pid, tag)
            if untag:
                catalog.remove_tags(pid, untag)
            done.append(
                PhotoChange(
                    pid,
                    Path(photos[pid].path).name,
                    Words.of(before),
                    Words.of(catalog.label(pid)),
                    tags_before,
                    tuple(catalog.tags(pid)),
                )
            )
        old = named(load_traditions(catalog.path), tradition.name) if tradition else None
        edited = tradition if tradition is not None and tradition != old else None
        decision = Decision(text, tuple(done), old, edited)
        # The side files are written inside the transaction, undo's first: if either cannot be
        # written the labels are rolled back, and the other side file is put back as it was.
        kept = decisions(catalog)
        _write(catalog, [*kept, decision][-KEEP_DECISIONS:])
        if decision.tradition_after is not None:
            try:
                add_tradition(catalog.path, decision.tradition_after)
            except BaseException:
                # Whatever stops it, the labels are rolled back: so is the record of them.
                _write(catalog, kept)
                raise
    return decision


def undo_last(catalog: Catalog) -> Undone | None:
    """Take back the last decision `label_photos` remembers; None when there is none.

    A photo whose label or tags changed after the decision, or that left the catalogue, keeps
    what it has now and is named in `skipped`. A tradition the decision added is taken out of
    the curator's traditions again, unless a photo is still labelled with it."""
    with catalog.transaction():
        kept = decisions(catalog)
        if not kept:
            return None
        last = kept[-1]
        restored: list[PhotoChange] = []
        skipped: list[str] = []
        present = {p.id for p in catalog.photos_by_id([c.photo_id for c in last.photos])}
        for change in last.photos:
            pid = change.photo_id
            who = f"#{pid} {change.name}"
            if pid not in present:
                skipped.append(f"{who}: no longer in the catalogue")
                continue
            tags_now = tuple(catalog.tags(pid))
            if Words.of(catalog.label(pid)) != change.after or tags_now != change.tags_after:
                skipped.append(f"{who}: changed again since; left as it is")
                continue
            b = change.before
            if Words.of(catalog.label(pid)) != b:
                catalog.set_label(
                    pid, tradition=b.tradition, certainty=b.certainty, note=b.note, keep=False
                )
            gone = sorted(set(tags_now) - set(change.tags_before))
            back = sorted(set(change.tags_before) - set(tags_now))
            if gone:
                catalog.remove_tags(pid, gone)
            if back:
                catalog.add_tags(pid, back)
            restored.append(change)
        _write(catalog, kept[:-1])
        try:
            said = _undo_tradition(catalog, last)
        except BaseException:
            # The labels are rolled back with the transaction: the decision stays to undo.
            _write(catalog, kept)
            raise
    return Undone(last, tuple(restored), tuple(skipped), said)


def _undo_tradition(catalog: Catalog, last: Decision) -> str:
    """Give the tradition the decision added or edited back what it was; what was done, in
    words ('' when the decision touched none)."""
    after = last.tradition_after
    if after is None:
        return ""
    now_ = named(load_traditions(catalog.path), after.name)
    if now_ != after:
        return f"{after.name} was edited again since: it stays as it is"
    if last.tradition_before is None:
        still = sum(1 for lab in catalog.labels().values() if lab.tradition == after.name)
        if still:
            return (
                f"{after.name} stays in your traditions: {still} other "
                f"photo{'s are' if still != 1 else ' is'} labelled with it"
            )
        restore_tradition(catalog.path, after.name, None)
        return f"{after.name} taken out of your traditions"
    restore_tradition(catalog.path, after.name, last.tradition_before)
    return f"{after.name}: its state, region and resemblance put back as they were"
