"""Similar-saree search over whole-saree or part embeddings."""

from __future__ import annotations

import contextlib
import importlib.util
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.collection import side_files
from saree_app.collection.catalog import PARTS, Catalog, CatalogError

# What a search compares: the model's embedding of the whole saree or of one part, or "cloth",
# the cloth as the ImageNet trunk sees it (model/cloth.py: the whole picture and the mean of
# its close-up tiles, the features teaching compares). On real photos the cloth finds sarees
# of the query's tradition most often (`saree bench real`, section 4, balanced over
# traditions): realdev, the five nearest 36% of the time against the whole-saree embedding's
# 22%; among the photos of the query's own source, as in a collection photographed by one
# hand, the nearest 41% against 25% (chance 16%).
SEARCH_PARTS = (*PARTS, "cloth")
# What a search compares unless told: the cloth, where the photo's cloth has been read, in a
# collection under CLOTH_LIMIT photos, until the curator's confirmed photos say otherwise
# (`default_part`).
DEFAULT_PART = "cloth"
# Confirmed photos (of two traditions or more) from which `default_part` measures which way of
# comparing finds their own tradition, rather than assume the cloth: on rendered sarees, the
# model's own training domain, the whole-saree embedding finds it far more often (160 rendered
# photos: nearest of the same tradition 70.6% against the cloth's 23.1%), on real photos the
# cloth (realdev: 47.5% against 34.0%).
CHOICE_PHOTOS = 6
# At most this many of them are read (evenly spread over the confirmed photos in id order): the
# choice is made as a collection opens, and must stay quick with thousands confirmed.
CHOICE_MAX = 400
# From this many photos on, a search compares the whole saree unless told: the cloth's matrix
# is five times the whole-saree embedding's (640 numbers a photo against 128), and made from
# the rows ten times as slowly, so at a million photos it would take 2.5 GB and half a minute
# after each import. The approximate index starts at the same size.
CLOTH_LIMIT = 300_000
# Said where the cloth of a photo has not been read and the whole saree is compared instead.
NO_CLOTH = "compared by the whole saree: this photo's cloth has not been read"


def default_part(catalog: Catalog, model_sha256: str | None = None) -> str:
    """What a search compares unless told: "whole" in a collection of CLOTH_LIMIT photos or
    more; otherwise, once CHOICE_PHOTOS confirmed photos of two traditions or more have both,
    whichever of the cloth and the whole saree more often finds each one's tradition among the
    others as its nearest (the cloth on a tie); before that, DEFAULT_PART."""
    if catalog.count() >= CLOTH_LIMIT:
        return "whole"
    sha = model_sha256 or catalog.latest_model()
    if sha is None:
        return DEFAULT_PART
    confirmed = catalog.confirmed_traditions()
    found = {way: nearest_right(catalog, sha, way, confirmed) for way in ("cloth", "whole")}
    if found["cloth"] is None or found["whole"] is None:
        return DEFAULT_PART
    return "whole" if found["whole"] > found["cloth"] else "cloth"


def nearest_right(
    catalog: Catalog, model_sha256: str, part: str, confirmed: Mapping[int, str]
) -> float | None:
    """How often a confirmed photo's nearest among the other confirmed photos (by `part`) is of
    its own tradition, balanced over traditions; `confirmed`: photo id -> the tradition the
    curator confirmed. None with fewer than CHOICE_PHOTOS confirmed photos that have it, or
    fewer than two traditions among them."""
    if len(confirmed) < CHOICE_PHOTOS:
        return None
    ids = sorted(confirmed)
    if len(ids) > CHOICE_MAX:
        ids = [ids[int(i)] for i in np.linspace(0, len(ids) - 1, CHOICE_MAX)]
    rows = [
        (pid, vec) for pid in ids if (vec := catalog.embedding(pid, model_sha256, part)) is not None
    ]
    names = [confirmed[pid] for pid, _ in rows]
    if len(rows) < CHOICE_PHOTOS or len(set(names)) < 2:
        return None
    m = normalise_rows(np.stack([np.asarray(v, np.float32) for _, v in rows]))
    sims = m @ m.T
    np.fill_diagonal(sims, -np.inf)
    right: dict[str, list[bool]] = {}
    for i, t in enumerate(names):
        right.setdefault(t, []).append(names[int(np.argmax(sims[i]))] == t)
    return float(np.mean([np.mean(v) for v in right.values()]))


def part_for(catalog: Catalog, photo_ids: list[int], model_sha256: str, part: str) -> str:
    """`part`, or "whole" where it is "cloth" and none of `photo_ids` has its cloth read under
    the model (imported before cloth features were kept, or without the cloth model)."""
    if part != "cloth":
        return part
    if any(catalog.embedding(pid, model_sha256, "cloth") is not None for pid in photo_ids):
        return part
    return "whole"


# From this many items on, an approximate index (if faiss is installed) answers faster than the
# exact scan while keeping recall@10 >= 0.95 (see `saree bench similar`).
ANN_THRESHOLD = 300_000


@dataclass(frozen=True)
class Match:
    """One similar photo: its catalogue id, cosine similarity, path and attributed tradition."""

    photo_id: int
    score: float
    path: str
    tradition: str | None
    confirmed: bool


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """L2-normalise each row (float32); zero rows stay zero."""
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first (ties by lower index)."""
    n = scores.shape[0]
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    # argpartition on the scores themselves (no negated copy): the k largest sit at the end.
    part = np.argpartition(scores, n - k)[n - k :] if k < n else np.arange(n)
    order = np.lexsort((part, -scores[part]))
    return part[order].astype(np.int64)


class ExactIndex:
    """Exact cosine top-k: one matrix-vector product over an L2-normalised float32 matrix."""

    def __init__(self, ids: np.ndarray, matrix: np.ndarray, *, normalised: bool = False) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != ids.shape[0]:
            raise ValueError(f"ids {ids.shape} and matrix {matrix.shape} do not match")
        self.ids = np.asarray(ids, dtype=np.int64)
        self.matrix = (
            np.ascontiguousarray(matrix, dtype=np.float32) if normalised else normalise_rows(matrix)
        )
        # One reusable score buffer: allocating 400 kB per query costs as much as the top-k.
        self._scores = np.empty(self.matrix.shape[0], dtype=np.float32)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k nearest rows; `allowed` is a boolean mask over rows."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = normalise_rows(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
        if q.shape[0] != self.matrix.shape[1]:
            raise ValueError(f"query has {q.shape[0]} dimensions, the index {self.matrix.shape[1]}")
        if allowed is not None:
            rows = np.flatnonzero(allowed)
            k = min(k, rows.shape[0])
            if rows.shape[0] * 4 < self.matrix.shape[0]:
                # A narrow filter: score only its rows.
                sub = self.matrix[rows] @ q
            else:
                with self._lock:
                    sub = np.matmul(self.matrix, q, out=self._scores)[rows]
            # Selecting among the allowed rows, never masking the rest with -inf: introselect
            # degrades badly on many equal values (4 ms -> 40 ms at 100,000 items).
            order = top_k(sub, k)
            return self.ids[rows[order]], np.asarray(sub[order], dtype=np.float32)
        with self._lock:
            scores = np.matmul(self.matrix, q, out=self._scores)
            best = top_k(scores, k)
            return self.ids[best], scores[best].copy()


def faiss_available() -> bool:
    """Whether the optional faiss-cpu package (extra `ann`) is installed."""
    return importlib.util.find_spec("faiss") is not None


class AnnIndex:
    """Approximate cosine top-k (faiss IVF, inner product) for collections of a million and more.

    nlist ~ 4 sqrt(N) coarse cells; a query visits `nprobe` of them. nprobe 128 of 4,000 cells
    gives recall@10 0.99 at 1.5 ms over 1,000,000 vectors drawn like the model's embeddings of
    16 traditions (`saree bench similar --from-catalog`); 32 gives only 0.91. Memory is the
    float32 matrix once more; build time is one k-means on a sample plus one assignment pass.
    """

    def __init__(
        self,
        ids: np.ndarray,
        matrix: np.ndarray,
        *,
        nlist: int | None = None,
        nprobe: int = 128,
        normalised: bool = False,
        seed: int = 0,
    ) -> None:
        import faiss

        data = np.ascontiguousarray(
            matrix if normalised else normalise_rows(matrix), dtype=np.float32
        )
        n, d = data.shape
        self.ids = np.asarray(ids, dtype=np.int64)
        nlist = nlist or max(1, min(int(4 * np.sqrt(n)), n // 39))
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        rng = np.random.default_rng(seed)
        # 40 points per cell is what k-means needs (faiss warns below 39); more only costs time.
        sample = data if n <= 40 * nlist else data[rng.choice(n, 40 * nlist, replace=False)]
        index.train(sample)
        index.add(data)
        index.nprobe = min(nprobe, nlist)
        self._quantizer: Any = quantizer  # faiss keeps a raw pointer; keep the owner alive
        self.index: Any = index

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def nprobe(self) -> int:
        """Cells visited per query: more is slower and closer to exact."""
        return int(self.index.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self.index.nprobe = int(value)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of about the k nearest rows; `allowed` is a boolean mask over rows."""
        import faiss

        q = normalise_rows(np.asarray(query, dtype=np.float32).reshape(1, -1))
        params: Any = None
        if allowed is not None:
            # A bitmap over the rows: testing a bit costs nothing, where a batch of ids is a
            # hash set built afresh for every query (100 ms for a quarter of a million rows).
            bits = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
            selector = faiss.IDSelectorBitmap(allowed.shape[0], faiss.swig_ptr(bits))
            params = faiss.SearchParametersIVF()
            params.sel = selector  # the selector must outlive the search: held by `selector`
            params.nprobe = self.index.nprobe
            k = min(k, int(np.count_nonzero(allowed)))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, rows_found = self.index.search(q, k, params=params)
        keep = rows_found[0] >= 0
        return self.ids[rows_found[0][keep]], scores[0][keep]

    def search_many(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Row indices (Q, k) and scores of the k nearest rows for each query (no filter)."""
        scores, rows = self.index.search(normalise_rows(queries), k)
        return rows, scores

    def add(self, ids: np.ndarray, matrix: np.ndarray, *, normalised: bool = False) -> None:
        """Add rows without retraining the coarse cells (fine while the collection's kind of
        sarees does not change; rebuild after it has grown several times over)."""
        data = np.ascontiguousarray(
            matrix if normalised else normalise_rows(matrix), dtype=np.float32
        )
        self.index.add(data)
        self.ids = np.concatenate([self.ids, np.asarray(ids, dtype=np.int64)])

    def save(self, path: str | Path, generation: int | None = None) -> None:
        """Write the index and its ids (each atomically) so it need not be rebuilt; with the
        catalogue's embeddings counter it was built at, written last, so that a later session
        can trust it without reading the embeddings (see `catalog_index`)."""
        import faiss

        target = Path(path)
        _generation_path(target).unlink(missing_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        faiss.write_index(self.index, str(tmp))
        ids_tmp = target.with_name(target.name + ".ids.tmp.npy")
        np.save(ids_tmp, self.ids)
        # ids first: an index file whose ids are missing or stale is detected and rebuilt.
        ids_tmp.replace(_ids_path(target))
        tmp.replace(target)
        if generation is not None:
            gen_tmp = target.with_name(target.name + ".generation.tmp")
            gen_tmp.write_text(str(generation), encoding="ascii")
            gen_tmp.replace(_generation_path(target))

    @classmethod
    def load(cls, path: str | Path, *, mapped: bool = False) -> AnnIndex:
        """An index written by `save`; raises OSError or RuntimeError when it is unusable.

        mapped: the vectors stay in the file (memory-mapped) and are read as queries visit
        them: opens at once whatever the collection's size, but cannot be added to."""
        import faiss

        target = Path(path)
        ids = np.load(_ids_path(target), mmap_mode="r" if mapped else None)
        index = faiss.read_index(str(target), faiss.IO_FLAG_MMAP if mapped else 0)
        if index.ntotal != ids.shape[0]:
            raise RuntimeError(f"{target}: {index.ntotal} vectors but {ids.shape[0]} ids")
        self = cls.__new__(cls)
        self.ids = ids if mapped else ids.astype(np.int64)
        self.index = index
        self._quantizer = None
        return self


def _ids_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + ".ids.npy")


def _generation_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + ".generation")


def _saved_ann(catalog: Catalog, model_sha256: str, part: str, generation: int) -> AnnIndex | None:
    """The saved approximate index when it was written at this embeddings counter, opened
    memory-mapped; None when there is none or it is stale."""
    path = ann_path(catalog, model_sha256, part)
    try:
        if int(_generation_path(path).read_text(encoding="ascii")) != generation:
            return None
        return AnnIndex.load(path, mapped=True)
    except (OSError, RuntimeError, ValueError):
        return None


def ann_path(catalog: Catalog, model_sha256: str, part: str) -> Path:
    """Where a catalogue keeps its approximate index for one model and part (beside it)."""
    return side_files.of_model(catalog.path, model_sha256, part, "faiss")


def _ann_for(
    catalog: Catalog,
    model_sha256: str,
    part: str,
    ids: np.ndarray,
    matrix: np.ndarray,
    *,
    generation: int | None = None,
) -> AnnIndex:
    """The saved index brought up to date (new photos added), or a fresh one, saved."""
    path = ann_path(catalog, model_sha256, part)
    ann: AnnIndex | None = None
    if path.exists():
        try:
            ann = AnnIndex.load(path)
        except (OSError, RuntimeError, ValueError):
            ann = None
    n = 0 if ann is None else len(ann)
    if ann is not None and (n > len(ids) or not np.array_equal(ann.ids, ids[:n])):
        ann = None  # photos were removed or re-embedded: rebuild
    if ann is None:
        ann = AnnIndex(ids, matrix)
    elif n < len(ids):
        ann.add(ids[n:], matrix[n:])
    elif generation is None or _saved_generation(path) == generation:
        return ann
    with contextlib.suppress(OSError, RuntimeError):
        # A read-only folder: search still works, the index is rebuilt next session.
        ann.save(path, generation)
    return ann


def _saved_generation(path: Path) -> int | None:
    try:
        return int(_generation_path(path).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None


def search(
    catalog: Catalog,
    query: np.ndarray | int,
    *,
    part: str = "whole",
    k: int = 12,
    tradition: str | None = None,
    confirmed_only: bool = False,
    model_sha256: str | None = None,
    exclude: int | None = None,
    approximate: bool | None = None,
) -> list[Match]:
    """The k photos most like `query` (an embedding, or the id of a catalogued photo).

    part: whole, body, border or pallu ("sarees with a border like this one"), or cloth
    (how the cloth looks close up: SEARCH_PARTS).
    tradition: only photos attributed to it (the curator's label, else the model's answer).
    confirmed_only: only photos whose label the curator confirmed.
    A photo id as query excludes that photo itself from the answer.
    approximate: None picks the approximate index for collections above ANN_THRESHOLD when
    faiss is installed.
    """
    if part not in SEARCH_PARTS:
        raise CatalogError(f"part must be one of {', '.join(SEARCH_PARTS)}, not {part!r}")
    sha = model_sha256 or catalog.latest_model()
    if sha is None:
        raise CatalogError(f"{catalog.path.name} holds no predictions yet; import photos first")
    if isinstance(query, int | np.integer):
        photo_id = int(query)
        vec = catalog.embedding(photo_id, sha, part)
        if vec is None and part == "cloth":
            raise CatalogError(
                f"photo {photo_id}'s cloth has not been read in {catalog.path.name}: import its "
                "folder again to read it, or search by the whole saree"
            )
        if vec is None:
            raise CatalogError(f"photo {photo_id} has no {part} embedding in {catalog.path.name}")
        exclude = photo_id if exclude is None else exclude
    else:
        vec = np.asarray(query, dtype=np.float32).reshape(-1)
    index = catalog_index(catalog, sha, part, approximate=approximate)
    if tradition is None and not confirmed_only:
        # No filter: ask for one more and drop the excluded photo, rather than build a mask
        # over every photo (a million-entry mask costs more than the search itself).
        ids, scores = index.search(vec, k + (exclude is not None))
        keep = ids != exclude if exclude is not None else np.ones(ids.shape[0], dtype=bool)
        ids, scores = ids[keep][:k], scores[keep][:k]
    else:
        facts = _facts(catalog, sha, part, index.ids)
        allowed = facts.mask(index.ids, tradition, confirmed_only, exclude)
        ids, scores = index.search(vec, k, allowed)
    found = ids.tolist()
    # Paths and attributions of the k photos found only: a few rows, not the whole catalogue.
    photos = {p.id: p for p in catalog.photos_by_id(found)}
    said = catalog.attributions(sha, found)
    out = []
    for pid, score in zip(found, scores.tolist(), strict=True):
        photo = photos.get(pid)
        if photo is None:
            continue
        trad, confirmed = said.get(pid, (None, False))
        out.append(Match(pid, float(score), photo.path, trad, confirmed))
    return out


class _Facts:
    """Each indexed photo's attributed tradition (as a code) and confirmed flag, as arrays,
    aligned with the index's ids (ascending, as the catalogue returns them)."""

    def __init__(
        self,
        ids: np.ndarray,
        model_top: dict[int, str | None],
        labels: dict[int, tuple[str | None, bool]],
    ) -> None:
        names = sorted({t for t in model_top.values() if t} | {t for t, _ in labels.values() if t})
        self.codes = {t: i for i, t in enumerate(names)}
        self.tradition = np.fromiter(
            (self.codes.get(model_top.get(pid) or "", -1) for pid in ids.tolist()),
            dtype=np.int32,
            count=ids.shape[0],
        )
        self.confirmed = np.zeros(ids.shape[0], dtype=bool)
        self.apply_labels(ids, labels)

    def apply_labels(self, ids: np.ndarray, labels: dict[int, tuple[str | None, bool]]) -> None:
        """The curator's word over the model's: labelled photos take their label's tradition."""
        if not labels or ids.shape[0] == 0:
            return
        pids = np.fromiter(labels, dtype=np.int64, count=len(labels))
        rows = np.minimum(np.searchsorted(ids, pids), ids.shape[0] - 1)
        here = ids[rows] == pids
        said = list(labels.values())
        for trad, _ in said:
            if trad and trad not in self.codes:
                self.codes[trad] = len(self.codes)
        codes = np.fromiter(
            (self.codes[t] if t else -3 for t, _ in said), dtype=np.int32, count=len(said)
        )
        confirmed = np.fromiter((c for _, c in said), dtype=bool, count=len(said))
        named = here & (codes != -3)
        self.tradition[rows[named]] = codes[named]
        self.confirmed[rows[here]] = confirmed[here]

    def mask(
        self,
        ids: np.ndarray,
        tradition: str | None,
        confirmed_only: bool,
        exclude: int | None,
    ) -> np.ndarray | None:
        if tradition is None and not confirmed_only and exclude is None:
            return None
        allowed = np.ones(ids.shape[0], dtype=bool)
        if exclude is not None:
            allowed &= ids != exclude
        if confirmed_only:
            allowed &= self.confirmed
        if tradition is not None:
            allowed &= self.tradition == self.codes.get(tradition, -2)
        return allowed


@dataclass
class _CachedFacts:
    """The facts of one index with what they were read at, so a label write costs only the
    labels that changed (read from the label history), not a million answers."""

    ids: np.ndarray
    answers: int  # the predictions counter
    labels: int  # the labels counter
    history: int  # the last label-history entry applied
    model: np.ndarray  # the model's own attribution of each row, before any label
    labelled: set[int]
    facts: _Facts


_FACTS: dict[tuple[str, str, str], _CachedFacts] = {}


def _facts(catalog: Catalog, model_sha256: str, part: str, ids: np.ndarray) -> _Facts:
    """The filters' facts, cached: the model's answers are read again only when answers (or
    the indexed photos) change; after a label write only the labels written since are read."""
    key = (str(catalog.path.resolve()), model_sha256, part)
    gens = catalog.generations()
    answers, labels = gens.get("predictions", -1), gens.get("labels", -1)
    c = _FACTS.get(key)
    if c is not None and c.ids is ids and answers >= 0 and c.answers == answers:
        if labels >= 0 and c.labels == labels:
            return c.facts
        mark, changed, now, total = catalog.label_changes(c.history)
        f = c.facts
        for pid in changed:
            if pid in now:
                c.labelled.add(pid)
            else:
                c.labelled.discard(pid)
            row = int(np.searchsorted(ids, pid))
            if row >= ids.shape[0] or ids[row] != pid:
                continue
            trad, confirmed = now.get(pid, (None, False))
            if trad and trad not in f.codes:
                f.codes[trad] = len(f.codes)
            f.tradition[row] = f.codes[trad] if trad else c.model[row]
            f.confirmed[row] = confirmed
        # Labels that went without a history entry (a photo removed) -> read them all again.
        if total == len(c.labelled):
            c.labels, c.history = labels, mark
            return f
    facts = _Facts(ids, catalog.top_traditions(model_sha256), {})
    model = facts.tradition.copy()
    mark, _, every, _ = catalog.label_changes(None)
    facts.apply_labels(ids, every)
    labelled = set(every)
    _FACTS[key] = _CachedFacts(ids, answers, labels, mark, model, labelled, facts)
    return facts


# One index per (catalogue file, model, part), rebuilt when the stored embeddings change.
_INDEXES: dict[tuple[str, str, str, bool], tuple[int, ExactIndex | AnnIndex]] = {}


def catalog_index(
    catalog: Catalog, model_sha256: str, part: str, *, approximate: bool | None = None
) -> ExactIndex | AnnIndex:
    """The search index over a catalogue's embeddings, cached while they do not change.

    Kept to the catalogue's embeddings counter: writing labels or notes leaves it as it is.
    A saved approximate index written at the current counter is used without reading the
    embeddings at all (what makes a search from the command line fast).
    """
    generation = catalog.generations().get("embeddings", -1)
    key_path = str(catalog.path.resolve())

    def fits(index: ExactIndex | AnnIndex) -> bool:
        """Whether a cached or saved index is the kind `approximate` asks for."""
        is_ann = isinstance(index, AnnIndex)
        if approximate is not None:
            return is_ann == approximate
        return is_ann == (len(index) >= ANN_THRESHOLD and faiss_available())

    if generation >= 0:
        for use_ann in (True, False):
            hit = _INDEXES.get((key_path, model_sha256, part, use_ann))
            if hit is not None and hit[0] == generation and fits(hit[1]):
                return hit[1]
        if approximate is not False and faiss_available():
            saved = _saved_ann(catalog, model_sha256, part, generation)
            if saved is not None and fits(saved):
                _INDEXES[(key_path, model_sha256, part, True)] = (generation, saved)
                return saved
    ids, matrix = catalog.embeddings(model_sha256, part)
    use_ann = (
        approximate
        if approximate is not None
        else (len(ids) >= ANN_THRESHOLD and faiss_available())
    )
    if use_ann and not faiss_available():
        raise CatalogError("approximate search needs faiss: pip install 'saree-app[ann]'")
    index: ExactIndex | AnnIndex
    if len(ids) == 0:
        index = ExactIndex(ids, np.zeros((0, 1), dtype=np.float32))
    elif use_ann:
        index = _ann_for(catalog, model_sha256, part, ids, matrix, generation=generation)
    else:
        index = ExactIndex(ids, matrix)
    _INDEXES[(key_path, model_sha256, part, bool(use_ann))] = (generation, index)
    return index
