"""Training data: rendered sets (labels.jsonl) and curator folders, checked against the ontology."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from saree_app.imaging import Letterbox, upright_size

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}
SPLITS = ("train", "val", "test", "heldout")


class DataError(Exception):
    """A data set that cannot be used as it is, with the file and the reason in plain words."""


@dataclass(frozen=True)
class Item:
    """One labelled photo."""

    image: Path
    tradition: str
    attributes: tuple[str, ...] = ()
    mask: Path | None = None
    split: str = "train"
    families: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    rotate: int = 0  # degrees counter-clockwise, for augmented copies in the feature cache
    augment: int = 0  # seed of a photo-space augmentation (train.augment); 0 = the photo as is
    piece: bool = False  # with augment: first cut down to a piece of the cloth (train.augment)
    surfaces: str = "basic"  # with augment: the backgrounds it may get (train.augment.SURFACES)
    # One piece of a long photo, as the app reads it (model/pieces.py): (left, top, right,
    # bottom) in the photo's own upright pixels; the photo and its mask are cut to it first.
    crop: tuple[int, int, int, int] | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-able form (paths as strings)."""
        out: dict[str, object] = {
            "image": str(self.image),
            "tradition": self.tradition,
            "attributes": list(self.attributes),
            "mask": None if self.mask is None else str(self.mask),
            "split": self.split,
            "families": dict(self.families),
            "rotate": self.rotate,
            "augment": self.augment,
            "piece": self.piece,
            "surfaces": self.surfaces,
        }
        if self.crop is not None:
            # Only when set: a cache's meta.json of whole photos stays as it was written.
            out["crop"] = list(self.crop)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Item:
        """Inverse of to_dict."""
        mask = d.get("mask")
        crop = d.get("crop")
        return cls(
            image=Path(str(d["image"])),
            tradition=str(d["tradition"]),
            attributes=tuple(str(a) for a in d.get("attributes", []) or []),  # type: ignore[attr-defined]
            mask=None if mask is None else Path(str(mask)),
            split=str(d.get("split", "train")),
            families=dict(d.get("families", {}) or {}),  # type: ignore[call-overload]
            rotate=int(d.get("rotate", 0) or 0),  # type: ignore[call-overload]
            augment=int(d.get("augment", 0) or 0),  # type: ignore[call-overload]
            piece=bool(d.get("piece", False)),
            surfaces=str(d.get("surfaces", "basic") or "basic"),
            crop=None if crop is None else _box(crop),
        )


def _box(value: Any) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(v) for v in value)
    return x0, y0, x1, y1


@dataclass(frozen=True)
class Vocabulary:
    """Tradition and attribute term ids of the ontology, with the names a curator may use."""

    traditions: frozenset[str]
    attributes: frozenset[str]
    names: dict[str, str]  # normalised label / local name / id -> tradition id
    typical: dict[str, dict[str, float]] = field(default_factory=dict, compare=False, hash=False)

    def tradition(self, name: str) -> str | None:
        """A folder name (id, English label or local name) -> tradition id, or None."""
        if name in self.traditions:
            return name
        return self.names.get(_norm(name))

    def suggest(self, name: str) -> list[str]:
        """The closest tradition ids, for an error message."""
        by_norm = {_norm(t): t for t in self.traditions} | self.names
        close = difflib.get_close_matches(_norm(name), list(by_norm), n=3, cutoff=0.6)
        return sorted({by_norm[c] for c in close})


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


@lru_cache(maxsize=4)
def load_vocabulary(ontology: Path | None = None) -> Vocabulary:
    """The ontology's traditions (with labels) and attribute terms (motifs, weaves, features)."""
    import rdflib
    from rdflib.namespace import RDF, RDFS, SKOS

    from saree_app.knowledge.namespace import BASE_IRI
    from saree_app.paths import ontology_dir

    folder = ontology or ontology_dir()
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise DataError(f"{folder}: no ontology (*.ttl) found; the labels cannot be checked")
    g = rdflib.Graph()
    for f in files:
        try:
            g.parse(f, format="turtle")
        except Exception as exc:  # rdflib raises many types for bad Turtle
            raise DataError(f"{f}: the ontology file cannot be read ({exc})") from exc
    ns = rdflib.Namespace(BASE_IRI)
    local_name = ns["localName"]

    def ids(cls_name: str) -> set[str]:
        out: set[str] = set()
        classes = {ns[cls_name]} | set(g.transitive_subjects(RDFS.subClassOf, ns[cls_name]))
        for c in classes:
            for s in g.subjects(RDF.type, c):
                if isinstance(s, rdflib.URIRef) and str(s).startswith(BASE_IRI):
                    out.add(str(s)[len(BASE_IRI) :])
        return out

    traditions = ids("Tradition")
    attributes = ids("Motif") | ids("Weave") | ids("Feature")
    names: dict[str, str] = {}
    for t in traditions:
        names[_norm(t)] = t
        for pred in (RDFS.label, local_name, SKOS.altLabel):
            for lab in g.objects(ns[t], pred):
                names.setdefault(_norm(str(lab)), t)
    typical: dict[str, dict[str, float]] = {}
    for t in traditions:
        for link in g.objects(ns[t], ns["hasAttribute"]):
            attr = g.value(link, ns["attribute"])
            weight = g.value(link, ns["typicality"])
            if attr is not None and str(attr).startswith(BASE_IRI):
                a = str(attr)[len(BASE_IRI) :]
                typical.setdefault(t, {})[a] = float(str(weight)) if weight is not None else 0.5
    return Vocabulary(frozenset(traditions), frozenset(attributes), names, typical)


def ontology_attributes(
    items: Sequence[Item], vocab: Vocabulary, threshold: float = 0.5
) -> list[Item]:
    """Items without attribute labels get their tradition's typical attributes from the ontology.

    A weak label (typical, not observed): a curator's folder rarely says which motifs each photo
    shows, and the attribute head still learns what the ontology expects of each tradition.
    """
    out = []
    for it in items:
        if it.attributes:
            out.append(it)
            continue
        typical = vocab.typical.get(it.tradition, {})
        attrs = tuple(
            sorted(a for a, w in typical.items() if w >= threshold and a in vocab.attributes)
        )
        out.append(dataclasses.replace(it, attributes=attrs))
    return out


def _split_for(name: str, val: float = 0.1, test: float = 0.1) -> str:
    # A stable split from the file name: re-running never moves a photo between splits.
    h = int(hashlib.sha1(name.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if h < test:
        return "test"
    if h < test + val:
        return "val"
    return "train"


def load_dataset(root: Path | str, *, vocabulary: Vocabulary | None = None) -> list[Item]:
    """Every labelled photo under root: labels.jsonl if present, else DIR/<Tradition>/*.jpg."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    vocab = vocabulary or load_vocabulary()
    if (root / "labels.jsonl").is_file():
        items = _from_jsonl(root, vocab)
    else:
        items = _from_folders(root, vocab)
    if not items:
        raise DataError(f"{root}: no labelled photos found")
    return items


def _check_attributes(attrs: Iterable[str], vocab: Vocabulary, where: str) -> tuple[str, ...]:
    out = []
    for a in attrs:
        if a not in vocab.attributes:
            raise DataError(
                f"{where}: attribute {a!r} is not a motif, weave or feature of the ontology"
            )
        out.append(a)
    return tuple(out)


def _from_jsonl(root: Path, vocab: Vocabulary) -> list[Item]:
    path = root / "labels.jsonl"
    items: list[Item] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}, line {lineno}"
            try:
                rec = json.loads(line)
                image, tradition = rec["image"], rec["tradition"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataError(f"{where}: not a label record ({exc})") from exc
            if tradition not in vocab.traditions:
                hint = vocab.suggest(tradition)
                raise DataError(
                    f"{where}: {tradition!r} is not a tradition of the ontology"
                    + (f" (did you mean {', '.join(hint)}?)" if hint else "")
                )
            split = rec.get("split", "train")
            if split not in SPLITS:
                raise DataError(f"{where}: split {split!r} is not one of {', '.join(SPLITS)}")
            mask = rec.get("mask")
            items.append(
                Item(
                    image=root / image,
                    tradition=tradition,
                    attributes=_check_attributes(rec.get("attributes", []), vocab, where),
                    mask=None if not mask else root / mask,
                    split=split,
                    families=dict(rec.get("families", {})),
                )
            )
    return items


def _from_folders(root: Path, vocab: Vocabulary) -> list[Item]:
    items: list[Item] = []
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in folders:
        tradition = vocab.tradition(folder.name)
        if tradition is None:
            hint = vocab.suggest(folder.name)
            raise DataError(
                f"{folder}: folder name {folder.name!r} is not a tradition of the ontology"
                + (f" (did you mean {', '.join(hint)}?)" if hint else "")
                + "; name each folder after its tradition (id or English label)"
            )
        attr_file = folder / "attributes.json"
        attr_map: dict[str, list[str]] = {}
        if attr_file.is_file():
            try:
                attr_map = json.loads(attr_file.read_text(encoding="utf-8"))
                if not isinstance(attr_map, dict):
                    raise TypeError("expected an object {file name: [attribute ids]}")
            except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
                raise DataError(f"{attr_file}: cannot be read ({exc})") from exc
        for photo in sorted(folder.iterdir()):
            if photo.suffix.lower() not in PHOTO_SUFFIXES or photo.name.endswith(".mask.png"):
                continue
            mask = photo.with_name(photo.stem + ".mask.png")
            items.append(
                Item(
                    image=photo,
                    tradition=tradition,
                    attributes=_check_attributes(
                        attr_map.get(photo.name, []), vocab, f"{attr_file} ({photo.name})"
                    ),
                    mask=mask if mask.is_file() else None,
                    split=_split_for(f"{tradition}/{photo.name}"),
                )
            )
    return items


def select(
    items: Sequence[Item],
    *,
    splits: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    include: Iterable[str] | None = None,
) -> list[Item]:
    """Filter by split and tradition (exclude wins over include)."""
    keep_splits = set(splits) if splits is not None else None
    drop = set(exclude)
    only = set(include) if include is not None else None
    return [
        it
        for it in items
        if (keep_splits is None or it.split in keep_splits)
        and it.tradition not in drop
        and (only is None or it.tradition in only)
    ]


def letterbox_mask(mask: Image.Image, box: Letterbox, out: int) -> np.ndarray:
    """Place a part mask exactly where preprocess() put its photo, then shrink to out x out.

    Nearest-neighbour throughout: mask values are class ids, never blended.
    """
    if mask.size != (box.width, box.height):
        mask = mask.resize((box.width, box.height), Image.Resampling.NEAREST)
    left, top, right, bottom = box.content_box
    resized = mask.resize((right - left, bottom - top), Image.Resampling.NEAREST)
    canvas = Image.new("L", (box.size, box.size), 0)
    canvas.paste(resized, (left, top))
    if out != box.size:
        canvas = canvas.resize((out, out), Image.Resampling.NEAREST)
    arr = np.asarray(canvas, dtype=np.uint8).copy()
    arr[arr > 3] = 0  # anything but the four classes counts as background
    return arr


def cut_to_crop(
    item: Item, photo: Image.Image, mask: Image.Image | None
) -> tuple[Image.Image, Image.Image | None]:
    """The item's piece (`Item.crop`) of its decoded photo and of its part mask; both as they
    are for a whole photo. The photo may be decoded smaller than its own size (draft decoding):
    the piece is the same share of it, as `Pieces.crops` cuts it. The mask is a label grid
    stretched over the photo (a corrected map's `partmap.grid_for` grid), so it is stretched
    to the decoded photo first and cut at the same pixels."""
    if item.crop is None:
        return photo, mask
    w, h = upright_size(item.image) or photo.size
    sx, sy = photo.width / w, photo.height / h
    x0, y0, x1, y1 = item.crop
    box = (round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy))
    if mask is not None:
        mask = mask.resize(photo.size, Image.Resampling.NEAREST).crop(box)
    return photo.crop(box), mask


def one_per_photo(items: Sequence[Item]) -> list[Item]:
    """The items with a long photo's pieces (`Item.crop`) counted once, as its first piece:
    how many photos, not pieces, a set holds."""
    seen: set[tuple[Path, str]] = set()
    out = []
    for it in items:
        if it.crop is not None:
            if (it.image, it.split) in seen:
                continue
            seen.add((it.image, it.split))
        out.append(it)
    return out
