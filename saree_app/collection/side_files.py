"""The files a catalogue keeps beside it, named in one place.

A catalogue FILE keeps FILE.decisions.json (the last decisions, to undo), FILE.removed.json
(the last removals), FILE.traditions.json (traditions the curator added), FILE.model.json (the
model it was made with), FILE.import-lock (an import at work), FILE.iiif (photos read from IIIF
manifests), FILE.<model>.<part>.npz and .faiss (search indexes, made again when missing) and
sqlite's own FILE-wal, FILE-shm and FILE-journal. Each module names its file through `beside`
with its suffix from here, and `is_side_file` asks the same list: an export must never be
written over one of them, and a new side file cannot be forgotten by that check.
"""

from __future__ import annotations

import re
from pathlib import Path

DECISIONS = ".decisions.json"
REMOVED = ".removed.json"
TRADITIONS = ".traditions.json"
MODEL = ".model.json"
IMPORT_LOCK = ".import-lock"
IIIF = ".iiif"
NAMED = (DECISIONS, REMOVED, TRADITIONS, MODEL, IMPORT_LOCK, IIIF)
# sqlite's own files beside its database.
SQLITE = ("-wal", "-shm", "-journal")
# A model's search files: FILE.<the model's sha256, 12 digits>.<part>.<kind>, the files a
# faiss index keeps beside it (.ids.npy, .generation: collection/similar.py) and the temporary
# file each is written through (.tmp, .ids.tmp.npy, .generation.tmp, .tmp.npz).
_MODEL_FILE = re.compile(r"\.[0-9a-f]{12}\.[a-z_]+\.(npz|faiss)(\.[a-z]+)*")


def beside(catalog_path: Path, suffix: str) -> Path:
    """The side file `suffix` (one of NAMED) of the catalogue at `catalog_path`."""
    if suffix not in NAMED:
        raise ValueError(f"{suffix!r} is not one of a catalogue's side files")
    return catalog_path.with_name(catalog_path.name + suffix)


def of_model(catalog_path: Path, model_sha256: str, part: str, kind: str) -> Path:
    """A model's search file for one part (`kind`: "npz" or "faiss")."""
    return catalog_path.with_name(f"{catalog_path.name}.{model_sha256[:12]}.{part}.{kind}")


def is_side_file(catalog_name: str, name: str) -> bool:
    """Whether the file `name` is one the catalogue named `catalog_name` keeps beside it (an
    export named FILE.csv is not)."""
    if not name.startswith(catalog_name):
        return False
    rest = name[len(catalog_name) :]
    return rest in NAMED or rest in SQLITE or bool(_MODEL_FILE.fullmatch(rest))


def left_behind(catalog_path: Path) -> list[Path]:
    """The side files beside `catalog_path` when no catalogue is there: what a collection of
    that name, since deleted, left. A new catalogue made under the name would take them for
    its own (another collection's removals to undo, its model, its traditions)."""
    folder = catalog_path.parent
    try:
        names = sorted(p.name for p in folder.iterdir())
    except OSError:
        return []
    return [
        folder / name
        for name in names
        if name != catalog_path.name and is_side_file(catalog_path.name, name)
    ]
