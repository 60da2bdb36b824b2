"""The catalogue's findings as W3C Web Annotations (JSON-LD), one AnnotationPage per photo.

Written as one file holding every page, or as a folder with one page per file
(`write_pages`), which a IIIF viewer such as Mirador loads for the canvas it shows.

Each page holds: the saree's parts (body, border, pallu) as regions outlined by SVG selectors,
traced from the part map (the curator's corrected map when there is one, else the model's,
which needs the model to look at the photo again); the tradition as a "classifying"
annotation with the model's confidence and whether the curator confirmed it; the curator's
note as a "commenting" annotation. The classifying body names the state and cultural region
the tradition comes from, as the CSV export does: typed by the curator for a tradition they
added, else from the knowledge graph. Photos that came from a IIIF manifest are annotated on their
canvas (coordinates in the canvas's size), so a IIIF viewer shows the annotations on it; local
photos on their file URI.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.collection.catalog import Catalog, Photo
from saree_app.collection.traditions import CuratorTradition

CONTEXT: list[Any] = [
    "http://www.w3.org/ns/anno.jsonld",
    {
        "saree": "urn:saree-app:",
        "confidence": {"@id": "saree:confidence", "@type": "xsd:decimal"},
        "confirmedByCurator": {"@id": "saree:confirmedByCurator", "@type": "xsd:boolean"},
        "tradition": {"@id": "saree:tradition", "@type": "@id"},
        "state": {"@id": "saree:state"},
        "culturalRegion": {"@id": "saree:culturalRegion"},
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    },
]
PARTS = {1: "body", 2: "border", 3: "pallu"}
URN = "urn:saree-app:annotations"
GRID = 64


def outlines(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """The closed outlines (grid corner points) of the True cells of a 2-D bool mask: outer
    edges and holes alike, each a loop with straight runs merged; to be filled even-odd."""
    h, w = mask.shape
    m = np.pad(mask.astype(bool), 1)
    edges: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def add(a: tuple[int, int], b: tuple[int, int]) -> None:
        edges.setdefault(a, []).append(b)

    for y in range(h):
        for x in range(w):
            if not m[y + 1, x + 1]:
                continue
            # Edges walked with the cell on their right (clockwise on screen).
            if not m[y, x + 1]:
                add((x, y), (x + 1, y))
            if not m[y + 1, x + 2]:
                add((x + 1, y), (x + 1, y + 1))
            if not m[y + 2, x + 1]:
                add((x + 1, y + 1), (x, y + 1))
            if not m[y + 1, x]:
                add((x, y + 1), (x, y))
    loops: list[list[tuple[int, int]]] = []
    while edges:
        start = next(iter(edges))
        loop = [start]
        point = start
        while True:
            nexts = edges[point]
            nxt = nexts.pop()
            if not nexts:
                del edges[point]
            if nxt == start:
                break
            loop.append(nxt)
            point = nxt
        loops.append(_straight(loop))
    return loops


def _straight(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    n = len(loop)
    keep = []
    for i, (x, y) in enumerate(loop):
        (px, py), (nx, ny) = loop[i - 1], loop[(i + 1) % n]
        if (x - px) * (ny - y) - (y - py) * (nx - x) != 0:
            keep.append((x, y))
    return keep or loop


def svg(labels: np.ndarray, part: int, width: int, height: int) -> str | None:
    """An SVG selector's value outlining one part of a label grid stretched over width x
    height; None when the part is not on the map.

    The polygons are closed sub-paths of one <path> (even-odd, so holes stay holes) rather
    than <polygon> elements: Mirador draws only the <path> elements of an SvgSelector.
    """
    loops = outlines(labels == part)
    if not loops:
        return None
    gh, gw = labels.shape
    sx, sy = width / gw, height / gh
    d = " ".join(
        "M" + " L".join(f"{x * sx:.1f},{y * sy:.1f}" for x, y in loop) + " Z" for loop in loops
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"
        f"<path fill-rule='evenodd' d='{d}'/></svg>"
    )


def _whole(width: int, height: int) -> dict[str, Any]:
    return {
        "type": "FragmentSelector",
        "conformsTo": "http://www.w3.org/TR/media-frags/",
        "value": f"xywh=0,0,{width},{height}",
    }


def page(
    catalog: Catalog,
    photo: Photo,
    *,
    model_sha256: str | None = None,
    part_labels: Callable[[Photo], np.ndarray | None] | None = None,
    base: str | None = None,
    graph: Any = None,
    added: Mapping[str, CuratorTradition] | None = None,
) -> dict[str, Any]:
    """One photo's AnnotationPage. `base`: the web address its file will be published under
    (its id is then that file's address, `BASE/photo-ID.json`, as a viewer fetches it).
    `graph` names the traditions as the app shows them; the tradition's IRI goes beside.
    `added`: the curator's own traditions by case-folded name (read from the catalogue's side
    file when not given; a caller writing many pages reads it once)."""
    from saree_app.collection.export import _added_traditions, _where_from
    from saree_app.collection.iiif import source_of

    src = source_of(catalog, photo)
    if src and src.get("canvas"):
        width = int(src.get("width") or photo.width or 1)
        height = int(src.get("height") or photo.height or 1)
        target_source: Any = {"id": src["canvas"], "type": "Canvas"}
        if src.get("manifest_id") or src.get("manifest"):
            target_source["partOf"] = [
                {"id": src.get("manifest_id") or src["manifest"], "type": "Manifest"}
            ]
    else:
        width, height = int(photo.width or 1), int(photo.height or 1)
        target_source = {"id": Path(photo.path).as_uri(), "type": "Image", "format": "image/jpeg"}
    if base is None:
        page_id, sep = f"{URN}/photo-{photo.id}", "/"
    else:
        page_id, sep = f"{base.rstrip('/')}/{page_file(photo)}", "#"
    items: list[dict[str, Any]] = []

    def annotation(motivation: str, body: Any, selector: dict[str, Any]) -> dict[str, Any]:
        anno = {
            "id": f"{page_id}{sep}{len(items) + 1}",
            "type": "Annotation",
            "motivation": motivation,
            "body": body,
            "target": {"type": "SpecificResource", "source": target_source, "selector": selector},
        }
        items.append(anno)
        return anno

    labels = part_labels(photo) if part_labels is not None else None
    if labels is not None:
        for value, name in PARTS.items():
            shape = svg(np.asarray(labels), value, width, height)
            if shape is not None:
                annotation(
                    "tagging",
                    {"type": "TextualBody", "purpose": "tagging", "value": name},
                    {"type": "SvgSelector", "value": shape},
                )
    label = catalog.label(photo.id)
    pred = catalog.prediction(photo.id, model_sha256)
    tradition = label.tradition if label is not None and label.tradition else None
    confirmed = bool(tradition and label is not None and label.certainty == "confirmed")
    if tradition is None and pred is not None:
        tradition = pred.top_tradition
    if tradition:
        confidence = _confidence(pred.result, tradition) if pred is not None else None
        if confidence is None and pred is not None and pred.top_tradition == tradition:
            confidence = pred.top_probability
        from saree_app.collection.export import _label, _term

        body: dict[str, Any] = {
            "type": "TextualBody",
            "purpose": "classifying",
            "value": _label(graph, tradition),  # what the viewer shows: the app's name
            "tradition": _term(tradition),
        }
        if added is None:
            added = _added_traditions(catalog)
        state, region = _where_from(graph, tradition, added.get(tradition.casefold()))
        if state:
            body["state"] = state
        if region:
            body["culturalRegion"] = region
        anno = annotation("classifying", body, _whole(width, height))
        # The model's probability, for its own answer: a tradition the curator confirmed is
        # theirs, and the model's figure beside it would read as their certainty.
        if confidence is not None and not confirmed:
            anno["confidence"] = round(float(confidence), 4)
        anno["confirmedByCurator"] = confirmed
        if label is not None and label.tradition and label.certainty:
            anno["body"]["saree:certainty"] = label.certainty
    if label is not None and label.note:
        annotation(
            "commenting",
            {"type": "TextualBody", "purpose": "commenting", "value": label.note},
            _whole(width, height),
        )
    return {"@context": CONTEXT, "id": page_id, "type": "AnnotationPage", "items": items}


def _confidence(result: dict[str, Any], tradition: str) -> float | None:
    """The model's probability for a tradition in a stored answer, None when it has none."""
    for r in result.get("ranking") or []:
        if isinstance(r, dict) and r.get("tradition") == tradition:
            return round(float(r.get("probability", 0.0)), 4)
    return None


def to_annotations(
    catalog: Catalog,
    *,
    model_sha256: str | None = None,
    part_labels: Callable[[Photo], np.ndarray | None] | None = None,
    base: str | None = None,
    graph: Any = None,
) -> str:
    """Every photo's AnnotationPage, as a JSON list."""
    pages = _every_page(catalog, model_sha256, part_labels, base, graph)
    return json.dumps([one for _, one in pages], indent=1, ensure_ascii=False) + "\n"


def _every_page(
    catalog: Catalog,
    model_sha256: str | None,
    part_labels: Callable[[Photo], np.ndarray | None] | None,
    base: str | None,
    graph: Any,
) -> list[tuple[Photo, dict[str, Any]]]:
    """Each photo with its AnnotationPage (the curator's traditions read once for all)."""
    from saree_app.collection.export import _added_traditions

    added = _added_traditions(catalog)
    return [
        (
            p,
            page(
                catalog,
                p,
                model_sha256=model_sha256,
                part_labels=part_labels,
                base=base,
                graph=graph,
                added=added,
            ),
        )
        for p in catalog.photos()
    ]


def page_file(photo: Photo) -> str:
    """The file name of a photo's AnnotationPage in a folder of pages."""
    return f"photo-{photo.id}.json"


def check_base(base: str | None) -> str | None:
    """`base` if it is a web address pages can be published under, else CatalogError."""
    from urllib.parse import urlsplit

    from saree_app.collection.catalog import CatalogError

    if base is None:
        return None
    parts = urlsplit(base)
    bad = any(c in base for c in " <>\"'")
    if parts.scheme not in ("http", "https") or not parts.netloc or bad:
        raise CatalogError(
            f"{base!r} is not a web address (give the http(s) address the pages will be "
            "published under, e.g. https://example.org/annotations)"
        )
    if parts.query or parts.fragment:
        raise CatalogError(f"{base!r}: give the folder's address, without ? or #")
    return base


def write_pages(
    catalog: Catalog,
    folder: str | Path,
    *,
    model_sha256: str | None = None,
    part_labels: Callable[[Photo], np.ndarray | None] | None = None,
    base: str | None = None,
    graph: Any = None,
) -> list[Path]:
    """Write each photo's AnnotationPage to its own file in `folder` (made if missing, but not
    its parents), each file whole or not at all; returns the files written. A viewer loads the
    page of the canvas it shows: publish the folder at `base`."""
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.export import write_atomic

    check_base(base)
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise CatalogError(f"{target}: is a file; give a folder for one page per photo")
    if not target.parent.is_dir():
        raise CatalogError(f"{target}: the folder {target.parent} does not exist")
    # Every page is made before any file is written: a photo that fails leaves the folder as
    # it was.
    pages = _every_page(catalog, model_sha256, part_labels, base, graph)
    target.mkdir(exist_ok=True)
    written = []
    for photo, one in pages:
        out = target / page_file(photo)
        write_atomic(out, json.dumps(one, indent=1, ensure_ascii=False) + "\n")
        written.append(out)
    return written


def part_labels_from(
    catalog: Catalog, predictor: Any | None
) -> Callable[[Photo], np.ndarray | None]:
    """The part map of a photo as a label grid: the curator's correction when there is one,
    else the model's, looked at again (None without a model or when the photo cannot be
    read)."""

    def labels(photo: Photo) -> np.ndarray | None:
        stored = catalog.part_map(photo.id)
        if stored is not None:
            return np.asarray(stored.labels)
        if predictor is None:
            return None
        from saree_app.imaging import PhotoError

        try:
            pred = predictor.predict(Path(photo.path))
        except (PhotoError, OSError):  # an unreadable photo: its other annotations still go out
            return None
        return np.asarray(pred.part_mask_at((GRID, GRID)))

    return labels
