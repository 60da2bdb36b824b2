"""How often the similar sarees the app finds are of the query's tradition, by each way it
compares (`collection/similar.py`: the cloth, the whole saree, one part), over the photos the
bench imported. Exact cosine nearest neighbours on the catalogue's own stored vectors, as the
app's search ranks them for a collection of this size.

Three figures per way of comparing: in the whole collection, the nearest photo and the five
nearest; from other sources only (a shop's photographs share their light and background, and
a curator's own collection is not that shop's); and within one source, among the other photos
of the query's own source, where a source shows two traditions or more: a collection
photographed by one hand. Balanced over traditions, as the rest of the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from saree_app.collection.catalog import Catalog
from saree_app.collection.similar import SEARCH_PARTS

# The ways the strip compares, in its order (gui/similar.MODES), cloth first.
WAYS = ("cloth", *(p for p in SEARCH_PARTS if p != "cloth"))


def _balanced(per: Mapping[str, Sequence[float]]) -> float | None:
    means = [float(np.mean(v)) for v in per.values() if len(v)]
    return float(np.mean(means)) if means else None


def figures(
    catalog_path: Any,
    model_sha256: str,
    photo_id: Mapping[str, int],
    truth: Mapping[str, str],
    sources: Mapping[str, str],
) -> dict[str, Any]:
    """Per way of comparing: photos, nearest / five nearest of the same tradition (whole
    collection), five nearest from other sources, nearest within one source and chance there."""
    key_of = {pid: key for key, pid in photo_id.items()}
    out: dict[str, Any] = {}
    with Catalog(catalog_path) as cat:
        for way in WAYS:
            ids, matrix = cat.embeddings(model_sha256, way)
            keep = [i for i, pid in enumerate(ids.tolist()) if key_of.get(pid) in truth]
            if len(keep) < 3:
                continue
            keys = [key_of[int(ids[i])] for i in keep]
            m = np.asarray(matrix[keep], dtype=np.float64)
            m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
            out[way] = _one_way(m @ m.T, keys, truth, sources)
    return out


def _one_way(
    sims: np.ndarray, keys: Sequence[str], truth: Mapping[str, str], sources: Mapping[str, str]
) -> dict[str, Any]:
    n = len(keys)
    labels = np.array([truth[k] for k in keys])
    src = np.array([sources.get(k, "") for k in keys])
    np.fill_diagonal(sims, -np.inf)
    several = {s for s in set(src.tolist()) if s and len(set(labels[src == s].tolist())) >= 2}
    first: dict[str, list[float]] = {}
    five: dict[str, list[float]] = {}
    other: dict[str, list[float]] = {}
    within: dict[str, list[float]] = {}
    chance: dict[str, list[float]] = {}
    for i in range(n):
        t = str(labels[i])
        order = np.argsort(-sims[i])[: n - 1]
        first.setdefault(t, []).append(float(labels[order[0]] == t))
        five.setdefault(t, []).append(float(np.mean(labels[order[:5]] == t)))
        if src[i]:
            away = [j for j in order if src[j] != src[i]][:5]
            if away:
                other.setdefault(t, []).append(float(np.mean(labels[away] == t)))
        if src[i] in several:
            mine = [j for j in order if src[j] == src[i]]
            if mine:
                within.setdefault(t, []).append(float(labels[mine[0]] == t))
                chance.setdefault(t, []).append(float(np.mean(labels[mine] == t)))
    return {
        "photos": n,
        "nearest": _balanced(first),
        "five_nearest": _balanced(five),
        "other_sources_five": _balanced(other),
        "within_source_nearest": _balanced(within),
        "within_source_chance": _balanced(chance),
        "within_source_photos": sum(len(v) for v in within.values()),
        "within_sources": len(several),
    }
