"""The photos a curator confirmed, ready to train on: files checked, too few refused."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from saree_app.collection.catalog import Catalog, CatalogError
from saree_app.model.manifest import sha256_of

# Fewer confirmed photos than this for a tradition and it cannot be learnt and checked at all.
MIN_PER_TRADITION = 2
MIN_TRADITIONS = 2


class CatalogueProblem(CatalogError):
    """A catalogue that cannot be trained on, in one line a curator reads.

    `found` and `counts` (usable confirmed photos per tradition) come with a refusal of what
    the catalogue holds, so that the app can say it in its own words; both are None when the
    catalogue itself cannot be read."""

    def __init__(
        self,
        message: str,
        *,
        found: Confirmed | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        super().__init__(message)
        self.found = found
        self.counts = counts


@dataclass
class Confirmed:
    """The catalogue's confirmed photos, as training will use them."""

    usable: list[tuple[int, Path, str, str]] = field(default_factory=list)  # id, path, sha, tr.
    missing: list[tuple[int, str]] = field(default_factory=list)  # id, path as stored
    changed: list[tuple[int, str]] = field(default_factory=list)  # content not as imported
    left_out: dict[str, int] = field(default_factory=dict)  # tradition -> too few photos
    min_per_tradition: int = MIN_PER_TRADITION
    # Photo id -> which saree it shows ("object:<accession>", else "photo:<id>"): the photos of
    # one saree are held back together, or a border close-up would vouch for its whole view.
    saree: dict[int, str] = field(default_factory=dict)
    # Accession -> the traditions its photos were confirmed as, for objects whose confirmed
    # photos disagree: left out until the curator settles which it is.
    disagree: dict[str, list[str]] = field(default_factory=dict)

    def saree_of(self, pid: int) -> str:
        return self.saree.get(pid, f"photo:{pid}")


def read_confirmed(catalog_path: Path) -> Confirmed:
    """Every confirmed photo with a tradition, its file checked; CatalogueProblem when the
    catalogue cannot be read or what is left cannot train a model."""
    from saree_app.collection.objects import object_ids_by_photo

    try:
        with Catalog(catalog_path, create=False) as cat:
            labels = cat.labels()
            photos = {pid: cat.photo(pid) for pid in labels}
            accession = object_ids_by_photo(cat)
    except CatalogError as exc:
        raise CatalogueProblem(str(exc)) from exc
    found = Confirmed(saree={pid: f"object:{acc}" for pid, acc in accession.items()})
    # The schema cannot hold two labels for one photo content: photos are unique by sha256 and
    # labels are keyed by photo. What can still happen is a file changed after it was confirmed
    # (another photo copied over it); its label then describes content that is no longer there,
    # so it is left out like a missing file rather than teaching the wrong tradition.
    for pid in sorted(labels):
        lab, photo = labels[pid], photos[pid]
        tradition = (lab.tradition or "").strip()
        if lab.certainty != "confirmed" or not tradition or photo is None:
            continue
        path = Path(photo.path)
        try:
            sha = sha256_of(path)
        except OSError:
            found.missing.append((pid, photo.path))
            continue
        if sha != photo.sha256:
            found.changed.append((pid, photo.path))
            continue
        found.usable.append((pid, path, sha, tradition))
    # One saree confirmed as two traditions (its border close-up as one, its whole view as
    # another) would teach each tradition the other's cloth: left out, and said, until settled.
    said: dict[str, set[str]] = {}
    for pid, *_, tradition in found.usable:
        if pid in accession:
            said.setdefault(accession[pid], set()).add(tradition)
    found.disagree = {a: sorted(ts) for a, ts in sorted(said.items()) if len(ts) > 1}
    found.usable = [u for u in found.usable if accession.get(u[0]) not in found.disagree]
    counts = Counter(t for *_, t in found.usable)
    gone = _gone(found)
    needed = (
        f"needed: at least {MIN_PER_TRADITION} confirmed photos of each of at least "
        f"{MIN_TRADITIONS} traditions"
    )
    if not counts:
        raise CatalogueProblem(
            f"{catalog_path}: no confirmed photos with a tradition{gone}; {needed} "
            "(saree label --confirm or --tradition)",
            found=found,
            counts=dict(counts),
        )
    if len(counts) == 1:
        ((only, n),) = counts.items()
        raise CatalogueProblem(
            f"{catalog_path}: all {n} usable confirmed photos are {only}{gone}; a model needs "
            f"at least {MIN_TRADITIONS} traditions with {MIN_PER_TRADITION} confirmed photos each",
            found=found,
            counts=dict(counts),
        )
    enough = {t for t, n in counts.items() if n >= MIN_PER_TRADITION}
    if len(enough) < MIN_TRADITIONS:
        have = ", ".join(f"{t} {n}" for t, n in sorted(counts.items()))
        raise CatalogueProblem(
            f"{catalog_path}: too few confirmed photos: {sum(counts.values())} usable "
            f"({have}){gone}; {needed}",
            found=found,
            counts=dict(counts),
        )
    found.left_out = {t: n for t, n in sorted(counts.items()) if t not in enough}
    found.usable = [u for u in found.usable if u[3] in enough]
    return found


def _gone(found: Confirmed) -> str:
    parts = []
    if found.disagree:
        n = len(found.disagree)
        parts.append(f"the photos of {n} object{'s' if n > 1 else ''} confirmed as two traditions")
    if found.missing:
        parts.append(f"{len(found.missing)} whose files are gone")
    if found.changed:
        parts.append(f"{len(found.changed)} whose files changed since import")
    return f" (left out: {', '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class CorrectedMap:
    """A photo whose part map a curator corrected: segmentation training data for retraining
    (labels 0 background, 1 body, 2 border, 3 pallu, a grid stretched over the photo: 64 x 64,
    or along a long photo its length, partmap.grid_for)."""

    photo_id: int
    path: Path
    labels: np.ndarray
    corrected_by: str | None
    updated: str
    sha256: str = ""  # the photo's content, checked against the file


def read_corrected_maps(catalog_path: Path) -> tuple[list[CorrectedMap], list[tuple[int, str]]]:
    """The curator's corrected part maps whose photo files are still there and unchanged, and
    the (id, path) of those left out; CatalogueProblem when the catalogue cannot be read."""
    try:
        with Catalog(catalog_path, create=False) as cat:
            maps = cat.part_maps()
            photos = {pid: cat.photo(pid) for pid in maps}
    except CatalogError as exc:
        raise CatalogueProblem(str(exc)) from exc
    usable, left_out = [], []
    for pid in sorted(maps):
        photo = photos[pid]
        if photo is None:
            continue
        path = Path(photo.path)
        try:
            same = sha256_of(path) == photo.sha256
        except OSError:
            same = False
        if not same:
            left_out.append((pid, photo.path))
            continue
        m = maps[pid]
        usable.append(CorrectedMap(pid, path, m.labels, m.corrected_by, m.updated, photo.sha256))
    return usable, left_out
