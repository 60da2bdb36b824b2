"""What `saree bench real` reads: a folder per tradition, a views CSV, 12 x 12 part labels."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saree_app.collection.importer import find_photos

GRID = 12
# Label characters of the part grid: background, body, border, pallu; '?' is not scored.
GRID_CLASSES = (".", "o", "r", "p")
CLASS_NAMES = ("background", "body", "border", "pallu")
UNSCORED = "?"
VIEWS = ("worn", "flat", "folded", "closeup", "other")


class BenchInputError(Exception):
    """An input the benchmark cannot use at all (a missing folder, a malformed file)."""


@dataclass(frozen=True)
class Folder:
    """One tradition folder and what the app knows of its name."""

    name: str
    tradition: str | None  # the graph's (or the model's) id; None: the app never heard of it
    known_to_model: bool
    photos: tuple[Path, ...]

    @property
    def taught_as(self) -> str:
        """The tradition a curator would confirm these photos as (a new one keeps its name)."""
        return self.tradition or self.name


@dataclass
class Inputs:
    """The photos to measure, by folder, with views and part labels matched to them."""

    root: Path
    folders: list[Folder]
    views: dict[str, str] = field(default_factory=dict)  # "Folder/file" -> view
    # "Folder/file" -> where the photo was published (a shop, a maker), from the views file's
    # optional source_repo or source column: taught figures are split by it (teach.py).
    sources: dict[str, str] = field(default_factory=dict)
    parts: dict[str, PartLabel] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    not_photos: list[tuple[str, str]] = field(default_factory=list)  # (file, why)

    def key(self, path: Path) -> str:
        """A photo's name in reports and label files: its path under the photos folder."""
        return path.relative_to(self.root).as_posix()


@dataclass(frozen=True)
class PartLabel:
    """A photo's coarse part labels: GRID rows of GRID characters from GRID_CLASSES or '?'."""

    grid: tuple[str, ...]
    view: str | None

    def codes(self) -> list[list[int]]:
        """Class index per cell (0 background .. 3 pallu), -1 where not scored."""
        return [
            [GRID_CLASSES.index(c) if c in GRID_CLASSES else -1 for c in row] for row in self.grid
        ]


def resolve_folder(name: str, labels: Iterable[str], graph: Any) -> tuple[str | None, bool]:
    """A folder name -> (tradition id or None, whether the model knows it).

    The model's ids, the graph's ids, labels and other names (Kanjivaram for Kanchipuram) are
    accepted, case-insensitively.
    """
    model_ids = {t.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for t in labels}
    by_lower = {t.lower(): t for t in model_ids}
    tradition = by_lower.get(name.strip().lower())
    if tradition is None and graph is not None:
        tradition = graph.resolve(name.replace("_", " "), {"tradition"}) or graph.resolve(
            name, {"tradition"}
        )
    return tradition, tradition in model_ids


def read_folders(root: Path, labels: Iterable[str], graph: Any) -> Inputs:
    """One Folder per sub-folder of `root` that holds photos; raises BenchInputError if none."""
    if not root.exists():
        raise BenchInputError(f"{root}: no such folder")
    if not root.is_dir():
        raise BenchInputError(f"{root}: not a folder (give a folder with one folder per tradition)")
    labels = list(labels)
    folders: list[Folder] = []
    inputs = Inputs(root=root, folders=folders)
    try:
        subs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        raise BenchInputError(f"{root}: cannot be read ({exc.strerror or exc})") from exc
    loose = [p.name for p in root.iterdir() if p.is_file() and not p.name.startswith(".")]
    if loose:
        inputs.warnings.append(
            f"{len(loose)} files directly in {root} are not in a tradition folder and are not "
            f"measured (for example {loose[0]})"
        )
    for sub in subs:
        photos, others = find_photos(sub)
        inputs.not_photos += [(o.path, o.reason) for o in others]
        if not photos:
            inputs.warnings.append(f"{sub.name}: no photos in this folder; left out")
            continue
        tradition, known = resolve_folder(sub.name, labels, graph)
        if tradition is None:
            inputs.warnings.append(
                f"{sub.name}: not a tradition the app knows (no id, name or other name in the "
                "knowledge graph); its photos count as a tradition the app has never heard of"
            )
        folders.append(Folder(sub.name, tradition, known, tuple(photos)))
    if not folders:
        raise BenchInputError(
            f"{root}: no photos found; give a folder with one folder of photos per tradition"
        )
    return inputs


def _match(key_of: Mapping[str, str], name: str) -> str | None:
    """The photo key a label file's name refers to: equal, or the name ends with the key."""
    name = name.replace("\\", "/").strip().lstrip("./")
    if name in key_of:
        return key_of[name]
    parts = name.split("/")
    for n in range(len(parts) - 1, 0, -1):
        tail = "/".join(parts[-n:])
        if tail in key_of:
            return key_of[tail]
    return None


def photo_keys(inputs: Inputs) -> dict[str, str]:
    """Every accepted spelling of a photo's key (its path under the photos folder) -> key."""
    return {inputs.key(p): inputs.key(p) for f in inputs.folders for p in f.photos}


def read_views(path: Path, inputs: Inputs) -> None:
    """Fill inputs.views from a CSV with at least the columns file,view."""
    rows = _read_csv(path)
    keys = photo_keys(inputs)
    missing = 0
    for line, row in rows:
        view = (row.get("view") or "").strip().lower()
        name = (row.get("file") or "").strip()
        if not name:
            continue
        if view not in VIEWS:
            inputs.warnings.append(
                f"{path.name}:{line}: view {view!r} is not one of {', '.join(VIEWS)}; row ignored"
            )
            continue
        key = _match(keys, name)
        if key is None:
            missing += 1
            continue
        inputs.views[key] = view
        source = (row.get("source_repo") or row.get("source") or "").strip()
        if source:
            inputs.sources[key] = source
    if missing:
        inputs.warnings.append(f"{path.name}: {missing} rows name photos that are not measured")


def _read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = {c.strip().lower() for c in reader.fieldnames or ()}
            if not {"file", "view"} <= columns:
                raise BenchInputError(
                    f"{path}: needs the columns file and view (found: {', '.join(sorted(columns))})"
                )
            return [
                (n + 2, {(k or "").strip().lower(): v or "" for k, v in row.items()})
                for n, row in enumerate(reader)
            ]
    except FileNotFoundError as exc:
        raise BenchInputError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise BenchInputError(f"{path}: not a UTF-8 text file") from exc
    except (OSError, csv.Error) as exc:
        raise BenchInputError(f"{path}: cannot be read ({exc})") from exc


def read_parts(path: Path, inputs: Inputs) -> None:
    """Fill inputs.parts from the 12 x 12 grid-label JSON; raises BenchInputError when malformed.

    A key naming a photo that is not measured is named in the warnings and skipped.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BenchInputError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise BenchInputError(f"{path}: not a UTF-8 text file") from exc
    except json.JSONDecodeError as exc:
        raise BenchInputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    except OSError as exc:
        raise BenchInputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not isinstance(data, dict):
        raise BenchInputError(f"{path}: must be a JSON object of photo -> labels")
    keys = photo_keys(inputs)
    for name, entry in data.items():
        label = _part_label(path, name, entry)
        key = _match(keys, name)
        if key is None:
            inputs.warnings.append(f"{path.name}: {name!r} is not among the photos; skipped")
            continue
        inputs.parts[key] = label


def _part_label(path: Path, name: str, entry: Any) -> PartLabel:
    where = f"{path}: {name!r}"
    if not isinstance(entry, dict):
        raise BenchInputError(f'{where}: must be an object with a "grid"')
    grid = entry.get("grid")
    if not isinstance(grid, list) or len(grid) != GRID:
        raise BenchInputError(f'{where}: "grid" must be a list of {GRID} strings')
    for i, row in enumerate(grid):
        if not isinstance(row, str) or len(row) != GRID:
            raise BenchInputError(
                f'{where}: "grid" row {i + 1} must be a string of {GRID} characters'
            )
        bad = sorted(set(row) - set(GRID_CLASSES) - {UNSCORED})
        if bad:
            raise BenchInputError(
                f'{where}: "grid" row {i + 1} has {"".join(bad)!r}; use . o r p or ?'
            )
    view = entry.get("view")
    if view is not None and not isinstance(view, str):
        raise BenchInputError(f'{where}: "view" must be a string')
    return PartLabel(tuple(grid), view.strip().lower() if view else None)
