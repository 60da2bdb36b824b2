"""Keeping a catalogue tidy: remove photos (and put them back), find missing files, relocate.

Removing a photo takes it out of the catalogue only; the file on disk is never touched. Every
row that names the photo (its labels and their history, tags, answers, embeddings, corrected
part map, and whatever later tables point at the photo) is kept in a small file beside the
catalogue, `FILE.removed.json`, so the last removals can be undone, from the app or from
`saree remove --undo`, even after the app was closed. No table is added to the catalogue.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from saree_app.collection import side_files
from saree_app.collection.catalog import Catalog, CatalogError, Photo, now

_T = TypeVar("_T")

# How many removals the side file remembers; older ones can no longer be undone.
KEEP_REMOVALS = 50


@dataclass(frozen=True)
class Removal:
    """What one removal took out of the catalogue: every row that named the photos."""

    photo_ids: tuple[int, ...]
    names: tuple[str, ...]  # the photos' file names, for messages
    rows: dict[str, list[dict[str, Any]]]  # table -> rows (column -> value); "photos" first
    at: str = field(default_factory=now)

    def describe(self) -> str:
        """'3 photos' or 'photo sari.jpg', for a message."""
        if len(self.names) == 1:
            return f"photo {self.names[0]}"
        return f"{len(self.names)} photos"

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "photo_ids": list(self.photo_ids),
            "names": list(self.names),
            "rows": {t: [_encode_row(r) for r in rows] for t, rows in self.rows.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Removal:
        return cls(
            photo_ids=tuple(int(i) for i in data["photo_ids"]),
            names=tuple(str(n) for n in data["names"]),
            rows={t: [_decode_row(r) for r in rows] for t, rows in data["rows"].items()},
            at=str(data.get("at", "")),
        )


@dataclass(frozen=True)
class Restored:
    """What undoing a removal put back, and what it could not (in words)."""

    photo_ids: tuple[int, ...]
    skipped: tuple[str, ...]


def removed_file(catalog: Catalog) -> Path:
    """The side file that remembers recent removals."""
    return side_files.beside(catalog.path, side_files.REMOVED)


def _dependent_tables(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, column) for every table with a column that refers to photos(id)."""
    names = [
        str(r[0])
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'photos'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    out = []
    for name in names:
        for fk in db.execute(f'PRAGMA foreign_key_list("{name}")'):
            # (id, seq, table, from, to, on_update, on_delete, match)
            if str(fk[2]) == "photos" and (fk[4] in (None, "id")):
                out.append((name, str(fk[3])))
    return out


def _rows(db: sqlite3.Connection, table: str, column: str, ids: Sequence[int]) -> list[dict]:
    marks = ",".join("?" * len(ids))
    cur = db.execute(f'SELECT * FROM "{table}" WHERE "{column}" IN ({marks})', tuple(ids))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def remove_photos(catalog: Catalog, photo_ids: Iterable[int]) -> Removal:
    """Take photos out of the catalogue (not off the disk), remembering every row that named
    them so that `undo_removal` can put them back. CatalogError for an unknown id (then
    nothing is removed)."""
    ids = list(dict.fromkeys(int(i) for i in photo_ids))
    if not ids:
        raise CatalogError("no photo chosen to remove")
    db = catalog._db  # the catalogue's own connection, used only inside its transaction
    kept: list[Removal] | None = None  # the removals remembered before, once this one is
    try:
        with catalog.transaction():
            photos = _rows(db, "photos", "id", ids)
            found = {int(r["id"]) for r in photos}
            unknown = [i for i in ids if i not in found]
            if unknown:
                raise CatalogError(
                    f"no photo with id {unknown[0]} in {catalog.path.name}; nothing was removed"
                )
            rows: dict[str, list[dict[str, Any]]] = {"photos": photos}
            for table, column in _dependent_tables(db):
                got = _rows(db, table, column, ids)
                if got:
                    rows.setdefault(table, []).extend(got)
            names = tuple(Path(_text_path(r["path"])).name for r in photos)
            removal = Removal(tuple(ids), names, rows)
            # Written before the rows go, inside the transaction: if the side file cannot be
            # written the removal is rolled back and nothing is lost.
            kept = _push(catalog, removal)
            marks = ",".join("?" * len(ids))
            db.execute(f"DELETE FROM photos WHERE id IN ({marks})", tuple(ids))
    except BaseException as exc:
        if kept is not None:
            # The rows stayed (a read-only catalogue, a full disk, another program busy with
            # it): so does the list of removals, or undo would "put back" photos that never
            # left. Whatever stopped it, the record of it is taken back.
            try:
                _write(catalog, kept)
            except CatalogError as back:
                raise CatalogError(
                    f"{exc}; and the list of removed photos now names photos that were not "
                    f"removed ({back}): undo of the last removal will find them still there"
                ) from exc
        raise
    return removal


def removals(catalog: Catalog) -> list[Removal]:
    """The removals that can still be undone, oldest first."""
    path = removed_file(catalog)
    found = read_side_file(
        path,
        lambda data: [Removal.from_json(d) for d in data["removals"]],
        # Refused rather than written over: the photos it remembers may still be wanted back.
        damaged=(
            f"{path.name} is damaged: the removed photos it remembers for undo cannot be read; "
            "the catalogue itself is untouched. Move it aside to go on (undo then starts "
            "afresh)"
        ),
    )
    return found if found is not None else []


def read_side_file(path: Path, parse: Callable[[Any], _T], *, damaged: str) -> _T | None:
    """A catalogue's JSON side file, parsed by `parse`; None when there is none. CatalogError
    "PATH cannot be read (why)" when it cannot be read, and `damaged` when it is not what
    `parse` takes (not JSON, not UTF-8, the wrong shape): such a file is refused, never
    written over, since what it remembers may still be wanted."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CatalogError(f"{path.name} cannot be read ({exc.strerror or exc})") from exc
    try:
        # Decoded here, not by read_text: bytes that are not UTF-8 are damage too.
        return parse(json.loads(data.decode("utf-8")))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CatalogError(damaged) from exc


def write_side_file(path: Path, text: str | None, what: str) -> None:
    """Write a catalogue's side file whole or not at all (a temporary file renamed over it:
    a crash leaves the old one); `text` None removes it. CatalogError "PATH: cannot WHAT"."""
    if text is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CatalogError(f"{path}: cannot {what} ({exc.strerror or exc})") from exc


def _write(catalog: Catalog, items: list[Removal]) -> None:
    text = json.dumps({"removals": [r.to_json() for r in items]}, separators=(",", ":"))
    write_side_file(
        removed_file(catalog), text if items else None, "keep the list of removed photos"
    )


def _push(catalog: Catalog, removal: Removal) -> list[Removal]:
    """Add `removal` to the list kept beside the catalogue; the list as it was before."""
    try:
        before = removals(catalog)
        _write(catalog, [*before, removal][-KEEP_REMOVALS:])
    except CatalogError as exc:
        raise CatalogError(f"{exc}; nothing was removed") from exc
    return before


def undo_removal(catalog: Catalog, removal: Removal | None = None) -> Restored:
    """Put removed photos back with all their rows (the last removal unless one is given).

    A photo that is in the catalogue again (imported since) is left as it is and named in
    `skipped`. CatalogError when there is nothing to undo.
    """
    kept = removals(catalog)
    if removal is None:
        if not kept:
            raise CatalogError(f"no removed photos to put back in {catalog.path.name}")
        removal = kept[-1]
    db = catalog._db
    restored: list[int] = []
    skipped: list[str] = []
    written = False  # the removal taken off the list, its rows not yet back for good
    try:
        with catalog.transaction():
            new_id: dict[int, int] = {}
            names = {
                int(r["id"]): n
                for r, n in zip(removal.rows.get("photos", []), removal.names, strict=False)
            }
            for row, name in zip(removal.rows.get("photos", []), removal.names, strict=False):
                old = int(row["id"])
                again = catalog.photo_by_hash(str(row["sha256"]))
                if again is not None:
                    skipped.append(
                        f"{name} is in the collection again (imported since); left as it is"
                    )
                    continue
                new_id[old] = _insert(db, "photos", row, key="id")
                restored.append(new_id[old])
            tables = dict(_dependent_tables(db))
            for table, rows in removal.rows.items():
                if table == "photos":
                    continue
                column = tables.get(table) or _photo_view_column(db, table)
                if column is None:
                    continue  # a table this version of the catalogue no longer has
                key = _rowid_column(db, table)
                for row in rows:
                    old = int(row[column])
                    if old not in new_id:
                        continue
                    try:
                        # A row keyed by the photo itself keeps that key; another id may move.
                        _insert(
                            db,
                            table,
                            {**row, column: new_id[old]},
                            key=None if key == column else key,
                        )
                    except sqlite3.IntegrityError:
                        # What the row also pointed at has gone since (an object deleted): the
                        # photo comes back without that link.
                        name = names.get(old, f"photo {old}")
                        skipped.append(
                            f"{name}: its {_what(table)} no longer exists; not linked again"
                        )
            try:
                _write(catalog, [r for r in kept if r != removal])
            except CatalogError as exc:
                raise CatalogError(f"{exc}; nothing was put back") from exc
            written = True
    except BaseException:
        if written:
            # The rows did not come back (the catalogue could not take them): the removal
            # stays on the list, to be undone later.
            with contextlib.suppress(CatalogError):
                _write(catalog, kept)
        raise
    return Restored(tuple(restored), tuple(skipped))


def _photo_view_column(db: sqlite3.Connection, table: str) -> str | None:
    """ "photo_id" when `table` is now a view that takes rows in its place (a removal made
    before the catalogue was upgraded: its embeddings rows go back through the view of that
    name, whose triggers write the table that replaced it); None otherwise."""
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?", (table,)
    ).fetchone()
    if row is None:
        return None
    names = {str(c[1]) for c in db.execute(f'PRAGMA table_info("{table}")')}
    return "photo_id" if "photo_id" in names else None


def _what(table: str) -> str:
    """A table's rows as a curator names them ('object' for object_photos)."""
    return {"object_photos": "object"}.get(table, table.replace("_", " "))


def _rowid_column(db: sqlite3.Connection, table: str) -> str | None:
    """The table's INTEGER PRIMARY KEY column (an alias of the rowid), if it has one."""
    cols = list(db.execute(f'PRAGMA table_info("{table}")'))
    keys = [c for c in cols if int(c[5]) > 0]
    if len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER":
        return str(keys[0][1])
    return None


def _insert(db: sqlite3.Connection, table: str, row: dict[str, Any], *, key: str | None) -> int:
    """Insert a row as it was; when its own id has been taken since, under a new id."""
    for attempt in (row, {k: v for k, v in row.items() if k != key}):
        cols = ",".join(f'"{c}"' for c in attempt)
        marks = ",".join("?" * len(attempt))
        try:
            cur = db.execute(
                f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', tuple(attempt.values())
            )
        except sqlite3.IntegrityError:
            if key is None or key not in attempt:
                raise
            continue
        return int(cur.lastrowid or 0)
    raise CatalogError(f"cannot put a row of {table} back")  # pragma: no cover


def _text_path(value: str | bytes) -> str:
    return os.fsdecode(value) if isinstance(value, bytes) else str(value)


def _encode_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: {"b64": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v
        for k, v in row.items()
    }


def _decode_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: base64.b64decode(v["b64"]) if isinstance(v, dict) and "b64" in v else v
        for k, v in row.items()
    }


# -- missing files and moved folders ----------------------------------------------------------


def is_missing(photo: Photo) -> bool:
    """True when the photo's file is not where the catalogue last saw it."""
    try:
        return not Path(photo.path).is_file()
    except OSError:
        return True


def missing_photos(catalog: Catalog) -> list[Photo]:
    """The photos whose files are not where the catalogue last saw them."""
    return [p for p in catalog.photos() if is_missing(p)]


@dataclass(frozen=True)
class Relocation:
    """What relocating found: photo id -> new path, and the photos still missing."""

    moved: dict[int, str]
    still_missing: tuple[Photo, ...]

    def summary(self) -> str:
        found = len(self.moved)
        text = f"found {found} missing photo{'s' if found != 1 else ''} in the new folder"
        if self.still_missing:
            n = len(self.still_missing)
            text += f"; {n} still missing"
        return text


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def relocate(
    catalog: Catalog,
    folder: str | Path,
    *,
    photos: Sequence[Photo] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Generator[tuple[int, int], None, Relocation]:
    """Look for missing photos under `folder` (and its subfolders); a file with the same
    content (sha256) becomes the photo's new path. Yields (files checked, files to check);
    returns a Relocation. Only files of a missing photo's exact size are read.

    CatalogError when the folder does not exist.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CatalogError(f"{root}: no such folder")
    wanted = list(photos) if photos is not None else missing_photos(catalog)
    by_size: dict[int, list[Photo]] = {}
    for p in wanted:
        by_size.setdefault(int(p.size), []).append(p)
    names = {Path(p.path).name for p in wanted}
    candidates: list[Path] = []
    for dirpath, _dirs, files in os.walk(root):
        for fname in files:
            path = Path(dirpath) / fname
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if size in by_size:
                candidates.append(path)
    # Files with a missing photo's name first: in a moved folder they are nearly always it.
    candidates.sort(key=lambda p: (p.name not in names, str(p)))
    by_hash = {p.sha256: p for p in wanted}
    moved: dict[int, str] = {}
    total = len(candidates)
    yield 0, total
    for done, path in enumerate(candidates, 1):
        if cancelled() or len(moved) == len(wanted):
            break
        digest = _sha256(path)
        photo = by_hash.get(digest or "")
        if photo is not None and photo.id not in moved:
            moved[photo.id] = str(path.resolve())
        yield done, total
    with catalog.transaction():
        for pid, path_text in moved.items():
            catalog.move_photo(pid, path_text)
    left = tuple(p for p in wanted if p.id not in moved)
    return Relocation(moved, left)


def run_relocate(
    catalog: Catalog, folder: str | Path, *, photos: Sequence[Photo] | None = None
) -> Relocation:
    """`relocate` run to the end, without progress."""
    steps = relocate(catalog, folder, photos=photos)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result: Relocation = stop.value
            return result
