"""Traditions a curator adds that the knowledge graph does not know, kept beside the catalogue.

A label is free text, so a photo can be confirmed as any name and teaching learns it from
those photos. What the catalogue has no column for (the state and region a new tradition comes
from, and the known tradition it resembles) lives in a small JSON file next to the catalogue:
`collection.saree` -> `collection.saree.traditions.json`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from saree_app.collection import side_files


class TraditionsError(Exception):
    """The curator's traditions cannot be read or saved, in plain words."""


class AlreadyKnown(TraditionsError):
    """The name given for a new tradition is one of the app's own (`tradition`, its id)."""

    def __init__(self, tradition: str, shown: str, other_name: str | None = None) -> None:
        # The window shows this beside the name field, where the list is right there.
        if other_name is None:
            said = f"{shown} is already in the list of traditions: choose it there."
        else:
            said = f"{other_name} is another name of {shown}, already in the list: choose it there."
        super().__init__(said)
        self.tradition = tradition
        self.shown = shown
        self.other_name = other_name  # the local name typed, when it was one


class UnknownLike(TraditionsError):
    """What a new tradition is said to resemble is not one of the app's own traditions."""


@dataclass(frozen=True)
class CuratorTradition:
    """One tradition a curator added. `name` is also what photos are labelled with."""

    name: str
    state: str = ""
    region: str = ""
    like: str | None = None  # a tradition of the knowledge graph it resembles (its id)

    def about(self, lead: str, label: Callable[[str], str]) -> str:
        """'LEAD · Odisha, East India · resembles Sambalpuri bandha': what the curator said of
        it, in a line (`label` names the graph tradition it resembles)."""
        parts = [lead]
        where = ", ".join(x for x in (self.state, self.region) if x)
        if where:
            parts.append(where)
        if self.like:
            parts.append(f"resembles {label(self.like)}")
        return " · ".join(parts)


def named(traditions: Iterable[CuratorTradition], name: str) -> CuratorTradition | None:
    """The tradition among `traditions` called `name`, in any case ("kotpad" is "Kotpad")."""
    folded = name.casefold()
    return next((t for t in traditions if t.name.casefold() == folded), None)


def traditions_file(catalog_path: Path) -> Path:
    return side_files.beside(catalog_path, side_files.TRADITIONS)


def clean_name(text: str) -> str:
    """What a typed name is stored as: inner runs of spaces made one, ends trimmed."""
    return " ".join(text.split())


def known_as(text: str, known: Iterable[str], label: Callable[[str], str]) -> str | None:
    """The tradition of `known` that `text` names, by its id or its label in any case, or None.

    An exact id wins over a label, so a tradition whose label happens to be another's id is
    still found by its own id."""
    wanted = clean_name(text)
    folded = wanted.casefold()
    known = list(known)
    if wanted in known:
        return wanted
    for t in known:
        if folded == t.casefold():
            return t
    for t in known:
        if folded == clean_name(label(t)).casefold():
            return t
    return None


def new_tradition(
    name: str,
    state: str = "",
    region: str = "",
    like: str | None = None,
    *,
    known: Iterable[str],
    label: Callable[[str], str],
    other_names: Callable[[str], str | None] | None = None,
) -> CuratorTradition:
    """The tradition a curator asks to add, checked the one way the app and `saree label` both
    check it: it needs a name, not one of the app's own traditions (by id or label, in any
    case, or by another name `other_names` finds: the knowledge graph's local names, so that
    "Kanjeevaram" does not split Kanchipuram silk in two); what it resembles, if anything, must
    be one of them, and is kept as its id.

    `known` is the app's own traditions (the knowledge graph's, else the model's), without the
    curator's: adding one of theirs again edits it. Raises TraditionsError (AlreadyKnown for a
    known name, UnknownLike for what it resembles) with a message for the curator.
    """
    known = list(known)
    name = clean_name(name)
    if not name:
        raise TraditionsError("A tradition needs a name.")
    same = known_as(name, known, label)
    if same is not None:
        raise AlreadyKnown(same, label(same))
    other = other_names(name) if other_names is not None else None
    if other is not None and other in known:
        raise AlreadyKnown(other, label(other), other_name=name)
    like_id = None
    if like is not None and clean_name(like):
        like_id = known_as(like, known, label)
        if like_id is None:
            raise UnknownLike(
                f"{clean_name(like)} is not a tradition the app knows: a new tradition can "
                "resemble only one of the app's own."
            )
    return CuratorTradition(name, clean_name(state), clean_name(region), like_id)


def load_traditions(catalog_path: Path) -> list[CuratorTradition]:
    """The traditions a curator added to this catalogue, in the order they were added."""
    path = traditions_file(catalog_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise TraditionsError(f"{path.name} cannot be read: {exc.strerror or exc}") from exc
    try:
        # Decoded here, not by read_text: bytes that are not UTF-8 are damage too.
        rows = json.loads(data.decode("utf-8"))
        if not isinstance(rows, list):
            raise TypeError("not a list")
        out = []
        for row in rows:
            like = row.get("like") or None
            out.append(
                CuratorTradition(
                    name=clean_name(str(row["name"])),
                    state=str(row.get("state") or ""),
                    region=str(row.get("region") or ""),
                    like=str(like) if like else None,
                )
            )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TraditionsError(
            f"{path.name} is damaged; the traditions you added cannot be shown. "
            "Photos labelled with them keep their labels."
        ) from exc
    return [t for t in out if t.name]


def add_tradition(catalog_path: Path, tradition: CuratorTradition) -> list[CuratorTradition]:
    """Store one more tradition (replacing one of the same name, whatever its case); returns
    them all."""
    name = clean_name(tradition.name)
    if not name:
        raise TraditionsError("A tradition needs a name.")
    new = CuratorTradition(
        name=name,
        state=tradition.state.strip(),
        region=tradition.region.strip(),
        like=tradition.like or None,
    )
    rows = [t for t in load_traditions(catalog_path) if t.name.casefold() != name.casefold()]
    rows.append(new)
    _save(catalog_path, rows)
    return rows


def restore_tradition(
    catalog_path: Path, name: str, before: CuratorTradition | None
) -> list[CuratorTradition]:
    """Give the tradition called `name` back what it was (`before`), or take it out of the
    curator's traditions when it was not there before (an undone `saree label --new`)."""
    rows = [t for t in load_traditions(catalog_path) if t.name.casefold() != name.casefold()]
    if before is not None:
        rows.append(before)
    _save(catalog_path, rows)
    return rows


def _save(catalog_path: Path, rows: list[CuratorTradition]) -> None:
    path = traditions_file(catalog_path)
    # Written beside and renamed over: a crash mid-write leaves the old file whole. A plain
    # open (not mkstemp) so the file's mode follows the umask like the catalogue's.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(
            json.dumps([asdict(t) for t in rows], ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TraditionsError(f"{path.name} cannot be saved: {exc.strerror or exc}") from exc
