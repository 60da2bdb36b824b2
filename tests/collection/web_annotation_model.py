"""The W3C Web Annotation Data Model's required structure, checked on our JSON.

No maintained Python validator for the model exists on PyPI (the W3C's own test suite is
JSON Schema assertions run from a browser; iiif-prezi3 checks the IIIF profile only, rejects
a JSON-LD context with local terms, and pins Pillow <= 12). So the MUSTs of the
recommendation (https://www.w3.org/TR/annotation-model/) that our output can break are
checked here, each failure naming the rule.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# Section 3.3.5: the motivations the model defines (others must be IRIs).
MOTIVATIONS = {
    "assessing",
    "bookmarking",
    "classifying",
    "commenting",
    "describing",
    "editing",
    "highlighting",
    "identifying",
    "linking",
    "moderating",
    "questioning",
    "replying",
    "tagging",
}
SVG_NS = "{http://www.w3.org/2000/svg}"
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")
_XYWH = re.compile(r"xywh=(pixel:)?\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?")
_POLYGON = re.compile(r"M-?[\d.]+,-?[\d.]+(?: L-?[\d.]+,-?[\d.]+)+ Z")


class ModelError(AssertionError):
    """A rule of the Web Annotation Data Model that a document breaks."""


def _need(ok: bool, rule: str) -> None:
    if not ok:
        raise ModelError(rule)


def _iri(value: Any, what: str) -> None:
    _need(isinstance(value, str) and bool(_IRI.fullmatch(value)), f"{what}: not an IRI: {value!r}")


def _context(doc: dict[str, Any]) -> None:
    ctx = doc.get("@context")
    values = ctx if isinstance(ctx, list) else [ctx]
    _need(ANNO_CONTEXT in values, "3.1: @context must be or include " + ANNO_CONTEXT)


def check_page(page: dict[str, Any], *, width: float, height: float) -> None:
    """Raise ModelError where an AnnotationPage (section 4.2) or one of its annotations
    breaks the model; coordinates must fall inside width x height."""
    _context(page)
    _iri(page.get("id"), "4.2: AnnotationPage id")
    _need(page.get("type") == "AnnotationPage", "4.2: type must be AnnotationPage")
    items = page.get("items")
    _need(isinstance(items, list), "4.2: items must be a list of annotations")
    ids = [a.get("id") for a in items]
    _need(len(set(ids)) == len(ids), "3.1: annotation ids must be distinct")
    for anno in items:
        check_annotation(anno, width=width, height=height, embedded=True)


def check_annotation(
    anno: dict[str, Any], *, width: float, height: float, embedded: bool = False
) -> None:
    """Raise ModelError where one annotation breaks the model (section 3)."""
    if not embedded:
        _context(anno)
    _iri(anno.get("id"), "3.1: Annotation id")
    types = anno.get("type")
    _need("Annotation" in (types if isinstance(types, list) else [types]), "3.1: type Annotation")
    _need("target" in anno, "3.1: an Annotation must have at least one target")
    motivation = anno.get("motivation")
    if motivation is not None:
        _need(motivation in MOTIVATIONS or bool(_IRI.fullmatch(motivation)), "3.3.5: motivation")
    bodies = anno.get("body", [])
    for body in bodies if isinstance(bodies, list) else [bodies]:
        if isinstance(body, dict) and body.get("type") == "TextualBody":
            _need(isinstance(body.get("value"), str), "3.2.4: TextualBody must have a value")
            purpose = body.get("purpose")
            _need(purpose is None or purpose in MOTIVATIONS, "3.3.5: body purpose")
    targets = anno["target"]
    for target in targets if isinstance(targets, list) else [targets]:
        if isinstance(target, str):
            _iri(target, "3.2: target")
            continue
        _need(target.get("type") in (None, "SpecificResource"), "4.1: target type")
        source = target.get("source")
        _need(source is not None, "4.1: a SpecificResource must have exactly one source")
        _iri(source["id"] if isinstance(source, dict) else source, "4.1: source")
        selectors = target.get("selector", [])
        for selector in selectors if isinstance(selectors, list) else [selectors]:
            check_selector(selector, width=width, height=height)


def check_selector(selector: dict[str, Any], *, width: float, height: float) -> None:
    """Raise ModelError where a FragmentSelector (4.2.1) or SvgSelector (4.2.8) is wrong."""
    kind = selector.get("type")
    if kind == "FragmentSelector":
        _need("value" in selector, "4.2.1: FragmentSelector must have a value")
        _need(
            selector.get("conformsTo") == "http://www.w3.org/TR/media-frags/",
            "4.2.1: an image region's FragmentSelector conforms to Media Fragments",
        )
        match = _XYWH.fullmatch(selector["value"])
        _need(match is not None, f"Media Fragments: bad xywh {selector['value']!r}")
        x, y, w, h = (float(v) for v in selector["value"].split("=")[1].split(","))
        _need(x + w <= width and y + h <= height, "xywh falls outside the canvas")
    elif kind == "SvgSelector":
        _need("value" in selector or "id" in selector, "4.2.8: SvgSelector needs value or id")
        try:
            root = ET.fromstring(selector["value"])
        except ET.ParseError as exc:
            raise ModelError(f"4.2.8: SvgSelector value is not well-formed SVG ({exc})") from exc
        _need(root.tag == f"{SVG_NS}svg", "4.2.8: the value's root must be an SVG <svg> element")
        shapes = list(root.iter(f"{SVG_NS}path")) + list(root.iter(f"{SVG_NS}polygon"))
        _need(bool(shapes), "4.2.8: the SVG holds no shape")
        for shape in shapes:
            if shape.tag == f"{SVG_NS}path":
                d = shape.get("d", "")
                polygons = _POLYGON.findall(d)
                _need(
                    bool(polygons) and " ".join(polygons) == d,
                    f"path is not closed polygons: {d[:60]!r}",
                )
                points = re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)
            else:
                points = re.findall(r"(-?[\d.]+),(-?[\d.]+)", shape.get("points", ""))
            for px, py in points:
                _need(
                    0 <= float(px) <= width and 0 <= float(py) <= height,
                    f"point {px},{py} falls outside the canvas",
                )
    else:
        raise ModelError(f"unexpected selector type {kind!r}")
