"""Sarees from a IIIF Presentation manifest (API 2.1 or 3.0), as a file or an http(s) URL.

Each canvas's image is fetched through its Image API service at a size fit for the model
(`full/!1600,1600/0/default.jpg`, valid for Image API 2 and 3), not the full-resolution
original, into a folder beside the catalogue (`<catalogue>.iiif/`), so thumbnails and the app
work offline afterwards. Every image is fetched before any goes into the catalogue: a network
error, a timeout, JSON that is no manifest, a manifest without images or a response over the
byte cap stops the import with one plain message and nothing half-imported. Images already
fetched are kept, so running the import again picks up where it stopped.

Where each photo came from (manifest URL, canvas id and size, the manifest's label and
metadata) is kept in `<catalogue>.iiif/sources.json`, keyed by the photo's content hash, the
catalogue's own identity for a photo; `source_of` reads it. The manifest becomes one object
(collection/objects.py) with its canvases as photos and its label and metadata as the record.
Only the standard library's urllib touches the network.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saree_app.collection import side_files
from saree_app.collection.catalog import Catalog, Photo
from saree_app.collection.importer import ImportProgress, PredictorLike, import_files

SIZE = "!1600,1600"  # fits in 1600 x 1600, aspect kept: plenty for the model, small to fetch
MANIFEST_CAP = 20 * 1024 * 1024
IMAGE_CAP = 40 * 1024 * 1024
TIMEOUT = 30.0
# The system's words for "no way there": the network is down or the host cannot be routed to.
_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


class IIIFError(Exception):
    """A manifest that cannot be used, in plain words."""


@dataclass(frozen=True)
class Canvas:
    """One canvas of a manifest: its id, label, size and the image URL to fetch."""

    id: str
    label: str
    width: int | None
    height: int | None
    image: str


@dataclass(frozen=True)
class Manifest:
    url: str
    id: str
    version: int  # 2 or 3
    label: str
    metadata: list[tuple[str, str]]
    canvases: list[Canvas] = field(default_factory=list)


def is_manifest_source(text: str) -> bool:
    """True for an http(s) URL or a .json file: what `saree import` reads as a manifest."""
    low = text.lower()
    return low.startswith(("http://", "https://")) or low.endswith(".json")


def cache_folder(catalog_path: Path) -> Path:
    return side_files.beside(catalog_path, side_files.IIIF)


def fetch(url: str, *, cap: int, timeout: float = TIMEOUT, what: str = "the manifest") -> bytes:
    """The bytes at an http(s) URL or in a local file, at most `cap` of them; IIIFError else."""
    if not url.lower().startswith(("http://", "https://")):
        path = Path(url[7:] if url.startswith("file://") else url)
        try:
            if path.stat().st_size > cap:
                raise IIIFError(f"{url}: {what} is larger than {cap // (1024 * 1024)} MB")
            return path.read_bytes()
        except OSError as exc:
            raise IIIFError(f"{url}: {what} cannot be read ({exc.strerror or exc})") from None
    request = urllib.request.Request(url, headers={"User-Agent": "saree-app", "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > cap:
                raise IIIFError(f"{url}: {what} is larger than {cap // (1024 * 1024)} MB")
            data = bytes(resp.read(cap + 1))
    except urllib.error.HTTPError as exc:
        raise IIIFError(f"{url}: the server answered {exc.code} {exc.reason} for {what}") from None
    except TimeoutError:
        raise IIIFError(f"{url}: no answer within {timeout:g} s for {what}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise IIIFError(f"{url}: no answer within {timeout:g} s for {what}") from None
        raise IIIFError(f"{url}: cannot reach the server: {_unreachable(reason)}") from None
    except (OSError, http.client.HTTPException) as exc:
        # Cut off half-way (the server closed the connection, a reset): no errno for a curator.
        raise IIIFError(f"{url}: {what} could not be fetched: {_unreachable(exc)}") from None
    except ValueError as exc:
        raise IIIFError(f"{url}: {what} could not be fetched ({exc})") from None
    if len(data) > cap:
        raise IIIFError(f"{url}: {what} is larger than {cap // (1024 * 1024)} MB")
    return data


def _unreachable(reason: object) -> str:
    """Why a server could not be reached or read from, in words without errno numbers."""
    if isinstance(reason, socket.gaierror):
        return (
            "its name was not found (check the address, and that this computer is connected "
            "to the internet)"
        )
    if isinstance(reason, ConnectionRefusedError):
        return (
            "the connection was refused (nothing answers at that address: check it, or try "
            "again when the server is running)"
        )
    if isinstance(reason, TimeoutError):
        return "it did not answer in time (try again later)"
    if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "the connection was cut off (try again later)"
    if isinstance(reason, http.client.IncompleteRead):
        return "the answer stopped half-way (try again later)"
    if isinstance(reason, http.client.HTTPException):
        return "the server's answer is not one a web server gives (check the address)"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return "its secure connection cannot be checked (its certificate is not trusted)"
    if isinstance(reason, ssl.SSLError):
        return "its secure connection failed"
    if isinstance(reason, OSError) and reason.errno in _NO_ROUTE:
        return "the network cannot reach it (check that this computer is connected)"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[:1].lower() + reason.strerror[1:]
    return str(reason) or type(reason).__name__


def _text(value: Any) -> str:
    """A IIIF label: a string (2.x), a list of strings or {"@value"} (2.x), a language map
    (3.0: {"en": ["..."]}); English first, else any."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "@value" in value:
            return str(value["@value"])
        for key in ("en", "none", *value.keys()):
            if key in value:
                return _text(value[key])
        return ""
    if isinstance(value, list):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    return str(value)


def _id(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return str(obj.get("id") or obj.get("@id") or "")
    return ""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _image_url(resource: dict[str, Any]) -> str:
    """Through the Image API service when there is one, else the image itself."""
    services = resource.get("service")
    for service in services if isinstance(services, list) else [services]:
        base = _id(service).rstrip("/")
        if base:
            if base.endswith("/info.json"):
                base = base[: -len("/info.json")]
            return f"{base}/full/{SIZE}/0/default.jpg"
    return _id(resource)


def parse(data: bytes, url: str) -> Manifest:
    """A manifest from its JSON; IIIFError for what is not a IIIF manifest with images."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise IIIFError(f"{url}: not a IIIF manifest (not JSON)") from None
    if not isinstance(doc, dict):
        raise IIIFError(f"{url}: not a IIIF manifest (JSON, but no manifest in it)")
    context = json.dumps(doc.get("@context", ""))
    kind = str(doc.get("type") or doc.get("@type") or "")
    if "iiif.io/api/presentation/3" in context or kind == "Manifest":
        version = 3
    elif "iiif.io/api/presentation/2" in context or kind == "sc:Manifest":
        version = 2
    else:
        raise IIIFError(
            f"{url}: not a IIIF manifest (no IIIF Presentation context or Manifest type)"
        )
    if kind not in ("Manifest", "sc:Manifest"):
        raise IIIFError(f"{url}: a IIIF {kind or 'document'}, not a manifest")
    metadata = []
    for entry in doc.get("metadata") or []:
        if isinstance(entry, dict):
            metadata.append((_text(entry.get("label")), _text(entry.get("value"))))
    canvases: list[Canvas] = []
    if version == 3:
        raw = doc.get("items") or []
        for canvas in raw if isinstance(raw, list) else []:
            if not isinstance(canvas, dict) or canvas.get("type") != "Canvas":
                continue
            for page in canvas.get("items") or []:
                for anno in (page.get("items") or []) if isinstance(page, dict) else []:
                    body = anno.get("body") if isinstance(anno, dict) else None
                    body = body[0] if isinstance(body, list) and body else body
                    if isinstance(body, dict) and body.get("type") == "Image":
                        canvases.append(_canvas(canvas, body))
                        break
                else:
                    continue
                break
    else:
        for sequence in (doc.get("sequences") or [])[:1]:
            for canvas in (sequence.get("canvases") or []) if isinstance(sequence, dict) else []:
                if not isinstance(canvas, dict):
                    continue
                for image in canvas.get("images") or []:
                    resource = image.get("resource") if isinstance(image, dict) else None
                    if isinstance(resource, dict):
                        canvases.append(_canvas(canvas, resource))
                        break
    canvases = [c for c in canvases if c.image]
    if not canvases:
        raise IIIFError(f"{url}: the manifest has no images")
    return Manifest(url, _id(doc) or url, version, _text(doc.get("label")), metadata, canvases)


def _canvas(canvas: dict[str, Any], resource: dict[str, Any]) -> Canvas:
    return Canvas(
        _id(canvas),
        _text(canvas.get("label")),
        _int(canvas.get("width")),
        _int(canvas.get("height")),
        _image_url(resource),
    )


def load(source: str, *, timeout: float = TIMEOUT, cap: int = MANIFEST_CAP) -> Manifest:
    """Fetch and read a manifest (URL or file)."""
    url = source
    if not source.lower().startswith(("http://", "https://")):
        url = str(Path(source).resolve())
    return parse(fetch(url, cap=cap, timeout=timeout), url)


def _read_sources(folder: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((folder / "sources.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def sources(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """Content hash -> where that photo came from, for every photo that came from IIIF (read
    once, for exports that look at every photo)."""
    return {
        k: v for k, v in _read_sources(cache_folder(catalog.path)).items() if isinstance(v, dict)
    }


def source_of(catalog: Catalog, photo: Photo) -> dict[str, Any] | None:
    """Where a photo came from when it came from a IIIF manifest: manifest, canvas, width,
    height, label, canvas_label, metadata; None for a local photo."""
    entry = _read_sources(cache_folder(catalog.path)).get(photo.sha256)
    return entry if isinstance(entry, dict) else None


def download(
    catalog: Catalog,
    manifest: Manifest,
    *,
    timeout: float = TIMEOUT,
    cap: int = IMAGE_CAP,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[tuple[int, Path | None]]:
    """Fetch every canvas's image into the cache (ones already there are kept); yields
    (canvases done, path) as it goes, path None when cancelled. IIIFError on the first image
    that cannot be fetched; the catalogue is not touched."""
    root = cache_folder(catalog.path)
    folder = root / hashlib.sha256(manifest.url.encode()).hexdigest()[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IIIFError(f"{folder}: cannot be made ({exc.strerror or exc})") from None
    for i, canvas in enumerate(manifest.canvases):
        if cancel is not None and cancel():
            yield i, None
            return
        path = folder / f"canvas-{i + 1:04d}.jpg"
        if not path.is_file():
            what = f"the image of {canvas.label or canvas.id or f'canvas {i + 1}'}"
            data = fetch(canvas.image, cap=cap, timeout=timeout, what=what)
            if not data:
                raise IIIFError(f"{canvas.image}: {what} is empty")
            try:
                _write_atomic(path, data)
            except OSError as exc:
                raise IIIFError(f"{path}: cannot be written ({exc.strerror or exc})") from None
        yield i + 1, path


def import_manifest(
    catalog: Catalog,
    source: str,
    predictor: PredictorLike,
    *,
    batch_size: int = 8,
    cancel: Callable[[], bool] | None = None,
    timeout: float = TIMEOUT,
    image_cap: int = IMAGE_CAP,
) -> Iterator[ImportProgress]:
    """Import a manifest's canvases as photos; progress as import_folder's. The first steps
    fetch the images (current names the canvas, added stays 0); IIIFError before anything
    goes into the catalogue when the manifest or an image cannot be had."""
    manifest = load(source, timeout=timeout)
    total = len(manifest.canvases)
    paths: list[Path] = []
    for done, path in download(catalog, manifest, timeout=timeout, cap=image_cap, cancel=cancel):
        if path is None:
            yield ImportProgress(done, total, "", 0, 0, (), cancelled=True)
            return
        paths.append(path)
        yield ImportProgress(0, total, f"fetched {done} of {total}: {path.name}", 0, 0, ())
    _remember(catalog, manifest, paths)
    for step in import_files(catalog, paths, predictor, batch_size=batch_size, cancel=cancel):
        if step.finished and not step.cancelled:
            as_object(catalog, manifest, paths)  # before the last step: a caller may stop there
        yield step


# A manifest's metadata labels that name a field of the object's record (lower case).
_RECORD_FIELDS = {
    "source": ("source", "donor", "credit", "credit line", "provenance", "gift of", "lender"),
    "date_acquired": ("date acquired", "acquired", "acquisition date"),
    "place_made": ("place made", "place of origin", "origin", "made in"),
    "place_acquired": ("place acquired",),
    "fibre": ("fibre", "fiber", "material", "materials", "medium"),
    "condition": ("condition",),
}
_ACCESSION_LABELS = ("accession number", "accession", "object number", "inventory number")


def as_object(catalog: Catalog, manifest: Manifest, paths: Sequence[Path]) -> Any:
    """Make the manifest one object of the catalogue, its canvases' photos its photos (each in
    the role its label suggests), its label and metadata the record: the accession number from
    the metadata when it gives a free one, else a new IIIF-NNNN to be replaced by the museum's.
    A manifest imported again adds new canvases to its object; a photo that already shows
    another object stays there. Returns the object, or None when no photo came in."""
    from saree_app.collection import objects

    ids: list[int] = []
    roles: list[str] = []
    for canvas, path in zip(manifest.canvases, paths, strict=True):
        photo = catalog.photo_by_path(str(path))
        if photo is None:
            try:
                photo = catalog.photo_by_hash(hashlib.sha256(path.read_bytes()).hexdigest())
            except OSError:
                photo = None
        if photo is not None and photo.id not in ids:
            ids.append(photo.id)
            roles.append(objects.guess_role(canvas.label.replace(".", " ")))
    if not ids:
        return None
    shown = {pid: objects.object_of_photo(catalog, pid) for pid in ids}
    mine = [o for o in shown.values() if o is not None]
    if mine:
        obj = mine[0]
        free = [(pid, r) for pid, r in zip(ids, roles, strict=True) if shown[pid] is None]
        if free:
            obj = objects.add_photos(
                catalog, obj.id, [pid for pid, _ in free], [r for _, r in free]
            )
        return obj
    fields: dict[str, str | None] = {"title": manifest.label or None}
    notes = [f"IIIF manifest: {manifest.url}"]
    accession = None
    for label, value in manifest.metadata:
        key = label.strip().casefold()
        record_field = next((f for f, names in _RECORD_FIELDS.items() if key in names), None)
        if key in _ACCESSION_LABELS and accession is None and value.strip():
            accession = value.strip()
        elif record_field is not None and not fields.get(record_field):
            try:
                fields.update(objects.clean_fields({record_field: value}))
                continue
            except objects.ObjectError:
                pass  # e.g. a date the record cannot hold: kept in the notes as written
        notes.append(f"{label}: {value}")
    fields["notes"] = "\n".join(notes)
    if accession is None or objects.get_object(catalog, accession) is not None:
        accession = objects.next_accession(catalog, "IIIF-")
    return objects.create_object(catalog, accession, fields, ids, roles)


def _remember(catalog: Catalog, manifest: Manifest, paths: Sequence[Path]) -> None:
    root = cache_folder(catalog.path)
    sources = _read_sources(root)
    for canvas, path in zip(manifest.canvases, paths, strict=True):
        try:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue  # the importer reports the file
        sources[sha] = {
            "manifest": manifest.url,
            "manifest_id": manifest.id,
            "canvas": canvas.id,
            "width": canvas.width,
            "height": canvas.height,
            "label": manifest.label,
            "canvas_label": canvas.label,
            "metadata": [list(m) for m in manifest.metadata],
            "image": canvas.image,
        }
    try:
        _write_atomic(root / "sources.json", json.dumps(sources, indent=1).encode("utf-8"))
    except OSError as exc:
        raise IIIFError(f"{root}: where the photos came from cannot be kept ({exc})") from None
