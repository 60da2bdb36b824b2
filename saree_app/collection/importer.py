"""Import a folder into the catalogue: a resumable generator that yields progress."""

from __future__ import annotations

import hashlib
import io
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from saree_app.collection import partmaps, side_files
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto
from saree_app.imaging import PhotoError, read_photo_file, shown, working_copy

# What a photo file is called; anything else in the folder is reported as skipped (not a photo).
# Photos the model reads at a time while importing. 2, not 8: the cloth features run every
# crop of a batch at once, and 8 photos' crops peaked at about 850 MB of memory against about
# 410 MB for 2, at the same photos per second on two cores (`saree bench import_`).
IMPORT_BATCH = 2

PHOTO_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif", ".avif"}
    # A phone's HEIC photos are photos: said to be unsupported, not "unknown file type".
    | {".heic", ".heif"}
)
# Side files of the dataset layout (INTERFACES.md) that are not photos and not worth a mention.
_SIDE_FILES = frozenset({"labels.jsonl", "attributes.json", "thumbs.db", "desktop.ini"})

# EXIF tags: DateTimeOriginal lives in the Exif sub-IFD; DateTime, Make, Model in IFD0.
_EXIF_IFD = 0x8769
_DATE_ORIGINAL = 0x9003
_DATE = 0x0132
_MAKE = 0x010F
_MODEL = 0x0110
_ORIENTATION = 0x0112


class PredictionLike(Protocol):
    """What the importer reads from a model.predict.Prediction."""

    @property
    def photo_size(self) -> tuple[int, int]: ...
    @property
    def uncertain(self) -> bool: ...
    @property
    def embedding(self) -> np.ndarray: ...
    @property
    def part_embeddings(self) -> np.ndarray: ...
    @property
    def fused(self) -> Any: ...
    def to_dict(self) -> dict[str, Any]: ...


class PredictorLike(Protocol):
    """What the importer needs of a model.predict.Predictor (tests pass a fake)."""

    @property
    def manifest(self) -> Any: ...
    def predict_many(
        self, paths: Iterable[Path], batch_size: int = IMPORT_BATCH
    ) -> Iterator[tuple[Path, Any]]: ...


@dataclass(frozen=True)
class Skipped:
    """A file that was not imported, and why (in plain words).

    kind: "bad" (a photo file that cannot be used), "duplicate" (the same photo is already in
    under another path), or "other" (not a photo file at all). `path` is for showing: a
    name's bytes that are not UTF-8 are written \\xNN (imaging.shown).
    """

    path: str
    reason: str
    kind: str = "bad"


@dataclass(frozen=True)
class ImportProgress:
    """Where an import stands; the generator yields one after each file.

    done counts every file dealt with (added, already there, or skipped); a progress bar is
    done / total.
    """

    done: int
    total: int
    current: str
    added: int
    already: int
    skipped: tuple[Skipped, ...]
    cancelled: bool = False
    finished: bool = False
    waiting: bool = False  # another import into the same catalogue runs: this one waits
    # Photos already there whose cloth features this import read (again): what teaching
    # compares changed for them, so a re-rank is due even when nothing was added.
    updated: int = 0

    @property
    def fraction(self) -> float:
        """done / total in [0, 1]."""
        return 1.0 if self.total == 0 else self.done / self.total


@dataclass
class _State:
    total: int
    done: int = 0
    added: int = 0
    already: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    updated: int = 0

    def progress(self, current: str, **kw: bool) -> ImportProgress:
        return ImportProgress(
            self.done,
            self.total,
            current,
            self.added,
            self.already,
            tuple(self.skipped),
            updated=self.updated,
            **kw,
        )


def find_photos(folder: Path) -> tuple[list[Path], list[Skipped]]:
    """Photo files under `folder`, recursively and sorted; other files as Skipped.

    Hidden files and folders, masks (<stem>.mask.png) and the dataset's side files are passed
    over in silence.
    """
    photos: list[Path] = []
    others: list[Skipped] = []

    def unreadable(exc: OSError) -> None:
        reason = f"folder cannot be read ({exc.strerror or exc})"
        others.append(Skipped(shown(str(exc.filename)), reason, "bad"))

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            low = name.lower()
            if low.startswith(".") or low in _SIDE_FILES or low.endswith(".mask.png"):
                continue
            path = Path(root) / name
            if Path(low).suffix in PHOTO_SUFFIXES:
                photos.append(path)
            else:
                others.append(Skipped(shown(path), "not a photo (unknown file type)", "other"))
    return photos, others


def exif_facts(data: bytes) -> tuple[int | None, int | None, str | None, str | None]:
    """(width, height as shown upright, EXIF date ISO 8601, camera), each None if unknown.

    Reads only the header; a file Pillow cannot parse gives all None (the model reports why).
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow's bomb warning (from 89.5 MP) must not reach the curator's terminal: the
            # model's loader judges the size against the app's own limit and says so plainly.
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                exif = img.getexif()
    except Exception:  # a damaged header is reported by the model, not here
        return None, None, None, None
    try:
        if exif.get(_ORIENTATION) in (5, 6, 7, 8):
            w, h = h, w
        sub = exif.get_ifd(_EXIF_IFD)
        raw = sub.get(_DATE_ORIGINAL) or exif.get(_DATE)
        date = _exif_date(raw)
        make = str(exif.get(_MAKE) or "").strip("\x00 ")
        model = str(exif.get(_MODEL) or "").strip("\x00 ")
        if make and model.lower().startswith(make.lower()):
            make = ""
        camera = " ".join(x for x in (make, model) if x) or None
    except Exception:  # odd EXIF never stops an import
        return w, h, None, None
    return w, h, date, camera


def _exif_date(raw: object) -> str | None:
    if not raw:
        return None
    text = str(raw).strip("\x00 ")
    # EXIF writes "YYYY:MM:DD HH:MM:SS".
    if len(text) >= 19 and text[4] == ":" and text[7] == ":":
        return f"{text[0:4]}-{text[5:7]}-{text[8:10]}T{text[11:19]}"
    return text or None


def _summary(prediction: PredictionLike) -> tuple[str | None, float | None]:
    ranking = getattr(prediction.fused, "ranking", ())
    if not ranking:
        return None, None
    top = ranking[0]
    return str(top.tradition), float(top.probability)


def import_folder(
    catalog: Catalog,
    folder: str | Path,
    predictor: PredictorLike,
    *,
    batch_size: int = IMPORT_BATCH,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[ImportProgress]:
    """Import every photo under `folder`; yields progress after each file.

    Resumable: a photo the catalogue already holds with this model's answer is counted as
    already there and not read twice by the model; each photo goes in with one transaction, so
    a killed import loses at most the photos in hand. Duplicates (same content) are skipped with
    the path they duplicate. Bad files are reported in `skipped`, never raised. The last
    progress has finished=True (or cancelled=True when `cancel()` returned true).
    """
    root = Path(folder).resolve()  # stored paths are absolute: see _absolute
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        raise FileNotFoundError(f"{root}: {what}")
    photos, others = find_photos(root)
    # The catalogue (and its -wal, -shm and index files) may live inside the photo folder.
    own = catalog.path.resolve()
    others = [
        o
        for o in others
        if not (
            Path(o.path).resolve().parent == own.parent and Path(o.path).name.startswith(own.name)
        )
    ]
    steps = _import(catalog, photos, others, predictor, batch_size=batch_size, cancel=cancel)
    return _one_at_a_time(catalog, steps, len(photos) + len(others), cancel)


def import_files(
    catalog: Catalog,
    files: Sequence[str | Path],
    predictor: PredictorLike,
    *,
    batch_size: int = IMPORT_BATCH,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[ImportProgress]:
    """Import single photos (dropped on the window, say) by the same rules as import_folder."""
    paths = [_absolute(Path(f)) for f in files]
    steps = _import(catalog, paths, [], predictor, batch_size=batch_size, cancel=cancel)
    return _one_at_a_time(catalog, steps, len(paths), cancel)


def _one_at_a_time(
    catalog: Catalog,
    steps: Iterator[ImportProgress],
    total: int,
    cancel: Callable[[], bool] | None,
) -> Iterator[ImportProgress]:
    """Run an import while holding the catalogue's import lock.

    Two imports of one folder at once each classified every photo and each reported them all
    "added". Waiting for the lock comes before the import looks at what the catalogue holds,
    so the second finds the first one's photos already there. The wait honours `cancel`.
    """
    lock_path = side_files.beside(catalog.path, side_files.IMPORT_LOCK)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; imports there run as before
        yield from steps
        return
    try:
        lock = lock_path.open("a")
    except OSError:  # a folder that takes no new file: the import itself will say what fails
        yield from steps
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield ImportProgress(0, total, "", 0, 0, (), waiting=True)
            while True:
                if cancel is not None and cancel():
                    _close(steps)
                    yield ImportProgress(0, total, "", 0, 0, (), cancelled=True)
                    return
                time.sleep(0.2)
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    continue
        try:
            yield from steps
        finally:
            _close(steps)  # an import abandoned half-way stops before the lock is let go
            fcntl.flock(lock, fcntl.LOCK_UN)


def _close(steps: Iterator[ImportProgress]) -> None:
    close = getattr(steps, "close", None)
    if close is not None:
        close()


def _absolute(path: Path) -> Path:
    """What the catalogue stores: an absolute path, so the photo opens again from any working
    folder (a relative one opened only from where the import ran). The folder is resolved, the
    name kept: a photo that is a link stays the curator's link, and a looping one is reported
    by the reader rather than raised here."""
    return path.parent.resolve() / path.name


def _import(
    catalog: Catalog,
    photos: list[Path],
    others: list[Skipped],
    predictor: PredictorLike,
    *,
    batch_size: int,
    cancel: Callable[[], bool] | None,
) -> Iterator[ImportProgress]:
    manifest = predictor.manifest
    model_sha = str(manifest.sha256)
    tile_size = partmaps.cloth_tile_size(predictor)
    catalog.register_model(
        model_sha,
        name=getattr(manifest, "name", None),
        embedding_dim=getattr(manifest, "embedding_dim", None),
        labels=list(getattr(manifest, "labels", ()) or ()),
    )
    state = _State(total=len(photos) + len(others))
    seen = catalog.known_hashes()  # content -> id: any photo, with or without this model
    done_by_model = set(catalog.known_hashes(model_sha).values())
    in_flight: dict[str, NewPhoto] = {}  # content -> photo handed to the model, not yet stored
    facts: dict[Path, NewPhoto] = {}
    # Progress of files dealt with without the model (snapshots, so `done` counts up by one).
    events: list[ImportProgress] = []
    already: list[int] = []  # photos this model had answered before: given cloth features

    def cancelled() -> bool:
        return bool(cancel is not None and cancel())

    def skip(label: str, reason: str, kind: str = "bad") -> None:
        state.skipped.append(Skipped(label, reason, kind))
        state.done += 1
        events.append(state.progress(label))

    stopped: list[bool] = []  # set when the read-ahead saw the cancel first

    def to_model() -> Iterator[Path]:
        """The photos the model must see; predict_many pulls them ahead of inference."""
        for path in photos:
            if cancelled():
                stopped.append(True)
                return
            real = str(path)  # what the catalogue stores: the file opens from it again
            label = shown(path)  # what the curator reads: printable, whatever the name's bytes
            try:
                # Not a plain read: a pipe named .jpg would block it, a huge file fill memory.
                data = read_photo_file(path, label)
            except PhotoError as exc:
                skip(label, exc.reason)  # an empty file too: not "the same photo" as another
                continue
            sha = hashlib.sha256(data).hexdigest()
            known = seen.get(sha)
            if known is not None and known in done_by_model:
                stored = catalog.photo(known)
                if stored is not None and stored.path != real and Path(stored.path).exists():
                    skip(label, f"same photo as {shown(stored.path)}", "duplicate")
                    continue
                if stored is not None and stored.path != real:
                    catalog.move_photo(known, real)  # the folder was moved or renamed
                already.append(known)
                state.already += 1
                state.done += 1
                events.append(state.progress(label))
                continue
            if sha in in_flight:
                if in_flight[sha].path == real:  # the same file listed twice
                    state.already += 1
                    state.done += 1
                    events.append(state.progress(label))
                else:
                    skip(label, f"same photo as {shown(in_flight[sha].path)}", "duplicate")
                continue
            w, h, date, camera = exif_facts(data)
            new = NewPhoto(real, sha, len(data), w, h, date, camera)
            in_flight[sha] = new
            facts[path] = new
            yield path

    for skipped in others:
        skip(skipped.path, skipped.reason, skipped.kind)
    results = predictor.predict_many(to_model(), batch_size=batch_size)
    try:
        while True:
            while events:
                yield events.pop(0)
            if stopped or cancelled():
                yield state.progress("", cancelled=True)
                return
            item = next(results, None)
            if item is None:
                yield from events  # files after the last photo the model saw
                if stopped:
                    yield state.progress("", cancelled=True)
                    return
                break
            path, result = item
            new = facts.pop(Path(path))
            if isinstance(result, BaseException):
                reason = getattr(result, "reason", None) or str(result)
                state.skipped.append(Skipped(shown(new.path), str(reason)))
                in_flight.pop(new.sha256, None)
            else:
                width, height = getattr(result, "photo_size", (new.width, new.height))
                top, prob = _summary(result)
                photo_id = catalog.record(
                    NewPhoto(
                        new.path, new.sha256, new.size, width, height, new.exif_date, new.camera
                    ),
                    model_sha,
                    result.to_dict(),
                    top_tradition=top,
                    top_probability=prob,
                    uncertain=bool(result.uncertain),
                    embedding=np.asarray(result.embedding, dtype=np.float32),
                    part_embeddings=np.asarray(result.part_embeddings, dtype=np.float32),
                    cloth_embedding=getattr(result, "cloth_embedding", None),
                    cloth_tile_size=tile_size,
                )
                seen[new.sha256] = photo_id
                done_by_model.add(photo_id)
                in_flight.pop(new.sha256, None)
                state.added += 1
            state.done += 1
            # Files the model's read-ahead passed over (duplicates, unreadable) come first so
            # that `done` counts up one by one.
            while events:
                yield events.pop(0)
            yield state.progress(shown(new.path))
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stop the model's read-ahead threads now, not at garbage collection
    state.updated += add_cloth_features(catalog, predictor, model_sha, already, cancel=cancelled)
    # (Corrections apply to photos the model answered now, counted as added.)
    apply_corrections(catalog, predictor, sorted(done_by_model), cancel=cancelled)
    yield state.progress("", finished=True)


def add_cloth_features(
    catalog: Catalog,
    predictor: Any,
    model_sha: str,
    photo_ids: Sequence[int],
    *,
    cancel: Callable[[], bool] | None = None,
    batch: int = 8,
) -> int:
    """Cloth features for photos answered before they existed (importing a folder again
    brings its photos up to date); returns how many were added. A photo that cannot be read
    now keeps its answer and simply goes without (teaching then uses the model's own
    embeddings for the catalogue)."""
    cloth = getattr(predictor, "cloth", None)
    if cloth is None or not photo_ids:
        return 0
    from saree_app.imaging import PhotoError, load_photo
    from saree_app.model.cloth import DECODE_SIDE

    # A photo described before the tiles were kept is described again, so teaching can match
    # its close-ups too (model/cloth.py), and so is one whose tiles were read at another side:
    # teaching then compares like with like.
    kind = "cloth_tiles" if getattr(cloth, "tiles", 0) else "cloth"
    have, _ = catalog.embeddings(model_sha, kind)
    side = partmaps.cloth_tile_size(predictor)
    read_at = catalog.cloth_tile_sizes(model_sha) if side is not None else {}
    done = {pid for pid in have.tolist() if side is None or read_at.get(pid) == side}
    todo = [pid for pid in dict.fromkeys(photo_ids) if pid not in done]
    added = 0
    for start in range(0, len(todo), batch):
        if cancel is not None and cancel():
            break
        group: list[tuple[int, Any]] = []
        sources: dict[int, tuple[Path, Any]] = {}  # the file, and the photo as decoded
        for pid in todo[start : start + batch]:
            stored = catalog.photo(pid)
            if stored is None:
                continue
            try:
                decoded = load_photo(Path(stored.path), target=DECODE_SIDE)
                group.append((pid, decoded))
                sources[pid] = (Path(stored.path), decoded)
            except (PhotoError, OSError):
                continue
        if not group:
            continue
        # The same view of the cloth as a fresh answer has: cropped to the saree when worn.
        person = getattr(predictor, "person", None)
        if person is not None:
            from saree_app.model.predict import cloth_view

            # The person models read the small copy, as a fresh answer's do (Predictor._load).
            group = [(pid, cloth_view(img, person.find(working_copy(img)))) for pid, img in group]
        # A photo the predictor reads in pieces has its whole picture read so too, as a fresh
        # answer's (Predictor._side): not the strip squeezed into the cloth model's square.
        wholes = [
            _whole_in_pieces(predictor, cloth, sources[pid][0], view)
            if view is sources[pid][1]  # a worn saree's crop is read whole, as fresh
            else None
            for pid, view in group
        ]
        vectors = cloth.describe_many([img for _, img in group], wholes)
        with catalog.transaction():
            for (pid, _), vec in zip(group, vectors, strict=True):
                catalog.put_embeddings(pid, model_sha, None, cloth=vec, cloth_tile_size=side)
                added += 1
    return added


def _whole_in_pieces(predictor: Any, cloth: Any, path: Path, photo: Any) -> Any:
    """The whole-picture block of a photo the predictor reads in pieces (decided on the file's
    own upright size, by the predictor), read a piece at a time from `photo` (the file as
    decoded); None for every other photo."""
    from saree_app.imaging import upright_size

    pieces_of = getattr(predictor, "pieces_of", None)
    if pieces_of is None:
        return None
    size = upright_size(path)
    pieces = pieces_of(size) if size is not None else None
    if pieces is None:
        return None
    vector, _ = cloth.whole_in_pieces(pieces.crops(photo))
    return vector


def apply_corrections(
    catalog: Catalog,
    predictor: Any,
    photo_ids: Sequence[int],
    *,
    cancel: Callable[[], bool] | None = None,
) -> int:
    """Answers and embeddings made again under the curator's corrected part maps, for those of
    `photo_ids` that have one and whose stored answer is not yet under it (a new model has just
    answered them from its own map); returns how many. A photo that cannot be read now keeps
    the answer it has."""
    corrected = catalog.part_maps()
    sha = getattr(getattr(predictor, "manifest", None), "sha256", None)
    if not corrected or sha is None or not callable(getattr(predictor, "predict", None)):
        return 0
    done = 0
    for pid in photo_ids:
        if pid not in corrected or (cancel is not None and cancel()):
            continue
        stored = catalog.prediction(pid, str(sha))
        if stored is not None and stored.result.get("part_map") == "curator":
            continue
        try:
            pred = partmaps.predict(catalog, predictor, pid)
        except (PhotoError, OSError, CatalogError):
            continue
        with catalog.transaction():
            partmaps.store(catalog, pid, str(sha), pred, partmaps.cloth_tile_size(predictor))
        done += 1
    return done


def run_import(
    catalog: Catalog,
    folder: str | Path,
    predictor: PredictorLike,
    *,
    batch_size: int = IMPORT_BATCH,
    cancel: Callable[[], bool] | None = None,
) -> ImportProgress:
    """import_folder to the end; returns the last progress."""
    steps = import_folder(catalog, folder, predictor, batch_size=batch_size, cancel=cancel)
    last: ImportProgress | None = None
    for step in steps:
        last = step
    assert last is not None  # import_folder always yields a final progress
    return last
