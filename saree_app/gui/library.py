"""The window's one door to the core: catalogue, model, knowledge graph (no widgets here).

Every method may be called from a worker thread unless it says otherwise; the catalogue is
thread-safe and listing uses its own read-only connection, so the browser can refresh while an
import writes.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import platformdirs

from saree_app.collection.traditions import (
    CuratorTradition,
    TraditionsError,
    add_tradition,
    load_traditions,
    named,
    new_tradition,
)
from saree_app.gui.analysis import pretty
from saree_app.gui.items import Item

# The current model's answer for each photo, else the latest answer any model gave (a photo
# imported before a model update still shows where it was thought to come from).
_LIST_SQL = """
SELECT p.id, p.path, r.top_tradition, r.top_probability, r.uncertain,
       l.tradition, l.certainty, l.note
FROM photos p
LEFT JOIN predictions r ON r.rowid = (
    SELECT r2.rowid FROM predictions r2 WHERE r2.photo_id = p.id
    ORDER BY r2.model_sha256 = ? DESC, r2.created DESC LIMIT 1
)
LEFT JOIN labels l ON l.photo_id = p.id
{where}
ORDER BY p.id
"""


def default_collection() -> Path:
    """Where a new curator's catalogue lives until they choose another file."""
    return platformdirs.user_data_path("saree-app", appauthor=False) / "collection.saree"


@dataclass(frozen=True)
class SimilarSarees:
    """What the similar strip shows: matches for one photo, or for the object it is part of."""

    accession: str | None  # the object searched as a whole, or None (the photo alone)
    photos: int  # how many photos were searched together
    results: list[tuple[Item, float]]
    note: str = ""  # said beside the matches: the cloth was asked for but not read


@dataclass(frozen=True)
class Decision:
    """One labelling decision, and each touched photo's label before it (to undo it)."""

    text: str  # what the Undo menu item names: "Undo " + text
    before: tuple[tuple[int, Any], ...]  # (photo id, its catalogue Label or None)


@dataclass(frozen=True)
class Teaching:
    """What the curator's confirmed photos teach, as the teaching panel shows it."""

    rows: tuple[tuple[str, int, bool], ...]  # (tradition, confirmed photos, counts in ranking)
    reliability: str  # "right on 41 of 45 of your confirmed photos when each is left out…"
    measured: bool  # False until there are enough confirmed photos to check teaching on
    examples: int  # confirmed photos teaching, all traditions together
    sets: Any = None  # fewshot.AnswerSets calibrated on the confirmed photos, or None
    checks: tuple[Any, ...] = ()  # fewshot.TraditionCheck per tradition checked, once measured


@dataclass(frozen=True)
class RerankProgress:
    examples: int  # confirmed photos teaching
    done: int  # answers written back so far
    total: int  # answers the current model has in the catalogue


@dataclass(frozen=True)
class RerankResult:
    teaching: Teaching
    reranked: int
    changed: int  # answers whose top tradition changed
    items: tuple[Item, ...]  # the re-ranked photos as the browser shows them now


@dataclass(frozen=True)
class ModelSwitch:
    """What switching the collection's model did."""

    info: ModelInfo | None
    classified: int  # photos answered by the new model now (the rest had answers already)
    photos: int
    unreadable: tuple[Any, ...]  # photos whose files could not be read again (keep old answers)


@dataclass(frozen=True)
class ModelInfo:
    """What the status bar and the model card say about the loaded model."""

    name: str
    sha256: str
    card: Path | None


class Library:
    """One open collection plus the model and graph that explain it."""

    # Answers a background re-rank writes per transaction (and between two progress reports).
    rerank_batch = 25

    def __init__(
        self,
        collection: Path,
        *,
        model: Path | None = None,
        threads: int | None = None,
        import_in_child: bool = True,
    ) -> None:
        from saree_app.collection.catalog import Catalog

        collection.parent.mkdir(parents=True, exist_ok=True)
        self.path = collection
        self.catalog = Catalog(collection)
        # The model given on the command line; else the one this collection was switched to
        # (beside the catalogue); else the shipped one.
        from saree_app.collection.models import ModelChoiceError, chosen_model

        self._model_given = model is not None
        self.model_note: str | None = None  # the collection's own model could not be used
        try:
            self._model_path = model if model is not None else chosen_model(collection, strict=True)
        except ModelChoiceError as exc:
            # The file that remembers the collection's model is damaged: the shipped model
            # explains the photos meanwhile, and the curator is told why (not passed over).
            self._model_path = None
            self.model_note = (
                f"{exc.cause}. The shipped model is used meanwhile; choose the collection's "
                "model again under Model (that writes the file afresh)."
            )
        self._threads = threads or None
        self.import_in_child = import_in_child
        self.predictor: Any = None
        self.model_problem: str | None = "The model is still loading."
        self.graph: Any = None
        self.graph_problem: str | None = "The knowledge graph is still loading."
        self._labels: dict[str, str] = {}
        # Traditions the curator added; a damaged side file must not keep the collection shut.
        self.added: list[CuratorTradition] = []
        self.added_problem: str | None = None
        # How the similar strip starts comparing (`similar_default`), worked out on the loading
        # and switching workers: it reads confirmed photos' vectors, not for the window's thread.
        self.similar_mode = "cloth"
        try:
            self.added = load_traditions(collection)
        except TraditionsError as exc:
            self.added_problem = str(exc)

    def close(self) -> None:
        self.catalog.close()

    # --- model and graph (slow: call from a worker)
    def load(self) -> None:
        """Load the knowledge graph, then the model; problems are kept as messages."""
        try:
            from saree_app.knowledge.graph import load_graph_or_none

            graph, problem = load_graph_or_none()
        except Exception as exc:  # an incomplete install must still open the collection
            graph, problem = None, f"The knowledge graph could not be loaded: {exc}"
        self.graph, self.graph_problem = graph, problem
        try:
            from saree_app.model.predict import Predictor

            try:
                predictor = Predictor(
                    self._model_path, graph=graph, threads=self._threads, load_graph=False
                )
            except Exception as exc:
                if self._model_given or self._model_path is None:
                    raise
                # The model this collection was switched to is gone or damaged: the shipped
                # one explains the photos meanwhile, and the curator is told why.
                self.model_note = (
                    f"The model chosen for this collection cannot be used ({exc}); the shipped "
                    "model is used instead. Choose another under Model."
                )
                self._model_path = None
                predictor = Predictor(None, graph=graph, threads=self._threads, load_graph=False)
        except Exception as exc:
            self.predictor = None
            self.model_problem = f"No model: {exc}"
        else:
            self.predictor = predictor
            self.model_problem = None
            self.similar_mode = self.similar_default()

    def model_info(self) -> ModelInfo | None:
        p = self.predictor
        if p is None:
            return None
        manifest = p.manifest
        path = Path(getattr(manifest, "path", "") or "")
        card = path.parent / "MODEL_CARD.md" if path.name else None
        if card is None or not card.is_file():
            from saree_app import paths

            card = paths.models_dir() / "MODEL_CARD.md"
        return ModelInfo(
            name=str(getattr(manifest, "name", "model")),
            sha256=str(manifest.sha256),
            card=card if card.is_file() else None,
        )

    def model_in_use(self) -> Any:
        """The model in use as the Model menu lists it (collection.models.ModelChoice, its
        report line left empty: nothing is read again); None when no model is loaded."""
        from saree_app.collection.models import ModelChoice, is_shipped

        p = self.predictor
        if p is None:
            return None
        manifest = p.manifest
        path = Path(getattr(manifest, "path", "") or "")
        try:
            shipped = is_shipped(path)
        except OSError:
            shipped = False
        return ModelChoice(
            path, str(getattr(manifest, "name", "")), str(manifest.sha256), shipped, ""
        )

    # --- choosing the model (issue 25)
    def models(self) -> list[Any]:
        """Every model this collection can use (collection.models.ModelChoice), the shipped
        one first; reads each model's checksum (worker, or a moment on the main thread)."""
        from saree_app.collection.models import find_models

        return find_models(self.path)

    def model_path(self) -> Path | None:
        """The manifest of the model in use (None: none is loaded)."""
        if self.predictor is None:
            return None
        return Path(self.predictor.manifest.path)

    def switch_model(self, model: Path, cancel: Callable[[], bool]) -> Iterator[Any]:
        """Make `model` (a manifest or .onnx; the shipped one's too) this collection's model
        (worker).

        Loads it, classifies every photo it has not answered yet (yields ImportProgress, the
        photos the import machinery reads again), then keeps it as the collection's choice
        and returns a ModelSwitch. A model that cannot be used raises ModelChoiceError in one
        line, before anything changes; stopped, the collection keeps the model it had (the
        answers already made stay stored for a later switch).
        """
        from saree_app.collection.models import ModelChoiceError, check_model, remember_model
        from saree_app.gui.importing import import_in_child, import_paths
        from saree_app.model.manifest import ModelError
        from saree_app.model.predict import Predictor

        check_model(model)
        try:
            predictor = Predictor(model, graph=self.graph, threads=self._threads, load_graph=False)
        except (ModelError, OSError, ValueError) as exc:
            raise ModelChoiceError(str(exc)) from exc
        old = (self.predictor, self._model_path, self.model_problem)
        self.predictor, self._model_path, self.model_problem = predictor, model, None
        kept = False
        last = None
        try:
            photos = [Path(p.path) for p in self.catalog.photos()]
            if photos and self.import_in_child:
                last = yield from import_in_child(self.path, model, self._threads, photos, cancel)
            elif photos:
                last = yield from import_paths(self.catalog, predictor, photos, cancel)
            if cancel() or (last is not None and last.cancelled):
                return None
            remember_model(self.path, model)
            self.model_note = None
            self.similar_mode = self.similar_default()
            kept = True
        finally:
            if not kept:
                self.predictor, self._model_path, self.model_problem = old
        skipped = tuple(s for s in (last.skipped if last else ()) if s.kind == "bad")
        return ModelSwitch(self.model_info(), int(last.added) if last else 0, len(photos), skipped)

    # --- vocabulary
    def label(self, term: str) -> str:
        hit = self._labels.get(term)
        if hit is not None:
            return hit
        if self.curator_tradition(term) is not None:
            return term  # the curator's own name, as they wrote it (not split like an id)
        text = pretty(term)
        if self.graph is not None:
            with contextlib.suppress(KeyError, ValueError, AttributeError):
                text = str(self.graph.label(term))
        elif self.predictor is not None:
            text = str(self.predictor.label(term))
        self._labels[term] = text
        return text

    def traditions(self) -> list[str]:
        """Every tradition a curator can choose: the graph's (else the model's) and their own."""
        known: list[str] = []
        if self.graph is not None:
            known = list(self.graph.traditions())
        elif self.predictor is not None:
            known = list(self.predictor.manifest.labels)
        return known + [t.name for t in self.added if t.name not in known]

    def curator_tradition(self, name: str) -> CuratorTradition | None:
        """The tradition the curator added under this name, if they did."""
        return next((t for t in self.added if t.name == name), None)

    def _own_traditions(self) -> list[str]:
        """The app's own traditions; the curator's are left out, as adding one of them again
        edits its state and region."""
        return [t for t in self.traditions() if self.curator_tradition(t) is None]

    def _other_names(self, text: str) -> str | None:
        """A tradition of the knowledge graph named by another of its names ("Kanjeevaram"),
        for `new_tradition`; None without the graph."""
        if self.graph is None:
            return None
        found = self.graph.resolve(text, {"tradition"})
        return str(found) if found else None

    def tradition_problem(self, name: str) -> str | None:
        """What is wrong with a name for a new tradition, or None."""
        # The one check `saree label --new` makes too (collection/traditions.new_tradition).
        try:
            new_tradition(
                name, known=self._own_traditions(), label=self.label, other_names=self._other_names
            )
        except TraditionsError as exc:
            return str(exc)
        return None

    def add_tradition(
        self, name: str, state: str = "", region: str = "", like: str | None = None
    ) -> CuratorTradition:
        """Add a tradition the app does not know (main thread); its name is its label.

        Raises TraditionsError when the name is empty or a known tradition's."""
        checked = new_tradition(
            name,
            state,
            region,
            like,
            known=self._own_traditions(),
            label=self.label,
            other_names=self._other_names,
        )
        self.added = add_tradition(self.path, checked)
        self._labels.pop(checked.name, None)
        found = named(self.added, checked.name)
        assert found is not None  # add_tradition stored it
        return found

    def about(self, tradition: str) -> str:
        """'added by you · Odisha, East India · resembles Sambalpuri' for a curator-made
        tradition; '' for the app's own."""
        t = self.curator_tradition(tradition)
        return "" if t is None else t.about("added by you", self.label)

    def sources(self, tradition: str) -> list[tuple[str, str | None]]:
        """(title, address or None) of every source the graph cites for a tradition."""
        if self.graph is None:
            return []
        try:
            card = self.graph.card(tradition)
        except (KeyError, ValueError):
            return []
        return [(str(s.title), s.url) for s in card.sources]

    # --- photos
    def model_sha(self) -> str | None:
        if self.predictor is not None:
            return str(self.predictor.manifest.sha256)
        latest: str | None = self.catalog.latest_model()
        return latest

    def items(self, ids: Sequence[int] | None = None, *, after: int | None = None) -> list[Item]:
        """Every photo (or those ids, or those added after id `after`) as browser items; a
        fresh read-only connection per call."""
        sha = self.model_sha() or ""
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        where = ""
        params: list[Any] = [sha]
        if after is not None:
            where = "WHERE p.id > ?"
            params.append(int(after))
        elif ids is not None:
            if not ids:
                return []
            where = f"WHERE p.id IN ({','.join('?' * len(ids))})"
            params += [int(i) for i in ids]
        db = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            rows = db.execute(_LIST_SQL.format(where=where), params).fetchall()
            tag_sql = "SELECT photo_id, tag FROM tags ORDER BY photo_id, tag"
            if after is not None:
                tag_sql = f"SELECT photo_id, tag FROM tags WHERE photo_id > {int(after)}"
            tags: dict[int, list[str]] = {}
            for pid, tag in db.execute(tag_sql):
                tags.setdefault(int(pid), []).append(str(tag))
        finally:
            db.close()
        from saree_app.collection.catalog import path_from_db
        from saree_app.collection.objects import object_ids_by_photo, search_texts
        from saree_app.imaging import shown

        records = search_texts(self.catalog, self.graph)
        accessions = object_ids_by_photo(self.catalog)
        out = []
        for pid, path, top, prob, uncertain, lab, certainty, note in rows:
            p = Path(path_from_db(path))
            confirmed = lab if lab and certainty == "confirmed" else None
            out.append(
                Item(
                    id=int(pid),
                    name=shown(p.name),
                    path=p,
                    predicted=(lab if lab and not confirmed else top) or None,
                    probability=float(prob or 0.0),
                    confirmed=confirmed,
                    uncertain=bool(uncertain),
                    note=note or "",
                    tags=tuple(tags.get(int(pid), ())),
                    record=records.get(int(pid), ""),
                    accession=accessions.get(int(pid), ""),
                )
            )
        return out

    def item(self, item_id: int) -> Item | None:
        found = self.items([item_id])
        return found[0] if found else None

    def predict(self, photo: Any, item_id: int | None = None) -> Any:
        """A fresh Prediction for a photo (PIL image or path), sharpened by the curator's
        confirmed examples (few-shot prototypes) when there are enough of them."""
        if self.predictor is None:
            raise RuntimeError(self.model_problem or "No model is loaded.")
        # The curator's corrected part map, when they drew one, is what the evidence uses.
        fixed = self.catalog.part_map(item_id) if item_id is not None else None
        pred = self.predictor.predict(photo, part_map=fixed.labels if fixed else None)
        try:
            from saree_app.collection.fewshot import FewShot, refuse_photo

            sha = str(self.predictor.manifest.sha256)
            fewshot = FewShot.from_catalog(self.catalog, sha, graph=self.graph)
        except Exception:  # few-shot is a refinement; without it the answer still stands
            return pred
        # As the browser and the export answer it (same teaching, same flag).
        return refuse_photo(pred, self.graph, fewshot, self.catalog, item_id)

    def teaching_report(self, fewshot: Any = None) -> Teaching:
        """The teaching panel's figures (fits teaching on the confirmed photos: worker)."""
        from saree_app.collection.fewshot import FewShot

        if fewshot is None:
            sha = self.model_sha()
            if sha is None:
                return Teaching((), "not measured yet: no model is loaded", False, 0)
            fewshot = FewShot.from_catalog(self.catalog, sha, graph=self.graph)
        rows = [(str(t), int(n), bool(active)) for t, n, active in fewshot.summary()]
        seen = {t for t, _, _ in rows}
        rows += [(t.name, 0, False) for t in self.added if t.name not in seen]
        rel = fewshot.reliability
        if fewshot and not fewshot.ranks:
            from saree_app.collection.fewshot import ONE_TRADITION

            text, measured = ONE_TRADITION, False
        elif rel is None:
            text, measured = "not measured yet", False
        else:
            text, measured = str(rel.text()), bool(rel.fitted)
        sets = rel.sets if rel is not None else None
        checks = tuple(rel.by_tradition) if rel is not None and measured else ()
        return Teaching(tuple(rows), text, measured, sum(n for _, n, _ in rows), sets, checks)

    def rerank(
        self, check: Callable[[], None], report: Callable[[RerankProgress], None]
    ) -> RerankResult:
        """Teach from the confirmed photos and re-rank every stored answer (worker).

        `check` raises to stop between two answers; `report` hears how far it got.
        """
        from saree_app.collection.catalog import Catalog
        from saree_app.collection.fewshot import FewShot, apply_to_catalog

        sha = self.model_sha()
        if sha is None:
            raise RuntimeError(self.model_problem or "No model is loaded.")
        # Its own connection: the curator's next decision (main thread) does not queue behind
        # the catalogue lock while hundreds of answers are written back.
        catalog = Catalog(self.path, create=False)
        try:
            fewshot = FewShot.from_catalog(catalog, sha, graph=self.graph)
            teaching = self.teaching_report(fewshot)
            report(RerankProgress(teaching.examples, 0, self._count_answers(sha)))
            check()
            before = catalog.answer_summaries(sha)
            done = [0]

            def progress(n: int, total: int) -> None:
                done[0] = n
                if n:  # the start was reported above
                    report(RerankProgress(teaching.examples, n, total))

            def stop() -> bool:
                check()  # raises the worker's own Cancelled between two batches
                return False

            # With nothing taught, the step puts taught answers back to the model's own.
            changed = apply_to_catalog(
                catalog,
                self.graph,
                sha,
                fewshot=fewshot,
                progress=progress,
                cancel=stop,
                batch=self.rerank_batch,
            )
            after = catalog.answer_summaries(sha)
        finally:
            catalog.close()
        # The photos whose tile changes: their top answer, its probability or its flag.
        written = sorted(pid for pid, shown in after.items() if before.get(pid) != shown)
        if len(written) <= 500:
            items = self.items(written)
        else:  # one listing beats hundreds of IN (...) queries
            keep = set(written)
            items = [it for it in self.items() if it.id in keep]
        return RerankResult(teaching, done[0], int(changed), tuple(items))

    def _count_answers(self, sha: str) -> int:
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            row = db.execute(
                "SELECT count(*) FROM predictions WHERE model_sha256 = ?", (sha,)
            ).fetchone()
        finally:
            db.close()
        return int(row[0])

    # --- curator decisions (main thread)
    def decide(self, changes: Sequence[tuple[int, str]], text: str) -> tuple[Decision, list[Item]]:
        """Confirm each photo as its tradition, all together; returns the decision (to undo
        it) and the photos as they are now."""
        before = []
        with self.catalog.transaction():
            for item_id, tradition in changes:
                before.append((int(item_id), self.catalog.label(item_id)))
                self.catalog.set_label(item_id, tradition=tradition, certainty="confirmed")
        return Decision(text, tuple(before)), self.items([i for i, _ in changes])

    def undo(self, decision: Decision) -> list[Item]:
        """Give every photo of a decision back the tradition and certainty it had before; a
        note written since stays."""
        with self.catalog.transaction():
            for item_id, old in decision.before:
                now_ = self.catalog.label(item_id)
                self.catalog.set_label(
                    item_id,
                    tradition=old.tradition if old else None,
                    certainty=old.certainty if old else None,
                    note=now_.note if now_ else (old.note if old else None),
                    keep=False,
                )
        return self.items([i for i, _ in decision.before])

    def confirm(self, item_id: int, tradition: str) -> Item | None:
        self.catalog.set_label(item_id, tradition=tradition, certainty="confirmed")
        return self.item(item_id)

    def set_note(self, item_id: int, note: str) -> Item | None:
        self.catalog.set_label(item_id, note=note)
        return self.item(item_id)

    def set_tags(self, item_id: int, tags: Sequence[str]) -> Item | None:
        old = set(self.catalog.tags(item_id))
        new = set(tags)
        with self.catalog.transaction():
            if old - new:
                self.catalog.remove_tags(item_id, sorted(old - new))
            if new - old:
                self.catalog.add_tags(item_id, sorted(new - old))
        return self.item(item_id)

    # --- similar sarees
    def similar_default(self) -> str:
        """How the strip compares when a collection opens (similar.default_part)."""
        from saree_app.collection.similar import default_part

        return default_part(self.catalog, self.model_sha())

    def similar(
        self, item_id: int, part: str = "cloth", k: int = 12, confirmed_only: bool = False
    ) -> list[tuple[Item, float]]:
        from saree_app.collection.catalog import CatalogError
        from saree_app.collection.similar import search

        sha = self.model_sha()
        if sha is None:
            return []
        try:
            matches = search(
                self.catalog,
                item_id,
                part=part,
                k=k,
                model_sha256=sha,
                confirmed_only=confirmed_only,
            )
        except CatalogError:
            return []  # no embedding for this photo yet (imported with another model)
        by_id = {it.id: it for it in self.items([m.photo_id for m in matches])}
        return [(by_id[m.photo_id], float(m.score)) for m in matches if m.photo_id in by_id]

    def similar_sarees(
        self, item_id: int, part: str = "cloth", k: int = 12, confirmed_only: bool = False
    ) -> SimilarSarees:
        """The sarees most like the one this photo shows: when the photo is part of an object,
        every photo of the object is searched, the object's own photos are left out and each
        other object counts once (by its best-matching photo); otherwise as `similar`. The
        cloth, where none of those photos has its cloth read, gives way to the whole saree,
        with a note saying so. `confirmed_only`: only photos the curator confirmed (what
        teaching compares the photo with)."""
        from saree_app.collection import objects
        from saree_app.collection.catalog import CatalogError
        from saree_app.collection.similar import NO_CLOTH, part_for

        obj = objects.object_of_photo(self.catalog, item_id)
        sha = self.model_sha()
        note = ""
        if sha is not None:
            own = list(obj.photo_ids) if obj is not None and len(obj.photos) >= 2 else [item_id]
            used = part_for(self.catalog, own, sha, part)
            if used != part:
                part = used
                note = f"{NO_CLOTH[0].upper()}{NO_CLOTH[1:]} (import its folder again to read it)."
        if obj is None or len(obj.photos) < 2 or sha is None:
            return SimilarSarees(None, 1, self.similar(item_id, part, k, confirmed_only), note)
        try:
            # Confirmed only: searched deeper, then kept to the confirmed (objects gather
            # their best photo each, so the filter comes after).
            depth = 4 * k if confirmed_only else k
            found = objects.similar_objects(self.catalog, obj, part=part, k=depth, model_sha256=sha)
        except CatalogError:
            found = []  # none of its photos has these features yet
        if confirmed_only:
            found = [m for m in found if m.confirmed][:k]
        by_id = {it.id: it for it in self.items([m.photo_id for m in found])}
        results = [(by_id[m.photo_id], float(m.score)) for m in found if m.photo_id in by_id]
        return SimilarSarees(obj.accession, len(obj.photos), results, note)

    # --- import and export (generators and functions for the worker)
    def import_paths(
        self, paths: Sequence[Path | str], cancel: Callable[[], bool]
    ) -> Iterator[Any]:
        """Import folders (recursively) and single photos; yields ImportProgress over all of
        them and returns the last one (the worker's result). In a child process unless the
        library was opened with import_in_child=False (tests)."""
        from saree_app.gui.importing import import_in_child, import_paths

        if self.predictor is None:
            raise RuntimeError(
                (self.model_problem or "No model is loaded.")
                + " Photos are classified as they are imported, so import needs the model."
            )
        if self.import_in_child:
            return (
                yield from import_in_child(
                    self.path, self._model_path, self._threads, paths, cancel
                )
            )
        return (yield from import_paths(self.catalog, self.predictor, paths, cancel))

    def export(self, path: Path, fmt: str) -> Path:
        """Write the catalogue as csv or jsonld to the file `path`; as "annotations", one Web
        Annotation page per photo into the folder `path` (parts from the curator's maps, else
        from the model)."""
        if fmt == "annotations":
            from saree_app.collection import annotations

            annotations.write_pages(
                self.catalog,
                path,
                model_sha256=self.model_sha(),
                part_labels=annotations.part_labels_from(self.catalog, self.predictor),
                graph=self.graph,
            )
            return path
        from saree_app.collection.export import export

        export(self.catalog, fmt, path, graph=self.graph, model_sha256=self.model_sha())
        return path
